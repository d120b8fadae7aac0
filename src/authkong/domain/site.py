"""Sites: the public sitekey, hashed secrets, allowed hostnames and per-site settings."""

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from authkong.domain.pow import Difficulty

DEFAULT_TOKEN_LIFETIME = 300
MIN_TOKEN_LIFETIME = 10
MAX_TOKEN_LIFETIME = 86_400

# Presets keep k = 16: the k-th of 16 finds has a coefficient of variation of 1/4, so
# the visitor's wait is predictable, while checking 16 hashes stays far under 100 µs.
PRESETS: dict[str, Difficulty] = {
    "easy": Difficulty(k=16, solution_hashes=2**16),
    "normal": Difficulty(k=16, solution_hashes=2**18),
    "hard": Difficulty(k=16, solution_hashes=2**20),
}
DEFAULT_PRESET = "normal"

# Rate limits: one bucket per client IP (an IPv6 /64) per site, one for challenge and one
# for redeem. A visitor needs one of each per widget, and a few more per reload or expiry;
# 60 a minute with 30 at once also leaves room for many visitors behind one NAT.
DEFAULT_RATE_IP_PER_MIN = 60
DEFAULT_RATE_IP_BURST = 30
MAX_RATE = 10_000_000


@dataclass(frozen=True, slots=True)
class RateLimits:
    """Token buckets in front of challenge and redeem; 0 per minute turns a limit off."""

    ip_per_min: int = DEFAULT_RATE_IP_PER_MIN
    """Sustained requests per minute from one IP, to each of challenge and redeem."""
    ip_burst: int = DEFAULT_RATE_IP_BURST
    """How many of those one IP may make at once after being quiet."""
    site_per_min: int = 0
    """Cap on the site's requests from all IPs together, per endpoint; a minute's worth
    may come at once. Off by default."""

    def __post_init__(self) -> None:
        if not (0 <= self.ip_per_min <= MAX_RATE and 0 <= self.site_per_min <= MAX_RATE):
            raise ValueError(f"rates per minute must be 0 (off) to {MAX_RATE}")
        if not 1 <= self.ip_burst <= MAX_RATE:
            raise ValueError(f"the burst must be 1 to {MAX_RATE}")


DEFAULT_MAX_WAIT_S = 10.0
MAX_MAX_WAIT_S = 600.0


@dataclass(frozen=True, slots=True)
class RiskSettings:
    """How a site weighs risk (docs/risk.md)."""

    scoring: bool = True
    """Count velocity and weigh every signal into the token's score. Off: no velocity is
    counted for the site's visitors and every token carries score 1.0 (fraudscore 0)."""
    adaptive: bool = True
    """Raise the work with the site's load and the client's velocity (needs scoring)."""
    max_wait_s: float = DEFAULT_MAX_WAIT_S
    """Adaptive difficulty never asks more than this many seconds of work from a slow
    browser (Settings.assumed_hash_rate); the site's own preset is never cut."""

    def __post_init__(self) -> None:
        if not 0.1 <= self.max_wait_s <= MAX_MAX_WAIT_S:
            raise ValueError(f"the maximum wait must be 0.1 to {MAX_MAX_WAIT_S:g} seconds")

    @property
    def adapts(self) -> bool:
        return self.scoring and self.adaptive


_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOSTNAME = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")


@dataclass(frozen=True, slots=True)
class SecretHash:
    digest: bytes
    """SHA-256 of the secret. Secrets are 256-bit random strings, so a fast hash suffices."""
    expires_ms: int | None
    """None for the current secret; set on a rotated-out secret during its overlap."""


@dataclass(frozen=True, slots=True)
class Site:
    sitekey: str
    name: str
    domains: tuple[str, ...]
    difficulty: Difficulty
    token_lifetime: int
    secrets: tuple[SecretHash, ...]
    created_ms: int = 0
    rate_limits: RateLimits = RateLimits()
    risk: RiskSettings = RiskSettings()
    org_id: int | None = None
    """The organization that owns the site; None for a site no organization has adopted."""

    def allows_hostname(self, hostname: str) -> bool:
        return any(domain_matches(pattern, hostname) for pattern in self.domains)

    def accepts_secret(self, secret_digest: bytes, now_ms: int) -> bool:
        """Whether this digest is one of the site's live secrets.

        Every candidate is compared with compare_digest, so the time taken does not
        depend on which secret matched or whether an old one has expired.
        """
        ok = False
        for candidate in self.secrets:
            live = candidate.expires_ms is None or now_ms < candidate.expires_ms
            ok |= hmac.compare_digest(candidate.digest, secret_digest) and live
        return ok


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def new_sitekey() -> str:
    return "ak_" + secrets.token_urlsafe(18)


def new_secret() -> str:
    return "aks_" + secrets.token_urlsafe(32)


def normalize_domain(value: str) -> str:
    """Lower-case a domain pattern and check it: `example.com` or `*.example.com`.

    Raises ValueError with a message fit for the operator.
    """
    domain = value.strip().lower().rstrip(".")
    bare = domain.removeprefix("*.")
    if not _HOSTNAME.match(bare) or len(bare) > 253:
        raise ValueError(f"not a valid domain: {value!r} (use example.com or *.example.com)")
    if domain.startswith("*.") and "." not in bare:
        raise ValueError(f"{value!r} would allow every site under a top-level domain")
    return domain


def domain_matches(pattern: str, hostname: str) -> bool:
    """Exact match, or `*.example.com` matching any subdomain (not the apex itself).

    A wildcard matches only a well-formed hostname (the syntax normalize_domain accepts):
    `.example.com`, `a b.example.com` or `evil.net/.example.com` are not subdomains, and
    letting arbitrary text through put it (even unencodable lone surrogates) into challenges.
    """
    hostname = hostname.lower().rstrip(".")
    if pattern.startswith("*."):
        return (
            hostname.endswith(pattern[1:])
            and len(hostname) <= 253
            and _HOSTNAME.fullmatch(hostname) is not None
        )
    return hostname == pattern
