"""Adaptive difficulty: base floor, wait cap, monotone and continuous, reasons as documented."""

import math
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authkong.domain.difficulty import (
    LOAD_TOLERANCE,
    MIN_BASELINE_RATE,
    RISK_DOUBLINGS,
    adapt,
    max_solution_hashes,
)
from authkong.domain.pow import Difficulty
from authkong.domain.site import PRESETS

NORMAL = PRESETS["normal"]
REASON = re.compile(r"base|(site_load)?(\+?client_risk)?(\+?capped)?")

bases = st.builds(Difficulty, k=st.integers(1, 64), solution_hashes=st.integers(1, 2**24))
rates = st.floats(0, 1e6, allow_nan=False)
baselines = st.floats(0, 1e4, allow_nan=False)
fraudscores = st.integers(0, 99)
waits = st.floats(0.05, 60, allow_nan=False)
hash_rates = st.floats(1e5, 1e9, allow_nan=False)


def run(
    base: Difficulty = NORMAL,
    *,
    site_rate: float = 0.0,
    site_baseline: float = 1.0,
    client_fraudscore: int = 0,
    max_expected_wait_s: float = 5.0,
    assumed_hash_rate: float = 10e6,
) -> tuple[Difficulty, str]:
    return adapt(
        base,
        site_rate=site_rate,
        site_baseline=site_baseline,
        client_fraudscore=client_fraudscore,
        max_expected_wait_s=max_expected_wait_s,
        assumed_hash_rate=assumed_hash_rate,
    )


@given(bases, rates, baselines, fraudscores, waits, hash_rates)
def test_within_base_and_cap(
    base: Difficulty, rate: float, baseline: float, fs: int, wait: float, hash_rate: float
) -> None:
    """Never below base, k unchanged, and within the wait cap unless the base exceeds it."""
    d, reason = run(
        base,
        site_rate=rate,
        site_baseline=baseline,
        client_fraudscore=fs,
        max_expected_wait_s=wait,
        assumed_hash_rate=hash_rate,
    )
    assert d.k == base.k
    assert base.solution_hashes <= d.solution_hashes <= 2**32
    assert d.expected_hashes <= wait * hash_rate or d == base
    assert REASON.fullmatch(reason)
    assert ("client_risk" in reason) == (fs > 0)
    if reason == "base":
        assert d == base
    if "capped" in reason:  # cut to the limit: the wait is within it
        assert d.expected_hashes <= wait * hash_rate


@given(bases, rates, rates, baselines, fraudscores, waits, hash_rates)
def test_monotone_in_site_rate(
    base: Difficulty, r1: float, r2: float, baseline: float, fs: int, wait: float, hr: float
) -> None:
    """More traffic never asks less work."""
    lo, hi = sorted((r1, r2))
    kw = {"site_baseline": baseline, "client_fraudscore": fs}
    kw |= {"max_expected_wait_s": wait, "assumed_hash_rate": hr}
    a, _ = run(base, site_rate=lo, **kw)
    b, _ = run(base, site_rate=hi, **kw)
    assert a.solution_hashes <= b.solution_hashes


@given(bases, rates, baselines, fraudscores, fraudscores, waits, hash_rates)
def test_monotone_in_fraudscore(
    base: Difficulty, rate: float, baseline: float, f1: int, f2: int, wait: float, hr: float
) -> None:
    """A riskier client never gets less work."""
    lo, hi = sorted((f1, f2))
    kw = {"site_rate": rate, "site_baseline": baseline}
    kw |= {"max_expected_wait_s": wait, "assumed_hash_rate": hr}
    a, _ = run(base, client_fraudscore=lo, **kw)
    b, _ = run(base, client_fraudscore=hi, **kw)
    assert a.solution_hashes <= b.solution_hashes


@given(bases, rates, st.floats(0, 1e-3), baselines, fraudscores, waits, hash_rates)
def test_no_cliffs_in_site_rate(
    base: Difficulty, rate: float, eps: float, baseline: float, fs: int, wait: float, hr: float
) -> None:
    """Raising the rate by a factor 1 + eps raises the work by at most about that factor."""
    kw = {"site_baseline": baseline, "client_fraudscore": fs}
    kw |= {"max_expected_wait_s": wait, "assumed_hash_rate": hr}
    a, _ = run(base, site_rate=rate, **kw)
    b, _ = run(base, site_rate=rate * (1 + eps), **kw)
    assert b.solution_hashes - a.solution_hashes <= a.solution_hashes * eps * 1.001 + 2


@given(bases, rates, baselines, st.integers(0, 98), waits, hash_rates)
def test_no_cliffs_in_fraudscore(
    base: Difficulty, rate: float, baseline: float, fs: int, wait: float, hr: float
) -> None:
    """One more fraudscore point raises the work by at most 2 ** (4 / 99), about 2.8%."""
    kw = {"site_rate": rate, "site_baseline": baseline}
    kw |= {"max_expected_wait_s": wait, "assumed_hash_rate": hr}
    a, _ = run(base, client_fraudscore=fs, **kw)
    b, _ = run(base, client_fraudscore=fs + 1, **kw)
    step = 2 ** (RISK_DOUBLINGS / 99)
    assert b.solution_hashes <= a.solution_hashes * step * 1.000001 + 2


