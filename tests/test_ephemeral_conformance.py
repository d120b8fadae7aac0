"""The ephemeral store contract: every backend runs this same suite.

To add a backend, add one entry to BACKENDS (a factory taking the test's tmp_path and
FakeClock); skip inside the factory if its server is not available. Each test drives the
store through one event loop (`runner`), so backends whose connections belong to a loop
(redis.asyncio) work too.
"""

import asyncio
import multiprocessing
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from authkong.domain.clock import FakeClock
from authkong.storage.ephemeral import EphemeralStore
from authkong.storage.ephemeral_memory import MemoryEphemeralStore
from authkong.storage.ephemeral_sqlite import SqliteEphemeralStore

BACKENDS: dict[str, Callable[[Path, FakeClock], EphemeralStore]] = {
    "memory": lambda _tmp, clock: MemoryEphemeralStore(clock),
    "sqlite": lambda tmp, clock: SqliteEphemeralStore(tmp / "ephemeral.sqlite3", clock),
}


@pytest.fixture
def runner() -> Iterator[asyncio.Runner]:
    """One event loop for the whole test, shared by the store fixture and the test body."""
    with asyncio.Runner() as loop:
        yield loop


@pytest.fixture(params=sorted(BACKENDS))
def store(
    request: pytest.FixtureRequest, runner: asyncio.Runner, tmp_path: Path, clock: FakeClock
) -> Iterator[EphemeralStore]:
    opened = BACKENDS[request.param](tmp_path, clock)
    yield opened
    runner.run(opened.close())


# -- claims --------------------------------------------------------------------------


def test_claim_once_then_refuse(store: EphemeralStore, runner: asyncio.Runner) -> None:
    """The first claim of a key wins; every later claim while it lives is refused."""
    assert runner.run(store.claim("c:1", 60, "first")) is True
    assert runner.run(store.claim("c:1", 60, "second")) is False
    assert runner.run(store.claim("c:1", 3600)) is False
    assert runner.run(store.get("c:1")) == "first"


def test_concurrent_claims_in_one_loop(store: EphemeralStore, runner: asyncio.Runner) -> None:
    """Claims awaited together (one batch) still let exactly one caller win each key."""

    async def race() -> list[bool]:
        keys = [f"c:{i % 7}" for i in range(50)]
        return list(await asyncio.gather(*(store.claim(k, 60, str(i)) for i, k in enumerate(keys))))

    won = runner.run(race())
    assert won[:7] == [True] * 7
    assert not any(won[7:])
    for i in range(7):
        assert runner.run(store.get(f"c:{i}")) == str(i)  # the first caller of each key won


def test_claims_are_per_key(store: EphemeralStore, runner: asyncio.Runner) -> None:
    """Claiming one key does not affect another."""
    assert runner.run(store.claim("c:1", 60))
    assert runner.run(store.claim("c:2", 60))
    assert runner.run(store.claim("t:1", 60))
    assert not runner.run(store.claim("c:2", 60))


def test_claim_again_after_expiry(
    store: EphemeralStore, runner: asyncio.Runner, clock: FakeClock
) -> None:
    """A claim holds until its TTL is over (exclusive) and can be taken again from then on."""
    assert runner.run(store.claim("k", 10, "a"))
    clock.advance(9.999)
    assert not runner.run(store.claim("k", 10, "b"))
    clock.advance(0.001)
    assert runner.run(store.claim("k", 10, "c"))
    assert runner.run(store.get("k")) == "c"
    assert not runner.run(store.claim("k", 10, "d"))


def test_refused_claim_does_not_extend(
    store: EphemeralStore, runner: asyncio.Runner, clock: FakeClock
) -> None:
    """A refused claim with a longer TTL leaves the original expiry in place."""
    assert runner.run(store.claim("k", 10))
    clock.advance(5)
    assert not runner.run(store.claim("k", 1000))
    clock.advance(5)
    assert runner.run(store.claim("k", 10))


def test_fractional_ttl(store: EphemeralStore, runner: asyncio.Runner, clock: FakeClock) -> None:
    """TTLs are honoured to the millisecond, as redeem passes the challenge's remaining time."""
    assert runner.run(store.claim("k", 0.25))
    clock.advance(0.249)
    assert not runner.run(store.claim("k", 0.25))
    clock.advance(0.001)
    assert runner.run(store.claim("k", 0.25))


# -- get -----------------------------------------------------------------------------


