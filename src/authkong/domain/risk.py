"""Risk: how likely a solve came from a bot, as a fraudscore, a score and reason codes.

Every signal has a weight in `points`: the fraudscore it gives when it is the only
evidence and at full strength. A signal's strength `x` is 0 (absent) to 1 (full): flags
and automation hints are 0 or 1, velocity counts rise smoothly above a free allowance.
Signals combine like independent pieces of evidence (a noisy-OR):

    fraudscore = round(99 * (1 - prod(1 - points_i * x_i / 99)))

Each factor is at most 1, so more evidence never lowers the fraudscore, the result stays
within 0..99, and no evidence at all gives 0. `score` follows from `fraudscore` alone
(see `score_for`). docs/risk.md lists every weight; keep it in step with the tables here.

What is computed when (see `combine`): redemption assesses the velocity counts, the
request and automation hints and the solve time, and seals the result in the token;
siteverify adds the remoteip and email signals on top. Automation hints count only
towards this assessment: only the resulting score and reason codes are kept.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

ACCEPTABLE_FRAUDSCORE = 55
"""zencaptcha semantics: 0..55 is acceptable, above is suspicious."""
MAX_FRAUDSCORE = 99

VELOCITY_WINDOW_S = 600
"""The sliding window the velocity thresholds below are meant for (the caller counts)."""

MAX_PLAUSIBLE_HASH_RATE = 4 * 60_000_000
"""Hashes per second no browser reaches: the WASM solver does about 16 M/s per worker
with up to 4 workers on fast machines; this allows 60 M/s per worker. A solve faster
than expected_hashes / this rate was almost surely not done by our widget (docs/risk.md)."""


@dataclass(frozen=True, slots=True)
class Velocity:
    """Weight of a count over VELOCITY_WINDOW_S.

    Strength is excess / (excess + half), excess = max(0, count - threshold): zero up to
    the threshold, half at threshold + half, approaching 1 beyond. No cliffs.
    """

    reason: str
    points: int
    threshold: int
    half: int


@dataclass(frozen=True, slots=True)
class Flag:
    """Weight of a yes/no signal (or of solve_ms being implausibly fast)."""

    reason: str
    points: int


# Keyed by the Signals field each weight reads; the order is the order of reasons.
VELOCITY_WEIGHTS: Mapping[str, Velocity] = {
    "ip_challenges": Velocity("ip_velocity", 60, threshold=20, half=40),
    "ip_redemptions": Velocity("ip_velocity", 60, threshold=10, half=20),
    "subnet_challenges": Velocity("subnet_velocity", 40, threshold=100, half=200),
    "subnet_redemptions": Velocity("subnet_velocity", 40, threshold=50, half=100),
    # An honest browser almost never fails a redemption; a few failures are free because
    # expiry and double clicks happen.
    "ip_failures": Velocity("failure_velocity", 50, threshold=3, half=10),
    "subnet_failures": Velocity("failure_velocity", 40, threshold=10, half=30),
}

FLAG_WEIGHTS: Mapping[str, Flag] = {
    "solve_ms": Flag("solve_too_fast", 70),
    "automation_hints": Flag("automation_hint", 0),  # points per hint: AUTOMATION_HINT_POINTS
    "library_client": Flag("library_client", 50),
    "missing_accept_language": Flag("missing_accept_language", 25),
    "origin_mismatch": Flag("origin_mismatch", 40),
    # Low: dual-stack visitors reach the site over IPv4 and AuthKong over IPv6, and
    # mobile visitors change networks.
    "remoteip_mismatch": Flag("remoteip_mismatch", 25),
    "disposable_email": Flag("disposable_email", 40),
}

AUTOMATION_HINT_POINTS: Mapping[str, int] = {
    "webdriver": 70,
    "headless_ua": 60,
    "inconsistent_platform": 40,
    "no_languages": 30,
}
UNKNOWN_HINT_POINTS = 30
"""For a hint code this server does not know (a newer widget)."""

VERIFY_TIME_SIGNALS = ("remoteip_mismatch", "disposable_email")
"""Known only at siteverify; every other signal is known at redemption."""


@dataclass(frozen=True, slots=True)
class Signals:
    """The facts one assessment sees. Every default means "no evidence"."""

    ip_challenges: int = 0
    """Challenges issued to this IP within the window."""
    ip_redemptions: int = 0
    ip_failures: int = 0
    """Failed redemptions (wrong nonces, expired or spent challenges) from this IP."""
    subnet_challenges: int = 0
    """As above for the IP's subnet: /24 for IPv4, /56 for IPv6."""
    subnet_redemptions: int = 0
    subnet_failures: int = 0
    solve_ms: int | None = None
    """Time from challenge issue to redemption; None when not known."""
    expected_hashes: int = 0
    """Mean work of the challenge that was solved (Difficulty.expected_hashes)."""
    automation_hints: tuple[str, ...] = ()
    """Codes the widget reports: webdriver, headless_ua, no_languages, inconsistent_platform."""
    missing_accept_language: bool = False
    library_client: bool = False
    """The User-Agent is an HTTP library or command-line tool, not a browser."""
    origin_mismatch: bool = False
    """Origin or Referer names a host other than the challenge's hostname."""
    remoteip_mismatch: bool = False
    """siteverify's remoteip is not the IP that solved (callers compare subnets)."""
    disposable_email: bool = False


