"""The client's IP address: the connection's peer, or what a trusted proxy says it is.

Anyone can send `X-Forwarded-For` or `Forwarded`, so a header is read only when the peer
is one of the operator's trusted proxies (Settings.trusted_proxies), and only as far as
trusted hops vouch for it: walking the addresses from the right, each trusted hop is
skipped and the first untrusted one is the client. Whatever a visitor wrote to the left
of that is never read. When the part that is read is malformed (or says "unknown"), the
peer stands in: a proxy that sends garbage must not let visitors choose their address.

`X-Forwarded-For` wins when both headers are present: most proxies (nginx, HAProxy,
Traefik, Caddy, cloud load balancers) append to it and pass `Forwarded` through
untouched, so there a `Forwarded` header is the visitor's own.
"""

import functools
import ipaddress
from collections.abc import Iterable

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_ADDRESS_CHARS = 64
"""Longer than any address a proxy writes ("[v6 with embedded v4]:port" is 53)."""
CACHED_ADDRESSES = 4096


def parse_address(text: str) -> Address | None:
    """An address as proxies write it: bare, `a.b.c.d:port`, `[v6]` or `[v6]:port`."""
    text = text.strip()
    if len(text) > MAX_ADDRESS_CHARS:
        return None
    if text.startswith("["):
        end = text.find("]")
        if end < 0 or (end + 1 < len(text) and text[end + 1] != ":"):
            return None
        text = text[1:end]
    elif text.count(":") == 1:
        text = text.partition(":")[0]  # IPv4 with a port; IPv6 has at least two colons
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def forwarded_for(value: str) -> list[str]:
    """The `for=` value of each element of an RFC 7239 `Forwarded` header, in order."""
    return forwarded_parameter(value, "for")


def forwarded_parameter(value: str, parameter: str) -> list[str]:
    """The `parameter=` value (e.g. "for", "host") of each element of an RFC 7239
    `Forwarded` header, in order.

    An element without it gives "" (unusable, like "unknown"). Elements are split on
    every comma, quoted or not: `for=` and `host=` values never hold one, and a visitor's
    unbalanced quote then cannot swallow the elements a proxy appended after it.
    """
    found = []
    for element in value.split(","):
        target = ""
        for pair in element.split(";"):
            name, _, text = pair.partition("=")
            if name.strip().lower() == parameter:
                text = text.strip()
                if len(text) >= 2 and text[0] == text[-1] == '"':
                    text = text[1:-1].replace("\\", "")
                target = text
        found.append(target)
    return found


class TrustedProxies:
    """The trusted proxy networks, parsed once, and the walk that finds the client."""

    __slots__ = ("_classify", "networks")

    def __init__(self, entries: Iterable[str]) -> None:
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(entry, strict=False) for entry in entries
        )
        # Parsing an address and testing it against networks costs microseconds; the same
        # proxies and clients come back, and input past MAX_ADDRESS_CHARS is never kept.
        self._classify = functools.lru_cache(maxsize=CACHED_ADDRESSES)(self._classify_text)

    def trusts(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def trusts_peer(self, peer: str) -> bool:
        """Whether the connection's peer is a trusted proxy, whose forwarding headers
        (X-Forwarded-*, Forwarded) may then be read."""
        known = self._classify(peer)
        return known is not None and known[1]

    def _classify_text(self, text: str) -> tuple[str, bool] | None:
        """The canonical spelling of the address in `text` and whether it is trusted."""
        address = parse_address(text)
        if address is None:
            return None
        return str(address), self.trusts(address)

    def client_ip(self, peer: str, headers: Iterable[tuple[bytes, bytes]]) -> str:
        """The client's address, given the peer's and the request's ASGI headers."""
        known = self._classify(peer)
        if known is None or not known[1]:
            return peer
        hops = _hops(headers)
        if hops is None:
            return peer
        client = known[0]
        for hop in reversed(hops):
            known = self._classify(hop)
            if known is None:
                return peer
            client, trusted = known
            if not trusted:
                break
        # Every hop trusted: the leftmost one is where the request started.
        return client


def _hops(headers: Iterable[tuple[bytes, bytes]]) -> list[str] | None:
    """The forwarding chain, oldest hop first; None when no header names one.

    Repeated header lines are one comma-separated list (RFC 9110, 5.3).
    """
    xff: list[str] = []
    forwarded: list[str] = []
    for name, value in headers:
        if name == b"x-forwarded-for":
            xff.append(value.decode("latin-1"))
        elif name == b"forwarded":
            forwarded.append(value.decode("latin-1"))
    if xff:
        return ",".join(xff).split(",")
    if forwarded:
        return forwarded_for(",".join(forwarded))
    return None
