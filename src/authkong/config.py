"""Settings for one AuthKong deployment, read from the command line and environment."""

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

DEFAULT_DATA_DIR = "./authkong-data"
TRUSTED_PROXIES_ENV = "AUTHKONG_TRUSTED_PROXIES"
MAX_EMAIL_DNS_TIMEOUT_S = 10  # siteverify waits for it: longer would stall the site's form


def split_list(text: str) -> tuple[str, ...]:
    """The non-empty, stripped items of a comma-separated environment value."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


N = TypeVar("N", int, float)


def env_number(name: str, default: N) -> N:
    """The environment's value for `name` as the default's type; ValueError names the
    variable, so `authkong serve` can say which one is wrong."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return type(default)(raw)
    except ValueError:
        kind = "a whole number" if isinstance(default, int) else "a number"
        raise ValueError(f"{name} must be {kind}, not {raw!r}") from None


def check_networks(entries: Iterable[str]) -> None:
    """Raise ValueError naming the first entry that is not an IP address or network."""
    for entry in entries:
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"trusted proxy {entry!r} is not an IP address or network "
                "(examples: 10.0.0.1, 10.0.0.0/8, fd00::/8)"
            ) from None


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("AUTHKONG_DATA_DIR", DEFAULT_DATA_DIR))
    )
    """Holds the SQLite databases and keys.json; env AUTHKONG_DATA_DIR."""
    max_body_bytes: int = 16 * 1024
    """Largest request body accepted; a verify call needs well under 3 kB."""
    challenge_ttl_s: int = 300
    """How long a visitor has to solve a challenge once issued."""
    lock_timeout_s: float = 5.0
    """How long a write waits for another process's SQLite lock before the request fails
    with `internal_error`; the wait blocks the worker, so keep it short."""
    adaptive_difficulty: bool = field(
        default_factory=lambda: os.environ.get("AUTHKONG_ADAPTIVE_DIFFICULTY", "1") != "0"
    )
    """Server-wide switch for adaptive difficulty; env AUTHKONG_ADAPTIVE_DIFFICULTY=0 turns
    it off for every site. Each site also has its own (RiskSettings, docs/risk.md)."""
    assumed_hash_rate: float = field(
        default_factory=lambda: env_number("AUTHKONG_ASSUMED_HASH_RATE", 4_000_000.0)
    )
    """Hashes per second of a slow visitor's browser (an older phone): adaptive difficulty
    never asks more than a site's maximum wait at this rate; env AUTHKONG_ASSUMED_HASH_RATE."""
    stats_flush_s: float = field(default_factory=lambda: env_number("AUTHKONG_STATS_FLUSH_S", 5.0))
    """How often (seconds) each worker adds its analytics counts to stats.sqlite3; env
    AUTHKONG_STATS_FLUSH_S. A worker killed without a shutdown loses at most this much."""
    velocity_sync_s: float = field(
        default_factory=lambda: env_number("AUTHKONG_VELOCITY_SYNC_S", 1.0)
    )
    """How often (seconds) each worker adds its velocity counts to the ephemeral store and
    reads back every worker's; env AUTHKONG_VELOCITY_SYNC_S. What the risk model and
    adaptive difficulty read lags the other workers' counts by at most about this much."""
    email_dns_timeout_s: int = field(
        default_factory=lambda: env_number("AUTHKONG_EMAIL_DNS_TIMEOUT_S", 0)
    )
    """zencaptcha's `emailvalid`: 0 (the default) checks syntax and the disposable list
    only; above 0, the domain must also accept mail (MX, or A/AAAA), asked of the system's
    resolver within this many whole seconds (a resolver that fails leaves the address valid);
    env AUTHKONG_EMAIL_DNS_TIMEOUT_S."""
    ephemeral_backend: str = "sqlite"
    """"sqlite" (default, multi-process safe) or "memory" (one process, tests only)."""
    trusted_proxies: tuple[str, ...] = field(
        default_factory=lambda: split_list(os.environ.get(TRUSTED_PROXIES_ENV, ""))
    )
    """Addresses or CIDR networks of the reverse proxies whose X-Forwarded-For or Forwarded
    header names the client; env AUTHKONG_TRUSTED_PROXIES, comma-separated. Empty (the
    default): no header is trusted and the connection's peer is the client."""

    def __post_init__(self) -> None:
        try:
            check_networks(self.trusted_proxies)  # a typo must stop start-up, not trust nobody
        except ValueError as error:
            raise ValueError(f"{TRUSTED_PROXIES_ENV}: {error}") from None
        if not 1 <= self.assumed_hash_rate < float("inf"):
            raise ValueError(
                "the assumed hash rate (AUTHKONG_ASSUMED_HASH_RATE) must be hashes per second >= 1"
            )
        if not 0 <= self.email_dns_timeout_s <= MAX_EMAIL_DNS_TIMEOUT_S:
            raise ValueError(
                "the email DNS timeout (AUTHKONG_EMAIL_DNS_TIMEOUT_S) must be 0 (off) to "
                f"{MAX_EMAIL_DNS_TIMEOUT_S} seconds"
            )
        if not 0 < self.stats_flush_s < float("inf"):
            raise ValueError(
                "the stats flush interval (AUTHKONG_STATS_FLUSH_S) must be positive seconds"
            )
        if not 0 < self.velocity_sync_s < float("inf"):
            raise ValueError(
                "the velocity sync interval (AUTHKONG_VELOCITY_SYNC_S) must be positive seconds"
            )

    @property
    def registry_path(self) -> Path:
        return self.data_dir / "authkong.sqlite3"

    @property
    def ephemeral_path(self) -> Path:
        return self.data_dir / "ephemeral.sqlite3"

    @property
    def stats_path(self) -> Path:
        return self.data_dir / "stats.sqlite3"
