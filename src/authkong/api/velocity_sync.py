"""Velocity across workers: each worker's new counts go to the ephemeral store, everyone's
come back, in the background.

Requests count in this worker's memory only (api/velocity.py). Every
`Settings.velocity_sync_s` a task started by the app's lifespan takes what was counted here
since the last sync, adds it to shared counters in the ephemeral store in one `add_counts`
transaction (SQLite runs it in a thread), and adds what the other workers counted
meanwhile to this worker's windows. What the risk model and adaptive difficulty read is
then the whole server's count, the other workers' part at most one sync (plus its I/O)
late. A worker started while the store holds counts of the current windows (a restart)
takes them in as the others'.

Shared counters are fixed windows as wide as the local ones, keyed by the window's index
(`vc:<index>:<ip>`), so they never need resetting: a worker reads the current window's
total and, once, the previous one's last total. It remembers per key what it added itself
and what of the others' it has already counted, and adds only the difference, where the
local sliding window (current + previous x overlap) ages it like its own hits.

A worker asks for the keys it counts or reads itself, so a key it has never seen would
be learned one sync too late: its first request would count 1 where a flood split across
the others counts far more. So the worker whose add takes a key's total to BUSY_AT posts
a notice of it in the store (`post_notices`); every worker reads the new notices at the
start of each sync and asks for the keys it does not know yet, before their first request
reaches it. A key counted only once in the whole server is the one left to learn late.

Every sync also marks its minute as counted (`vup:<minute>`) and reads the hour's marks,
even when idle: a site's baseline is the hour's count over the time the server counted,
which after a restart is longer than the new worker's uptime (api/velocity.py).

A sync handles at most SYNC_KEYS_PER_COUNT keys of each of the five counts (the busiest
first; the rest wait for the next sync), reading at most twice as many counters: a flood
of distinct addresses cannot make one unbounded. A failed sync fails no request: the
counts it took go back to wait for the next one.
"""

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

import anyio.to_thread

from authkong.api.velocity import SITE_BASELINE_WINDOW_S, Velocity
from authkong.domain.clock import Clock
from authkong.periodic import Periodic
from authkong.storage.ephemeral import EphemeralStore

SYNC_KEYS_PER_COUNT = 1_000
"""Keys of each count (IP and subnet challenges, redemptions, failures; site rates) that
one sync sends: with five counts, at most 5,000 keys and 10,000 counters a sync."""
BUSY_AT = 2
"""A key's server-wide count in a window at which it is announced to every worker: all
the others will ask for it from then on."""
NOTICES_PER_SYNC = 5 * SYNC_KEYS_PER_COUNT
"""Notices one sync reads at most; the rest wait for the next (each count still asks for at
most SYNC_KEYS_PER_COUNT keys a sync)."""
REMEMBERED_KEYS = 100_000
"""Keys per count whose shared totals a worker remembers (the least recently synced go)."""

_log = logging.getLogger("authkong.velocity")


@dataclass(slots=True)
class _Shared:
    index: int
    """The fixed window (now // window) these numbers are about."""
    mine: int
    """What this worker has added to the window's shared counter."""
    seen: int
    """What the other workers had counted in it when this worker last read it."""


_Item = tuple[str, str, int, int, bool]
"""(count, key, window index, what this worker adds, whether the previous window's total
is read too: it may hold the others' last few counts, not seen yet)."""


MINUTE_MS = 60_000
HOUR_MINUTES = SITE_BASELINE_WINDOW_S // 60


def _counting_marks(now: int) -> dict[str, tuple[int, int]]:
    """Mark this minute as counted by the server, and read the marks of the hour's others.

    A site's baseline is its hour's count over the time the server counted it; after a
    restart that is longer than the new worker's own uptime (api/velocity.py).
    """
    minute = now // MINUTE_MS
    marks = {
        f"vup:{m}": (0, (m + HOUR_MINUTES + 1) * MINUTE_MS)
        for m in range(minute - HOUR_MINUTES + 1, minute)
    }
    marks[f"vup:{minute}"] = (1, (minute + HOUR_MINUTES + 1) * MINUTE_MS)
    return marks


