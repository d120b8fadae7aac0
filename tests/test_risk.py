"""Risk model: fraudscore and score ranges, monotonicity, reason codes, the redeem/verify split."""

import dataclasses
import itertools
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authkong.domain import risk
from authkong.domain.risk import (
    ACCEPTABLE_FRAUDSCORE,
    AUTOMATION_HINT_POINTS,
    CLEAN,
    FLAG_WEIGHTS,
    MAX_PLAUSIBLE_HASH_RATE,
    UNKNOWN_HINT_POINTS,
    VELOCITY_WEIGHTS,
    VERIFY_TIME_SIGNALS,
    Assessment,
    Signals,
    assess,
    combine,
    fraudscore_for,
    plausible_solve_ms,
    score_for,
    split,
)

DOCS = Path(__file__).resolve().parent.parent / "docs" / "risk.md"
COUNTS = tuple(VELOCITY_WEIGHTS)
FLAGS = ("library_client", "missing_accept_language", "origin_mismatch", *VERIFY_TIME_SIGNALS)
HINTS = st.sampled_from([*AUTOMATION_HINT_POINTS, "future_hint", "x"])

counts = st.one_of(st.integers(0, 300), st.integers(0, 10**12))
signals = st.builds(
    Signals,
    **dict.fromkeys(COUNTS, counts),
    solve_ms=st.none() | st.integers(0, 10**7),
    expected_hashes=st.integers(0, 2**40),
    automation_hints=st.lists(HINTS, max_size=6).map(tuple),
    **{name: st.booleans() for name in FLAGS},
)


@st.composite
def more_evidence(draw: st.DrawFn) -> tuple[Signals, Signals]:
    """A pair (a, b) where b holds everything a does and possibly more."""
    a = draw(signals)
    changes: dict[str, object] = {}
    for name in COUNTS:
        changes[name] = getattr(a, name) + draw(st.integers(0, 500))
    for name in FLAGS:
        changes[name] = getattr(a, name) or draw(st.booleans())
    changes["automation_hints"] = a.automation_hints + tuple(draw(st.lists(HINTS, max_size=3)))
    # faster, or for more work, is more evidence; an unknown solve time is the least
    if a.solve_ms is None:
        changes["solve_ms"] = draw(st.none() | st.integers(0, 10**7))
    else:
        changes["solve_ms"] = a.solve_ms - draw(st.integers(0, a.solve_ms))
    changes["expected_hashes"] = a.expected_hashes + draw(st.integers(0, 2**36))
    return a, dataclasses.replace(a, **changes)


def alone(name: str) -> Signals:
    """The single signal `name` at full strength (or far past its threshold)."""
    if name in VELOCITY_WEIGHTS:
        return Signals(**{name: 10**9})
    if name == "solve_ms":
        return Signals(solve_ms=0, expected_hashes=2**22)
    if name == "automation_hints":
        return Signals(automation_hints=("webdriver",))
    return Signals(**{name: True})


@given(signals)
def test_ranges_hold(s: Signals) -> None:
    """fraudscore is an int in 0..99, score a float in 0.0..1.0, reasons distinct."""
    a = assess(s)
    assert isinstance(a.fraudscore, int)
    assert 0 <= a.fraudscore <= 99
    assert isinstance(a.score, float)
    assert 0.0 <= a.score <= 1.0
    assert len(set(a.reasons)) == len(a.reasons)
    assert a.score == score_for(a.fraudscore)


@given(more_evidence())
def test_more_evidence_never_lowers_fraudscore(pair: tuple[Signals, Signals]) -> None:
    """Adding a signal, raising a count or solving faster never lowers the fraudscore."""
    a, b = (assess(s) for s in pair)
    assert b.fraudscore >= a.fraudscore
    assert b.score <= a.score
    assert set(a.reasons) <= set(b.reasons)


def test_no_evidence_is_clean() -> None:
    """No evidence gives fraudscore 0, score 1.0 and no reasons."""
    assert assess(Signals()) == CLEAN == Assessment(0, 1.0, ())
    assert not CLEAN.suspicious


def test_counts_at_threshold_are_free() -> None:
    """Velocity up to each threshold, a solve at the plausible limit: no evidence."""
    at_threshold = Signals(**{name: w.threshold for name, w in VELOCITY_WEIGHTS.items()})
    assert assess(at_threshold) == CLEAN
    limit = plausible_solve_ms(2**22)
    assert assess(Signals(solve_ms=int(limit) + 1, expected_hashes=2**22)) == CLEAN


