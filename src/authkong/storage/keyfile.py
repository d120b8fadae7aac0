"""Server keys on disk: `keys.json` in the data dir, mode 0600, created on first start."""

import contextlib
import json
import os
import secrets
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
