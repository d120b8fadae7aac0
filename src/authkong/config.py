"""Settings for one AuthKong deployment, read from the command line and environment."""

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = "./authkong-data"


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
    ephemeral_backend: str = "sqlite"
    """"sqlite" (default, multi-process safe) or "memory" (one process, tests only)."""

    @property
    def registry_path(self) -> Path:
        return self.data_dir / "authkong.sqlite3"

    @property
    def ephemeral_path(self) -> Path:
        return self.data_dir / "ephemeral.sqlite3"