def test_get_only_while_live(
    store: EphemeralStore, runner: asyncio.Runner, clock: FakeClock
) -> None:
    """get returns the claim's value while it lives and None before and after."""
    assert runner.run(store.get("k")) is None
    runner.run(store.claim("k", 30, "idem-123"))
    assert runner.run(store.get("k")) == "idem-123"
    clock.advance(29.999)
    assert runner.run(store.get("k")) == "idem-123"
    clock.advance(0.001)
    assert runner.run(store.get("k")) is None


def test_get_distinguishes_empty_value_from_absent(
    store: EphemeralStore, runner: asyncio.Runner
) -> None:
    """A live claim made without a value reads as "" (not None)."""
    runner.run(store.claim("k", 30))
    assert runner.run(store.get("k")) == ""
    assert runner.run(store.get("other")) is None


def test_values_round_trip_unicode(store: EphemeralStore, runner: asyncio.Runner) -> None:
    """Values and keys with non-ASCII text come back unchanged."""
    runner.run(store.claim("t:é", 30, "ключ ✓"))
    assert runner.run(store.get("t:é")) == "ключ ✓"


# -- counters ------------------------------------------------------------------------


def test_incr_counts_within_window(store: EphemeralStore, runner: asyncio.Runner) -> None:
    """incr returns the running total, honours `amount`, and keeps keys apart."""
    assert runner.run(store.incr("r:a", 60)) == 1
    assert runner.run(store.incr("r:a", 60)) == 2
    assert runner.run(store.incr("r:a", 60, 5)) == 7
    assert runner.run(store.incr("r:b", 60)) == 1
    assert runner.run(store.incr("r:a", 60)) == 8


def test_incr_resets_after_window(
    store: EphemeralStore, runner: asyncio.Runner, clock: FakeClock
) -> None:
    """The window runs from the first add and does not slide with later adds."""
    assert runner.run(store.incr("r", 10)) == 1
    clock.advance(9.999)
    assert runner.run(store.incr("r", 10)) == 2
    clock.advance(0.001)
    assert runner.run(store.incr("r", 10, 3)) == 3
    clock.advance(9.999)
    assert runner.run(store.incr("r", 10)) == 4
    clock.advance(0.001)
    assert runner.run(store.incr("r", 10)) == 1


def test_claims_and_counters_survive_each_other(
    store: EphemeralStore, runner: asyncio.Runner
) -> None:
    """Counting a key does not claim it and claiming does not count it."""
    assert runner.run(store.incr("x", 60)) == 1
    assert runner.run(store.get("x")) is None
    assert runner.run(store.claim("x", 60, "v"))
    assert runner.run(store.incr("x", 60)) == 2


def test_add_counts_adds_many_and_returns_totals(
    store: EphemeralStore, runner: asyncio.Runner, clock: FakeClock
) -> None:
    """add_counts adds each delta and returns every key's total; a 0 delta only reads."""
    until = clock.now_ms() + 60_000
    assert runner.run(store.add_counts({"v:a": (2, until), "v:b": (1, until)})) == {
        "v:a": 2,
        "v:b": 1,
    }
    got = runner.run(store.add_counts({"v:a": (3, until), "v:b": (0, until), "v:c": (0, until)}))
    assert got == {"v:a": 5, "v:b": 1, "v:c": 0}
    assert runner.run(store.purge()) == 0
    clock.advance(60)
    assert runner.run(store.purge()) == 2  # a read never created "v:c"


def test_add_counts_start_again_after_their_expiry(
    store: EphemeralStore, runner: asyncio.Runner, clock: FakeClock
) -> None:
    """A counter lives until the expiry of its first add; later adds do not extend it."""
    first = clock.now_ms() + 10_000
    assert runner.run(store.add_counts({"v:a": (4, first)})) == {"v:a": 4}
    clock.advance(9.999)
    assert runner.run(store.add_counts({"v:a": (1, first + 50_000)})) == {"v:a": 5}
    clock.advance(0.001)
    assert runner.run(store.add_counts({"v:a": (0, first + 50_000)})) == {"v:a": 0}
    assert runner.run(store.add_counts({"v:a": (2, first + 50_000)})) == {"v:a": 2}


def test_add_counts_and_incr_share_counters(store: EphemeralStore, runner: asyncio.Runner) -> None:
    """add_counts and incr on one key add into the same counter."""
    assert runner.run(store.incr("v:a", 60, 3)) == 3
    assert runner.run(store.add_counts({"v:a": (2, 2**50)})) == {"v:a": 5}


# -- token buckets -------------------------------------------------------------------


