"""What kind of email address a visitor gave: none, invalid, disposable or valid.

Syntax comes from `email-validator`, disposable domains from the community-maintained
list in `disposable-email-domains`; both ship their data, so the default check makes no
network call. zencaptcha's `email` parameter may carry a bare domain ("example.com") for
privacy, and so may ours: it is checked as the domain of an address.
"""

import functools
from typing import TYPE_CHECKING, Literal

import disposable_email_domains
import email_validator

if TYPE_CHECKING:
    import dns.resolver  # email-validator's own dependency

EmailStatus = Literal["none", "invalid_email", "disposable_email", "valid_email"]

MAX_EMAIL_CHARS = 512
"""Far above the 254 an address can have; longer input is refused before parsing."""
DEFAULT_DNS_TIMEOUT_S = 2
_BLOCKLIST: frozenset[str] = frozenset(disposable_email_domains.blocklist)
_PLACEHOLDER_LOCAL = "x"  # stands in for the local part of a bare domain


def check_email(
    value: str | None, *, check_dns: bool = False, dns_timeout_s: int = DEFAULT_DNS_TIMEOUT_S
) -> EmailStatus:
    """Classify an address (or a bare domain); never raises.

    With `check_dns`, the domain must also accept mail (MX, or A/AAAA as fallback),
    asked of the system's resolver with a total budget of `dns_timeout_s`; a resolver
    that times out or fails leaves the address valid. The check blocks, so call it in a
    thread from async code.
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
                dns_resolver=_resolver(dns_timeout_s),
            )
        else:
            checked = email_validator.validate_email(text, check_deliverability=False)
    except (email_validator.EmailNotValidError, ValueError):  # ValueError: UnicodeError too
        return "invalid_email"
    return "disposable_email" if is_disposable(checked.ascii_domain) else "valid_email"


@functools.lru_cache(maxsize=4)
def _resolver(timeout_s: int) -> "dns.resolver.Resolver":
    """A resolver of our own, so the timeout leaves dnspython's default resolver alone."""
    return email_validator.caching_resolver(timeout=timeout_s)


def is_disposable(domain: str) -> bool:
    """Whether `domain` (ASCII, lower case) or any domain above it is on the list."""
    labels = domain.split(".")
    return any(".".join(labels[i:]) in _BLOCKLIST for i in range(len(labels) - 1))
