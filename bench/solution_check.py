"""What checking one redeemed solution costs, against the 100 µs target, in one run.

    .venv/bin/python bench/solution_check.py

Times, for the default preset (k=16, 2**18 hashes per solution):
  - `check_solution`: the k hashes, distinctness and range checks;
  - the redeem-side check: `challenge.decode` (HMAC, field parsing) + `check_solution`;
  - the reference: a bare loop of k `hashlib.sha256(seed + nonce)` digests.
Each is the best of several repeats (the least disturbed by this shared machine), measured
in interleaved rounds, and printed as µs per call and as a ratio to the reference.
"""

import argparse
import hashlib
import os
import statistics
import time
import timeit
from collections.abc import Callable

from authkong.domain import challenge as challenges
from authkong.domain.keys import KeyPair, Keyring
from authkong.domain.pow import check_solution, nonce_bytes
from authkong.domain.site import DEFAULT_PRESET, PRESETS
from authkong.solver import solve_parallel

TARGET_US = 100.0


def best_us(fn: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(fn, number=number, repeat=3)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--number", type=int, default=2000, help="calls per timing")
    args = parser.parse_args()

    difficulty = PRESETS[DEFAULT_PRESET]
    k, target = difficulty.k, difficulty.target
    keys = Keyring(current="1", pairs={"1": KeyPair(mac=os.urandom(32), seal=os.urandom(32))})
    now = int(time.time() * 1000)
    seed = os.urandom(32)
    print(
        f"default preset '{DEFAULT_PRESET}': k={k}, {difficulty.solution_hashes} hashes per "
        f"solution, target {target}; solving one challenge natively ...",
        flush=True,
    )
    started = time.perf_counter()
    nonces = solve_parallel(seed, k, target)
    print(
        f"  solved in {time.perf_counter() - started:.1f} s "
        f"({difficulty.expected_hashes} hashes expected)"
    )
    challenge = challenges.Challenge(
        seed=seed, k=k, target=target, issued_ms=now, expires_ms=now + 300_000,
        sitekey="ak_bench", hostname="localhost", action="", cdata="", mode="", reason="base",
    )  # fmt: skip
    text = challenges.encode(challenge, keys)
    assert check_solution(seed, nonces, k, target)

    def redeem_check() -> bool:
        decoded = challenges.decode(text, keys)
        assert decoded is not None
        return check_solution(decoded.seed, nonces, decoded.k, decoded.target)

    def reference() -> None:
        for nonce in nonces:
            hashlib.sha256(seed + nonce_bytes(nonce)).digest()

    cases: dict[str, Callable[[], object]] = {
        f"raw sha256 loop, {k} hashes": reference,
        "check_solution": lambda: check_solution(seed, nonces, k, target),
        "decode + check_solution": redeem_check,
        "decode alone": lambda: challenges.decode(text, keys),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, fn in cases.items():
            results[name].append(best_us(fn, args.number))

    ref = statistics.median(results[f"raw sha256 loop, {k} hashes"])
    print(f"\n{'case':<28} {'µs/call':>8} {'range':>13} {'x raw':>6}  vs {TARGET_US:.0f} µs target")
    for name, values in results.items():
        us = statistics.median(values)
        verdict = "" if name.startswith(("raw", "decode alone")) else (
            "MET" if us <= TARGET_US else "NOT MET"
        )  # fmt: skip
        print(
            f"{name:<28} {us:>8.1f} {min(values):>6.1f}-{max(values):<6.1f} "
            f"{us / ref:>6.2f}  {verdict}"
        )
    print(
        f"\nmedian over {args.rounds} interleaved rounds of the best of 3 x {args.number} calls; "
        f"'x raw' is the ratio to the bare hashlib loop measured in the same rounds"
    )


if __name__ == "__main__":
    main()
