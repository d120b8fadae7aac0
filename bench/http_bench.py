"""HTTP throughput of AuthKong against a raw-ASGI floor, measured side by side in one run.

    .venv/bin/python bench/http_bench.py [--workers 1] [--rounds 5] [--duration 2]

Starts `authkong serve` and `bench/baseline_app.py` (the same `authkong serve` command
serving a framework-free app that parses the same form), each on a free 127.0.0.1 port,
on a throwaway data dir. A cheap site (k=4, 16 hashes per solution) lets the runner
pre-generate fresh response tokens and solved challenges over HTTP before any timing.
Then every round runs each case once, in rotated order, so the noise of this shared
machine hits all cases alike; the report is the median requests/s per case, the median
of each round's ratio to that round's baseline, and the server's CPU time per request
(read from /proc), which other load on the machine disturbs far less than throughput.

The load generator is `wrk` (Debian: `apt-get install -y wrk`) with bench/post_bodies.lua,
which posts a different pre-generated body per request. It is C and uses a small share
of one core; the run prints that share, since it still competes with the servers.
"""

import argparse
import json
import math
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import urlopen

HERE = Path(__file__).resolve().parent
LUA = HERE / "post_bodies.lua"
BIN = Path(sys.executable).parent
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
TOKEN_TTL_S = 300  # default token lifetime and challenge TTL: the run must stay inside it
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Case:
    name: str
    server: str  # "authkong" or "baseline"
    path: str
    content_type: str
    expect: str  # a substring of every correct answer
    single_use: bool
    label: str


CASES = [
    Case("baseline", "baseline", "/api/siteverify", FORM, '"success":true', False,
         "raw ASGI form POST -> JSON"),
    Case("siteverify_ok", "authkong", "/api/siteverify", FORM, '"success":true', True,
         "siteverify, fresh token each"),
    Case("siteverify_ok_norisk", "authkong", "/api/siteverify", FORM, '"success":true', True,
         "siteverify, fresh, risk off"),
    Case("siteverify_fail", "authkong", "/api/siteverify", FORM,
         '"error_code":"invalid_response"', False, "siteverify, tampered token"),
    Case("challenge", "authkong", "/api/v1/challenge", JSON, '"challenge":', False,
         "challenge (cheap site)"),
    Case("challenge_norisk", "authkong", "/api/v1/challenge", JSON, '"challenge":', False,
         "challenge (cheap), risk off"),
    Case("challenge_default", "authkong", "/api/v1/challenge", JSON, '"challenge":', False,
         "challenge (default preset)"),
    Case("challenge_limited", "authkong", "/api/v1/challenge", JSON, '"challenge":', False,
         "challenge, per-IP bucket taken"),
    Case("redeem", "authkong", "/api/v1/redeem", JSON, '"token":', True,
         "redeem, pre-solved (k=4)"),
]  # fmt: skip


RISK_PAIRS = (("challenge", "challenge_norisk"), ("siteverify_ok", "siteverify_ok_norisk"))
"""Each case with risk on, and its twin on a site with risk off (--no-scoring)."""


@dataclass
class Run:
    rps: float
    requests: int
    ok: int
    bad: int
    wrapped: int
    socket_errors: int
    p50_us: int
    p99_us: int
    sent: list[int]
    cpu_us: float = math.nan  # server CPU time per request


class Pool:
    """Request bodies for one case; single-use ones that a run sent are dropped after it."""

    def __init__(self, bodies: list[str], single_use: bool, file: Path) -> None:
        self.bodies = bodies
        self.single_use = single_use
        self.file = file

    def write(self) -> Path:
        self.file.write_text("".join(b + "\n" for b in self.bodies))
        return self.file

    def drop_sent(self, sent_by_thread: list[int]) -> None:
        if not self.single_use:
            return
        # post_bodies.lua: thread t sends lines t, t + threads, t + 2 * threads, ...
        threads = len(sent_by_thread)
        used = {t + i * threads for t, sent in enumerate(sent_by_thread) for i in range(sent)}
        self.bodies = [b for i, b in enumerate(self.bodies) if i not in used]


# -- processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def authkong(*args: str) -> str:
    exe = BIN / "authkong"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "authkong"]
    done = subprocess.run([*cmd, *args], check=True, capture_output=True, text=True, timeout=60)
    return done.stdout


