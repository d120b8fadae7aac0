"""Proof of work, protocol v1: difficulty math, the reference solver and the checker."""

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authkong.domain.pow import (
    NONCE_LIMIT,
    Difficulty,
    check_solution,
    hash_passes,
    solve,
    target_for,
)

SEED = hashlib.sha256(b"authkong test seed").digest()
TARGET = target_for(16)  # one try in 16 succeeds


def _passes(seed: bytes, nonce: int, target: int) -> bool:
    """Independent statement of the v1 rule: first 4 digest bytes, big-endian, below target."""
    digest = hashlib.sha256(seed + nonce.to_bytes(8, "big")).digest()
    return int.from_bytes(digest[:4], "big") < target


def _first_miss(seed: bytes, target: int, start: int = 0) -> int:
    nonce = start
    while _passes(seed, nonce, target):
        nonce += 1
    return nonce


@pytest.mark.parametrize(
    ("solution_hashes", "target"),
    [(1, 2**32), (2, 2**31), (16, 2**28), (2**18, 2**14), (3, 1_431_655_765), (2**32, 1)],
)
def test_target_for_known_values(solution_hashes: int, target: int) -> None:
    """target_for is floor(2**32 / solution_hashes) at the documented points."""
    assert target_for(solution_hashes) == target


@given(st.integers(1, 2**32))
def test_target_for_is_floor_division(solution_hashes: int) -> None:
    """The target is the largest t with t * solution_hashes <= 2**32."""
    target = target_for(solution_hashes)
    assert 1 <= target <= 2**32
    assert target * solution_hashes <= 2**32 < (target + 1) * solution_hashes


@pytest.mark.parametrize("solution_hashes", [0, -1, 2**32 + 1])
def test_target_for_rejects_out_of_range(solution_hashes: int) -> None:
    """Difficulties outside 1..2**32 are refused."""
    with pytest.raises(ValueError, match="solution_hashes"):
        target_for(solution_hashes)


@pytest.mark.parametrize("exponent", [0, 4, 16, 18, 20, 32])
def test_expected_hashes_exact_for_powers_of_two(exponent: int) -> None:
    """For power-of-two difficulties, expected_hashes is exactly k * solution_hashes."""
    difficulty = Difficulty(k=16, solution_hashes=2**exponent)
    assert difficulty.target == 2**32 // 2**exponent
    assert difficulty.expected_hashes == 16 * 2**exponent


@given(st.integers(1, 64), st.integers(1, 2**24))
def test_expected_hashes_tracks_solution_hashes(k: int, solution_hashes: int) -> None:
    """expected_hashes is k times the true mean 2**32/target, within rounding of solution_hashes."""
    difficulty = Difficulty(k=k, solution_hashes=solution_hashes)
    per_solution = difficulty.expected_hashes / k
    assert per_solution == round(2**32 / difficulty.target)
    # target = floor(2**32/n) makes the true mean at most n**2 / (2**32 - n) above n.
    assert (
        solution_hashes - 1
        <= per_solution
        <= solution_hashes + solution_hashes**2 / (2**32 - solution_hashes) + 1
    )


def test_target_one_accepts_everything() -> None:
    """solution_hashes=1 gives a target that every digest meets."""
    assert check_solution(SEED, [0, 1, 2], 3, target_for(1))


@given(st.binary(min_size=32, max_size=32), st.integers(1, 8))
def test_solve_output_is_accepted(seed: bytes, k: int) -> None:
    """Whatever the reference solver returns passes check_solution, in any order."""
    nonces = solve(seed, k, TARGET)
    assert len(nonces) == k
    assert all(_passes(seed, n, TARGET) for n in nonces)
    assert check_solution(seed, nonces, k, TARGET)
    assert check_solution(seed, list(reversed(nonces)), k, TARGET)


