"""Server keys on disk: `keys.json` in the data dir, mode 0600, created on first start."""

import contextlib
import json
import os
import secrets
import time
from pathlib import Path

from authkong.domain import codec
from authkong.domain.keys import KeyPair, Keyring

KEYS_FILE = "keys.json"
KEEP_PAIRS = 3  # the current pair plus two older ones still verify what they issued


def _new_pair() -> dict[str, str]:
    return {
        "mac": codec.b64encode(secrets.token_bytes(32)),
        "seal": codec.b64encode(secrets.token_bytes(32)),
    }


def _write(path: Path, data: dict[str, object], *, exclusive: bool) -> None:
    """Write a complete file next to `path`, then move it in, so no reader sees half of it.

    With `exclusive`, raise FileExistsError instead of replacing an existing file.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
            f.flush()
            os.fsync(f.fileno())
        if exclusive:
            os.link(tmp, path)  # atomic, and fails if the file is already there
        else:
            tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _parse(data: dict[str, object]) -> Keyring:
    pairs_raw = data["pairs"]
    assert isinstance(pairs_raw, dict)
    pairs = {
        kid: KeyPair(mac=codec.b64decode(p["mac"]), seal=codec.b64decode(p["seal"]))
        for kid, p in pairs_raw.items()
    }
    return Keyring(current=str(data["current"]), pairs=pairs)


def load_or_create(data_dir: Path) -> Keyring:
    """Read the keyring, creating it (atomically, once) if this is the first start."""
    path = data_dir / KEYS_FILE
    # Another process (or an earlier start) may have made it first; then use theirs.
    with contextlib.suppress(FileExistsError):
        _write(path, {"current": "1", "pairs": {"1": _new_pair()}}, exclusive=True)
    return _parse(json.loads(path.read_text()))


def rotate(data_dir: Path) -> Keyring:
    """Add a new pair and make it current; keep the newest KEEP_PAIRS pairs."""
    path = data_dir / KEYS_FILE
    data = json.loads(path.read_text())
    pairs: dict[str, dict[str, str]] = data["pairs"]
    kid = str(max(int(k) for k in pairs) + 1)
    pairs[kid] = _new_pair()
    data["pairs"] = dict(sorted(pairs.items(), key=lambda kv: int(kv[0]))[-KEEP_PAIRS:])
    data["current"] = kid
    _write(path, data, exclusive=False)
    return _parse(data)


class KeyringFile:
    """keys.json as a running server sees it: re-read whenever the file changes.

    After `authkong keys rotate`, every worker signs with the new pair within a second,
    and one that meets a key id it does not know re-reads at once; so workers that
    restart at different times never stop accepting each other's challenges and tokens.
    """

    CHECK_EVERY_S = 1.0

    def __init__(self, data_dir: Path) -> None:
        self._path = data_dir / KEYS_FILE
        self._ring = load_or_create(data_dir)
        self._stamp = self._file_stamp()
        self._next_check = time.monotonic() + self.CHECK_EVERY_S

    def current(self) -> Keyring:
        """The keyring to sign and verify with, at most a second old."""
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self.CHECK_EVERY_S
            self.refreshed()
        return self._ring

    def refreshed(self) -> Keyring | None:
        """Re-read the file now if it changed: the new keyring, or None if it did not."""
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return None
        self._stamp = stamp
        self._ring = _parse(json.loads(self._path.read_text()))
        return self._ring

    def _file_stamp(self) -> tuple[int, int, int]:
        st = self._path.stat()
        return (st.st_mtime_ns, st.st_size, st.st_ino)