@dataclass(frozen=True, slots=True)
class Assessment:
    fraudscore: int
    """0 (no evidence) to 99; 0..55 acceptable (zencaptcha)."""
    score: float
    """1.0 very likely human to 0.0 (reCAPTCHA v3); score >= 0.5 iff fraudscore <= 55."""
    reasons: tuple[str, ...]
    """Stable reason codes, one per kind of evidence found, without repeats."""

    @property
    def suspicious(self) -> bool:
        return self.fraudscore > ACCEPTABLE_FRAUDSCORE

    @classmethod
    def restore(cls, score: float, reasons: tuple[str, ...]) -> "Assessment":
        """The assessment a token carries: it stores score (to 0.001) and reasons only."""
        fraudscore = fraudscore_for(score)
        return cls(fraudscore, score_for(fraudscore), reasons)


CLEAN = Assessment(0, 1.0, ())
CLEAN_SIGNALS = Signals()


def score_for(fraudscore: int) -> float:
    """Map fraudscore to score, piecewise linear so both vendors' thresholds agree.

    0 -> 1.0, 55 -> 0.5, 99 -> 0.0: a reCAPTCHA site's usual `score >= 0.5` accepts
    exactly zencaptcha's acceptable range 0..55. Rounded to 3 decimals, which is what the
    token stores and still tells every fraudscore apart (steps are 0.009 and 0.011).
    """
    fs = min(MAX_FRAUDSCORE, max(0, fraudscore))
    if fs <= ACCEPTABLE_FRAUDSCORE:
        return round(1 - 0.5 * fs / ACCEPTABLE_FRAUDSCORE, 3)
    return round(0.5 * (MAX_FRAUDSCORE - fs) / (MAX_FRAUDSCORE - ACCEPTABLE_FRAUDSCORE), 3)


def fraudscore_for(score: float) -> int:
    """Inverse of score_for (exact on its values; nearest fraudscore otherwise)."""
    s = min(1.0, max(0.0, score))
    if s >= 0.5:
        fs = round((1 - s) * 2 * ACCEPTABLE_FRAUDSCORE)
    else:
        fs = round(MAX_FRAUDSCORE - s * 2 * (MAX_FRAUDSCORE - ACCEPTABLE_FRAUDSCORE))
    return min(MAX_FRAUDSCORE, max(0, fs))


def plausible_solve_ms(expected_hashes: int) -> float:
    """The fastest solve a browser could make, on average, of this much work."""
    return expected_hashes * 1000 / MAX_PLAUSIBLE_HASH_RATE


def velocity_strength(count: int, weight: Velocity) -> float:
    excess = max(0, count - weight.threshold)
    return excess / (excess + weight.half)