def test_strided_workers_share_one_nonce_space() -> None:
    """Solutions found by workers striding start, start+4, ... combine into a valid solution."""
    found = [n for start in range(4) for n in solve(SEED, 2, TARGET, start=start, stride=4)]
    assert sorted(n % 4 for n in found) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert check_solution(SEED, found, 8, TARGET)


def test_hash_passes_matches_rule() -> None:
    """hash_passes agrees with an independent statement of the rule on 1000 nonces."""
    assert [hash_passes(SEED, n, TARGET) for n in range(1000)] == [
        _passes(SEED, n, TARGET) for n in range(1000)
    ]


def test_rejects_wrong_count() -> None:
    """One nonce too few or too many is rejected, even if every nonce meets the target."""
    nonces = solve(SEED, 5, TARGET)
    assert check_solution(SEED, nonces[:4], 4, TARGET)
    assert not check_solution(SEED, nonces[:3], 4, TARGET)
    assert not check_solution(SEED, nonces, 4, TARGET)
    assert not check_solution(SEED, [], 4, TARGET)


def test_rejects_duplicates() -> None:
    """The same good nonce repeated does not count as several solutions."""
    nonces = solve(SEED, 4, TARGET)
    assert not check_solution(SEED, [nonces[0]] * 4, 4, TARGET)
    assert not check_solution(SEED, [*nonces[:3], nonces[0]], 4, TARGET)


@given(st.integers(0, 3))
def test_rejects_a_nonce_that_misses(position: int) -> None:
    """Swapping any one good nonce for one that misses the target fails the whole solution."""
    nonces = solve(SEED, 4, TARGET)
    miss = _first_miss(SEED, TARGET)
    assert miss not in nonces
    nonces[position] = miss
    assert not check_solution(SEED, nonces, 4, TARGET)


def test_rejects_other_seed() -> None:
    """A solution for one seed is (here) not a solution for another."""
    nonces = solve(SEED, 8, TARGET)
    other = hashlib.sha256(b"another seed").digest()
    assert not all(_passes(other, n, TARGET) for n in nonces)
    assert not check_solution(other, nonces, 8, TARGET)


@pytest.mark.parametrize(
    "bad", [-1, -(2**53), NONCE_LIMIT, NONCE_LIMIT + 1, 2**64, 2**64 + 5, -(2**70)]
)
def test_rejects_out_of_range_nonce(bad: int) -> None:
    """Negative nonces and nonces >= 2**53 are rejected without raising."""
    nonces = solve(SEED, 3, target_for(1))  # every nonce passes, so only the range can fail
    nonces[1] = bad
    assert not check_solution(SEED, nonces, 3, target_for(1))


def test_largest_nonce_is_accepted() -> None:
    """A passing nonce just below 2**53 is in range, so the limit is exclusive at 2**53 only."""
    high = NONCE_LIMIT - 1
    while not _passes(SEED, high, TARGET):
        high -= 1
    nonces = [*solve(SEED, 2, TARGET), high]
    assert check_solution(SEED, nonces, 3, TARGET)


def test_mean_tries_per_solution_matches_difficulty() -> None:
    """Over 100 fixed seeds x 16 solutions, the mean tries per solution is near solution_hashes.

    Deterministic (fixed seeds), so it cannot flake: the mean of 1600 geometric draws of
    mean 128 has a standard deviation near 3.2, and the bound is 15 %.
    """
    difficulty = Difficulty(k=16, solution_hashes=128)
    tries = 0
    for i in range(100):
        seed = hashlib.sha256(b"stat-%d" % i).digest()
        nonces = solve(seed, difficulty.k, difficulty.target)
        tries += nonces[-1] + 1  # stride 1 from 0: the k-th find is after nonces[-1] + 1 tries
    mean = tries / (100 * difficulty.k)
    assert 0.85 * 128 <= mean <= 1.15 * 128
    assert 0.85 <= tries / (100 * difficulty.expected_hashes) <= 1.15
