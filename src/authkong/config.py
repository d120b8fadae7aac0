"""Settings for one AuthKong deployment, read from the command line and environment."""

import ipaddress
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = "./authkong-data"
TRUSTED_PROXIES_ENV = "AUTHKONG_TRUSTED_PROXIES"


def split_list(text: str) -> tuple[str, ...]:
    """The non-empty, stripped items of a comma-separated environment value."""
    return tuple(item.strip() for item in text.split(",") if item.strip())


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
    adaptive_difficulty: bool = True
    """Raise the work with the site's load and the client's velocity (docs/risk.md)."""
    max_expected_wait_s: float = 10.0
    """Adaptive difficulty never asks more work than this many seconds at
    assumed_hash_rate (unless the site's own preset already does)."""
    assumed_hash_rate: float = 4_000_000.0
    """Hashes per second of a slow visitor's browser (an older phone), for that cap."""
    ephemeral_backend: str = "sqlite"
    """"sqlite" (default, multi-process safe) or "memory" (one process, tests only)."""
    trusted_proxies: tuple[str, ...] = field(
        default_factory=lambda: split_list(os.environ.get(TRUSTED_PROXIES_ENV, ""))
    )
    """Addresses or CIDR networks of the reverse proxies whose X-Forwarded-For or Forwarded
    header names the client; env AUTHKONG_TRUSTED_PROXIES, comma-separated. Empty (the
    default): no header is trusted and the connection's peer is the client."""

    def __post_init__(self) -> None:
        check_networks(self.trusted_proxies)  # a typo must stop start-up, not trust nobody

    @property
    def registry_path(self) -> Path:
        return self.data_dir / "authkong.sqlite3"

    @property
    def ephemeral_path(self) -> Path:
        return self.data_dir / "ephemeral.sqlite3"