@pytest.mark.parametrize("name", [*VELOCITY_WEIGHTS, *FLAG_WEIGHTS])
def test_each_signal_alone_gives_its_reason(name: str) -> None:
    """Each signal on its own gives exactly its reason code and a nonzero fraudscore."""
    reason = (
        VELOCITY_WEIGHTS[name].reason if name in VELOCITY_WEIGHTS else FLAG_WEIGHTS[name].reason
    )
    a = assess(alone(name))
    assert a.reasons == (reason,)
    assert a.fraudscore > 0


@pytest.mark.parametrize("name", [n for n in FLAG_WEIGHTS if n != "automation_hints"])
def test_a_flag_alone_scores_its_weight(name: str) -> None:
    """A flag's weight is the fraudscore it gives on its own."""
    assert assess(alone(name)).fraudscore == FLAG_WEIGHTS[name].points


@pytest.mark.parametrize(("hint", "points"), [*AUTOMATION_HINT_POINTS.items(), ("new", 30)])
def test_each_hint_alone_scores_its_weight(hint: str, points: int) -> None:
    """Each automation hint scores its weight; unknown hints the documented default."""
    assert UNKNOWN_HINT_POINTS == 30
    assert assess(Signals(automation_hints=(hint,))) == Assessment(
        points, score_for(points), ("automation_hint",)
    )


def test_repeated_hints_count_once() -> None:
    """Sending a hint twice weighs the same as sending it once."""
    assert assess(Signals(automation_hints=("webdriver", "webdriver"))) == assess(
        Signals(automation_hints=("webdriver",))
    )


@given(signals, st.lists(st.sampled_from(list(AUTOMATION_HINT_POINTS)), min_size=1).map(tuple))
def test_automation_hints_score_worse(s: Signals, hints: tuple[str, ...]) -> None:
    """The same solve flagged by the widget as automated scores worse than a clean one."""
    clean = assess(dataclasses.replace(s, automation_hints=()))
    flagged = assess(dataclasses.replace(s, automation_hints=hints))
    assert "automation_hint" in flagged.reasons
    assert flagged.fraudscore >= clean.fraudscore
    if clean.fraudscore < 95:
        assert flagged.fraudscore > clean.fraudscore
        assert flagged.score < clean.score


def test_webdriver_alone_is_suspicious() -> None:
    """A webdriver flag alone already crosses the acceptable line (55 / score 0.5)."""
    a = assess(Signals(automation_hints=("webdriver",)))
    assert a.suspicious
    assert a.score < 0.5


@pytest.mark.parametrize("name", list(VELOCITY_WEIGHTS))
def test_velocity_rises_without_cliffs(name: str) -> None:
    """Each extra request past a threshold adds at most points / half (+1 for rounding)."""
    weight = VELOCITY_WEIGHTS[name]
    step = weight.points / weight.half + 1
    previous = 0
    for count in range(weight.threshold + 20 * weight.half):
        fraudscore = assess(Signals(**{name: count})).fraudscore
        assert previous <= fraudscore <= previous + step
        previous = fraudscore
    assert previous >= weight.points - 3  # approaches the full weight
    half_way = assess(Signals(**{name: weight.threshold + weight.half})).fraudscore
    assert abs(half_way - weight.points / 2) <= 1


def test_solve_too_fast_boundary() -> None:
    """A solve faster than expected_hashes / (4 x 60 M/s) is flagged; at that pace it is not."""
    assert MAX_PLAUSIBLE_HASH_RATE == 240_000_000
    expected = 16 * 2**18
    limit = expected * 1000 / MAX_PLAUSIBLE_HASH_RATE  # 17.5 ms
    assert assess(Signals(solve_ms=17, expected_hashes=expected)).reasons == ("solve_too_fast",)
    assert assess(Signals(solve_ms=18, expected_hashes=expected)) == CLEAN
    assert 17 < limit < 18
    # a browser at 16 M/s x 4 workers takes about 65 ms on average: nowhere near
    assert assess(Signals(solve_ms=65, expected_hashes=expected)) == CLEAN


