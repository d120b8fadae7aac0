"""The browser solver (widget/solver.js, widget/worker.js) in real headless Chromium."""

import hashlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page

from authkong.domain.pow import NONCE_LIMIT, check_solution
from tests.browser import HTML, static_server, widget_routes
from tests.server import Server, request_challenge, run_cli_json, running_server, verify

PAGE = b'<!doctype html><meta charset="utf-8"><script src="/widget/solver.js"></script>'
TIMEOUT_MS = 30_000  # every wait in the page ends; a solve that takes this long has failed
DOC_SEED = bytes(range(32))  # the worked example of docs/protocol.md section 3

# First `n` tries of the worker from `start` by `stride`, with target 2**32 (every try
# passes), as [nonce, value] pairs.
WORKER_TRIES = """async ([seed, start, stride, n]) => {
  const w = new Worker("/widget/worker.js"), got = [];
  return await new Promise((resolve, reject) => {
    setTimeout(() => reject(new Error("worker too slow")), TIMEOUT_MS);
    w.onerror = (ev) => reject(new Error(ev.message));
    w.onmessage = ({data}) => {
      if (!("nonce" in data)) return;
      got.push([data.nonce, data.value]);
      if (got.length === n) { w.terminate(); resolve(got); }
    };
    w.postMessage({seed, target: 2 ** 32, start, stride});
  });
}""".replace("TIMEOUT_MS", str(TIMEOUT_MS))

SOLVE = """([challenge, workers]) => AuthKongSolver.solve(
  challenge, {workers, signal: AbortSignal.timeout(TIMEOUT_MS)})""".replace(
    "TIMEOUT_MS", str(TIMEOUT_MS)
)


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    """The host page's origin: a static server of its own, not AuthKong's."""
    with static_server({"/": (HTML, PAGE), **widget_routes()}) as url:
        yield url


@pytest.fixture
def page(browser: Browser, origin: str) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{origin}/")
    try:
        yield page
    finally:
        context.close()


def prefix(seed: bytes, nonce: int) -> int:
    return int.from_bytes(hashlib.sha256(seed + nonce.to_bytes(8, "big")).digest()[:4], "big")


@pytest.mark.parametrize(
    ("seed", "start", "stride", "n"),
    [
        (DOC_SEED, 0, 1, 13),  # includes nonce 12, the protocol's worked example
        (
            bytes.fromhex("96042eb3027072e312e532dd6990f57068f1bca4240fce797b5246ee4dffa856"),
            7,
            5,
            4,
        ),
        (b"\xff" * 32, 2**32 - 2, 1, 4),  # lo wraps into hi = 1
        (hashlib.sha256(b"stride").digest(), 2**32 - 2, 3, 3),  # wraps with a stride > 1
        (bytes(32), 0x1234_5678_9ABC_DEF0 % NONCE_LIMIT, 4, 3),
        (hashlib.sha256(b"top").digest(), NONCE_LIMIT - 3, 1, 3),  # up to the last nonce
    ],
)
def test_worker_hash_agrees_with_hashlib(
    page: Page, seed: bytes, start: int, stride: int, n: int
) -> None:
    """The worker's nonces and first digest words equal hashlib's SHA-256(seed || nonce)."""
    got = page.evaluate(WORKER_TRIES, [seed.hex(), start, stride, n])
    nonces = [start + i * stride for i in range(n)]
    assert got == [[nonce, prefix(seed, nonce)] for nonce in nonces]


def test_solver_finds_the_documented_worked_example(page: Page) -> None:
    """One worker, target 2**28 on the doc's seed: exactly the doc's solution [12, 23]."""
    challenge = {"seed": DOC_SEED.hex(), "k": 2, "target": 2**28, "expected_hashes": 32}
    assert page.evaluate(SOLVE, [challenge, 1]) == [12, 23]


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_solver_nonces_are_distinct_valid_solutions(page: Page, workers: int) -> None:
    """With 1-3 workers striding one space, k distinct nonces all pass the target."""
    seed, k, target = hashlib.sha256(b"distinct").digest(), 12, 2**32 // 64
    challenge = {"seed": seed.hex(), "k": k, "target": target, "expected_hashes": k * 64}
    nonces = page.evaluate(SOLVE, [challenge, workers])
    assert check_solution(seed, nonces, k, target), nonces


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve")
    with running_server(root / "data", root / "logs") as running:
        yield running


@pytest.mark.server
def test_browser_solution_redeems_and_token_verifies(server: Server, page: Page) -> None:
    """A real challenge (k=4, 4096 hashes each) solved in Chromium redeems; the token verifies."""
    site = run_cli_json(
        "site", "create", "--name", "Browser", "--domain", "example.com",
        "--k", "4", "--solution-difficulty", "4096", data_dir=server.data_dir,
    )  # fmt: skip
    with httpx.Client(timeout=10.0) as client:
        got = request_challenge(client, server.base_url, site["sitekey"])
        assert got.status_code == 200, got.text
        challenge: dict[str, Any] = got.json()
        assert (challenge["k"], challenge["target"]) == (4, 2**32 // 4096)
        nonces = page.evaluate(SOLVE, [challenge, None])
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
