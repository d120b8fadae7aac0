"""The browser solver: widget/solver.js and worker.js with each of its engines, sha256.wasm
(WebAssembly SIMD) and sha256.js (the fallback), in real headless Chromium; and the .wasm
itself: built from its generator, run by wasmtime against hashlib.
"""

import contextlib
import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import wasmtime
from hypothesis import given, settings
from hypothesis import strategies as st
from playwright.sync_api import Browser, Page

from authkong.api import widget_assets
from authkong.domain.pow import NONCE_LIMIT, check_solution, solve
from authkong.widget.build import sha256_wasm as build
from tests.browser import HTML, static_server, widget_routes
from tests.server import Server, request_challenge, run_cli_json, running_server, verify
from tests.widget_support import (
    frames,
    host,
    new_site,
    open_page,
    page_with,
    verified,
    wait_for_field,
)

PAGE = b'<!doctype html><meta charset="utf-8"><script src="/widget/solver.js"></script>'
TIMEOUT_MS = 30_000  # every wait in the page ends; a solve that takes this long has failed
DOC_SEED = bytes(range(32))  # the worked example of docs/protocol.md section 3
ALL = 2**32  # a target every try meets

# The `engine` option, and the engine the worker must then report using: left to itself,
# Chromium's worker must pick WebAssembly.
ENGINES = [pytest.param(None, "wasm", id="wasm"), pytest.param("js", "js", id="js")]

# One worker's finds from `start` by `stride` as [nonce, value] pairs (at most n + 16), up
# to the first progress report after n of them, and the engine that report names. A batch's
# finds come before its report, so a batch that ends at the 2**53 limit shows all of its.
WORKER_FINDS = """async ([seed, target, start, stride, n, engine]) => {
  const w = new Worker("/widget/worker.js"), got = [];
  return await new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error("worker too slow")), TIMEOUT_MS);
    w.onerror = (ev) => reject(new Error(ev.message));
    w.onmessage = ({data}) => {
      if ("nonce" in data) {
        if (got.length < n + 16) got.push([data.nonce, data.value]);
      } else if (got.length >= n) {
        w.terminate();
        resolve([got, data.engine]);
      }
    };
    w.postMessage({seed, target, start, stride, engine});
  });
}""".replace("TIMEOUT_MS", str(TIMEOUT_MS))

SOLVE = """([challenge, workers, engine]) => AuthKongSolver.solve(
  challenge, {workers, engine, signal: AbortSignal.timeout(TIMEOUT_MS)})""".replace(
    "TIMEOUT_MS", str(TIMEOUT_MS)
)


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    """The host page's origin: a static server of its own, not AuthKong's."""
    with static_server({"/": (HTML, PAGE), **widget_routes()}) as url:
        yield url


@contextlib.contextmanager
def solver_page(browser: Browser, url: str) -> Iterator[Page]:
    """The solver's page at `url` in a fresh browser context."""
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{url}/")
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def page(browser: Browser, origin: str) -> Iterator[Page]:
    with solver_page(browser, origin) as opened:
        yield opened


def prefix(seed: bytes, nonce: int) -> int:
    return int.from_bytes(hashlib.sha256(seed + nonce.to_bytes(8, "big")).digest()[:4], "big")


def worker_finds(
    page: Page, seed: bytes, target: int, start: int, stride: int, n: int, engine: str | None
) -> tuple[list[list[int]], str]:
    got, used = page.evaluate(WORKER_FINDS, [seed.hex(), target, start, stride, n, engine])
    assert len(got) >= n
    return got, used


