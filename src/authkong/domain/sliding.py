"""Sliding-window counts kept in process memory: the velocity the risk model reads.

Each key keeps the current fixed window's count and the previous one's; the estimate
over the last `window` weights the previous count by how much of it still overlaps
(the usual sliding-window approximation). One dict operation per hit, no I/O: velocity
is read on every challenge and redemption, where a store write per counter would cost
more than the risk budget allows (docs/risk.md). Each worker process counts what it
serves; the rate limits in the ephemeral store are what hold across workers.
"""

from dataclasses import dataclass


@dataclass(slots=True)
class _Window:
    start_ms: int
    current: float
    previous: float


class SlidingCounts:
    """Counts per key over the last `window_s`; the least recently hit keys are dropped
    beyond `max_keys`, so a flood of distinct keys cannot grow memory without bound."""

    def __init__(self, window_s: float, max_keys: int = 100_000) -> None:
        self.window_ms = max(1, round(window_s * 1000))
        self.max_keys = max_keys
        self._windows: dict[str, _Window] = {}

    def _rolled(self, key: str, now_ms: int) -> _Window | None:
        window = self._windows.get(key)
        if window is None:
            return None
        elapsed = now_ms - window.start_ms
        if elapsed >= self.window_ms:
            # One window on: the current count becomes the previous; two or more: both go.
            window.previous = window.current if elapsed < 2 * self.window_ms else 0.0
            window.current = 0.0
            window.start_ms = now_ms - elapsed % self.window_ms
        return window

    def _estimate(self, window: _Window, now_ms: int) -> float:
        overlap = 1 - (now_ms - window.start_ms) / self.window_ms
        return window.current + window.previous * max(0.0, overlap)

    def hit(self, key: str, now_ms: int, amount: float = 1.0) -> float:
        """Count `amount` for `key` now; returns the count over the last window."""
        # Written out rather than through _rolled/_estimate: every challenge makes four hits.
        windows = self._windows
        window = windows.pop(key, None)  # re-inserted below: dict order is recency
        if window is None:
            window = _Window(now_ms, 0.0, 0.0)
            if len(windows) >= self.max_keys:
                del windows[next(iter(windows))]
        else:
            elapsed = now_ms - window.start_ms
            if elapsed >= self.window_ms:
                window.previous = window.current if elapsed < 2 * self.window_ms else 0.0
                window.current = 0.0
                window.start_ms = now_ms - elapsed % self.window_ms
        windows[key] = window
        window.current += amount
        overlap = 1 - (now_ms - window.start_ms) / self.window_ms
        return window.current + window.previous * overlap if overlap > 0 else window.current

    def count(self, key: str, now_ms: int) -> float:
        """The count over the last window, without adding to it."""
        window = self._rolled(key, now_ms)
        return 0.0 if window is None else self._estimate(window, now_ms)
