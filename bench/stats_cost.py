"""What analytics counting costs the hot paths: challenge, redeem and siteverify, counters on
and off, side by side in one run.

Two in-process apps on their own SQLite-backed data dirs (the default store), identical
but that in one `services.stats` is the real `Stats` and in the other a `Stats` whose
three recording methods do nothing ("off": the call remains, the counting is gone). Each
round calls each handler directly (no HTTP, so the difference is not lost in the
server's own cost), on then off, the order flipped every round, with:

- challenge: from many public addresses (the country lookup runs for real);
- redeem: a fresh solved challenge (k=4, pre-solved before timing) per call;
- siteverify (the authkong flavor): a fresh sealed token per call.

The apps run their lifespans, so the "on" app's background flush runs during the timing
as it does in production. Prints the process's CPU µs per call (median over rounds) and
their ratio, and the counting each handler does timed alone (best of 3) with its share
of the handler's cost: the in-handler difference is smaller than this machine's noise.

Run: PYTHONPATH=. .venv/bin/python bench/stats_cost.py [--rounds 21] [--same]
(--same counts on both sides: an A/A run whose ratios show the noise between two apps.)
"""

import argparse
import json
import os
import statistics
import tempfile
import time
import timeit
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.testclient import TestClient
from tests.support import make_site

from authkong.admin.stats import Stats
from authkong.api import challenge as challenge_api
from authkong.api import redeem as redeem_api
from authkong.api.asgi import HotRequest
from authkong.api.flavors import authkong as authkong_flavor
from authkong.api.services import Services
from authkong.app import create_app
from authkong.config import Settings
from authkong.domain import challenge as challenges
from authkong.domain import token as tokens
from authkong.domain.difficulty import BASE
from authkong.domain.pow import SEED_BYTES, solve
from authkong.domain.verdict import Failure

CALLS = {"challenge": 1000, "redeem": 200, "siteverify": 500}
JSON = (b"content-type", b"application/json")
FORM = (b"content-type", b"application/x-www-form-urlencoded")


class NoCounting(Stats):
    """The "off" side: the hooks still call in, and nothing is counted."""

    def challenge(self, sitekey: str, ip: str, now_ms: int) -> None:
        pass

    def solve(self, sitekey: str, solve_ms: int, score: float, now_ms: int) -> None:
        pass

    def verification(self, sitekey: str, failure: Failure | None, now_ms: int) -> None:
        pass


def hot_request(
    app: Any, path: str, body: bytes, ip: str, content_type: tuple[bytes, bytes]
) -> HotRequest:
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": b"",
        "client": (ip, 40000),
        "headers": [content_type],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return HotRequest(scope, receive, app)


def public_ip(n: int) -> str:
    # Spread over the IPv4 space (and so over many countries), skipping private 10/8 etc.
    return f"{(n * 37) % 180 + 20}.{n % 251}.{(n // 7) % 250}.{n % 199 + 1}"