@pytest.mark.parametrize(("engine", "used"), ENGINES)
@pytest.mark.parametrize(
    ("seed", "start", "stride", "n"),
    [
        # includes nonce 12, the protocol's worked example
        pytest.param(DOC_SEED, 0, 1, 13, id="worked-example"),
        pytest.param(
            bytes.fromhex("96042eb3027072e312e532dd6990f57068f1bca4240fce797b5246ee4dffa856"),
            7,
            5,
            4,
            id="stride-5",
        ),
        pytest.param(b"\xff" * 32, 2**32 - 2, 1, 4, id="lo-wraps"),  # into hi = 1
        pytest.param(hashlib.sha256(b"stride").digest(), 2**32 - 2, 3, 3, id="wraps-stride-3"),
        # 900 nonces from hi 4 into hi 5, the wrap falling between lanes
        pytest.param(hashlib.sha256(b"many").digest(), 5 * 2**32 - 1000, 3, 900, id="many"),
        pytest.param(bytes(32), 0x1234_5678_9ABC_DEF0 % NONCE_LIMIT, 4, 3, id="high-hi"),
        pytest.param(hashlib.sha256(b"top").digest(), NONCE_LIMIT - 3, 1, 3, id="last-nonce"),
        pytest.param(hashlib.sha256(b"end").digest(), NONCE_LIMIT - 10, 4, 3, id="not-past-it"),
    ],
)
def test_worker_hash_agrees_with_hashlib(
    page: Page, seed: bytes, start: int, stride: int, n: int, engine: str | None, used: str
) -> None:
    """Each engine's nonces and first digest words equal hashlib's SHA-256(seed || nonce)."""
    got, reported = worker_finds(page, seed, ALL, start, stride, n, engine)
    assert reported == used
    nonces = [start + i * stride for i in range(len(got))]
    assert got == [[nonce, prefix(seed, nonce)] for nonce in nonces if nonce < NONCE_LIMIT]


@pytest.mark.parametrize(("engine", "used"), ENGINES)
def test_worker_reports_exactly_the_nonces_below_the_target(
    page: Page, engine: str | None, used: str
) -> None:
    """With a real target, the finds are the reference solver's, across a hi word change."""
    seed, target, start, stride = hashlib.sha256(b"target").digest(), ALL // 64, 3 * 2**32 - 999, 3
    got, reported = worker_finds(page, seed, target, start, stride, 60, engine)
    assert reported == used
    expected = solve(seed, len(got), target, start, stride)
    assert got == [[nonce, prefix(seed, nonce)] for nonce in expected]


@pytest.mark.parametrize(("engine", "used"), ENGINES)
def test_solver_finds_the_documented_worked_example(
    page: Page, engine: str | None, used: str
) -> None:
    """One worker, target 2**28 on the doc's seed: exactly the doc's solution [12, 23]."""
    challenge = {"seed": DOC_SEED.hex(), "k": 2, "target": 2**28, "expected_hashes": 32}
    assert page.evaluate(SOLVE, [challenge, 1, engine]) == [12, 23]


@pytest.mark.parametrize(("engine", "used"), ENGINES)
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_solver_nonces_are_distinct_valid_solutions(
    page: Page, workers: int, engine: str | None, used: str
) -> None:
    """With 1-3 workers striding one space, k distinct nonces all pass the target."""
    seed, k, target = hashlib.sha256(b"distinct").digest(), 12, ALL // 64
    challenge = {"seed": seed.hex(), "k": k, "target": target, "expected_hashes": k * 64}
    nonces = page.evaluate(SOLVE, [challenge, workers, engine])
    assert check_solution(seed, nonces, k, target), nonces


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve")
    with running_server(root / "data", root / "logs") as running:
        yield running


