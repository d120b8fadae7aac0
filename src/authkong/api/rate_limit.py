"""Per-IP token buckets and per-site caps in front of challenge and redeem.

Each endpoint calls `refusal` once it knows the site (the limits are the site's own) and
before its first write or signature: challenge before issuing, redeem after checking the
k hashes and before claiming. Whatever is refused earlier (malformed, unknown site,
foreign hostname, forged or wrong solution) costs less to refuse than a take costs (one
SQLite write, about 12-40 µs), so it takes nothing. Buckets live in the ephemeral store, so one
limit holds across every worker. siteverify is never limited here: it is called by the
site's own backend, and a refused verify would let some integrations wave visitors through.
"""

import ipaddress
import math
from functools import lru_cache

from authkong.api.asgi import JsonReply
from authkong.api.errors import widget_error
from authkong.domain.site import Site
from authkong.storage.ephemeral import EphemeralStore


@lru_cache(maxsize=4096)
def _ipv6_client(ip: str) -> str:
    try:
        address = ipaddress.IPv6Address(ip)
    except ValueError:
        return ip
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, 64), strict=False).network_address) + "/64"


def client_key(ip: str) -> str:
    """Whom a bucket counts: the IPv4 address, or the IPv6 /64 (one host's usual share)."""
    return _ipv6_client(ip) if ":" in ip else ip


async def refusal(store: EphemeralStore, site: Site, endpoint: str, ip: str) -> JsonReply | None:
    """A 429 answer if the client's or the site's bucket for `endpoint` is empty, else None.

    The client's bucket is asked first, so one address flooding a site does not also use
    up the site's cap for everyone else.
    """
    limits = site.rate_limits
    if limits.ip_per_min:
        key = f"rl:{endpoint}:{site.sitekey}:{client_key(ip)}"
        wait = await store.take(key, limits.ip_per_min / 60, limits.ip_burst)
        if wait:
            return rate_limited(wait)
    if limits.site_per_min:
        key = f"rl:{endpoint}:{site.sitekey}"
        wait = await store.take(key, limits.site_per_min / 60, limits.site_per_min)
        if wait:
            return rate_limited(wait)
    return None


def rate_limited(wait_s: float) -> JsonReply:
    # Whole seconds (RFC 9110), rounded up so a client that waits exactly that long is let in.
    retry_after = max(1, math.ceil(wait_s))
    return widget_error("rate_limited", {"Retry-After": str(retry_after)})
