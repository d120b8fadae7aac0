"""Adaptive difficulty: more work per solution under load and for risky clients, smoothly.

The site's preset is the floor. Two multipliers raise the work per solution; k stays
fixed, so the spread of solve times (coefficient of variation 1/sqrt(k)) does not change:

    load = max(1, site_rate / (LOAD_TOLERANCE * max(site_baseline, MIN_BASELINE_RATE)))
    risk = 2 ** (RISK_DOUBLINGS * client_fraudscore / 99)
    solution_hashes = round(base.solution_hashes * load * risk)

then capped so expected_hashes / assumed_hash_rate <= max_expected_wait_s. Both
multipliers are continuous and non-decreasing in their inputs, so there are no cliff
levels: twice the traffic above the tolerated level asks twice the work, and a
fraudscore of 99 asks 16 times the work. The cap limits only what adaptation adds and
never pushes below the base: a preset whose own wait exceeds the limit is kept, without
"capped" in the reason, since nothing was cut to the limit.
"""

from functools import lru_cache

from authkong.domain.pow import Difficulty

MAX_SOLUTION_HASHES = 2**32

LOAD_TOLERANCE = 1.5
"""Traffic up to this many times the baseline costs nothing extra (ordinary peaks)."""
MIN_BASELINE_RATE = 0.2
"""Challenges per second: a quiet site does not ramp up on a handful of visitors."""
RISK_DOUBLINGS = 4.0
"""Doublings of work at fraudscore 99; fraudscore 0 adds none."""

BASE = "base"
SITE_LOAD = "site_load"
CLIENT_RISK = "client_risk"
CAPPED = "capped"
REASON_ORDER = (SITE_LOAD, CLIENT_RISK, CAPPED)
"""A reason is BASE, or those of these that apply joined by "+" in this order."""


def load_factor(site_rate: float, site_baseline: float) -> float:
    """How far traffic (challenges per second) is above the tolerated level; >= 1."""
    tolerated = LOAD_TOLERANCE * max(site_baseline, MIN_BASELINE_RATE)
    return max(1.0, site_rate / tolerated)


def risk_factor(client_fraudscore: int) -> float:
    """2 ** (RISK_DOUBLINGS * fraudscore / 99), fraudscore clamped to 0..99; >= 1."""
    fraudscore = min(99, max(0, client_fraudscore))
    return float(2 ** (RISK_DOUBLINGS * fraudscore / 99))


@lru_cache(maxsize=256)  # per-site settings: floods hit the cap on every challenge
def max_solution_hashes(k: int, max_expected_wait_s: float, assumed_hash_rate: float) -> int:
    """The most work per solution whose challenge stays within the expected wait.

    Difficulty.expected_hashes is exact arithmetic on the 32-bit target, a little above
    k * solution_hashes for large values, so the cap is searched on it rather than guessed.
    0 when even one hash per solution is too much.
    """
    budget = max_expected_wait_s * assumed_hash_rate
    lo, hi = 0, MAX_SOLUTION_HASHES  # expected_hashes is non-decreasing in solution_hashes
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if Difficulty(k, mid).expected_hashes <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def adapt(
    base: Difficulty,
    *,
    site_rate: float,
    site_baseline: float,
    client_fraudscore: int,
    max_expected_wait_s: float,
    assumed_hash_rate: float,
) -> tuple[Difficulty, str]:
    """The difficulty one challenge carries and why ("base", or e.g. "site_load+capped").

    `site_rate` is the site's current challenge rate and `site_baseline` its recent
    normal one, both per second. The reason names every multiplier above 1 and adds
    "capped" when the work was cut to the wait limit (never below the base).
    """
    if not (
        0 <= site_rate < _INF
        and 0 <= site_baseline < _INF
        and 0 <= max_expected_wait_s < _INF
        and 0 <= assumed_hash_rate < _INF
    ):  # the comparisons also refuse NaN
        raise ValueError(
            "site_rate, site_baseline, max_expected_wait_s and assumed_hash_rate must be "
            f"finite numbers >= 0 (got {site_rate}, {site_baseline}, {max_expected_wait_s}, "
            f"{assumed_hash_rate})"
        )
    load = load_factor(site_rate, site_baseline)
    risk = risk_factor(client_fraudscore)
    if load == 1 and risk == 1:
        return base, BASE
    reasons = [r for r, factor in ((SITE_LOAD, load), (CLIENT_RISK, risk)) if factor > 1]
    wanted = round(min(float(MAX_SOLUTION_HASHES), base.solution_hashes * load * risk))
    # expected_hashes is non-decreasing in solution_hashes, so comparing with the largest
    # work within the wait (cached per site setting) is the same as comparing the waits.
    cap = max_solution_hashes(base.k, max_expected_wait_s, assumed_hash_rate)
    if wanted > cap:
        # The wait limit bounds only what adaptation adds: a preset beyond it is kept as
        # is, and then nothing was cut to the limit, so the reason does not say "capped".
        if cap >= base.solution_hashes:
            reasons.append(CAPPED)
        wanted = max(cap, base.solution_hashes)
    return Difficulty(base.k, wanted), "+".join(reasons)


_INF = float("inf")