@pytest.mark.server
@pytest.mark.parametrize(("engine", "used"), ENGINES)
def test_browser_solution_redeems_and_token_verifies(
    server: Server, page: Page, engine: str | None, used: str
) -> None:
    """A real challenge (k=4, 4096 hashes each) solved in Chromium redeems; the token verifies."""
    site = run_cli_json(
        "site", "create", "--name", "Browser", "--domain", "example.com",
        "--k", "4", "--solution-difficulty", "4096", data_dir=server.data_dir,
    )  # fmt: skip
    with httpx.Client(timeout=10.0) as client:
        got = request_challenge(client, server.base_url, site["sitekey"])
        assert got.status_code == 200, got.text
        challenge: dict[str, Any] = got.json()
        assert (challenge["k"], challenge["target"]) == (4, ALL // 4096)
        nonces = page.evaluate(SOLVE, [challenge, None, engine])
        redeemed = client.post(
            f"{server.base_url}/api/v1/redeem",
            json={"challenge": challenge["challenge"], "nonces": nonces},
        )
        assert redeemed.status_code == 200, redeemed.text
        body = verify(client, server.base_url, "authkong", site["secret"], redeemed.json()["token"])
    assert body["success"] is True, body


def test_abort_rejects_and_terminates_workers(page: Page) -> None:
    """Aborting a solve that cannot finish rejects with AbortError and closes every worker."""
    page.evaluate("""() => {
      window.ctl = new AbortController();
      window.progress = 0;
      const impossible = {seed: "00".repeat(32), k: 4, target: 1, expected_hashes: 2 ** 34};
      window.outcome = AuthKongSolver.solve(impossible, {
        workers: 2, signal: ctl.signal, onProgress: () => window.progress++,
      }).then(() => "resolved", (err) => err.name);
    }""")
    page.wait_for_function("window.progress >= 4")  # both workers are hashing
    workers = page.workers
    assert len(workers) == 2
    with workers[0].expect_event("close") as first, workers[1].expect_event("close") as second:
        page.evaluate("ctl.abort()")
    assert first.value is workers[0]
    assert second.value is workers[1]
    assert page.evaluate("window.outcome") == "AbortError"
    assert page.workers == []


def test_aborted_signal_rejects_without_starting_workers(page: Page) -> None:
    """A signal aborted before the call rejects at once and starts no worker."""
    outcome = page.evaluate("""() => AuthKongSolver.solve(
      {seed: "00".repeat(32), k: 1, target: 2 ** 32, expected_hashes: 1},
      {signal: AbortSignal.abort()}).then(() => "resolved", (err) => err.name)""")
    assert outcome == "AbortError"
    assert page.workers == []


def test_solver_rejects_when_no_engine_loads(browser: Browser) -> None:
    """Where neither sha256.wasm nor sha256.js can be fetched, solve() rejects (no hang)."""
    routes = {"/": (HTML, PAGE), **widget_routes()}
    del routes["/widget/sha256.wasm"], routes["/widget/sha256.js"]
    with static_server(routes) as url, solver_page(browser, url) as page:
        outcome = page.evaluate(
            """() => AuthKongSolver.solve(
          {seed: "00".repeat(32), k: 1, target: 2 ** 32, expected_hashes: 1},
          {workers: 2, signal: AbortSignal.timeout(TIMEOUT_MS)}).then(() => "resolved",
          (err) => err.message)""".replace("TIMEOUT_MS", str(TIMEOUT_MS))
        )
    assert outcome.startswith("AuthKong worker failed: "), outcome


def frame_policy() -> str:
    """The Content-Security-Policy of the frame page, as served."""
    page = next(iter(widget_assets.frame_pages().values()))
    return page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("policy", "used"),
    [
        pytest.param(frame_policy(), "wasm", id="frame-policy"),
        # The control: without 'wasm-unsafe-eval' the policy stops WebAssembly, and the
        # worker falls back to JavaScript.
        pytest.param(frame_policy().replace(" 'wasm-unsafe-eval'", ""), "js", id="without"),
    ],
)
def test_worker_under_the_frame_policy(browser: Browser, policy: str, used: str) -> None:
    """A worker held to the frame's own policy (as where workers inherit it) runs WebAssembly.

    Chromium gives a worker the policy of the worker script's response, so serving every
    file with the frame's policy puts the worker under it.
    """
    assert "'wasm-unsafe-eval'" not in policy or used == "wasm"
    routes = {"/": (HTML, PAGE), **widget_routes()}
    with (
        static_server(routes, {"Content-Security-Policy": policy}) as url,
        solver_page(browser, url) as page,
    ):
        got, reported = worker_finds(page, DOC_SEED, ALL, 0, 1, 13, None)
    assert reported == used
    assert got[12] == [12, prefix(DOC_SEED, 12)]


@pytest.mark.server
def test_the_served_frame_solves_with_webassembly(widget_server: Server, browser: Browser) -> None:
    """Through /api.js and the real frame (its policy, its paths), the workers fetch
    sha256.wasm of their own release and never need sha256.js; the token verifies, and no
    error is logged."""
    site = new_site(widget_server)
    body = f'<div class="authkong_captcha" data-sitekey="{site["sitekey"]}"></div>'
    with (
        host({"/": page_with(f"{widget_server.base_url}/api.js", body)}) as url,
        open_page(browser, url) as page,
    ):
        fetched: list[str] = []
        page.context.on("request", lambda request: fetched.append(request.url))
        frames(page).get_by_role("checkbox").click()
        token = wait_for_field(page, "captcha-response")
    verified(widget_server, "authkong", site["secret"], token)
    release = f"?v={widget_assets.frame_version()}"
    widget = f"{widget_server.base_url}/widget/"
    assert f"{widget}worker.js{release}" in fetched
    assert f"{widget}sha256.wasm{release}" in fetched
    assert not [url for url in fetched if url.startswith(f"{widget}sha256.js")]


# -- the module itself -----------------------------------------------------------------


def test_committed_wasm_is_what_its_generator_builds() -> None:
    """widget/frame/sha256.wasm is exactly the build of sha256_wasm.py's source."""
    assert build.assemble(build.wat_source()) == build.wasm_file().read_bytes()