def _counted_s(totals: Mapping[str, int], now: int) -> float:
    """How long, of the last hour, some worker was counting: the marked whole minutes
    before this one, and this one so far."""
    minute = now // MINUTE_MS
    earlier = sum(1 for m in range(minute - HOUR_MINUTES + 1, minute) if totals.get(f"vup:{m}"))
    return earlier * 60 + (now % MINUTE_MS) / 1000


def shared_key(count: str, index: int, key: str) -> str:
    """The shared counter of `count` for `key` in fixed window `index`."""
    return f"{count}:{index}:{key}"


class VelocitySync:
    """One worker's link between its velocity counts and everyone's.

    Only the local counts' own methods run on the event loop (taking the new counts,
    adding the others'); the bookkeeping in between runs in a worker thread, so a sync of
    thousands of keys interleaves with requests instead of stalling them.
    """

    def __init__(
        self,
        velocity: Velocity,
        store: EphemeralStore,
        clock: Clock,
        keys_per_count: int = SYNC_KEYS_PER_COUNT,
    ) -> None:
        self._velocity = velocity
        self._store = store
        self._clock = clock
        self.keys_per_count = keys_per_count
        # Touched only by sync() (one at a time, under _lock), on the loop or in its thread.
        self._shared: dict[str, dict[str, _Shared]] = {n: {} for n in velocity.counters()}
        self._lock = asyncio.Lock()
        self._read_at = 0
        """Where this worker has read the store's notices up to."""
        self._periodic = Periodic(self._sync_quietly, _log, "velocity sync")
        self.synced_keys = 0
        """Keys sent by the last successful sync (tests and the benchmark read it)."""

    async def sync(self) -> bool:
        """Send this worker's new counts and take in everyone's; False if the store failed
        (logged; the counts wait for the next sync)."""
        async with self._lock:
            counts = self._velocity.counters()
            try:
                notices, self._read_at = await self._store.read_notices(
                    self._read_at, NOTICES_PER_SYNC
                )
            except Exception:  # noqa: BLE001  # as below: the next sync tries again
                _log.exception("could not read the velocity notices; the next sync will")
                return False
            now = self._clock.now_ms()
            self._ask_for_new_keys(notices, now)
            limit = self.keys_per_count
            taken = {name: local.take_unsynced(limit) for name, local in counts.items()}
            missed = {
                name: local.take_missed(limit - len(taken[name])) for name, local in counts.items()
            }
            widths = {name: local.window_ms for name, local in counts.items()}
            items, deltas = await anyio.to_thread.run_sync(self._plan, now, widths, taken, missed)
            deltas |= _counting_marks(now)
            try:
                totals = await self._store.add_counts(deltas)
            except Exception:  # noqa: BLE001  # velocity must never fail a request or the worker
                for name, local in counts.items():
                    local.give_back(taken[name])
                _log.exception("could not sync the velocity counts; they wait for the next sync")
                return False
            elsewhere, busy = await anyio.to_thread.run_sync(self._take_in, items, totals)
            self._velocity.server_counted_s = _counted_s(totals, now)
            now = self._clock.now_ms()
            for name, local in counts.items():
                if elsewhere[name]:
                    local.add_elsewhere(elsewhere[name], now)
            self.synced_keys = len(items)
            await self._announce(busy, widths)
            return True

    def _ask_for_new_keys(self, notices: list[str], now: int) -> None:
        """Have this sync ask for the announced keys this worker does not know yet."""
        counts = self._velocity.counters()
        for notice in notices:
            name, index, key = notice.split(":", 2)
            local = counts.get(name)
            if local is None or key in self._shared[name]:
                continue  # a count this version does not keep, or a key already followed
            if int(index) >= now // local.window_ms - 1:  # older windows no longer count
                local.ask(key)

    async def _announce(self, busy: list[tuple[str, int, str]], widths: Mapping[str, int]) -> None:
        """Post the (count, window index, key)s this sync made busy, each as its shared
        counter's name, until that counter expires."""
        by_expiry: dict[int, list[str]] = {}
        for name, index, key in busy:
            by_expiry.setdefault((index + 2) * widths[name], []).append(
                shared_key(name, index, key)
            )
        for expires_ms, notices in by_expiry.items():
            try:
                await self._store.post_notices(notices, expires_ms)
            except Exception:  # noqa: BLE001  # the counts are synced; only the notice is late
                _log.exception("could not announce busy velocity keys")
                return

    def _plan(
        self,
        now: int,
        widths: Mapping[str, int],
        taken: Mapping[str, Mapping[str, float]],
        missed: Mapping[str, list[str]],
    ) -> tuple[list[_Item], dict[str, tuple[int, int]]]:
        items: list[_Item] = []
        deltas: dict[str, tuple[int, int]] = {}
        for name, width in widths.items():
            index = now // width
            shared = self._shared[name]
            mine = taken[name]
            for key in self._to_send(shared, mine, missed[name], index):
                record = shared.get(key)
                previous = record is not None and record.index == index - 1
                delta = round(mine.get(key, 0.0))
                items.append((name, key, index, delta, previous))
                # A window's counter is read until the next one ends.
                deltas[shared_key(name, index, key)] = (delta, (index + 2) * width)
                if previous:
                    deltas[shared_key(name, index - 1, key)] = (0, (index + 1) * width)
        return items, deltas

    def _to_send(
        self, shared: dict[str, _Shared], mine: Mapping[str, float], missed: list[str], index: int
    ) -> list[str]:
        # Keys not counted here lately still gain counts elsewhere (a redemption here reads
        # challenges another worker issued): after this worker's new counts, the keys read
        # here without a window since the last sync, then the least recently synced ones,
        # all within the bound.
        chosen = dict.fromkeys(mine)
        chosen.update(dict.fromkeys(missed))
        stale: list[str] = []
        for key, record in shared.items():
            if len(chosen) >= self.keys_per_count:
                break
            if record.index < index - 1:
                stale.append(key)
            else:
                chosen.setdefault(key)
        for key in stale:
            del shared[key]
        return list(chosen)

    def _take_in(
        self, items: list[_Item], totals: Mapping[str, int]
    ) -> tuple[dict[str, dict[str, float]], list[tuple[str, int, str]]]:
        """What the other workers counted that this one has not added yet, per count and
        key; and the (count, window index, key)s whose shared counter this sync's adds took
        to BUSY_AT."""
        elsewhere: dict[str, dict[str, float]] = {name: {} for name in self._shared}
        busy: list[tuple[str, int, str]] = []
        for name, key, index, delta, previous in items:
            total = totals.get(shared_key(name, index, key), 0)
            if delta and total - delta < BUSY_AT <= total:  # adds are atomic: one sees this
                busy.append((name, index, key))
            shared = self._shared[name]
            record = shared.pop(key, None)
            found = 0
            if record is not None and previous:
                last = totals.get(shared_key(name, index - 1, key), 0)
                found += max(0, last - record.mine - record.seen)
            if record is None or record.index != index:
                record = _Shared(index, 0, 0)
            record.mine += delta
            others = total - record.mine
            if others > record.seen:
                found += others - record.seen
                record.seen = others
            if len(shared) >= REMEMBERED_KEYS:
                del shared[next(iter(shared))]
            shared[key] = record  # to the end: the least recently synced lead
            if found:
                elsewhere[name][key] = found
        return elsewhere, busy

    async def start(self, interval_s: float) -> None:
        """Sync every `interval_s` seconds (real time) in a background task until stop()."""
        self._periodic.start(interval_s)

    async def stop(self) -> None:
        """Stop the background task after a last sync (the other workers keep this one's
        counts)."""
        await self._periodic.stop()

    async def _sync_quietly(self) -> None:
        await self.sync()  # its bool is for tests; a failed sync has logged itself