def test_score_mapping_agrees_with_both_vendors() -> None:
    """fraudscore 0 -> 1.0, 55 -> 0.5, 99 -> 0.0; acceptable iff score >= 0.5; decreasing."""
    assert (score_for(0), score_for(ACCEPTABLE_FRAUDSCORE), score_for(99)) == (1.0, 0.5, 0.0)
    scores = [score_for(fs) for fs in range(100)]
    assert all(a > b for a, b in itertools.pairwise(scores))
    for fs, score in enumerate(scores):
        assert (score >= 0.5) == (fs <= ACCEPTABLE_FRAUDSCORE)


@pytest.mark.parametrize("fraudscore", range(100))
def test_score_survives_the_token(fraudscore: int) -> None:
    """The token stores round(score * 1000); restoring gives back the same fraudscore."""
    stored = round(score_for(fraudscore) * 1000) / 1000
    assert fraudscore_for(stored) == fraudscore
    restored = Assessment.restore(stored, ("ip_velocity",))
    assert restored == Assessment(fraudscore, score_for(fraudscore), ("ip_velocity",))


@given(st.floats(-10, 10, allow_nan=False))
def test_fraudscore_for_any_score_is_in_range(score: float) -> None:
    """Any stored score restores to a fraudscore in 0..99."""
    assert 0 <= fraudscore_for(score) <= 99


@given(signals)
def test_combine_at_verify_matches_assessing_at_once(s: Signals) -> None:
    """Redeem-time assessment plus verify-time signals is within one point of all at once."""
    at_redeem, at_verify = split(s)
    base = assess(at_redeem)
    stored = Assessment.restore(round(base.score * 1000) / 1000, base.reasons)
    combined = combine(stored, at_verify)
    whole = assess(s)
    assert abs(combined.fraudscore - whole.fraudscore) <= 1
    assert combined.fraudscore >= base.fraudscore
    assert set(combined.reasons) == set(whole.reasons)
    assert combined.reasons[: len(base.reasons)] == base.reasons


def test_split_puts_each_signal_on_one_side() -> None:
    """split gives remoteip and email to siteverify and everything else to redemption."""
    s = Signals(ip_challenges=5, remoteip_mismatch=True, disposable_email=True, solve_ms=3)
    at_redeem, at_verify = split(s)
    assert at_redeem == Signals(ip_challenges=5, solve_ms=3)
    assert at_verify == Signals(remoteip_mismatch=True, disposable_email=True)


def test_verify_time_signals_add_their_reasons() -> None:
    """A disposable address at verify time adds disposable_email to a clean token."""
    a = combine(CLEAN, Signals(disposable_email=True))
    assert a == Assessment(40, score_for(40), ("disposable_email",))
    assert combine(CLEAN, Signals()) == CLEAN


def test_every_signal_has_a_weight() -> None:
    """Each Signals field other than expected_hashes is weighed by exactly one table."""
    names = {f.name for f in dataclasses.fields(Signals)} - {"expected_hashes"}
    assert names == set(VELOCITY_WEIGHTS) | set(FLAG_WEIGHTS)
    assert not set(VELOCITY_WEIGHTS) & set(FLAG_WEIGHTS)
    points = [w.points for w in VELOCITY_WEIGHTS.values()] + list(AUTOMATION_HINT_POINTS.values())
    points += [w.points for w in FLAG_WEIGHTS.values()]
    assert all(0 <= p < 99 for p in points)


def test_docs_list_every_weight() -> None:
    """docs/risk.md has a row for every signal with its weight and reason code."""
    text = DOCS.read_text()
    rows = {m[1]: m[2] for m in re.finditer(r"^\| `(\w+)` \|(.*)$", text, re.MULTILINE)}
    for name, v in VELOCITY_WEIGHTS.items():
        assert f"| {v.points} | {v.threshold} | {v.half} | `{v.reason}`" in f"|{rows[name]}"
    for name, f in FLAG_WEIGHTS.items():
        if name != "automation_hints":
            assert f"| {f.points} | `{f.reason}`" in f"|{rows[name]}"
    for hint, points in AUTOMATION_HINT_POINTS.items():
        assert f"| {points} | `automation_hint`" in f"|{rows[hint]}"


@given(st.integers(0, 10_000), st.integers(0, 10_000))
def test_challenge_velocity_shortcut_agrees_with_assess(ip: int, subnet: int) -> None:
    signals = risk.Signals(ip_challenges=ip, subnet_challenges=subnet)
    assert risk.challenge_velocity_fraudscore(ip, subnet) == risk.assess(signals).fraudscore
