"""What risk evaluation costs the challenge endpoint: a site with risk on and one with it off.

One app on SQLite-backed services holds two sites alike but for their risk settings:
scoring and adaptive difficulty on (velocity counting, the client's fraudscore, adapt()),
and scoring off (none of it). Rounds call the challenge handler directly (no HTTP, so the
difference is not lost in the server's own cost) for each site in turn, once with many
addresses (ordinary traffic) and once with one address flooding (the worst case: every
challenge weighs a high velocity and hits the wait cap). Prints µs per challenge and ratios.
Redemption and siteverify always weigh their signals; their cost is printed by function.
Last, one velocity sync (api/velocity_sync.py) of 1,000 and 10,000 keys, on SQLite and on
the in-memory store, with the longest the event loop waited meanwhile (what a request
arriving during a sync could wait).
Run: PYTHONPATH=. .venv/bin/python bench/risk_cost.py
"""

import asyncio
import json
import statistics
import tempfile
import time
import timeit
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient
from tests.support import make_site

from authkong.api import challenge as challenge_api
from authkong.api import risk_signals
from authkong.api.asgi import HotRequest
from authkong.api.velocity import Velocity
from authkong.api.velocity_sync import VelocitySync
from authkong.app import create_app
from authkong.config import Settings
from authkong.domain.clock import FakeClock
from authkong.domain.site import RateLimits, RiskSettings
from authkong.domain.token import ResponseToken
from authkong.storage.ephemeral import EphemeralStore
from authkong.storage.ephemeral_memory import MemoryEphemeralStore
from authkong.storage.ephemeral_sqlite import SqliteEphemeralStore

CALLS, ROUNDS = 3000, 5


def request(app: Any, body: bytes, ip: str) -> HotRequest:
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/challenge",
        "query_string": b"",
        "client": (ip, 40000),
        "headers": [(b"content-type", b"application/json")],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return HotRequest(scope, receive, app)


def main() -> None:
    settings = Settings(data_dir=Path(tempfile.mkdtemp()))
    client = TestClient(create_app(settings))
    client.__enter__()
    svc = client.app.state.services  # type: ignore[attr-defined]
    bodies = {}
    for scoring in (True, False):
        made = make_site(
            svc.registry, svc.clock.now_ms(), rate_limits=RateLimits(ip_per_min=0),
            risk=RiskSettings(scoring=scoring),
        )  # fmt: skip
        bodies[scoring] = json.dumps({"sitekey": made.site.sitekey, "hostname": "example.com"})
    app = client.app.app if hasattr(client.app, "app") else client.app  # type: ignore[attr-defined]

    def run(scoring: bool, flood: bool) -> float:
        body = bodies[scoring].encode()

        async def loop() -> float:
            start = asyncio.get_running_loop().time()
            for n in range(CALLS):
                ip = "198.51.100.7" if flood else f"10.{n % 200}.{n % 7}.{n % 250}"
                await challenge_api.issue(request(app, body, ip))
            return (asyncio.get_running_loop().time() - start) / CALLS * 1e6

        result: float = client.portal.call(loop)  # type: ignore[union-attr]
        return result

    for flood in (False, True):
        on, off = [], []
        for _ in range(ROUNDS):
            on.append(run(True, flood))
            off.append(run(False, flood))
        on_us, off_us = statistics.median(on), statistics.median(off)
        traffic = "one address flooding" if flood else "many addresses"
        print(f"challenge handler, {traffic}:")
        print(f"  risk on:  {on_us:6.1f} µs (rounds {[round(x) for x in on]})")
        print(f"  risk off: {off_us:6.1f} µs (rounds {[round(x) for x in off]})")
        print(f"  risk cost: {on_us - off_us:+.1f} µs, on/off = {on_us / off_us:.3f}")

    token = ResponseToken(
        token_id=b"x" * 16, sitekey="ak_x", issued_ms=0, expires_ms=1, hostname="example.com",
        action="", cdata="", mode="", client_ip="203.0.113.7", score=1.0, reasons=(),
        solve_ms=900,
    )  # fmt: skip
    n = 20000
    verify_us = (
        timeit.timeit(lambda: risk_signals.at_verification(token, "203.0.113.9", False), number=n)
        / n
        * 1e6
    )
    print(f"siteverify's risk step (at_verification, remoteip given): {verify_us:.2f} µs")
    client.__exit__(None, None, None)


def sync_ms(keys: int, sqlite: bool) -> tuple[float, float, float]:
    """One sync of `keys` new keys, then one of the same keys again (ms each), and the
    longest gap between the 1 ms ticks of a task running meanwhile on the event loop (ms)."""
    clock = FakeClock()
    store: EphemeralStore = (
        SqliteEphemeralStore(Path(tempfile.mkdtemp()) / "ephemeral.sqlite3", clock)
        if sqlite
        else MemoryEphemeralStore(clock)
    )
    velocity = Velocity(clock.now_ms())
    syncer = VelocitySync(velocity, store, clock, keys_per_count=keys)

    async def two_syncs() -> tuple[float, float, float]:
        times, stall = [], 0.0
        for _ in range(2):
            for n in range(keys):
                velocity.challenges.hit(f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}", clock.now_ms())
            done = asyncio.Event()

            async def ticker(done: asyncio.Event) -> float:
                # 1 ms ticks, so the ticker does not itself compete for the GIL.
                longest, last = 0.0, time.perf_counter()
                while not done.is_set():
                    await asyncio.sleep(0.001)
                    now = time.perf_counter()
                    longest, last = max(longest, now - last), now
                return longest

            ticking = asyncio.create_task(ticker(done))
            await asyncio.sleep(0)
            start = time.perf_counter()
            assert await syncer.sync()
            times.append((time.perf_counter() - start) * 1000)
            done.set()
            stall = max(stall, await ticking * 1000)
            assert syncer.synced_keys == keys
        await store.close()
        return times[0], times[1], stall

    return asyncio.run(two_syncs())


def main_sync() -> None:
    for keys in (1_000, 10_000):
        for sqlite in (True, False):
            new, again, stall = sync_ms(keys, sqlite)
            name = "SQLite" if sqlite else "memory"
            print(
                f"velocity sync of {keys:,} keys ({name} store): {new:.1f} ms new, "
                f"{again:.1f} ms again; longest gap between 1 ms ticks {stall:.1f} ms"
            )


if __name__ == "__main__":
    main()
    main_sync()
