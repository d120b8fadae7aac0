"""Analytics read from aggregated counters: the shapes the dashboard and the API show.

Span, Point and Analytics are what the dashboard and the admin API render. The helpers
below them define the counters' labels (score bands, the log-spaced solve-time histogram)
and how medians and percentiles are estimated from counts; admin/stats.py records, flushes
and reads the counters (docs/analytics.md).
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Span(StrEnum):
    HOUR = "hour"
    """The last 60 minutes, one point per minute."""
    DAY = "day"
    """The last 24 hours, one point per hour."""
    MONTH = "month"
    """The last 30 days, one point per day."""


@dataclass(frozen=True, slots=True)
class Point:
    start_ms: int
    challenges: int = 0
    solves: int = 0
    """Successful redemptions: a token was issued."""
    verified: int = 0
    """Successful siteverify calls."""
    rejected: int = 0
    """Failed siteverify calls (every reason)."""


@dataclass(frozen=True, slots=True)
class Analytics:
    span: Span
    bucket_ms: int
    points: list[Point]
    """Oldest first, one per bucket, zeros included."""
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    """Failed verifications over the span by Failure code (domain/verdict.py)."""
    solve_ms_p50: int | None = None
    solve_ms_p95: int | None = None
    """Median and 95th percentile time from challenge to redemption; None without solves."""
    score_histogram: list[tuple[str, int]] = field(default_factory=list)
    """Tokens issued by score band, e.g. ("0.9-1.0", 120), ten bands from 0.0-0.1."""
    top_countries: list[tuple[str, int]] = field(default_factory=list)
    """Challenges by country code, most first, at most ten; "" for unknown."""

    @property
    def totals(self) -> Point:
        return Point(
            start_ms=self.points[0].start_ms if self.points else 0,
            challenges=sum(p.challenges for p in self.points),
            solves=sum(p.solves for p in self.points),
            verified=sum(p.verified for p in self.points),
            rejected=sum(p.rejected for p in self.points),
        )


# -- what the counters hold and how the distributions are read back ---------------------
# Recording (admin/stats.py) and reading share these, so a label written by one worker
# version is read the same way by the next.

SPAN_BUCKETS: dict[Span, tuple[int, int]] = {
    Span.HOUR: (60_000, 60),
    Span.DAY: (3_600_000, 24),
    Span.MONTH: (86_400_000, 30),
}
"""Each span's bucket width in ms and its number of points (the last one is the current,
still filling bucket)."""

SCORE_BANDS = tuple(f"{n / 10:.1f}-{(n + 1) / 10:.1f}" for n in range(10))
"""Score band labels, "0.0-0.1" to "0.9-1.0"; a score of exactly 1.0 is in the top band."""

TOP_COUNTRIES = 10

SOLVE_STEPS_PER_DOUBLING = 8
"""Resolution of the solve-time histogram: bucket n holds solve times t (ms) with
2**(n/8) <= t + 1 < 2**((n+1)/8), so each bucket is 9% wide and a percentile read back as
a bucket's geometric middle is within 2**(1/16) (4.4%) of the true value of t + 1."""

MAX_SOLVE_BUCKET = SOLVE_STEPS_PER_DOUBLING * 24
"""Solve times of 2**24 ms (4.6 hours) and more share the last bucket."""
SOLVE_LABELS = tuple(str(n) for n in range(MAX_SOLVE_BUCKET + 1))
"""Bucket labels as stored, made once: str() on every solve costs more than the count."""


def score_band(score: float) -> str:
    band = int(score * 10)
    return SCORE_BANDS[band] if 0 <= band <= 9 else SCORE_BANDS[9 if band > 9 else 0]


def solve_bucket(solve_ms: int) -> int:
    """The histogram bucket of a solve time (ms); 0 ms is bucket 0."""
    if solve_ms <= 0:
        return 0
    # +1 keeps 0 ms (a solve in the same millisecond) on the log scale.
    return min(MAX_SOLVE_BUCKET, int(SOLVE_STEPS_PER_DOUBLING * math.log2(solve_ms + 1)))


def bucket_middle_ms(bucket: int) -> int:
    """The solve time a bucket stands for: its geometric middle, back on the ms scale."""
    return max(0, round(2 ** ((bucket + 0.5) / SOLVE_STEPS_PER_DOUBLING) - 1))


def percentile_ms(histogram: Mapping[int, int], q: float) -> int | None:
    """The q-quantile (0 < q <= 1, nearest rank) of the solve times counted in `histogram`
    (bucket -> count), to the histogram's resolution; None when it counts nothing."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for bucket in sorted(histogram):
        seen += histogram[bucket]
        if seen >= rank:
            return bucket_middle_ms(bucket)
    return bucket_middle_ms(max(histogram))  # unreachable: seen reaches total


def bucket_starts(span: Span, now_ms: int) -> list[int]:
    """The start (ms) of each of `span`'s buckets, oldest first, ending with `now_ms`'s."""
    width, count = SPAN_BUCKETS[span]
    last = now_ms // width * width
    return [last - (count - 1 - n) * width for n in range(count)]