def cpu_seconds(root: int) -> float:
    """User + system CPU time of `root` and its live descendants (uvicorn's workers)."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with suppress(OSError):
                # Fields after the parenthesised command: state ppid ... utime(14) stime(15).
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
                stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])))
    tree, total, todo = {root}, 0, [root]
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0))[1]
        children = [p for p, (ppid, _) in stats.items() if ppid == pid and p not in tree]
        tree.update(children)
        todo += children
    return total / CLK_TCK


@contextmanager
def server(cmd: list[str], log: Path, probe: str) -> Iterator[int]:
    """Run a server in its own session until the block ends; wait until `probe` answers."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"server exited early; see {log}:\n{log.read_text()[-2000:]}")
            try:
                with urlopen(probe, timeout=1):  # noqa: S310 (a loopback URL built here)
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit(f"server did not answer {probe} within 30 s") from None
                time.sleep(0.1)
        yield proc.pid
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # the session this runner started
            proc.wait(timeout=5)


# -- wrk ---------------------------------------------------------------------------------


class Wrk:
    def __init__(self, threads: int, connections: int) -> None:
        self.threads = threads
        self.connections = connections
        self.cpu_s = 0.0
        self.wall_s = 0.0

    def run(
        self,
        url: str,
        bodies: Path,
        content_type: str,
        expect: str,
        *,
        single_use: bool,
        seconds: int,
        record: Path | None = None,
        server_pid: int | None = None,
    ) -> Run:
        cmd = [
            "wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds}s",
            "--timeout", "5s", "-s", str(LUA), url, "--",
            str(bodies), content_type, expect, str(self.threads), "0" if single_use else "1",
            str(record) if record else "",
        ]  # fmt: skip
        server_before = cpu_seconds(server_pid) if server_pid else 0.0
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        done = subprocess.run(
            cmd, capture_output=True, text=True, timeout=seconds + 30, check=False
        )
        self.wall_s += time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu_s += after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        server_cpu = cpu_seconds(server_pid) - server_before if server_pid else math.nan
        line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH ")), None)
        if done.returncode != 0 or line is None:
            raise SystemExit(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        data = json.loads(line.removeprefix("BENCH "))
        return Run(
            rps=data["requests"] / (data["duration_us"] / 1e6),
            requests=data["requests"],
            ok=data["ok"],
            bad=data["bad"],
            wrapped=data["wrapped"],
            socket_errors=data["socket_errors"],
            p50_us=data["p50_us"],
            p99_us=data["p99_us"],
            sent=data["sent"],
            cpu_us=server_cpu / max(1, data["requests"]) * 1e6,
        )


def recorded(prefix: Path, threads: int) -> list[str]:
    lines: list[str] = []
    for t in range(threads):
        path = Path(f"{prefix}{t}")
        if path.exists():
            lines += [x for x in path.read_text().splitlines() if x]
            path.unlink()
    return lines


# -- pre-generation over HTTP ------------------------------------------------------------


class Supply:
    """Fresh challenges, solutions and tokens from the running server, made with wrk."""

    def __init__(self, wrk: Wrk, base: str, tmp: Path, sitekey: str) -> None:
        self.wrk, self.base, self.tmp = wrk, base, tmp
        self.request = tmp / f"challenge-request-{sitekey}.txt"
        self.request.write_text(json.dumps({"sitekey": sitekey, "hostname": "localhost"}) + "\n")
        # Rates start high: a run that ends early wastes no time, one that runs dry does
        # (wrk sleeps out its duration), and only runs that did not run dry update them.
        self.challenge_rate = 5000.0
        self.redeem_rate = 5000.0
        self.solve_us: list[float] = []

    def solved(self, n: int) -> list[str]:
        """n redeem bodies: challenges fetched over HTTP and solved in pure Python."""
        challenges: list[dict[str, Any]] = []
        while len(challenges) < n:
            seconds = max(1, math.ceil((n - len(challenges)) / self.challenge_rate * 1.1))
            run = self.wrk.run(
                f"{self.base}/api/v1/challenge", self.request, JSON, '"challenge":',
                single_use=False, seconds=seconds, record=self.tmp / "rec-challenge-",
            )  # fmt: skip
            self.challenge_rate = max(100.0, run.rps)
            challenges += map(json.loads, recorded(self.tmp / "rec-challenge-", self.wrk.threads))
        started = time.perf_counter()
        bodies = [solved_body(c) for c in challenges[:n]]
        self.solve_us.append((time.perf_counter() - started) / n * 1e6)
        return bodies

    def tokens(self, n: int) -> list[str]:
        """About n fresh response tokens (a few in flight when wrk stops are lost)."""
        pool = Pool(self.solved(n), single_use=True, file=self.tmp / "redeem-gen.txt")
        tokens: list[str] = []
        while len(pool.bodies) > self.wrk.connections:
            seconds = max(1, math.ceil(len(pool.bodies) / self.redeem_rate * 1.05))
            run = self.wrk.run(
                f"{self.base}/api/v1/redeem", pool.write(), JSON, '"token":',
                single_use=True, seconds=seconds, record=self.tmp / "rec-token-",
            )  # fmt: skip
            pool.drop_sent(run.sent)
            if not run.wrapped:
                self.redeem_rate = max(100.0, run.rps)
            got = recorded(self.tmp / "rec-token-", self.wrk.threads)
            tokens += (json.loads(x)["token"] for x in got)
        return tokens


def solved_body(challenge: dict[str, Any]) -> str:
    from authkong.domain.pow import solve

    nonces = solve(bytes.fromhex(challenge["seed"]), challenge["k"], challenge["target"])
    body = {"challenge": challenge["challenge"], "nonces": nonces}
    return json.dumps(body, separators=(",", ":"))


def tamper(token: str) -> str:
    """The token with one character of its sealed part changed: fails authentication."""
    kid, _, body = token.partition(".")
    i = len(body) // 2
    return f"{kid}.{body[:i]}{'A' if body[i] != 'A' else 'B'}{body[i + 1 :]}"


def check_cost_us(k: int) -> float:
    """µs per check_solution of k nonces that all pass, so that every hash is computed."""
    from authkong.domain.pow import check_solution

    seed, nonces = os.urandom(32), list(range(k))
    # Under a target of 2**32 every nonce passes; a hash costs the same whatever the target.
    assert check_solution(seed, nonces, k, 2**32)
    number = 2000
    best = min(
        timeit.repeat(lambda: check_solution(seed, nonces, k, 2**32), number=number, repeat=5)
    )
    return best / number * 1e6


# -- main --------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers for both servers")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=2, help="seconds per case per round")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--pairs", type=int, default=10,
        help="extra back-to-back risk on/off pairs per endpoint, after the rounds (0: none)",
    )  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (server logs)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get update && apt-get install -y wrk")
    measuring_s = args.rounds * len(CASES) * args.duration
    if measuring_s > TOKEN_TTL_S - 90:
        raise SystemExit(f"{measuring_s} s of rounds would outlive the {TOKEN_TTL_S} s tokens")

    tmp = Path(tempfile.mkdtemp(prefix="authkong-bench-"))
    try:
        bench(args, tmp)
    finally:
        if args.keep:
            print(f"\nkept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def bench(args: argparse.Namespace, tmp: Path) -> None:
    data = tmp / "data"
    # One address sends everything, so the sites have no per-IP limit, except the one that
    # measures the limit's cost: its bucket is taken on every request but never runs dry.
    cheap_args = ("--k", "4", "--solution-difficulty", "16", "--domain", "localhost",
                  "--data-dir", str(data))  # fmt: skip
    cheap = json.loads(
        authkong("site", "create", "--name", "bench", "--json", "--rate-ip-per-min", "0",
                 *cheap_args)
    )  # fmt: skip
    default = json.loads(
        authkong("site", "create", "--name", "bench-default", "--json", "--domain", "localhost",
                 "--rate-ip-per-min", "0", "--data-dir", str(data))
    )  # fmt: skip
    # The same site with risk evaluation off (no velocity, scoring or adaptive difficulty):
    # the side-by-side reference for what risk costs.
    norisk = json.loads(
        authkong("site", "create", "--name", "bench-norisk", "--json", "--rate-ip-per-min", "0",
                 "--no-scoring", *cheap_args)
    )  # fmt: skip
    limited = json.loads(
        authkong("site", "create", "--name", "bench-limited", "--json", "--rate-ip-per-min",
                 "10000000", "--rate-ip-burst", "10000000", *cheap_args)
    )  # fmt: skip
    ak_port, bl_port = free_port(), free_port()
    ak, bl = f"http://127.0.0.1:{ak_port}", f"http://127.0.0.1:{bl_port}"
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True, check=False)
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, "
        f"Python {platform.python_version()}, wrk {wrk_version.stdout.split()[1]}"
    )
    print(
        f"servers: {args.workers} uvicorn worker(s) each, started by `authkong serve`; "
        f"loop/http 'auto' = {'uvloop' if find_spec('uvloop') else 'asyncio'}/"
        f"{'httptools' if find_spec('httptools') else 'h11'}; access log on, to a file"
    )
    print(
        f"load: wrk -t{args.threads} -c{args.connections}, keep-alive, {args.duration} s per "
        f"case, {args.rounds} rounds, case order rotated each round (reversed every other)"
    )
    workers = str(args.workers)
    ak_cmd = [str(BIN / "authkong"), "serve", "--port", str(ak_port), "--workers", workers,
              "--data-dir", str(data)]  # fmt: skip
    bl_cmd = [sys.executable, str(HERE / "baseline_app.py"), "--port", str(bl_port),
              "--workers", workers, "--data-dir", str(tmp / "baseline-data")]  # fmt: skip
    with (
        server(ak_cmd, tmp / "authkong.log", f"{ak}/healthz") as ak_pid,
        server(bl_cmd, tmp / "baseline.log", f"{bl}/") as bl_pid,
    ):
        pids = {"authkong": ak_pid, "baseline": bl_pid}
        Bench(args, tmp, ak, bl, pids, cheap, default, limited, norisk).run()


