"""Dashboard passwords: Argon2id at (at least) OWASP's parameters, hashed off the event loop.

OWASP's Password Storage Cheat Sheet lists m=19456 KiB, t=2, p=1 as the minimum for
Argon2id. A stored hash made with weaker parameters still verifies, and is replaced by a
fresh one at the next successful login (`needs_rehash`), so raising these constants
upgrades every account as its owner logs in.
"""

import secrets
from dataclasses import dataclass
from functools import cache

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from authkong.admin.model import Invalid

MEMORY_KIB = 19_456
TIME_COST = 2
PARALLELISM = 1

MIN_LENGTH = 8
"""NIST SP 800-63B's floor for a memorised secret; longer is up to the user."""
MAX_LENGTH = 1024
"""Argon2 takes any length, but a megabyte "password" is only a way to burn our CPU."""

_hasher = PasswordHasher(
    time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM, hash_len=32
)


@dataclass(frozen=True, slots=True)
class Checked:
    ok: bool
    needs_rehash: bool = False
    """The password matched a hash made with weaker parameters than today's."""


def check_new_password(password: str, field: str = "password") -> None:
    """Invalid (naming `field`) unless the password is an acceptable new one."""
    if len(password) < MIN_LENGTH:
        raise Invalid(f"Use a password of at least {MIN_LENGTH} characters.", field=field)
    if len(password) > MAX_LENGTH:
        raise Invalid(f"Use a password of at most {MAX_LENGTH} characters.", field=field)


def hash_password_sync(password: str) -> str:
    return _hasher.hash(password)


def verify_password_sync(stored: str | None, password: str) -> Checked:
    """Check `password` against `stored`; with None, against a dummy hash, so an unknown
    account costs as much as a known one and the two cannot be told apart by timing."""
    if len(password) > MAX_LENGTH:
        password = password[:MAX_LENGTH]  # never longer work than a real account allows
    try:
        _hasher.verify(stored if stored is not None else _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return Checked(ok=False)
    if stored is None:
        return Checked(ok=False)
    return Checked(ok=True, needs_rehash=_hasher.check_needs_rehash(stored))


async def hash_password(password: str) -> str:
    """Argon2id takes tens of milliseconds and 19 MiB: in a worker thread, not the loop."""
    return await anyio.to_thread.run_sync(hash_password_sync, password)


async def verify_password(stored: str | None, password: str) -> Checked:
    return await anyio.to_thread.run_sync(verify_password_sync, stored, password)


@cache
def _dummy_hash() -> str:
    # A hash of a random value nobody knows, made with today's parameters so verifying
    # against it costs exactly what verifying a real account's hash does.
    return _hasher.hash(secrets.token_urlsafe(32))
