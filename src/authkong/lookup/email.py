"""What kind of email address a visitor gave: none, invalid, disposable or valid.

Syntax comes from `email-validator`, disposable domains from the community-maintained
list in `disposable-email-domains`; both ship their data, so the default check makes no
network call. zencaptcha's `email` parameter may carry a bare domain ("example.com") for
privacy, and so may ours: it is checked as the domain of an address.
"""

import functools
import math
import time
from typing import TYPE_CHECKING, Literal, cast

import anyio
import disposable_email_domains
import dns.exception  # email-validator's own dependency; dns.resolver takes 0.1 s to import
import email_validator

if TYPE_CHECKING:
    import dns.resolver

EmailStatus = Literal["none", "invalid_email", "disposable_email", "valid_email"]

MAX_EMAIL_CHARS = 512
"""Far above the 254 an address can have; longer input is refused before parsing."""
DEFAULT_DNS_TIMEOUT_S = 2
MAX_DNS_LOOKUPS = 8
"""DNS checks waited for at once; more wait their turn within their own deadline."""
_BLOCKLIST: frozenset[str] = frozenset(disposable_email_domains.blocklist)
_PLACEHOLDER_LOCAL = "x"  # stands in for the local part of a bare domain
_DNS_LOOKUPS = anyio.CapacityLimiter(MAX_DNS_LOOKUPS)  # binds to a loop only while in use


def check_email(
    value: str | None, *, check_dns: bool = False, dns_timeout_s: float = DEFAULT_DNS_TIMEOUT_S
) -> EmailStatus:
    """Classify an address (or a bare domain); never raises.

    With `check_dns`, the domain must also accept mail (MX, or A/AAAA as fallback),
    asked of the system's resolver within `dns_timeout_s` for all its queries together;
    a resolver that times out or fails leaves the address valid. The check blocks: from
    async code use `check_email_dns`.
    """
    if value is None or not value.strip():
        return "none"
    text = value.strip()
    if len(text) > MAX_EMAIL_CHARS:
        return "invalid_email"
    if "@" not in text:
        text = f"{_PLACEHOLDER_LOCAL}@{text}"
    try:
        if check_dns:
            checked = email_validator.validate_email(
                text,
                check_deliverability=True,
                dns_resolver=_within(_resolver(math.ceil(dns_timeout_s)), dns_timeout_s),
            )
        else:
            checked = email_validator.validate_email(text, check_deliverability=False)
    except (email_validator.EmailNotValidError, ValueError):  # ValueError: UnicodeError too
        return "invalid_email"
    return "disposable_email" if is_disposable(checked.ascii_domain) else "valid_email"


async def check_email_dns(value: str | None, timeout_s: float) -> EmailStatus:
    """`check_email` with the DNS check, answered within `timeout_s` whatever the resolver
    does: past the deadline the address counts as valid, as when the resolver times out.

    The blocking lookup runs in a worker thread under a limiter of its own (at most
    MAX_DNS_LOOKUPS waited for at once), so slow lookups never take the thread pool the
    rest of the service shares. A lookup still running at the deadline is abandoned; its
    queries share the same deadline (_Deadline), so its thread ends soon after too.
    """
    check = functools.partial(check_email, value, check_dns=True, dns_timeout_s=timeout_s)
    with anyio.move_on_after(timeout_s):
        return await anyio.to_thread.run_sync(check, abandon_on_cancel=True, limiter=_DNS_LOOKUPS)
    return "valid_email"


@functools.lru_cache(maxsize=4)
def _resolver(timeout_s: int) -> "dns.resolver.Resolver":
    """A resolver of our own, so the timeout leaves dnspython's default resolver alone."""
    return email_validator.caching_resolver(timeout=timeout_s)


class _Deadline:
    """A resolver whose queries share one deadline: email-validator asks up to four in a
    row (MX, A, AAAA, TXT), each given the resolver's whole lifetime otherwise."""

    __slots__ = ("_deadline", "_resolver")

    def __init__(self, resolver: "dns.resolver.Resolver", timeout_s: float) -> None:
        self._resolver = resolver
        self._deadline = time.monotonic() + timeout_s

    def resolve(self, name: str, rdtype: str) -> "dns.resolver.Answer":
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise dns.exception.Timeout  # what email-validator already takes as "unknown"
        return self._resolver.resolve(name, rdtype, lifetime=left)


def _within(resolver: "dns.resolver.Resolver", timeout_s: float) -> "dns.resolver.Resolver":
    # email-validator only calls resolve(name, rdtype), which _Deadline provides.
    return cast("dns.resolver.Resolver", _Deadline(resolver, timeout_s))


def is_disposable(domain: str) -> bool:
    """Whether `domain` (ASCII, lower case) or any domain above it is on the list."""
    labels = domain.split(".")
    return any(".".join(labels[i:]) in _BLOCKLIST for i in range(len(labels) - 1))
