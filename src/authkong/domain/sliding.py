"""Sliding-window counts kept in process memory: the velocity the risk model reads.

Each key keeps the current fixed window's count and the previous one's; the estimate
over the last `window` weights the previous count by how much of it still overlaps
(the usual sliding-window approximation). One dict operation per hit, no I/O: velocity
is read on every challenge and redemption, where a store write per counter would cost
more than the risk budget allows (docs/risk.md). Each worker process counts what it
serves; api/velocity_sync.py adds what the other workers counted, a sync interval late,
through `take_unsynced`, `give_back` and `add_elsewhere`.
"""

from collections.abc import Mapping
from dataclasses import dataclass

TAIL_SCAN = 4
"""A take looks at this many keys from the tail per key it may take (see take_unsynced)."""


@dataclass(slots=True)
class _Window:
    start_ms: int
    current: float
    previous: float
    synced: float
    """How much of `current` had been taken for a sync, or came from other workers, when
    the window started at `synced_start` (see SlidingCounts._unsynced)."""
    synced_start: int


class SlidingCounts:
    """Counts per key over the last `window_s`; the least recently hit keys are dropped
    beyond `max_keys`, so a flood of distinct keys cannot grow memory without bound.

    A sync (api/velocity_sync.py) needs what each key counted since it last looked, and
    the hot path must not pay for that: so `hit` stays as it was, and the sync works it
    out from each window's state when it last looked (`synced`, `synced_start`). The
    dict's order is recency of hits, so the keys hit since the last take are exactly its
    tail back to the first key with nothing new: no second dict to keep on every hit.
    """

    def __init__(self, window_s: float, max_keys: int = 100_000) -> None:
        self.window_ms = max(1, round(window_s * 1000))
        self.max_keys = max_keys
        self._windows: dict[str, _Window] = {}
        self._missed: dict[str, None] = {}
        """Keys read here without a window: the next sync asks the others' counts of them."""

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
            window = _Window(now_ms, 0.0, 0.0, 0.0, now_ms)
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
        if window is None:
            self.ask(key)
            return 0.0
        return self._estimate(window, now_ms)

    # -- syncing with other workers (api/velocity_sync.py) -----------------------------

    def _unsynced(self, window: _Window) -> float:
        """What this worker counted for the window's key since a sync last took it."""
        if window.start_ms == window.synced_start:
            return window.current - window.synced
        if window.start_ms - window.synced_start == self.window_ms:  # rolled on once since
            return window.previous - window.synced + window.current
        return window.current  # rolled twice or more: a sync this late loses the rest

    def _set_unsynced(self, window: _Window, unsynced: float) -> None:
        window.synced, window.synced_start = window.current - unsynced, window.start_ms

    def _dirty_tail(self, most: int) -> list[tuple[str, float]]:
        dirty: list[tuple[str, float]] = []
        windows = self._windows
        for key in reversed(windows):
            unsynced = self._unsynced(windows[key])
            if not unsynced or len(dirty) >= most:
                break
            dirty.append((key, unsynced))
        return dirty

    def take_unsynced(self, limit: int) -> dict[str, float]:
        """What was hit here since the last take, for at most `limit` keys (the busiest);
        the other keys keep theirs for a later take.

        Only the `TAIL_SCAN * limit` most recently hit keys are looked at, so a take costs
        the same however many distinct keys a flood brings: a busy key is always near the
        tail, and one further back keeps its count until it is hit again.
        """
        windows = self._windows
        dirty = self._dirty_tail(TAIL_SCAN * limit)
        if len(dirty) > limit:
            dirty.sort(key=lambda item: item[1], reverse=True)
            for key, _ in reversed(dirty[limit:]):  # back to the tail, where a take looks
                windows[key] = windows.pop(key)
            del dirty[limit:]
        for key, _ in dirty:
            self._set_unsynced(windows[key], 0.0)
        return dict(dirty)

    def take_missed(self, limit: int) -> list[str]:
        """Up to `limit` keys read without a window since the last take, the oldest first."""
        missed = self._missed
        taken: list[str] = []
        for key in missed:
            if len(taken) >= limit:
                break
            taken.append(key)
        for key in taken:
            del missed[key]
        return taken

    def ask(self, key: str) -> None:
        """Have the next sync ask for `key`'s count elsewhere, as if it had been read here."""
        if len(self._missed) < self.max_keys:
            self._missed[key] = None

    def give_back(self, taken: Mapping[str, float]) -> None:
        """Return what a take took (its sync failed) for the next take; a key dropped
        since (beyond max_keys) loses it."""
        windows = self._windows
        for key, amount in taken.items():
            window = windows.pop(key, None)
            if window is not None:
                self._set_unsynced(window, self._unsynced(window) + amount)
                windows[key] = window  # to the tail, where a take looks

    def add_elsewhere(self, amounts: Mapping[str, float], now_ms: int) -> None:
        """Count what other workers counted, now, without marking it for the next take."""
        windows = self._windows
        dirty: list[tuple[str, float]] = []
        if any(key not in windows for key in amounts):
            # New windows go at the tail: move the keys waiting for a take behind them.
            dirty = self._dirty_tail(TAIL_SCAN * len(amounts))
        for key, amount in amounts.items():
            window = self._rolled(key, now_ms)
            if window is None:
                if len(windows) >= self.max_keys:
                    del windows[next(iter(windows))]
                windows[key] = _Window(now_ms, amount, 0.0, amount, now_ms)
            else:
                unsynced = self._unsynced(window)
                window.current += amount
                self._set_unsynced(window, unsynced)
        for key, _ in reversed(dirty):
            window = windows.pop(key, None)
            if window is not None:
                windows[key] = window
