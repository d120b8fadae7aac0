"""SQLite ephemeral store: the default, safe for several worker processes on one machine.

Every write runs in a transaction under SQLite's write lock, so a claim or a take is atomic
across processes; claims and takes made in the same event-loop turn share one transaction
(measured in bench/http_bench.py: the per-transaction locking and WAL writes were most of a
verify's cost). A claim or take is reported only after its transaction commits. WAL with
synchronous=NORMAL survives a killed process without losing a committed claim (only a
power cut can lose the last few); the writes are tiny, so the blocking call is shorter
than a hop to a thread pool would be. The exceptions are velocity sync's calls
(`add_counts` and the notices), thousands of rows in one transaction: they run in a
worker thread on a connection of their own.
"""

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread

from authkong.domain.clock import Clock
from authkong.domain.token_bucket import Bucket

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY, value TEXT NOT NULL, expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, expires_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS buckets (
    key TEXT PRIMARY KEY, tat_ms REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS notices (
    position INTEGER PRIMARY KEY AUTOINCREMENT, notice TEXT NOT NULL, expires_ms INTEGER NOT NULL
);
"""

_CLAIM = """
INSERT INTO claims (key, value, expires_ms) VALUES (?, ?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_ms = excluded.expires_ms
WHERE claims.expires_ms <= ?
"""

_INCR = """
INSERT INTO counters (key, count, expires_ms) VALUES (?1, ?2, ?3)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN counters.expires_ms <= ?4 THEN ?2 ELSE counters.count + ?2 END,
    expires_ms = CASE WHEN counters.expires_ms <= ?4 THEN ?3 ELSE counters.expires_ms END
RETURNING count
"""

_COUNT = "SELECT count FROM counters WHERE key = ? AND expires_ms > ?"

# A token bucket as its "theoretical arrival time" (GCRA, see domain/token_bucket.py): one
# number per key. A refused take changes no row (none comes back), so a flood of refusals
# adds nothing to the WAL. ?2 now, ?3 what the take adds, ?4 how far past now it may reach.
_TAKE = """
INSERT INTO buckets (key, tat_ms) VALUES (?1, ?2 + ?3)
ON CONFLICT (key) DO UPDATE SET tat_ms = max(buckets.tat_ms, ?2) + ?3
WHERE max(buckets.tat_ms, ?2) + ?3 - ?2 <= ?4
RETURNING tat_ms
"""

# A sweep scans the whole table (an index on expiry would cost every claim a second
# B-tree write), so it runs on a clock, not per write: cheap at any request rate.
PURGE_EVERY_MS = 60_000


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch a new database to WAL, waiting out other processes doing the same.

    SQLite answers "database is locked" at once, without its busy timeout, when two
    connections switch a fresh file's journal mode together.
    """
    for attempt in range(100):
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == 99:
                raise
            time.sleep(0.01 * (1 + attempt % 10))  # startup only, never on a request


def prepare(path: Path) -> None:
    """Create the database in WAL mode with its tables.

    `authkong serve` does this once before starting workers, so they do not race to
    create the file.
    """
    db = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        _use_wal(db)
        db.executescript(_SCHEMA)
    finally:
        db.close()


class SqliteEphemeralStore:
    def __init__(self, path: Path, clock: Clock, lock_timeout_s: float = 5.0) -> None:
        self._clock = clock
        self._path, self._lock_timeout_s = path, lock_timeout_s
        self._counts_db: sqlite3.Connection | None = None  # velocity sync's own, opened on use
        self._counts_lock = threading.Lock()
        self._closed = False
        self._db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=lock_timeout_s
        )
        _use_wal(self._db)
        self._db.execute("PRAGMA synchronous=NORMAL")
        # Keep the claims B-tree in memory rather than re-reading its pages.
        self._db.execute("PRAGMA cache_size=-32768")
        self._db.execute("PRAGMA mmap_size=67108864")
        self._db.executescript(_SCHEMA)
        self._next_purge_ms = clock.now_ms() + PURGE_EVERY_MS
        self._pending: list[tuple[Callable[[int], Any], asyncio.Future[Any]]] = []

    async def claim(self, key: str, ttl_s: float, value: str = "") -> bool:
        def write(now: int) -> bool:
            expires = now + round(ttl_s * 1000)
            return bool(self._db.execute(_CLAIM, (key, value, expires, now)).rowcount == 1)

        claimed: bool = await self._in_batch(write)
        return claimed

    async def take(self, key: str, rate_per_s: float, burst: int, cost: int = 1) -> float:
        bucket = Bucket(rate_per_s, burst, cost)

        def write(now: int) -> float:
            row = self._db.execute(_TAKE, (key, now, bucket.step_ms, bucket.reach_ms)).fetchone()
            if row is not None:
                return 0.0
            # Refused: the decision above was atomic; this read only sizes Retry-After.
            held = self._db.execute("SELECT tat_ms FROM buckets WHERE key = ?", (key,)).fetchone()
            return bucket.wait_s(float(held[0]) if held else now, now)

        wait: float = await self._in_batch(write)
        return wait

    async def _in_batch(self, write: Callable[[int], Any]) -> Any:
        # Group commit: writes made by requests handled in the same event-loop turn share
        # one transaction, so its locking and WAL writes are paid once, not per write.
        loop = asyncio.get_running_loop()
        decided: asyncio.Future[Any] = loop.create_future()
        self._pending.append((write, decided))
        if len(self._pending) == 1:
            loop.call_soon(self._commit_pending)
        result = await decided
        await self._after_write()
        return result

    def _commit_pending(self) -> None:
        batch, self._pending = self._pending, []
        now = self._clock.now_ms()
        try:
            if len(batch) == 1:
                results = [batch[0][0](now)]
            else:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    # Each statement still sees the ones before it: a key twice in one
                    # batch is claimed by (or takes from the bucket for) its first request.
                    results = [write(now) for write, _ in batch]
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            for _, decided in batch:
                if not decided.done():
                    decided.set_exception(exc)
            return
        for (_, decided), result in zip(batch, results, strict=True):
            if not decided.done():
                decided.set_result(result)

    async def get(self, key: str) -> str | None:
        row = self._db.execute(
            "SELECT value FROM claims WHERE key = ? AND expires_ms > ?",
            (key, self._clock.now_ms()),
        ).fetchone()
        return None if row is None else str(row[0])

    async def incr(self, key: str, window_s: float, amount: int = 1) -> int:
        now = self._clock.now_ms()
        row = self._db.execute(_INCR, (key, amount, now + round(window_s * 1000), now)).fetchone()
        await self._after_write()
        return int(row[0])

    async def add_counts(self, deltas: Mapping[str, tuple[int, int]]) -> dict[str, int]:
        now = self._clock.now_ms()
        # Only reads (an idle worker refreshing what it knows) need no write lock.
        writes = any(delta for delta, _ in deltas.values())

        def add(db: sqlite3.Connection) -> dict[str, int]:
            totals = {}
            for key, (delta, expires) in deltas.items():
                if delta:
                    row = db.execute(_INCR, (key, delta, expires, now)).fetchone()
                else:
                    row = db.execute(_COUNT, (key, now)).fetchone()
                totals[key] = int(row[0]) if row else 0
            return totals

        totals: dict[str, int] = await anyio.to_thread.run_sync(self._in_thread, add, writes)
        await self._after_write()  # expired windows go with the next purge
        return totals

    async def post_notices(self, notices: Sequence[str], expires_ms: int) -> None:
        # AUTOINCREMENT: a position is never reused, even after its notice is purged. One
        # writer at a time, so positions are committed in order and a reader that has seen
        # one has seen every position before it.
        rows = [(notice, expires_ms) for notice in notices]

        def post(db: sqlite3.Connection) -> None:
            db.executemany("INSERT INTO notices (notice, expires_ms) VALUES (?, ?)", rows)

        await anyio.to_thread.run_sync(self._in_thread, post, True)

    def _in_thread(self, work: Callable[[sqlite3.Connection], Any], writes: bool) -> Any:
        # Velocity sync's batches of thousands of rows run in a worker thread, on a
        # connection of their own: the event loop's may be in a group-commit transaction
        # meanwhile. The write lock is held for this one batch.
        with self._counts_lock:
            if self._closed:
                raise sqlite3.ProgrammingError("the ephemeral store is closed")
            db = self._counts_db
            if db is None:
                db = sqlite3.connect(
                    self._path,
                    isolation_level=None,
                    check_same_thread=False,
                    timeout=self._lock_timeout_s,
                )
                db.execute("PRAGMA synchronous=NORMAL")
                self._counts_db = db
            db.execute("BEGIN IMMEDIATE" if writes else "BEGIN")
            try:
                result = work(db)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return result

    async def read_notices(self, after: int, limit: int) -> tuple[list[str], int]:
        now = self._clock.now_ms()

        def read(db: sqlite3.Connection) -> list[tuple[int, str]]:
            return db.execute(
                "SELECT position, notice FROM notices WHERE position > ? AND expires_ms > ?"
                " ORDER BY position LIMIT ?",
                (after, now, limit),
            ).fetchall()

        rows: list[tuple[int, str]] = await anyio.to_thread.run_sync(self._in_thread, read, False)
        return [str(notice) for _, notice in rows], int(rows[-1][0]) if rows else after

    async def purge(self) -> int:
        now = self._clock.now_ms()
        gone = self._db.execute("DELETE FROM claims WHERE expires_ms <= ?", (now,)).rowcount
        gone += self._db.execute("DELETE FROM counters WHERE expires_ms <= ?", (now,)).rowcount
        gone += self._db.execute("DELETE FROM buckets WHERE tat_ms <= ?", (now,)).rowcount
        gone += self._db.execute("DELETE FROM notices WHERE expires_ms <= ?", (now,)).rowcount
        return int(gone)

    async def close(self) -> None:
        with self._counts_lock:
            self._closed = True
            if self._counts_db is not None:
                self._counts_db.close()
        self._db.close()

    async def _after_write(self) -> None:
        if self._clock.now_ms() >= self._next_purge_ms:
            self._next_purge_ms = self._clock.now_ms() + PURGE_EVERY_MS
            await self.purge()
