"""Real `authkong serve` processes: concurrency, crashes, first start, live site changes, logs."""

import asyncio
import itertools
import json
import sqlite3
import stat
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from authkong.domain.pow import target_for
from authkong.domain.site import PRESETS
from tests.server import (
    INVALID_SECRET,
    SPENT,
    VERIFY_PATHS,
    Server,
    create_site,
    error_of,
    fetch_token,
    redeem,
    request_challenge,
    run_cli,
    run_cli_json,
    running_server,
    start_server,
    verify,
)

pytestmark = pytest.mark.server

FLAVORS = tuple(VERIFY_PATHS)
CONCURRENT_VERIFIES = 200
STREAM_TOKENS = 150
STREAM_THREADS = 4
KILL_AFTER = 30  # successes seen before the crash
SPARE_TOKENS = 5
WAIT_S = 30.0
SPREAD = 6  # requests on fresh connections, so both workers answer some


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `authkong serve --workers 2` on a fresh data dir for the whole module."""
    root = tmp_path_factory.mktemp("serve")
    with running_server(root / "data", root / "logs", workers=2) as running:
        yield running


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as c:
        yield c


@pytest.fixture
def fresh() -> Iterator[httpx.Client]:
    """A client that opens a new connection for every request (no keep-alive)."""
    with httpx.Client(timeout=10.0, limits=httpx.Limits(max_keepalive_connections=0)) as c:
        yield c


# -- single use under concurrency ------------------------------------------------------


async def _verify_many(base_url: str, secret: str, token: str) -> list[tuple[str, dict[str, Any]]]:
    limits = httpx.Limits(max_connections=CONCURRENT_VERIFIES)
    async with httpx.AsyncClient(timeout=30.0, limits=limits) as client:

        async def one(flavor: str) -> tuple[str, dict[str, Any]]:
            got = await client.post(
                f"{base_url}{VERIFY_PATHS[flavor]}", data={"secret": secret, "response": token}
            )
            assert got.status_code == 200, got.text
            return flavor, got.json()

        flavors = itertools.islice(itertools.cycle(FLAVORS), CONCURRENT_VERIFIES)
        return await asyncio.gather(*(one(f) for f in flavors))


def test_one_token_verified_concurrently_succeeds_once(
    server: Server, client: httpx.Client
) -> None:
    """200 concurrent verifies of one token over all flavors and 2 workers: exactly one success."""
    site = create_site(server.data_dir)
    token = fetch_token(client, server.base_url, site["sitekey"])
    answers = asyncio.run(_verify_many(server.base_url, site["secret"], token))
    assert len(answers) == CONCURRENT_VERIFIES
    winners = [(flavor, body) for flavor, body in answers if body["success"]]
    assert len(winners) == 1, winners
    losers = [(flavor, error_of(flavor, body)) for flavor, body in answers if not body["success"]]
    assert all(code == SPENT[flavor] for flavor, code in losers), losers


# -- kill -9 mid-run -------------------------------------------------------------------


class _Stream:
    """Threads that verify tokens one after another and record what each verify answered."""

    def __init__(self, base_url: str, secret: str, tokens: list[str]) -> None:
        self.base_url, self.secret = base_url, secret
        self.outcomes: dict[int, str] = {}  # token index -> success | spent | in_flight | unsent
        self.enough = threading.Event()
        self._todo = iter(enumerate(tokens))
        self._lock = threading.Lock()

    def _next(self) -> tuple[int, str] | None:
        with self._lock:
            return next(self._todo, None)

    def _record(self, index: int, outcome: str) -> None:
        with self._lock:
            self.outcomes[index] = outcome
            if sum(o == "success" for o in self.outcomes.values()) >= KILL_AFTER:
                self.enough.set()

    def run(self, worker: int) -> None:
        flavor = FLAVORS[worker % len(FLAVORS)]
        with httpx.Client(timeout=5.0) as client:
            while (item := self._next()) is not None:
                index, token = item
                try:
                    body = verify(client, self.base_url, flavor, self.secret, token)
                except httpx.ConnectError:
                    self._record(index, "unsent")  # never reached the server
                    return
                except httpx.TransportError:
                    self._record(index, "in_flight")  # may or may not have been claimed
                    return
                self._record(index, "success" if body["success"] else "spent")


def test_kill_9_mid_stream_keeps_every_spent_token_spent(tmp_path: Path) -> None:
    """SIGKILL parent and workers mid-stream, restart: no token verifies twice, unused ones once."""
    data_dir, logs = tmp_path / "data", tmp_path / "logs"
    first = start_server(data_dir, logs, workers=2)
    try:
        site = create_site(data_dir)
        with httpx.Client(timeout=10.0) as client:
            tokens = [
                fetch_token(client, first.base_url, site["sitekey"]) for _ in range(STREAM_TOKENS)
            ]
            spare = [
                fetch_token(client, first.base_url, site["sitekey"]) for _ in range(SPARE_TOKENS)
            ]
            pending = request_challenge(client, first.base_url, site["sitekey"]).json()
        stream = _Stream(first.base_url, site["secret"], tokens)
        threads = [threading.Thread(target=stream.run, args=(i,)) for i in range(STREAM_THREADS)]
        for t in threads:
            t.start()
        reached = stream.enough.wait(timeout=WAIT_S)
        first.kill_group()
        for t in threads:
            t.join(timeout=WAIT_S)
        assert reached, stream.outcomes
        assert not any(t.is_alive() for t in threads)
    finally:
        first.stop()

    outcomes = stream.outcomes
    succeeded = [i for i, o in outcomes.items() if o == "success"]
    assert len(succeeded) >= KILL_AFTER
    assert len(succeeded) < STREAM_TOKENS, "the stream finished before the kill"
    assert "spent" not in outcomes.values(), "a fresh token was reported spent before the kill"

    with running_server(data_dir, logs, workers=2) as second, httpx.Client(timeout=10.0) as client:
        assert "First start" not in second.output()
        flavors = itertools.cycle(FLAVORS)
        for i in succeeded:
            flavor = next(flavors)
            body = verify(client, second.base_url, flavor, site["secret"], tokens[i])
            assert error_of(flavor, body) == SPENT[flavor], (i, body)
        for i, token in enumerate(tokens):
            if outcomes.get(i) == "success":
                continue
            flavor = next(flavors)
            again = error_of(flavor, verify(client, second.base_url, flavor, site["secret"], token))
            last = error_of(flavor, verify(client, second.base_url, flavor, site["secret"], token))
            if outcomes.get(i) == "in_flight":
                assert again in (None, SPENT[flavor]), (i, again)
            else:
                assert again is None, (i, again)
            assert last == SPENT[flavor], (i, last)
        for token in spare:
            assert verify(client, second.base_url, "authkong", site["secret"], token)["success"]
            body = verify(client, second.base_url, "authkong", site["secret"], token)
            assert error_of("authkong", body) == "already_spent"
        late = redeem(client, second.base_url, pending)
        assert verify(client, second.base_url, "turnstile", site["secret"], late)["success"]


# -- first start -----------------------------------------------------------------------


def test_first_start_prints_demo_keys_and_next_steps(server: Server) -> None:
    """The first start prints the demo sitekey, its secret and a "Next:" line with the real port."""
    out = server.stdout_path.read_text()
    assert "First start" in out
    demo = server.demo_site()
    assert demo is not None, out
    assert demo.sitekey.startswith("ak_")
    assert demo.secret.startswith("aks_")
    assert f"Next: open http://localhost:{server.port}/demo" in out


def test_the_demo_site_is_in_the_audit_log_for_the_first_organization(tmp_path: Path) -> None:
    """The demo site is made through the service layer: its creation is audited (actor
    `cli`), and the first organization adopts the site with that entry."""
    with running_server(tmp_path / "data", tmp_path / "logs") as server:  # its own data dir
        demo = server.demo_site()
    assert demo is not None
    with closing(sqlite3.connect(server.data_dir / "authkong.sqlite3")) as db:
        rows = db.execute("SELECT actor, action, org_id FROM audit_log WHERE target = ?",
                          (demo.sitekey,)).fetchall()  # fmt: skip
    assert rows == [("cli", "site.create", None)]
    done = run_cli(
        "user", "create", "--email", "o@example.com", "--password", "a long password 1",
        "--org", "Acme", data_dir=server.data_dir,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with closing(sqlite3.connect(server.data_dir / "authkong.sqlite3")) as db:
        ((site_org,),) = db.execute(
            "SELECT org_id FROM sites WHERE sitekey = ?", (demo.sitekey,)
        ).fetchall()
        ((entry_org,),) = db.execute(
            "SELECT org_id FROM audit_log WHERE target = ? AND action = 'site.create'",
            (demo.sitekey,),
        ).fetchall()
    assert site_org is not None and entry_org == site_org


def test_no_demo_site_comes_back_once_an_organization_exists(tmp_path: Path) -> None:
    """An owner who deleted every site, the demo too, does not get it back on restart."""
    data = tmp_path / "data"
    with running_server(data, tmp_path / "logs") as first:
        demo = first.demo_site()
    assert demo is not None
    for args in (
        ("user", "create", "--email", "o@example.com", "--password", "a long password 1"),
        ("site", "delete", demo.sitekey),
    ):
        done = run_cli(*args, data_dir=data)
        assert done.returncode == 0, done.stderr
    with running_server(data, tmp_path / "logs2") as again:
        assert "First start" not in again.output()
    assert json.loads(run_cli("site", "list", "--json", data_dir=data).stdout) == []


def test_first_start_writes_private_keys_file(server: Server) -> None:
    """keys.json is created in the data dir with mode 0600."""
    keys = server.data_dir / "keys.json"
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert json.loads(keys.read_text())["current"] == "1"


def test_demo_site_keys_work_end_to_end(server: Server, client: httpx.Client) -> None:
    """`authkong token` solves the demo site's default work; the printed secret verifies it."""
    demo = server.demo_site()
    assert demo is not None
    challenge = request_challenge(client, server.base_url, demo.sitekey, "localhost").json()
    normal = PRESETS["normal"]
    assert (challenge["k"], challenge["target"]) == (normal.k, target_for(normal.solution_hashes))
    done = run_cli("token", "--server", server.base_url, "--sitekey", demo.sitekey)
    assert done.returncode == 0, done.stderr
    body = verify(client, server.base_url, "authkong", demo.secret, done.stdout.strip())
    assert body["success"] is True, body
    assert body["hostname"] == "localhost"