class Side:
    """One app and the single-use inputs it will be given."""

    def __init__(self, counting: bool, rounds: int) -> None:
        settings = Settings(
            data_dir=Path(tempfile.mkdtemp(prefix="authkong-stats-bench-")), stats_flush_s=1.0
        )
        app = create_app(settings)
        self.starlette = app.app
        self.svc: Services = self.starlette.state.services
        if not counting:
            self.svc.stats.close()
            self.svc.stats = NoCounting(settings.stats_path, self.svc.clock)
        self.client = TestClient(app)
        self.client.__enter__()
        made = make_site(self.svc.registry, self.svc.clock.now_ms())
        self.site, self.secret = made.site, made.secret
        self.solved = [self._solved() for _ in range(CALLS["redeem"] * rounds)]
        self.tokens = [self._token(n) for n in range(CALLS["siteverify"] * rounds)]
        self.challenge_body = json.dumps(
            {"sitekey": self.site.sitekey, "hostname": "example.com"}
        ).encode()

    def _solved(self) -> bytes:
        now = self.svc.clock.now_ms()
        challenge = challenges.Challenge(
            seed=os.urandom(SEED_BYTES),
            k=self.site.difficulty.k,
            target=self.site.difficulty.target,
            issued_ms=now - 900,  # as if solved in 0.9 s
            expires_ms=now + 300_000,
            sitekey=self.site.sitekey,
            hostname="example.com",
            action="",
            cdata="",
            mode="",
            reason=BASE,
        )
        nonces = solve(challenge.seed, challenge.k, challenge.target)
        text = challenges.encode(challenge, self.svc.keys.current())
        return json.dumps({"challenge": text, "nonces": nonces}).encode()

    def _token(self, n: int) -> bytes:
        now = self.svc.clock.now_ms()
        token = tokens.ResponseToken(
            token_id=tokens.new_token_id(),
            sitekey=self.site.sitekey,
            issued_ms=now,
            expires_ms=now + 300_000,
            hostname="example.com",
            action="",
            cdata="",
            mode="",
            client_ip=public_ip(n),
            score=0.9,
            reasons=(),
            solve_ms=900,
        )
        sealed = tokens.seal(token, self.svc.keys.current())
        return urlencode({"secret": self.secret, "response": sealed}).encode()

    def run(self, case: str) -> float:
        """µs per call for `case`, consuming its share of single-use inputs."""
        calls = CALLS[case]
        make: Callable[[int], Awaitable[object]]
        if case == "challenge":

            def make(n: int) -> Awaitable[object]:
                request = hot_request(
                    self.starlette, "/api/v1/challenge", self.challenge_body, public_ip(n), JSON
                )
                return challenge_api.issue(request)

        elif case == "redeem":
            bodies, self.solved = self.solved[:calls], self.solved[calls:]

            def make(n: int) -> Awaitable[object]:
                request = hot_request(
                    self.starlette, "/api/v1/redeem", bodies[n], public_ip(n), JSON
                )
                return redeem_api.redeem(request)

        else:
            bodies, self.tokens = self.tokens[:calls], self.tokens[calls:]

            def make(n: int) -> Awaitable[object]:
                request = hot_request(
                    self.starlette, "/api/siteverify", bodies[n], "192.0.2.1", FORM
                )
                return authkong_flavor.siteverify(request)

        async def loop() -> float:
            # CPU time of the whole process (the loop's thread and the flush's): other load
            # on the machine disturbs it far less than wall time.
            start = time.process_time()
            for n in range(calls):
                await make(n)
            return (time.process_time() - start) / calls * 1e6

        result: float = self.client.portal.call(loop)  # type: ignore[union-attr]
        return result

    def close(self) -> None:
        self.client.__exit__(None, None, None)


def spread(values: list[float]) -> str:
    quartiles = statistics.quantiles(values, n=4)
    return f"{min(values):.0f} [{quartiles[0]:.0f} {quartiles[2]:.0f}] {max(values):.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=21)
    parser.add_argument(
        "--same",
        action="store_true",
        help="count on both sides: the on/off ratios then show this machine's noise floor",
    )
    args = parser.parse_args()
    rounds = args.rounds
    print(f"preparing single-use inputs for {rounds} rounds ...", flush=True)
    on, off = Side(True, rounds), Side(args.same, rounds)
    times: dict[tuple[str, bool], list[float]] = {}
    for r in range(rounds):
        for case in CALLS:
            order = (True, False) if r % 2 == 0 else (False, True)
            for counting in order:
                side = on if counting else off
                times.setdefault((case, counting), []).append(side.run(case))
    flushes = on.svc.stats.flushes
    # The recording each handler does, timed alone (a method call on the real Stats).
    stats = on.svc.stats
    now, n = on.svc.clock.now_ms(), 200_000
    recording: dict[str, Callable[[], None]] = {
        "challenge": lambda: stats.challenge("ak_x", "8.8.8.8", now),  # country + 1 increment
        "redeem": lambda: stats.solve("ak_x", 900, 0.9, now),  # 2 increments
        "siteverify": lambda: stats.verification("ak_x", None, now),  # 1 increment
    }
    print(
        f"{'handler':<11} {'on µs':>7} {'off µs':>7} {'on/off':>7}  "
        f"{'counting µs':>11} {'of off':>7}  rounds: min [quartiles] max, on / off"
    )
    for case in CALLS:
        t_on, t_off = times[(case, True)], times[(case, False)]
        m_on, m_off = statistics.median(t_on), statistics.median(t_off)
        alone = min(timeit.repeat(recording[case], number=n, repeat=3)) / n * 1e6
        print(
            f"{case:<11} {m_on:7.1f} {m_off:7.1f} {m_on / m_off:7.3f}  {alone:11.2f} "
            f"{alone / m_off:7.1%}  {spread(t_on)} / {spread(t_off)}"
        )
    print(f"background flushes that wrote during the timed rounds (on side): {flushes}")
    on.close()
    off.close()


if __name__ == "__main__":
    main()