def test_take_burst_then_refuse(store: EphemeralStore, runner: asyncio.Runner) -> None:
    """A new bucket allows `burst` takes at once, then refuses with the wait for one token."""
    waits = [runner.run(store.take("b:ip", 0.5, 3)) for _ in range(3)]
    assert waits == [0.0, 0.0, 0.0]
    assert runner.run(store.take("b:ip", 0.5, 3)) == pytest.approx(2.0, abs=1e-3)
    assert runner.run(store.take("b:ip", 0.5, 3)) == pytest.approx(2.0, abs=1e-3)


def test_take_refills_over_time(
    store: EphemeralStore, runner: asyncio.Runner, clock: FakeClock
) -> None:
    """Tokens come back at the rate, to the millisecond, and never beyond the burst."""
    for _ in range(2):
        assert runner.run(store.take("b", 1, 2)) == 0.0
    assert runner.run(store.take("b", 1, 2)) == pytest.approx(1.0, abs=1e-3)
    clock.advance(0.999)
    assert runner.run(store.take("b", 1, 2)) == pytest.approx(0.001, abs=1e-4)
    clock.advance(0.001)
    assert runner.run(store.take("b", 1, 2)) == 0.0
    assert runner.run(store.take("b", 1, 2)) > 0
    clock.advance(3600)  # an hour idle refills to the burst, not to 3600 tokens
    assert [runner.run(store.take("b", 1, 2)) for _ in range(3)][2] > 0


def test_take_with_a_fractional_interval(
    store: EphemeralStore, runner: asyncio.Runner, clock: FakeClock
) -> None:
    """A rate whose interval is not a whole millisecond (7/s) loses no token to rounding."""
    allowed = 0
    for _ in range(700):
        allowed += runner.run(store.take("b", 7, 1)) == 0.0
        clock.advance(0.001)
    assert allowed == 5  # 0.7 s at 7/s, plus the token the bucket started with


def test_take_honours_cost(store: EphemeralStore, runner: asyncio.Runner) -> None:
    """A take of `cost` tokens uses that many, and one too large for what is left is refused."""
    assert runner.run(store.take("b", 1, 5, cost=3)) == 0.0
    assert runner.run(store.take("b", 1, 5, cost=3)) == pytest.approx(1.0, abs=1e-3)
    assert runner.run(store.take("b", 1, 5, cost=2)) == 0.0
    with pytest.raises(ValueError, match="burst"):
        runner.run(store.take("b", 1, 5, cost=6))


def test_refused_take_takes_nothing(
    store: EphemeralStore, runner: asyncio.Runner, clock: FakeClock
) -> None:
    """A flood of refused takes does not push back when the next token comes."""
    assert runner.run(store.take("b", 1, 1)) == 0.0
    for _ in range(50):
        assert runner.run(store.take("b", 1, 1)) > 0
    clock.advance(1)
    assert runner.run(store.take("b", 1, 1)) == 0.0


def test_take_keys_are_independent(store: EphemeralStore, runner: asyncio.Runner) -> None:
    """Emptying one bucket leaves others full, and buckets do not touch claims or counters."""
    assert runner.run(store.take("x", 1, 1)) == 0.0
    assert runner.run(store.take("x", 1, 1)) > 0
    assert runner.run(store.take("y", 1, 1)) == 0.0
    assert runner.run(store.claim("x", 60))
    assert runner.run(store.incr("x", 60)) == 1
    assert runner.run(store.get("x")) == ""


def test_concurrent_takes_in_one_loop(store: EphemeralStore, runner: asyncio.Runner) -> None:
    """Takes and claims awaited together (one batch) allow exactly `burst` takes per key."""

    async def race() -> list[float | bool]:
        takes = [store.take(f"b:{i % 3}", 1, 4) for i in range(30)]
        claims = [store.claim(f"c:{i % 2}", 60) for i in range(6)]
        return list(await asyncio.gather(*takes, *claims))

    results = runner.run(race())
    waits, claimed = results[:30], results[30:]
    assert [w == 0.0 for w in waits] == [True] * 12 + [False] * 18
    assert claimed == [True, True, False, False, False, False]


# -- notices -------------------------------------------------------------------------


def test_notices_are_read_in_order_from_a_position(
    store: EphemeralStore, runner: asyncio.Runner
) -> None:
    """Notices come back oldest first, `limit` at a time; reading on from the returned
    position gives exactly the rest, and then nothing new until more are posted."""
    runner.run(store.post_notices(["a", "b", "c"], 2**50))
    runner.run(store.post_notices(["d"], 2**50))
    first, at = runner.run(store.read_notices(0, 2))
    assert first == ["a", "b"]
    rest, at = runner.run(store.read_notices(at, 10))
    assert rest == ["c", "d"]
    assert runner.run(store.read_notices(at, 10)) == ([], at)
    runner.run(store.post_notices(["é:ключ"], 2**50))
    assert runner.run(store.read_notices(at, 10))[0] == ["é:ключ"]
    assert runner.run(store.read_notices(0, 10))[0] == ["a", "b", "c", "d", "é:ключ"]


