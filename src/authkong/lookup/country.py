"""IP address to country, offline, from the data the `iptocc` package ships.

`iptocc` (Rust, built from the regional internet registries' delegation files) answers
in well under a microsecond, so this runs on every verification without a cache.
"""

import ipaddress

from iptocc import country_code

UNKNOWN_COUNTRY = "XX"
"""What zencaptcha's own plugins use for a country nobody can tell."""


def country_of(ip: str) -> str:
    """The ISO 3166-1 alpha-2 code (upper case) of the country `ip` is registered in.

    "XX" for an address no registry assigns to a country (private, loopback, reserved,
    documentation ranges) and for anything that is not an IP address. Never raises.
    """
    try:
        code = country_code(ip)
        if code is None and ":" in ip and "." in ip:
            # A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d, which iptocc
            # does not map back to IPv4 by itself.
            mapped = ipaddress.IPv6Address(ip).ipv4_mapped
            code = country_code(str(mapped)) if mapped else None
    except (TypeError, ValueError):  # not a str; surrogates (UnicodeError); unparsable
        return UNKNOWN_COUNTRY
    if code is None or len(code) != 2 or not code.isascii() or not code.isupper():
        return UNKNOWN_COUNTRY
    return code
