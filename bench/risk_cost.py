"""What risk evaluation costs the challenge endpoint: a site with risk on and one with it off.

One app on SQLite-backed services holds two sites alike but for their risk settings:
scoring and adaptive difficulty on (velocity counting, the client's fraudscore, adapt()),
and scoring off (none of it). Rounds call the challenge handler directly (no HTTP, so the
difference is not lost in the server's own cost) for each site in turn, once with many
addresses (ordinary traffic) and once with one address flooding (the worst case: every
challenge weighs a high velocity and hits the wait cap). Prints µs per challenge and ratios.
Redemption and siteverify always weigh their signals; their cost is printed by function.
Run: .venv/bin/python bench/risk_cost.py
"""

import asyncio
import json
import statistics
import tempfile
import timeit
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient
from tests.support import make_site

from authkong.api import challenge as challenge_api
from authkong.api import risk_signals
from authkong.api.asgi import HotRequest
from authkong.app import create_app
from authkong.config import Settings
from authkong.domain.site import RateLimits, RiskSettings
from authkong.domain.token import ResponseToken

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


if __name__ == "__main__":
    main()