def test_fresh_visitor_gets_the_base() -> None:
    """Quiet site, clean client: the base difficulty, reason "base"."""
    assert run() == (NORMAL, "base")
    assert run(site_rate=LOAD_TOLERANCE * 1.0) == (NORMAL, "base")  # ordinary peaks are free


def test_quiet_site_has_a_minimum_baseline() -> None:
    """A site with almost no traffic does not ramp up on a handful of visitors."""
    assert run(site_rate=LOAD_TOLERANCE * MIN_BASELINE_RATE, site_baseline=0.0) == (NORMAL, "base")


def test_site_load_scales_work_with_overload() -> None:
    """Traffic at 4x the tolerated level asks 4x the work per solution."""
    d, reason = run(site_rate=4 * LOAD_TOLERANCE, max_expected_wait_s=60)
    assert reason == "site_load"
    assert d == Difficulty(NORMAL.k, 4 * NORMAL.solution_hashes)


def test_client_risk_doubles_per_quarter() -> None:
    """Fraudscore 99 asks 2 ** RISK_DOUBLINGS times the work; fraudscore 0 nothing extra."""
    d, reason = run(client_fraudscore=99, max_expected_wait_s=60)
    assert reason == "client_risk"
    assert d.solution_hashes == round(NORMAL.solution_hashes * 2**RISK_DOUBLINGS)


@pytest.mark.parametrize(
    ("rate", "fs", "reason"),
    [
        (0.0, 0, "base"),
        (3.0, 0, "site_load"),
        (0.0, 40, "client_risk"),
        (2.0, 40, "site_load+client_risk"),
        (1e4, 0, "site_load+capped"),
        (0.0, 99, "client_risk+capped"),
        (1e4, 99, "site_load+client_risk+capped"),
    ],
)
def test_reasons(rate: float, fs: int, reason: str) -> None:
    """The reason names each multiplier above 1, then "capped" when the cap cut it."""
    assert run(site_rate=rate, client_fraudscore=fs, max_expected_wait_s=2.0)[1] == reason


def test_flood_climbs_then_holds_at_the_cap() -> None:
    """A rising flood meets rising work until the expected wait reaches its maximum."""
    wait, hash_rate = 5.0, 10e6
    work = [
        run(site_rate=r, max_expected_wait_s=wait, assumed_hash_rate=hash_rate)[0]
        for r in (1, 2, 4, 8, 16, 32, 64, 1e6)
    ]
    hashes = [d.expected_hashes for d in work]
    assert hashes == sorted(hashes)
    assert hashes[0] == NORMAL.expected_hashes
    assert hashes[-1] == hashes[-2] <= wait * hash_rate
    assert hashes[-1] > 0.99 * wait * hash_rate


def test_base_above_the_cap_is_kept() -> None:
    """The operator's preset wins over the wait limit: never below base, and not "capped",
    since the limit cut nothing (the preset alone is over it)."""
    hard = PRESETS["hard"]
    assert run(hard, site_rate=100, max_expected_wait_s=0.1) == (hard, "site_load")
    assert run(hard, client_fraudscore=99, max_expected_wait_s=0.1) == (hard, "client_risk")
    assert run(hard, max_expected_wait_s=0.1) == (hard, "base")


def test_hard_preset_with_a_short_maximum_wait() -> None:
    """The review's case: preset hard (about 4.2 s at 4 M/s) under load with a 1 s
    maximum wait keeps the preset and says only why adaptation wanted more."""
    hard, hash_rate = PRESETS["hard"], 4e6
    assert hard.expected_hashes / hash_rate > 1
    got = run(hard, site_rate=100, max_expected_wait_s=1.0, assumed_hash_rate=hash_rate)
    assert got == (hard, "site_load")


def test_capped_when_the_limit_cuts_between_base_and_wanted() -> None:
    """A limit above the preset but below what load asks: cut to the limit, "capped"."""
    hard, hash_rate = PRESETS["hard"], 4e6
    d, reason = run(hard, site_rate=100, max_expected_wait_s=8.0, assumed_hash_rate=hash_rate)
    assert reason == "site_load+capped"
    assert hard.solution_hashes < d.solution_hashes
    assert 0.99 * 8.0 < d.expected_hashes / hash_rate <= 8.0


@given(st.integers(1, 64), waits, hash_rates)
def test_cap_is_tight(k: int, wait: float, hash_rate: float) -> None:
    """The cap is the largest per-solution work whose expected hashes fit the budget."""
    cap = max_solution_hashes(k, wait, hash_rate)
    budget = wait * hash_rate
    assert cap == 0 or Difficulty(k, cap).expected_hashes <= budget
    assert cap == 2**32 or Difficulty(k, cap + 1).expected_hashes > budget


@pytest.mark.parametrize(
    "bad",
    [
        {"site_rate": -1.0},
        {"site_rate": math.nan},
        {"site_baseline": math.inf},
        {"max_expected_wait_s": -5.0},
        {"assumed_hash_rate": math.nan},
    ],
)
def test_nonsense_settings_are_refused(bad: dict[str, float]) -> None:
    """Negative, infinite or NaN rates and limits raise ValueError."""
    with pytest.raises(ValueError, match=next(iter(bad))):
        run(**bad)
