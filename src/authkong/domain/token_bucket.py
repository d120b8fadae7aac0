"""Token-bucket arithmetic shared by every ephemeral store backend.

A bucket is kept as one number, its "theoretical arrival time" (the generic cell rate
algorithm): the moment at which it would be full again. Each token taken pushes that
moment one refill interval later; a take is allowed while the moment stays within
`burst` intervals of now. This is exactly a bucket of `burst` tokens refilling at
`rate_per_s`, with no second field to keep in step, and a key whose moment has passed
holds a full bucket, the same as no key at all, so it can be dropped then.
"""

from dataclasses import dataclass

# Float noise in the sums below must never refuse a take that is exactly on time.
_SLACK_MS = 1e-3


@dataclass(frozen=True, slots=True)
class Bucket:
    rate_per_s: float
    burst: int
    cost: int = 1

    def __post_init__(self) -> None:
        if not self.rate_per_s > 0:
            raise ValueError(f"rate_per_s must be positive, not {self.rate_per_s}")
        if not 1 <= self.cost <= self.burst:
            raise ValueError(f"cost {self.cost} must be between 1 and burst {self.burst}")

    @property
    def interval_ms(self) -> float:
        return 1000.0 / self.rate_per_s

    @property
    def step_ms(self) -> float:
        """How much one take moves the bucket's full-again moment."""
        return self.interval_ms * self.cost

    @property
    def reach_ms(self) -> float:
        """How far past now the full-again moment may be after an allowed take."""
        return self.interval_ms * self.burst + _SLACK_MS

    def after_take(self, tat_ms: float, now_ms: int) -> float | None:
        """The new full-again moment if the take is allowed, else None."""
        new = max(tat_ms, now_ms) + self.step_ms
        return new if new - now_ms <= self.reach_ms else None

    def wait_s(self, tat_ms: float, now_ms: int) -> float:
        """Seconds until a refused take would be allowed (never 0: it was refused)."""
        wait_ms = max(tat_ms, now_ms) + self.step_ms - now_ms - self.reach_ms
        return max(wait_ms, _SLACK_MS) / 1000
