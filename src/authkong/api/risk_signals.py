"""What the HTTP layer can tell the risk model (domain/risk.py) about a request.

Redemption gathers the widget's automation hints, the solve time and the request's own
hints; siteverify adds whether the backend's `remoteip` is the address that solved. Only
the resulting score and reason codes reach the token; nothing here is stored.
"""

import ipaddress
import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from authkong.api.asgi import HotRequest
from authkong.api.client_ip import TrustedProxies, forwarded_parameter
from authkong.domain import risk
from authkong.domain.token import ResponseToken

if TYPE_CHECKING:  # velocity.py imports this module for subnet_key
    from authkong.api.velocity import ClientCounts

# User agents of HTTP libraries and command-line tools: no browser sends these.
_LIBRARY_UA = re.compile(
    r"^(curl|wget|python-requests|python-httpx|python-urllib|aiohttp|go-http-client|okhttp"
    r"|java/|apache-httpclient|libwww-perl|node-fetch|axios|undici|httpie|scrapy"
    r"|postmanruntime|guzzlehttp|ruby|php)",
    re.IGNORECASE,
)
MAX_HINTS_CHARS = 200


def automation_hints(raw: object) -> tuple[str, ...]:
    """The widget's comma-separated hint codes; anything malformed counts as no hints."""
    if not isinstance(raw, str) or len(raw) > MAX_HINTS_CHARS:
        return ()
    return tuple(sorted({h for h in raw.split(",") if h.isascii() and h.isidentifier()}))


def _host(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return urlsplit(value).hostname
    except ValueError:
        return None


def _authority_host(value: str | None) -> str | None:
    """The host of a `host[:port]` value (Host, X-Forwarded-Host), IPv6 unbracketed."""
    return _host("//" + value.strip()) if value else None


def _forwarded_hosts(request: HotRequest) -> tuple[str | None, str | None]:
    """The public host a proxy says the visitor asked for: the first X-Forwarded-Host
    value and the first `Forwarded` element's `host=`."""
    x_forwarded = request.header(b"x-forwarded-host")
    forwarded = request.header(b"forwarded")
    return (
        _authority_host(x_forwarded.split(",")[0]) if x_forwarded else None,
        _authority_host(forwarded_parameter(forwarded, "host")[0]) if forwarded else None,
    )


def _is_own(origin: str, request: HotRequest, proxies: TrustedProxies | None) -> bool:
    """Whether `origin` is AuthKong's own host: the request's Host, or, as a trusted proxy
    says, the host the visitor asked for (proxies may rewrite Host to their upstream).
    Anyone can send the forwarding headers, so only a trusted peer's headers count."""
    if origin == _authority_host(request.header(b"host")):
        return True
    if proxies is None or not proxies.trusts_peer(request.client_host):
        return False
    return origin in _forwarded_hosts(request)


def request_hints(
    request: HotRequest, hostname: str, proxies: TrustedProxies | None = None
) -> dict[str, bool]:
    """Missing Accept-Language, a library user agent, and an Origin/Referer that is
    neither AuthKong itself (the widget's frame calls from there) nor the page's host.

    `proxies` are the trusted ones (Settings.trusted_proxies), None when there are none.
    """
    user_agent = request.header(b"user-agent") or ""
    origin = _host(request.header(b"origin")) or _host(request.header(b"referer"))
    return {
        "missing_accept_language": not request.header(b"accept-language"),
        "library_client": not user_agent or bool(_LIBRARY_UA.match(user_agent)),
        "origin_mismatch": origin is not None
        and origin != hostname
        and not _is_own(origin, request, proxies),
    }


@lru_cache(maxsize=4096)
def _subnet(ip: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 56
    return ipaddress.ip_network((address, prefix), strict=False)


@lru_cache(maxsize=4096)
def subnet_key(ip: str) -> str:
    """The IP's subnet as a counting key ("net:" + /24 or /56); the IP itself if unparsable."""
    network = _subnet(ip)
    return f"net:{network}" if network is not None else f"net:{ip}"


def remoteip_mismatch(remoteip: str | None, solved_from: str) -> bool:
    """The backend's visitor is in another subnet than the one that solved.

    Only comparable answers count: a missing, malformed or other-family remoteip (many
    clients send "None" or a whole X-Forwarded-For list) is no evidence either way.
    """
    theirs, ours = _subnet((remoteip or "").strip()), _subnet(solved_from)
    if theirs is None or ours is None or theirs.version != ours.version:
        return False
    return theirs != ours


def at_redemption(
    request: HotRequest,
    hostname: str,
    hints: tuple[str, ...],
    solve_ms: int,
    expected: int,
    counts: "ClientCounts",
    proxies: TrustedProxies | None,
) -> risk.Assessment:
    """The assessment sealed into a new token (`proxies`: Services.proxies)."""
    signals = risk.Signals(
        ip_challenges=counts.ip_challenges,
        ip_redemptions=counts.ip_redemptions,
        ip_failures=counts.ip_failures,
        subnet_challenges=counts.subnet_challenges,
        subnet_redemptions=counts.subnet_redemptions,
        subnet_failures=counts.subnet_failures,
        solve_ms=solve_ms,
        expected_hashes=expected,
        automation_hints=hints,
        **request_hints(request, hostname, proxies),
    )
    return risk.assess(signals)


# Tokens carry few distinct (score, reasons) pairs; restoring one is a hot-path cost.
_restored = lru_cache(maxsize=1024)(risk.Assessment.restore)


def at_verification(
    token: ResponseToken, remoteip: str | None, disposable_email: bool
) -> risk.Assessment:
    """The token's assessment with what only siteverify knows."""
    sealed = _restored(token.score, token.reasons)
    mismatch = remoteip_mismatch(remoteip, token.client_ip)
    if not mismatch and not disposable_email:
        return sealed  # the common case: nothing to add, nothing to recompute
    extra = risk.Signals(remoteip_mismatch=mismatch, disposable_email=disposable_email)
    return risk.combine(sealed, extra)