class Bench:
    def __init__(
        self, args: argparse.Namespace, tmp: Path, ak: str, bl: str, pids: dict[str, int],
        cheap: dict[str, Any], default: dict[str, Any], limited: dict[str, Any],
        norisk: dict[str, Any],
    ) -> None:  # fmt: skip
        self.args, self.tmp, self.pids = args, tmp, pids
        self.urls = {"authkong": ak, "baseline": bl}
        self.cheap, self.default, self.limited, self.norisk = cheap, default, limited, norisk
        self.wrk = Wrk(args.threads, args.connections)
        self.supply = Supply(self.wrk, ak, tmp, cheap["sitekey"])
        self.supply_norisk = Supply(self.wrk, ak, tmp, norisk["sitekey"])

    def form(self, token: str, site: dict[str, Any] | None = None) -> str:
        return urlencode({"secret": (site or self.cheap)["secret"], "response": token})

    def fresh_forms(self, name: str, n: int) -> list[str]:
        """n single-use bodies for `name`: siteverify forms with fresh tokens, or redeems."""
        if name == "redeem":
            return self.supply.solved(n)
        if name == "siteverify_ok_norisk":
            return [self.form(t, self.norisk) for t in self.supply_norisk.tokens(n)]
        return [self.form(t) for t in self.supply.tokens(n)]

    def run(self) -> None:
        args, supply = self.args, self.supply
        print("\nwarm-up ...", flush=True)
        warm = self.form(tamper(supply.tokens(300)[0]))
        pools = {
            "baseline": Pool([warm], False, self.tmp / "baseline.txt"),
            "siteverify_fail": Pool([warm], False, self.tmp / "fail.txt"),
        }
        rates = {name: self.measure(name, pool, 1).rps for name, pool in pools.items()}
        # Both single-use cases ran at 0.6-0.8 x a failing siteverify; top_up covers misses.
        single_use = ("siteverify_ok", "siteverify_ok_norisk", "redeem")
        for name in single_use:
            rates[name] = 0.8 * rates["siteverify_fail"]

        # Enough single-use bodies for every round at the warm-up rate; topped up if short.
        started = time.monotonic()
        want = {n: math.ceil(rates[n] * args.duration * args.rounds) for n in single_use}
        print(f"pre-generating {want['siteverify_ok']} tokens per site and {want['redeem']} "
              "solved challenges over HTTP ...", flush=True)  # fmt: skip
        tokens = supply.tokens(want["siteverify_ok"])
        pools = {
            "baseline": Pool([self.form(t) for t in tokens[:1000]], False, self.tmp / "bl.txt"),
            "siteverify_ok": Pool([self.form(t) for t in tokens], True, self.tmp / "ok.txt"),
            "siteverify_ok_norisk": Pool(
                self.fresh_forms("siteverify_ok_norisk", want["siteverify_ok_norisk"]),
                True,
                self.tmp / "ok-norisk.txt",
            ),
            "siteverify_fail": Pool(
                [self.form(tamper(t)) for t in tokens[:1000]], False, self.tmp / "fail.txt"
            ),
            "challenge_norisk": Pool(
                [self.challenge_body(self.norisk)], False, self.tmp / "chn.txt"
            ),
            "challenge": Pool([self.challenge_body(self.cheap)], False, self.tmp / "ch.txt"),
            "challenge_default": Pool(
                [self.challenge_body(self.default)], False, self.tmp / "chd.txt"
            ),
            "challenge_limited": Pool(
                [self.challenge_body(self.limited)], False, self.tmp / "chl.txt"
            ),
            "redeem": Pool(supply.solved(want["redeem"]), True, self.tmp / "redeem.txt"),
        }
        print(f"  done in {time.monotonic() - started:.0f} s "
              f"({statistics.median(supply.solve_us):.0f} µs per pure-Python solve)")  # fmt: skip

        runs: dict[str, list[Run]] = {c.name: [] for c in CASES}
        print(f"\nmeasuring: {args.rounds} rounds x {len(CASES)} cases x {args.duration} s")
        for r in range(args.rounds):
            self.top_up(pools, runs, rates)
            # Rotated each round, and reversed every other one, so no case always follows
            # the same neighbour (the case after the baseline meets a server left idle).
            order = CASES[r % len(CASES) :] + CASES[: r % len(CASES)]
            for case in order[::-1] if r % 2 else order:
                runs[case.name].append(self.measure(case.name, pools[case.name], args.duration))
            print(f"  round {r + 1}: " + ", ".join(
                f"{c.name} {runs[c.name][-1].rps:.0f}/s" for c in CASES), flush=True)  # fmt: skip
        self.report(runs, time.monotonic() - started)
        if args.pairs:
            self.risk_pairs(pools, runs, rates)

    def risk_pairs(
        self, pools: dict[str, Pool], runs: dict[str, list[Run]], rates: dict[str, float]
    ) -> None:
        """Risk on against risk off, many times, each pair back to back (order alternating).

        The rounds put nine cases between two visits of the same case; the machine's noise
        changes within that span. Two runs one after the other share more of it, and many
        pairs give a tighter median ratio.
        """
        args = self.args
        print(f"\nrisk on / risk off, {args.pairs} back-to-back pairs of {args.duration} s each:")
        for on, off in RISK_PAIRS:
            ratios = []
            for n in range(args.pairs):
                self.top_up(pools, runs, rates)
                order = (on, off) if n % 2 == 0 else (off, on)
                got = {name: self.measure(name, pools[name], args.duration) for name in order}
                ratios.append(got[on].rps / got[off].rps)
            q1, median, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
            print(
                f"  {on}: median {median:.2f} x req/s (quartiles {q1:.2f}-{q3:.2f}; "
                f"pairs {', '.join(f'{r:.2f}' for r in ratios)}) (budget: >= 0.90)"
            )

    @staticmethod
    def challenge_body(site: dict[str, Any]) -> str:
        return json.dumps({"sitekey": site["sitekey"], "hostname": "localhost"})

    def measure(self, name: str, pool: Pool, seconds: int) -> Run:
        case = next(c for c in CASES if c.name == name)
        run = self.wrk.run(
            self.urls[case.server] + case.path, pool.write(), case.content_type, case.expect,
            single_use=case.single_use, seconds=seconds, server_pid=self.pids[case.server],
        )  # fmt: skip
        pool.drop_sent(run.sent)
        return run

    def top_up(
        self, pools: dict[str, Pool], runs: dict[str, list[Run]], rates: dict[str, float]
    ) -> None:
        """Before a round, make sure each single-use pool outlasts it at the fastest rate seen."""
        for name in ("siteverify_ok", "siteverify_ok_norisk", "redeem"):
            rate = max([rates[name]] + [r.rps for r in runs[name]])
            need = rate * self.args.duration * 1.3
            if len(pools[name].bodies) < need:
                pools[name].bodies += self.fresh_forms(name, math.ceil(need * 2))

    def report(self, runs: dict[str, list[Run]], elapsed: float) -> None:
        args, base = self.args, runs["baseline"]
        print(
            f"\n{'case':<30} {'req/s':>7} {'range':>11} {'x base':>7} "
            f"{'CPU µs/req':>10} {'x base':>7} {'p50 ms':>6} {'p99 ms':>6}  checks"
        )
        for case in CASES:
            rs = runs[case.name]
            rps = [r.rps for r in rs]
            ratio = statistics.median(r.rps / b.rps for r, b in zip(rs, base, strict=True))
            cpu = statistics.median(r.cpu_us for r in rs)
            cpu_ratio = statistics.median(
                b.cpu_us / r.cpu_us for r, b in zip(rs, base, strict=True)
            )
            checks = []
            if bad := sum(r.bad for r in rs):
                checks.append(f"{bad} unexpected answers")
            if sum(r.wrapped for r in rs):
                checks.append("POOL RAN OUT: single-use bodies were sent twice")
            if errors := sum(r.socket_errors for r in rs):
                checks.append(f"{errors} socket errors")
            print(
                f"{case.label:<30} {statistics.median(rps):>7.0f} "
                f"{min(rps):>5.0f}-{max(rps):<5.0f} {ratio:>7.2f} {cpu:>10.0f} {cpu_ratio:>7.2f} "
                f"{statistics.median(r.p50_us for r in rs) / 1000:>6.1f} "
                f"{statistics.median(r.p99_us for r in rs) / 1000:>6.1f}  "
                f"{', '.join(checks) or 'ok'}"
            )
        ok = runs["siteverify_ok"]
        ratio = statistics.median(r.rps / b.rps for r, b in zip(ok, base, strict=True))
        cpu_ratio = statistics.median(b.cpu_us / r.cpu_us for r, b in zip(ok, base, strict=True))
        verdict = "MET" if ratio >= 0.5 else "NOT MET"
        print(
            f"\ntarget: siteverify (fresh token) >= 0.50 x baseline req/s: {ratio:.2f} x, {verdict}"
            f" (by server CPU per request: {cpu_ratio:.2f} x)"
        )
        for on, off in RISK_PAIRS:
            pairs = list(zip(runs[on], runs[off], strict=True))
            by_rps = statistics.median(a.rps / b.rps for a, b in pairs)
            by_cpu = statistics.median(b.cpu_us / a.cpu_us for a, b in pairs)
            print(
                f"risk on / risk off, {on}: {by_rps:.2f} x req/s, {by_cpu:.2f} x by CPU per "
                f"request (budget: >= 0.90)"
            )
        print(
            "'x base' = median over rounds of (case / same round's baseline); for CPU it is "
            "baseline CPU / case CPU, so both read 'fraction of the floor's throughput'"
        )
        print(
            f"load generator: wrk used {self.wrk.cpu_s / self.wrk.wall_s * 100:.0f}% of one core "
            f"while it ran, on the same {os.cpu_count()} cores as the servers; "
            f"load average now {os.getloadavg()[0]:.1f}"
        )
        d, c = self.default, self.cheap
        c_cheap, c_default = check_cost_us(c["k"]), check_cost_us(d["k"])
        redeem = statistics.median(r.rps for r in runs["redeem"])
        default_redeem = 1 / (1 / redeem + (c_default - c_cheap) / 1e6 / args.workers)
        print(
            f"default preset (k={d['k']}, {d['solution_difficulty']} hashes per solution, "
            f"{d['expected_hashes']} expected): challenge cost does not depend on it (row "
            f"'challenge (default preset)'); its redeem checks {d['k']} hashes instead of "
            f"{c['k']} ({c_default:.1f} vs {c_cheap:.1f} µs), so redeem would run at about "
            f"{default_redeem:.0f} req/s (pre-solving it in pure Python takes seconds each)"
        )
        print(f"pre-generation and measurement took {elapsed:.0f} s (tokens live {TOKEN_TTL_S} s)")


if __name__ == "__main__":
    main()