def _evidence(signals: Signals) -> list[tuple[str, float]]:
    """(reason, points * strength) for every signal present, in table order."""
    found: list[tuple[str, float]] = []
    for name, velocity in VELOCITY_WEIGHTS.items():
        strength = velocity_strength(getattr(signals, name), velocity)
        if strength > 0:
            found.append((velocity.reason, velocity.points * strength))
    for name, flag in FLAG_WEIGHTS.items():
        if name == "solve_ms":
            solve_ms = signals.solve_ms
            if solve_ms is not None and solve_ms < plausible_solve_ms(signals.expected_hashes):
                found.append((flag.reason, flag.points))
        elif name == "automation_hints":
            # sorted: the same hints give the same float rounding in any order
            for hint in sorted(set(signals.automation_hints)):
                found.append((flag.reason, AUTOMATION_HINT_POINTS.get(hint, UNKNOWN_HINT_POINTS)))
        elif getattr(signals, name):
            found.append((flag.reason, flag.points))
    return found


def _fraudscore(clean: float) -> int:
    """The fraudscore for `clean`, the chance nothing is wrong: rounded half up, 0..99."""
    return min(MAX_FRAUDSCORE, max(0, math.floor(MAX_FRAUDSCORE * (1 - clean) + 0.5)))


def _conclude(
    clean: float, reasons: tuple[str, ...], evidence: list[tuple[str, float]]
) -> Assessment:
    """Multiply the evidence into `clean` (the chance nothing is wrong) and round."""
    for reason, points in evidence:
        clean *= 1 - points / MAX_FRAUDSCORE
        if reason not in reasons:
            reasons = (*reasons, reason)
    fraudscore = _fraudscore(clean)
    return Assessment(fraudscore, score_for(fraudscore), reasons)


def assess(signals: Signals) -> Assessment:
    """Weigh every signal present; see the module docstring for the formula."""
    return _conclude(1.0, (), _evidence(signals))


def combine(base: Assessment, extra: Signals) -> Assessment:
    """Add evidence found later to an earlier assessment, as if assessed together.

    Redemption calls `assess` with everything but the VERIFY_TIME_SIGNALS (velocity,
    request hints, automation hints, solve time; see `split`) and seals the result's
    score and reasons in the token; siteverify restores that (`Assessment.restore`) and
    combines the VERIFY_TIME_SIGNALS (remoteip mismatch, disposable email) into it.
    `extra` must not repeat evidence that `base` already counted. The answer is within
    one point of assessing all signals in one call (base was rounded to a whole
    fraudscore) and never below base.
    """
    clean = 1 - base.fraudscore / MAX_FRAUDSCORE
    return _conclude(clean, base.reasons, _evidence(extra))


def split(signals: Signals) -> tuple[Signals, Signals]:
    """(what redemption knows, what siteverify adds): the inputs of assess and combine."""
    at_verify = {name: getattr(signals, name) for name in VERIFY_TIME_SIGNALS}
    cleared = {name: getattr(CLEAN_SIGNALS, name) for name in VERIFY_TIME_SIGNALS}
    return replace(signals, **cleared), Signals(**at_verify)


def challenge_velocity_fraudscore(ip_challenges: int, subnet_challenges: int) -> int:
    """assess() of a client's challenge counts alone, as adaptive difficulty reads it.

    Every challenge asks this, and a flood asks it on every request, so it computes the
    two factors of the noisy-OR directly instead of building Signals and an Assessment;
    tests check it equals assess().
    """
    ip, subnet = _IP_CHALLENGES, _SUBNET_CHALLENGES
    if ip_challenges <= ip.threshold and subnet_challenges <= subnet.threshold:
        return 0
    clean = 1.0
    for count, weight in ((ip_challenges, ip), (subnet_challenges, subnet)):
        strength = velocity_strength(count, weight)
        if strength > 0:
            clean *= 1 - weight.points * strength / MAX_FRAUDSCORE
    return _fraudscore(clean)


_IP_CHALLENGES = VELOCITY_WEIGHTS["ip_challenges"]
_SUBNET_CHALLENGES = VELOCITY_WEIGHTS["subnet_challenges"]
