"""In-process ephemeral store for tests and single-process experiments.

Not safe across processes: `authkong serve` always uses the SQLite store.
"""

from collections.abc import Mapping, Sequence

from authkong.domain.clock import Clock
from authkong.domain.token_bucket import Bucket


class MemoryEphemeralStore:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._claims: dict[str, tuple[str, int]] = {}
        self._counters: dict[str, tuple[int, int]] = {}
        self._buckets: dict[str, float] = {}
        self._notices: list[tuple[int, str, int]] = []  # (position, notice, expires), in order
        self._posted = 0

    async def claim(self, key: str, ttl_s: float, value: str = "") -> bool:
        now = self._clock.now_ms()
        held = self._claims.get(key)
        if held is not None and held[1] > now:
            return False
        self._claims[key] = (value, now + round(ttl_s * 1000))
        return True

    async def get(self, key: str) -> str | None:
        held = self._claims.get(key)
        if held is None or held[1] <= self._clock.now_ms():
            return None
        return held[0]

    async def incr(self, key: str, window_s: float, amount: int = 1) -> int:
        now = self._clock.now_ms()
        count, expires = self._counters.get(key, (0, 0))
        if expires <= now:
            count, expires = 0, now + round(window_s * 1000)
        count += amount
        self._counters[key] = (count, expires)
        return count

    async def add_counts(self, deltas: Mapping[str, tuple[int, int]]) -> dict[str, int]:
        now = self._clock.now_ms()
        totals = {}
        for key, (delta, expires_ms) in deltas.items():
            count, expires = self._counters.get(key, (0, 0))
            if expires <= now:
                count, expires = 0, expires_ms
            if delta:
                count += delta
                self._counters[key] = (count, expires)
            totals[key] = count
        return totals

    async def post_notices(self, notices: Sequence[str], expires_ms: int) -> None:
        for notice in notices:
            self._posted += 1
            self._notices.append((self._posted, notice, expires_ms))

    async def read_notices(self, after: int, limit: int) -> tuple[list[str], int]:
        now = self._clock.now_ms()
        live = [(pos, notice) for pos, notice, exp in self._notices if pos > after and exp > now]
        read = live[:limit]
        return [notice for _, notice in read], read[-1][0] if read else after

    async def take(self, key: str, rate_per_s: float, burst: int, cost: int = 1) -> float:
        bucket = Bucket(rate_per_s, burst, cost)
        now = self._clock.now_ms()
        tat = self._buckets.get(key, now)
        new = bucket.after_take(tat, now)
        if new is None:
            return bucket.wait_s(tat, now)
        self._buckets[key] = new
        return 0.0

    async def purge(self) -> int:
        now = self._clock.now_ms()
        dead = [k for k, (_, exp) in self._claims.items() if exp <= now]
        dead_counters = [k for k, (_, exp) in self._counters.items() if exp <= now]
        for key in dead:
            del self._claims[key]
        for key in dead_counters:
            del self._counters[key]
        live = [entry for entry in self._notices if entry[2] > now]
        dead_notices = len(self._notices) - len(live)
        self._notices = live
        full = [k for k, tat in self._buckets.items() if tat <= now]
        for key in full:
            del self._buckets[key]
        return len(dead) + len(dead_counters) + dead_notices + len(full)

    async def close(self) -> None:
        self._claims.clear()
        self._counters.clear()
        self._buckets.clear()
        self._notices.clear()
