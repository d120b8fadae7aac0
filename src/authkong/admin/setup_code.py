"""The one-time setup code that first-run setup on /admin asks for.

Until the first user exists, whoever reaches /admin could make themselves the owner and
adopt every site made with the CLI. The code proves the person setting up can read the
server's data directory (or its start-up output): `authkong serve` and the app create
data_dir/setup-code while no user exists, and it is deleted once the owner exists.
"""

import hmac
import os
import secrets
from pathlib import Path

FILENAME = "setup-code"
MAX_LENGTH = 100
"""Longer input is refused before comparing: a real code is 32 characters."""


def path(data_dir: Path) -> Path:
    return data_dir / FILENAME


def ensure(data_dir: Path) -> str:
    """The setup code, made now if there is none (mode 0600).

    Several workers start at once: the code is written to a private temporary file and
    hard-linked into place, which fails if the name exists, so exactly one code wins,
    and no reader ever sees a half-written file.
    """
    target = path(data_dir)
    existing = read(data_dir)
    if existing:
        return existing
    code = secrets.token_urlsafe(24)
    temporary = target.with_name(f".{FILENAME}.{secrets.token_hex(8)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(code + "\n")
        try:
            os.link(temporary, target)
        except FileExistsError:
            return read(data_dir) or code
        return code
    finally:
        temporary.unlink(missing_ok=True)


def read(data_dir: Path) -> str | None:
    try:
        return path(data_dir).read_text(encoding="ascii").strip() or None
    except (FileNotFoundError, UnicodeDecodeError):
        return None


def matches(data_dir: Path, given: str) -> bool:
    """Whether `given` is the current code; False when there is none."""
    expected = read(data_dir)
    candidate = given.strip()
    if expected is None or not candidate or len(candidate) > MAX_LENGTH:
        return False
    return hmac.compare_digest(expected.encode("ascii"), candidate.encode("utf-8", "replace"))


def remove(data_dir: Path) -> None:
    """Once the owner exists the code has served its purpose."""
    path(data_dir).unlink(missing_ok=True)