@dataclass(frozen=True, slots=True)
class Compiled:
    engine: wasmtime.Engine
    module: wasmtime.Module


@pytest.fixture(scope="module")
def compiled() -> Compiled:
    engine = wasmtime.Engine()
    return Compiled(engine, wasmtime.Module(engine, build.wasm_file().read_bytes()))


def run_module(
    compiled: Compiled, seed: bytes, start: int, stride: int, iterations: int, tmax: int
) -> tuple[int, list[tuple[int, list[int]]]]:
    """One call of `run` with four lanes from `start` (as worker.js sets them up): the
    iterations done and the hit records (iteration, four values)."""
    store = wasmtime.Store(compiled.engine)
    exports = wasmtime.Instance(store, compiled.module, []).exports(store)
    memory, run = exports["memory"], exports["run"]
    assert isinstance(memory, wasmtime.Memory)
    assert isinstance(run, wasmtime.Func)
    lanes = [start + j * stride for j in range(4)]
    inputs = struct.pack(
        "<8I4I4I2I", *struct.unpack(">8I", seed), *[n >> 32 for n in lanes],
        *[n & 0xFFFF_FFFF for n in lanes], 4 * stride, tmax,
    )  # fmt: skip
    memory.write(store, inputs, build.SEED)
    done = run(store, iterations)
    assert isinstance(done, int)
    (end,) = struct.unpack("<I", memory.read(store, build.HITS_END, build.HITS_END + 4))
    area = memory.read(store, build.HITS, end)
    records = [struct.unpack_from("<I4I", area, at) for at in range(0, len(area), build.RECORD)]
    return done, [(r[0], list(r[1:])) for r in records]


def lo_word(nonce: int) -> int:
    return nonce & 0xFFFF_FFFF


@settings(max_examples=60, deadline=None)
@given(
    seed=st.binary(min_size=32, max_size=32),
    start=st.one_of(
        st.integers(0, NONCE_LIMIT - 1),
        st.integers(1, 2**21 - 1).flatmap(lambda hi: st.integers(hi * 2**32 - 400, hi * 2**32)),
    ),
    stride=st.integers(1, 4),
    iterations=st.integers(1, 40),
)
def test_module_hashes_every_lane_like_hashlib(
    compiled: Compiled, seed: bytes, start: int, stride: int, iterations: int
) -> None:
    """Every try's first digest word equals hashlib's; a call stops only where a lane's
    low word would wrap (so each lane keeps its high word), else after `iterations`."""
    done, records = run_module(compiled, seed, start, stride, iterations, 0xFFFF_FFFF)
    assert 1 <= done <= iterations
    assert [i for i, _ in records] == list(range(done))
    for i, values in records:
        nonces = [start + (4 * i + j) * stride for j in range(4)]
        assert values == [prefix(seed, n) for n in nonces]
    lanes = [start + j * stride for j in range(4)]
    step = 4 * stride
    assert all(lo_word(n) + (done - 1) * step < 2**32 for n in lanes)
    if done < iterations:
        assert any(lo_word(n) + done * step >= 2**32 for n in lanes)


@settings(max_examples=10, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), start=st.integers(0, NONCE_LIMIT - 2**20))
def test_module_records_exactly_the_iterations_with_a_hit(
    compiled: Compiled, seed: bytes, start: int
) -> None:
    """With target 2**32 / 64, the records are the iterations where some lane passes."""
    tmax, iterations = 2**32 // 64 - 1, 1500
    done, records = run_module(compiled, seed, start, 1, iterations, tmax)
    if done < iterations:  # stopped at a wrap; the lanes stayed in their high words
        # Any lane: when the four straddle a high word, the last lane has the lowest low word.
        assert any(lo_word(start + j) + done * 4 >= 2**32 for j in range(4))
    tries = [[prefix(seed, start + 4 * i + j) for j in range(4)] for i in range(done)]
    assert records == [(i, v) for i, v in enumerate(tries) if min(v) <= tmax]


def test_module_stops_when_the_hit_area_is_full(compiled: Compiled) -> None:
    """Where every try passes, a call stops after the area's 3200 records."""
    done, records = run_module(compiled, DOC_SEED, 0, 1, 5000, 0xFFFF_FFFF)
    assert done == len(records) == (build.HITS_LIMIT - build.HITS) // build.RECORD
    assert records[-1] == (done - 1, [prefix(DOC_SEED, 4 * (done - 1) + j) for j in range(4)])