def test_second_start_creates_no_second_demo_site(server: Server) -> None:
    """Another start on the same data dir prints no banner and adds no demo site."""
    with running_server(server.data_dir, server.stdout_path.parent) as second:
        assert "First start" not in second.output()
        assert second.demo_site() is None
    done = run_cli("site", "list", "--json", data_dir=server.data_dir)
    assert done.returncode == 0, done.stderr
    assert [s["name"] for s in json.loads(done.stdout)].count("Demo") == 1


# -- site changes reach the running server at once -------------------------------------


def test_site_created_while_serving_works_at_once(server: Server, fresh: httpx.Client) -> None:
    """A site made by `site create` gets challenges and tokens without a restart."""
    site = create_site(server.data_dir)
    for _ in range(SPREAD):
        got = request_challenge(fresh, server.base_url, site["sitekey"])
        assert got.status_code == 200, got.text
    token = fetch_token(fresh, server.base_url, site["sitekey"])
    body = verify(fresh, server.base_url, "authkong", site["secret"], token)
    assert body["success"] is True, body
    assert body["sitekey"] == site["sitekey"]


def test_rotate_secret_with_overlap_keeps_both_secrets(server: Server, fresh: httpx.Client) -> None:
    """After `rotate-secret --overlap 2h` the old and the new secret both verify."""
    site = create_site(server.data_dir)
    rotated = run_cli_json(
        "site", "rotate-secret", site["sitekey"], "--overlap", "2h", data_dir=server.data_dir
    )
    assert rotated["old_secret_valid_for"] == 7200
    assert rotated["secret"] != site["secret"]
    for secret in (site["secret"], rotated["secret"], site["secret"], rotated["secret"]):
        token = fetch_token(fresh, server.base_url, site["sitekey"])
        body = verify(fresh, server.base_url, "turnstile", secret, token)
        assert body["success"] is True, body


