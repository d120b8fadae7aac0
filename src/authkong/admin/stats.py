"""Analytics counters: counted in worker memory on the hot paths, flushed to SQLite, read as sums.

Recording is a dict increment keyed by (sitekey, minute, metric, label) and nothing else:
no I/O and no lock on the hot path. A background task (`start`/`stop`, run by the app's
lifespan) takes the deltas every `Settings.stats_flush_s` seconds, and once at shutdown,
and adds them to `data_dir/stats.sqlite3` at three resolutions (minute, hour, day rows)
with an upsert, so any number of worker processes add into the same rows. Old rows are
pruned during flushes (`KEEP_MS`).

No raw event is stored anywhere: the database holds only these counter rows, and every
read (`Stats.analytics`) is a GROUP BY over the rows of one span's resolution and window.
See docs/analytics.md.
"""

import logging
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread
from sqlalchemy import (
    Column,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    event,
    func,
    select,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.schema import CreateIndex, CreateTable

from authkong.admin.analytics import (
    SCORE_BANDS,
    SOLVE_LABELS,
    SPAN_BUCKETS,
    TOP_COUNTRIES,
    Analytics,
    Point,
    Span,
    bucket_starts,
    percentile_ms,
    score_band,
    solve_bucket,
)
from authkong.domain.clock import Clock
from authkong.domain.verdict import Failure
from authkong.lookup.country import UNKNOWN_COUNTRY, country_of
from authkong.periodic import Periodic

MINUTE_MS, HOUR_MS, DAY_MS = 60_000, 3_600_000, 86_400_000
KEEP_MS: Mapping[int, int] = {MINUTE_MS: 2 * HOUR_MS, HOUR_MS: 2 * DAY_MS, DAY_MS: 400 * DAY_MS}
"""How long rows of each resolution (bucket width) are kept: a little more than the
longest span read from them (hour: 60 minutes, day: 24 hours, month: 30 days)."""

# Metrics and what their label holds.
CHALLENGE = "challenge"  # country code of the client ("" when unknown)
SOLVE = "solve"  # solve-time histogram bucket (analytics.solve_bucket), as text
SCORE = "score"  # score band (analytics.SCORE_BANDS); counted with every solve
VERIFIED = "verified"  # ""
REJECTED = "rejected"  # Failure code

_log = logging.getLogger("authkong.stats")

metadata = MetaData()
counters = Table(
    "counters",
    metadata,
    Column("sitekey", String, primary_key=True),
    Column("bucket_ms", Integer, primary_key=True),
    Column("start_ms", Integer, primary_key=True),
    Column("metric", String, primary_key=True),
    Column("label", String, primary_key=True),
    Column("count", Integer, nullable=False),
    sqlite_with_rowid=False,
)
"""One row per site, resolution (bucket width in ms), bucket start, metric and label.
The key leads with the site so a read is a range scan of its own rows."""
_by_age = Index("counters_by_age", counters.c.bucket_ms, counters.c.start_ms)

_Key = tuple[str, int, str, str]
"""(sitekey, minute since the epoch, metric, label)"""
_Row = tuple[str, int, int, str, str]
"""(sitekey, bucket_ms, start_ms, metric, label)"""


def open_stats_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        # The timeout first: switching a new file to WAL takes a lock that another worker
        # opening it at the same moment must wait for rather than fail on.
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    with engine.begin() as conn:  # IF NOT EXISTS: workers start (and create) concurrently
        conn.execute(CreateTable(counters, if_not_exists=True))
        conn.execute(CreateIndex(_by_age, if_not_exists=True))
    return engine


class Stats:
    """One worker's counters and the shared database they are flushed to."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self.engine = open_stats_engine(path)
        self._clock = clock
        self._pending: defaultdict[_Key, int] = defaultdict(int)
        self._take_lock = threading.Lock()
        self._pruned_minute = -1
        self._periodic = Periodic(self.aflush, _log, "analytics flush")
        self.flushes = 0
        """Flushes that wrote something (tests and the benchmark read it)."""

    # -- the hot path: one or two dict increments --------------------------------------

    def challenge(self, sitekey: str, ip: str, now_ms: int) -> None:
        """A challenge was issued to `ip`."""
        country = country_of(ip)
        label = "" if country == UNKNOWN_COUNTRY else country
        self._pending[(sitekey, now_ms // MINUTE_MS, CHALLENGE, label)] += 1

    def solve(self, sitekey: str, solve_ms: int, score: float, now_ms: int) -> None:
        """A challenge was redeemed for a token with `score`, `solve_ms` after issue."""
        minute = now_ms // MINUTE_MS
        pending = self._pending
        pending[(sitekey, minute, SOLVE, SOLVE_LABELS[solve_bucket(solve_ms)])] += 1
        pending[(sitekey, minute, SCORE, score_band(score))] += 1

    def verification(self, sitekey: str, failure: Failure | None, now_ms: int) -> None:
        """A siteverify call for a known site succeeded (`failure` None) or failed."""
        if failure is None:
            self._pending[(sitekey, now_ms // MINUTE_MS, VERIFIED, "")] += 1
        else:
            self._pending[(sitekey, now_ms // MINUTE_MS, REJECTED, failure.value)] += 1

    # -- flushing ----------------------------------------------------------------------

    def _take(self) -> dict[_Key, int]:
        # The lock only orders flushes among themselves (the background task and a direct
        # flush() call); recording never takes it. Swapping in a fresh dict is what makes
        # recording safe: the app's flushes run on the event loop thread that records, so
        # no increment can land in a dict already taken.
        with self._take_lock:
            pending, self._pending = self._pending, defaultdict(int)
        return pending

    def _give_back(self, pending: Mapping[_Key, int]) -> None:
        for key, count in pending.items():
            self._pending[key] += count

    def flush(self) -> None:
        """Write this worker's deltas now, in the calling thread; raise if the write fails
        (the deltas are kept for the next flush).

        Call it from the event loop's thread or while no request is being counted (tests,
        shutdown): the background task does the same on the loop without blocking it.
        """
        pending = self._take()
        try:
            self._write(pending, self._clock.now_ms())
        except BaseException:
            self._give_back(pending)
            raise

    async def aflush(self) -> None:
        """flush() with the write in a worker thread; a failure is logged and retried."""
        pending = self._take()
        try:
            await anyio.to_thread.run_sync(self._write, pending, self._clock.now_ms())
        except Exception:  # noqa: BLE001  # analytics must never stop the server
            self._give_back(pending)
            _log.exception("could not write the analytics counters; will retry")

    def _write(self, pending: Mapping[_Key, int], now_ms: int) -> None:
        prune = now_ms // MINUTE_MS != self._pruned_minute  # at most once a minute
        if not pending and not prune:
            return
        rows: defaultdict[_Row, int] = defaultdict(int)
        for (sitekey, minute, metric, label), count in pending.items():
            start = minute * MINUTE_MS
            for width in (MINUTE_MS, HOUR_MS, DAY_MS):
                rows[(sitekey, width, start // width * width, metric, label)] += count
        upsert = sqlite_insert(counters)
        upsert = upsert.on_conflict_do_update(
            index_elements=list(counters.primary_key.columns),
            set_={"count": counters.c.count + upsert.excluded.count},
        )
        with self.engine.begin() as conn:  # one transaction: all of a flush or none of it
            if rows:
                conn.execute(
                    upsert,
                    [
                        {
                            "sitekey": sitekey,
                            "bucket_ms": width,
                            "start_ms": start,
                            "metric": metric,
                            "label": label,
                            "count": count,
                        }
                        for (sitekey, width, start, metric, label), count in rows.items()
                    ],
                )
            if prune:
                for width, keep_ms in KEEP_MS.items():
                    oldest = now_ms // width * width - keep_ms
                    conn.execute(
                        delete(counters).where(
                            counters.c.bucket_ms == width, counters.c.start_ms < oldest
                        )
                    )
        if prune:
            self._pruned_minute = now_ms // MINUTE_MS
        if rows:
            self.flushes += 1

    async def start(self, interval_s: float) -> None:
        """Flush every `interval_s` seconds (real time) in a background task until stop()."""
        self._periodic.start(interval_s)

    async def stop(self) -> None:
        """Stop the background task after its last flush (the one that counts shutdown);
        without a task, flush once."""
        if self._periodic.running:
            await self._periodic.stop()
        else:
            await self.aflush()

    def close(self) -> None:
        self.engine.dispose()

    # -- reads: aggregate queries over the counter rows ----------------------------------

    def analytics(self, sitekeys: Sequence[str], span: Span, now_ms: int) -> Analytics:
        """Everything the charts show for `span` up to `now_ms`, summed over `sitekeys`
        (one site, or all of an organization's), from what has been flushed so far."""
        width, _count = SPAN_BUCKETS[span]
        starts = bucket_starts(span, now_ms)
        series: dict[int, dict[str, int]] = {start: {} for start in starts}
        labelled: dict[str, dict[str, int]] = defaultdict(dict)
        keys = list(dict.fromkeys(sitekeys))
        if keys:
            in_window = (
                counters.c.sitekey.in_(keys),
                counters.c.bucket_ms == width,
                counters.c.start_ms >= starts[0],
                counters.c.start_ms <= starts[-1],
            )
            total = func.sum(counters.c.count)
            per_bucket = (
                select(counters.c.start_ms, counters.c.metric, total)
                .where(*in_window)
                .group_by(counters.c.start_ms, counters.c.metric)
            )
            per_label = (
                select(counters.c.metric, counters.c.label, total)
                .where(*in_window, counters.c.metric.in_([CHALLENGE, SOLVE, SCORE, REJECTED]))
                .group_by(counters.c.metric, counters.c.label)
            )
            with self.engine.connect() as conn:
                for start, metric, count in conn.execute(per_bucket):
                    series[start][metric] = int(count)
                for metric, label, count in conn.execute(per_label):
                    labelled[metric][label] = int(count)
        points = [
            Point(
                start_ms=start,
                challenges=counts.get(CHALLENGE, 0),
                solves=counts.get(SOLVE, 0),
                verified=counts.get(VERIFIED, 0),
                rejected=counts.get(REJECTED, 0),
            )
            for start, counts in series.items()
        ]
        histogram = {int(label): count for label, count in labelled[SOLVE].items()}
        return Analytics(
            span=span,
            bucket_ms=width,
            points=points,
            rejected_by_reason=dict(_most_first(labelled[REJECTED])),
            solve_ms_p50=percentile_ms(histogram, 0.5),
            solve_ms_p95=percentile_ms(histogram, 0.95),
            score_histogram=[(band, labelled[SCORE].get(band, 0)) for band in SCORE_BANDS],
            top_countries=_most_first(labelled[CHALLENGE])[:TOP_COUNTRIES],
        )


def _most_first(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))