def test_expired_notices_are_skipped_and_purged(
    store: EphemeralStore, runner: asyncio.Runner, clock: FakeClock
) -> None:
    """A notice is read until its expiry, never after; purge drops it and later posts
    still come after every position already read."""
    soon = clock.now_ms() + 10_000
    runner.run(store.post_notices(["short"], soon))
    runner.run(store.post_notices(["long"], soon + 50_000))
    assert runner.run(store.read_notices(0, 10))[0] == ["short", "long"]
    clock.advance(10)
    notices, at = runner.run(store.read_notices(0, 10))
    assert notices == ["long"]
    assert runner.run(store.purge()) == 1
    runner.run(store.post_notices(["later"], soon + 50_000))
    assert runner.run(store.read_notices(at, 10))[0] == ["later"]
    assert runner.run(store.read_notices(0, 10))[0] == ["long", "later"]


# -- purge ---------------------------------------------------------------------------


def test_purge_drops_expired_only(
    store: EphemeralStore, runner: asyncio.Runner, clock: FakeClock
) -> None:
    """purge removes exactly the expired claims and counters; live ones keep working."""
    runner.run(store.claim("short", 10, "s"))
    runner.run(store.claim("long", 100, "l"))
    runner.run(store.incr("short-count", 10))
    runner.run(store.incr("long-count", 100))
    assert runner.run(store.purge()) == 0
    clock.advance(10)
    assert runner.run(store.purge()) == 2
    assert runner.run(store.purge()) == 0
    assert runner.run(store.get("long")) == "l"
    assert not runner.run(store.claim("long", 100))
    assert runner.run(store.incr("long-count", 100)) == 2
    assert runner.run(store.get("short")) is None
    assert runner.run(store.claim("short", 10))
    assert runner.run(store.incr("short-count", 10)) == 1


def test_purge_drops_full_buckets_only(
    store: EphemeralStore, runner: asyncio.Runner, clock: FakeClock
) -> None:
    """A bucket goes once it has refilled completely, and dropping it then changes nothing."""
    runner.run(store.take("slow", 0.1, 2))
    runner.run(store.take("fast", 1, 2))
    runner.run(store.take("fast", 1, 2))
    clock.advance(1.999)
    assert runner.run(store.purge()) == 0
    clock.advance(0.001)
    assert runner.run(store.purge()) == 1  # "fast" is full again; "slow" has 9 s to go
    assert [runner.run(store.take("fast", 1, 2)) for _ in range(3)][2] > 0
    assert runner.run(store.take("slow", 0.1, 2)) == 0.0
    assert runner.run(store.take("slow", 0.1, 2)) > 0


# -- several processes on one SQLite file ----------------------------------------------

RACE_KEYS = 50
RACE_PROCESSES = 6


Job = Callable[[SqliteEphemeralStore, int], Awaitable[Any]]
"""What one racing process does with its store (a module-level function, so it pickles)."""


def _race_worker(
    path: str,
    worker: int,
    barrier: "multiprocessing.synchronize.Barrier",
    results: "multiprocessing.Queue[object]",
    job: Job,
) -> None:
    """Open the store when everyone does, start `job` together, report its result (or error)."""
    try:
        barrier.wait(timeout=60)
        store = SqliteEphemeralStore(Path(path), FakeClock(), lock_timeout_s=60)
        barrier.wait(timeout=60)

        async def run() -> Any:
            try:
                return await job(store, worker)
            finally:
                await store.close()

        results.put((worker, asyncio.run(run())))
    except Exception as exc:  # noqa: BLE001  # report any failure to the parent, not die silently
        results.put((worker, repr(exc)))


async def _claim_all(store: SqliteEphemeralStore, worker: int) -> list[str]:
    """Claim every key, odd workers in their own shuffled order."""
    keys = [f"c:{i}" for i in range(RACE_KEYS)]
    if worker % 2:
        random.Random(worker).shuffle(keys)
    return [key for key in keys if await store.claim(key, 300, str(worker))]