def test_rotate_secret_without_overlap_drops_old_at_once(
    server: Server, fresh: httpx.Client
) -> None:
    """After `rotate-secret --overlap 0` the old secret is an invalid secret on every flavor."""
    site = create_site(server.data_dir)
    token = fetch_token(fresh, server.base_url, site["sitekey"])
    rotated = run_cli_json(
        "site", "rotate-secret", site["sitekey"], "--overlap", "0", data_dir=server.data_dir
    )
    for flavor in FLAVORS * 2:
        body = verify(fresh, server.base_url, flavor, site["secret"], token)
        assert error_of(flavor, body) == INVALID_SECRET[flavor], (flavor, body)
    assert verify(fresh, server.base_url, "hcaptcha", rotated["secret"], token)["success"]


def test_update_domain_refuses_old_hostname_at_once(server: Server, fresh: httpx.Client) -> None:
    """After `site update --domain other.com` a challenge for the old hostname is refused."""
    site = create_site(server.data_dir)
    assert request_challenge(fresh, server.base_url, site["sitekey"]).status_code == 200
    updated = run_cli_json(
        "site", "update", site["sitekey"], "--domain", "other.com", data_dir=server.data_dir
    )
    assert updated["domains"] == ["other.com"]
    for _ in range(SPREAD):
        got = request_challenge(fresh, server.base_url, site["sitekey"], "example.com")
        assert got.status_code == 403, got.text
        assert got.json()["error_code"] == "hostname_not_allowed"
    token = fetch_token(fresh, server.base_url, site["sitekey"], "other.com")
    body = verify(fresh, server.base_url, "authkong", site["secret"], token)
    assert body["hostname"] == "other.com", body