def _race(tmp_path: Path, job: Job) -> dict[Any, Any]:
    """Run `job` in RACE_PROCESSES spawned processes on one database file, released
    together by a barrier; each worker's result by worker number (none may fail)."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(RACE_PROCESSES)
    results: multiprocessing.Queue[object] = ctx.Queue()
    path = tmp_path / "ephemeral.sqlite3"
    procs = [
        ctx.Process(target=_race_worker, args=(str(path), w, barrier, results, job))
        for w in range(RACE_PROCESSES)
    ]
    for proc in procs:
        proc.start()
    outcomes = dict(results.get(timeout=120) for _ in procs)
    for proc in procs:
        proc.join(timeout=60)
        assert proc.exitcode == 0
    errors = {w: r for w, r in outcomes.items() if isinstance(r, str)}
    assert not errors, errors
    return outcomes


def test_sqlite_claims_are_atomic_across_processes(tmp_path: Path) -> None:
    """Six spawned processes racing on one database file claim each of 50 keys exactly once."""
    outcomes = _race(tmp_path, _claim_all)
    won = [key for keys in outcomes.values() for key in keys]
    assert sorted(won) == sorted(f"c:{i}" for i in range(RACE_KEYS))

    check = SqliteEphemeralStore(tmp_path / "ephemeral.sqlite3", FakeClock())
    try:
        for worker, keys in outcomes.items():
            for key in keys:
                assert asyncio.run(check.get(key)) == str(worker)
    finally:
        asyncio.run(check.close())


TAKES_PER_PROCESS = 40
RACE_BURST = 100


async def _take_all(store: SqliteEphemeralStore, _worker: int) -> int:
    """Take from one shared bucket, four at once: batches from different processes
    interleave too. Returns how many takes were allowed."""
    allowed = 0
    for _ in range(TAKES_PER_PROCESS // 4):
        waits = await asyncio.gather(*(store.take("b:ip", 0.001, RACE_BURST) for _ in "1234"))
        allowed += sum(w == 0.0 for w in waits)
    return allowed


def test_sqlite_takes_are_atomic_across_processes(tmp_path: Path) -> None:
    """Six processes taking 240 times from one bucket of 100 are allowed exactly 100 in all."""
    outcomes = _race(tmp_path, _take_all)
    assert sum(outcomes.values()) == RACE_BURST


ADDS_PER_PROCESS = 20


async def _add_all(store: SqliteEphemeralStore, worker: int) -> list[dict[str, int]]:
    """Add to two shared counters, a batch at a time; every total seen."""
    return [
        await store.add_counts({"v:all": (1, 2**50), f"v:{worker}": (worker, 2**50)})
        for _ in range(ADDS_PER_PROCESS)
    ]


def test_sqlite_add_counts_are_atomic_across_processes(tmp_path: Path) -> None:
    """Six processes adding to one counter lose no add, and each total is seen once."""
    outcomes = _race(tmp_path, _add_all)
    totals = [batch["v:all"] for seen in outcomes.values() for batch in seen]
    assert sorted(totals) == list(range(1, RACE_PROCESSES * ADDS_PER_PROCESS + 1))
    for worker, seen in outcomes.items():
        assert seen[-1][f"v:{worker}"] == worker * ADDS_PER_PROCESS


NOTICES_PER_PROCESS = 30


async def _post_and_follow(store: SqliteEphemeralStore, worker: int) -> list[str]:
    """Even workers post notices two at a time; odd ones follow the list as they go and
    return everything they read, in order."""
    if worker % 2 == 0:
        for n in range(0, NOTICES_PER_PROCESS, 2):
            await store.post_notices([f"{worker}:{n}", f"{worker}:{n + 1}"], 2**50)
            await asyncio.sleep(0)
        return []
    seen: list[str] = []
    at, posted = 0, NOTICES_PER_PROCESS * len(range(0, RACE_PROCESSES, 2))
    deadline = time.monotonic() + 60
    while len(seen) < posted and time.monotonic() < deadline:
        notices, at = await store.read_notices(at, 7)
        seen += notices
        await asyncio.sleep(0.002)
    return seen + (await store.read_notices(at, 7))[0]  # and nothing more after them


def test_sqlite_notices_are_followed_in_order_across_processes(tmp_path: Path) -> None:
    """Readers following the list while three processes post to it read every notice
    exactly once, each poster's in the order posted, and all in one order for everyone."""
    outcomes = _race(tmp_path, _post_and_follow)
    posted = {f"{w}:{n}" for w in range(0, RACE_PROCESSES, 2) for n in range(NOTICES_PER_PROCESS)}
    readers = [outcomes[w] for w in range(1, RACE_PROCESSES, 2)]
    for seen in readers:
        assert sorted(seen) == sorted(posted)
        for poster in range(0, RACE_PROCESSES, 2):
            mine = [n for n in seen if n.startswith(f"{poster}:")]
            assert mine == [f"{poster}:{n}" for n in range(NOTICES_PER_PROCESS)]
    assert readers[0] == readers[1] == readers[2]