def test_delete_site_stops_its_secret_and_sitekey(server: Server, fresh: httpx.Client) -> None:
    """After `site delete` its secret is invalid everywhere and its sitekey gets no challenge."""
    site = create_site(server.data_dir)
    token = fetch_token(fresh, server.base_url, site["sitekey"])
    done = run_cli("site", "delete", site["sitekey"], data_dir=server.data_dir)
    assert done.returncode == 0, done.stderr
    for flavor in FLAVORS * 2:
        body = verify(fresh, server.base_url, flavor, site["secret"], token)
        assert error_of(flavor, body) == INVALID_SECRET[flavor], (flavor, body)
    for _ in range(SPREAD):
        got = request_challenge(fresh, server.base_url, site["sitekey"])
        assert got.status_code == 400, got.text
        assert got.json()["error_code"] == "invalid_sitekey"


# -- nothing secret in the logs --------------------------------------------------------


def _wait_for_output(server: Server, needle: str) -> str:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        out = server.output()
        if needle in out:
            return out
        try:
            server.process.wait(timeout=0.05)  # the pause between looks; also notices a crash
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"server exited:\n{out}")
    raise AssertionError(f"{needle!r} never appeared in the server output")


def test_secrets_and_tokens_never_reach_the_logs(server: Server, client: httpx.Client) -> None:
    """GET with secret and token in the query, and POSTs of every kind, log neither."""
    site = create_site(server.data_dir)
    secret, base = site["secret"], server.base_url
    tokens = [fetch_token(client, base, site["sitekey"]) for _ in range(4)]
    query = {"secret": secret, "response": tokens[0]}
    assert client.get(f"{base}/api/siteverify", params=query).json()["success"] is True
    assert client.get(f"{base}/recaptcha/api/siteverify", params=query).status_code == 200
    assert client.get(f"{base}/turnstile/v0/siteverify", params=query).status_code == 405
    assert client.get(f"{base}/captcha/siteverify", params=query).status_code == 405
    assert client.post(f"{base}/api/siteverify", params=query).status_code == 200
    for flavor in FLAVORS:
        verify(client, base, flavor, secret, tokens[1])
    body = {"secret": secret, "response": tokens[2], "idempotency_key": str(uuid.uuid4())}
    assert client.post(f"{base}/turnstile/v0/siteverify", json=body).json()["success"] is True
    assert client.post(
        f"{base}/api/siteverify", json={"secret": secret, "response": tokens[3]}
    ).json()["success"]
    marker = f"/end-of-test-{uuid.uuid4().hex}"
    assert client.get(f"{base}{marker}").status_code == 404
    out = _wait_for_output(server, marker)
    assert secret not in out
    for token in tokens:
        assert token not in out
    assert '"GET /api/siteverify HTTP/1.1" 200' in out  # the requests were logged, redacted
