"""Velocity across workers: two app instances on one data dir ("two workers") sync their
counts through the ephemeral store, so a flood split across them counts as one.

Syncs are called directly (the background interval is set to an hour), with a fake clock.
"""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from authkong.api.risk_signals import subnet_key
from authkong.api.services import Services
from authkong.api.velocity_sync import shared_key
from authkong.app import create_app
from authkong.config import Settings
from authkong.domain.clock import FakeClock
from authkong.domain.risk import VELOCITY_WEIGHTS, VELOCITY_WINDOW_S
from authkong.domain.site import RateLimits, RiskSettings
from authkong.domain.sliding import SlidingCounts
from authkong.storage.registry import NewSecret
from tests.server import CHEAP_ARGS, run_cli_json, running_server
from tests.support import make_site, solve_challenge

PROXY = "10.255.0.1"
FLOODER = "198.51.100.2"
WAIT_S, HASH_RATE = 10.0, 1000.0  # as in tests/test_adaptive_difficulty.py
Workers = tuple[TestClient, TestClient]


def settings_for(data_dir: Path) -> Settings:
    # The test client is a trusted proxy, so X-Forwarded-For names each visitor's address.
    return Settings(
        data_dir=data_dir,
        assumed_hash_rate=HASH_RATE,
        trusted_proxies=(PROXY,),
        lock_timeout_s=0.2,
        velocity_sync_s=3600,  # the tests sync by hand
    )


@pytest.fixture
def workers(tmp_path: Path, clock: FakeClock) -> Iterator[Workers]:
    settings = settings_for(tmp_path / "data")
    with (
        TestClient(create_app(settings, clock=clock), client=(PROXY, 1)) as one,
        TestClient(create_app(settings, clock=clock), client=(PROXY, 2)) as two,
    ):
        yield one, two


@pytest.fixture
def alone(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    """One worker on a data dir of its own: what the two together should answer."""
    with TestClient(
        create_app(settings_for(tmp_path / "alone"), clock=clock), client=(PROXY, 3)
    ) as client:
        yield client


def services(client: TestClient) -> Services:
    svc: Services = client.app.state.services  # type: ignore[attr-defined]
    return svc


def sync(*clients: TestClient) -> list[bool]:
    return [c.portal.call(services(c).velocity_sync.sync) for c in clients]  # type: ignore[union-attr]


def new_site(client: TestClient, clock: FakeClock) -> NewSecret:
    return make_site(
        services(client).registry,
        clock.now_ms(),
        rate_limits=RateLimits(ip_per_min=0, site_per_min=0),
        risk=RiskSettings(max_wait_s=WAIT_S),
    )


def challenge(client: TestClient, site: NewSecret, ip: str = FLOODER) -> dict[str, Any]:
    got = client.post(
        "/api/v1/challenge",
        json={"sitekey": site.site.sitekey, "hostname": "example.com"},
        headers={"x-forwarded-for": ip},
    )
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def reasons_of_a_token(client: TestClient, site: NewSecret, ip: str = FLOODER) -> list[str]:
    issued = challenge(client, site, ip)
    redeemed = client.post(
        "/api/v1/redeem",
        json={"challenge": issued["challenge"], "nonces": solve_challenge(issued)},
        headers={"x-forwarded-for": ip},
    )
    assert redeemed.status_code == 200, redeemed.text
    verified = client.post(
        "/api/siteverify", data={"secret": site.secret, "response": redeemed.json()["token"]}
    ).json()
    reasons: list[str] = verified["reasons"]
    return reasons


_steps = st.lists(
    st.one_of(
        st.tuples(st.just("hit"), st.sampled_from("abc")),
        st.tuples(st.just("elsewhere"), st.sampled_from("abcd")),
        st.tuples(st.just("advance"), st.integers(0, 9_999)),
        st.tuples(st.sampled_from(["sync", "fail"]), st.integers(1, 3)),
    ),
    max_size=80,
)


@settings(max_examples=500)
@given(_steps)
def test_every_hit_is_taken_exactly_once(steps: list[tuple[str, Any]]) -> None:
    """Whatever the hits, rolls, counts from elsewhere, bounded takes and failed syncs,
    the successful takes add up to exactly the local hits."""
    counts, now, synced_at, hits, taken = SlidingCounts(window_s=10), 0, 0, 0.0, 0.0
    for step, arg in steps:
        if step == "hit":
            counts.hit(arg, now)
            hits += 1
        elif step == "elsewhere":
            counts.add_elsewhere({arg: 2.0}, now)
        elif step == "advance":
            if now + arg - synced_at >= 10_000:  # a sync at least once a window, as served
                taken += sum(counts.take_unsynced(limit=3).values())
                synced_at = now
            now += arg
        elif step == "sync":
            taken += sum(counts.take_unsynced(limit=arg).values())
        else:
            counts.give_back(counts.take_unsynced(limit=arg))
    taken += sum(counts.take_unsynced(limit=3).values())
    assert taken == hits
    assert counts.take_unsynced(limit=3) == {}


def test_a_take_looks_only_near_the_tail_and_loses_nothing() -> None:
    """A take costs the same whatever a flood of distinct keys brings; a key left further
    back keeps its count until it is hit again, then goes with all of it."""
    counts = SlidingCounts(window_s=600)
    counts.hit("quiet", 0)
    counts.hit("quiet", 0)
    for n in range(5_000):
        counts.hit(f"10.0.{n >> 8}.{n & 255}", 1)
    for _ in range(50):
        counts.hit("flooder", 2)
    first = counts.take_unsynced(limit=10)
    assert first["flooder"] == 50
    assert len(first) == 10
    assert "quiet" not in counts.take_unsynced(limit=10)
    counts.hit("quiet", 3)
    assert counts.take_unsynced(limit=10)["quiet"] == 3


def test_a_flood_split_across_workers_meets_the_work_one_worker_would_ask(
    workers: Workers, alone: TestClient, clock: FakeClock
) -> None:
    """After a sync, 30 + 30 challenges on two workers weigh like 60 on one."""
    one, two = workers
    site = new_site(one, clock)
    for _ in range(30):
        challenge(one, site)
        challenge(two, site)
    unsynced = challenge(one, site)
    assert sync(one, two, one) == [True] * 3
    split = challenge(one, site)

    single = new_site(alone, clock)
    answers = [challenge(alone, single) for _ in range(62)]
    # Before the sync a worker sees its own 31; after it, all 62, as one worker would.
    assert unsynced["expected_hashes"] == answers[30]["expected_hashes"]
    assert (split["expected_hashes"], split["reason"]) == (
        answers[-1]["expected_hashes"],
        answers[-1]["reason"],
    )
    assert split["expected_hashes"] > unsynced["expected_hashes"]
    assert "client_risk" in split["reason"]


def test_redemptions_split_across_workers_show_ip_velocity(
    workers: Workers, clock: FakeClock
) -> None:
    """Eight redemptions on each worker are sixteen: past the per-IP threshold once synced."""
    one, two = workers
    site = new_site(one, clock)
    threshold = VELOCITY_WEIGHTS["ip_redemptions"].threshold
    for _ in range(8):
        assert "ip_velocity" not in reasons_of_a_token(one, site)
        assert "ip_velocity" not in reasons_of_a_token(two, site)
    assert 8 <= threshold < 16
    sync(one, two, one)
    assert "ip_velocity" in reasons_of_a_token(one, site)
    assert "ip_velocity" in reasons_of_a_token(two, site)  # it has not synced since: its own 9


def test_a_worker_knows_a_flood_before_its_first_request_of_it(
    workers: Workers, clock: FakeClock
) -> None:
    """Ten redemptions all on one worker: the other, which never saw the address, learns of
    it from the store's notices, so the 11th redemption shows `ip_velocity` wherever it lands."""
    one, two = workers
    site = new_site(one, clock)
    threshold = VELOCITY_WEIGHTS["ip_redemptions"].threshold
    for _ in range(threshold):
        assert "ip_velocity" not in reasons_of_a_token(one, site)
        sync(one)
    sync(two)  # nothing there has read the address (a read would ask for it anyway)
    assert services(two).velocity.redemptions.count(FLOODER, clock.now_ms()) == threshold
    assert "ip_velocity" in reasons_of_a_token(two, site)


def test_a_key_counted_once_is_not_announced(workers: Workers, clock: FakeClock) -> None:
    """Only keys the server has counted at least twice are announced: a flood of distinct
    addresses, one challenge each, reaches no other worker until it asks for them."""
    one, two = workers
    site = new_site(one, clock)
    for n in range(20):
        challenge(one, site, f"192.0.2.{n}")
    challenge(one, site, "203.0.113.9")
    challenge(one, site, "203.0.113.9")
    sync(one, two)
    known = services(two).velocity.challenges
    now = clock.now_ms()
    assert known.count("203.0.113.9", now) == 2
    assert known.count(subnet_key("192.0.2.1"), now) == 20
    assert [known.count(f"192.0.2.{n}", now) for n in range(20)] == [0] * 20
    sync(two)  # those reads asked for them
    assert [known.count(f"192.0.2.{n}", clock.now_ms()) for n in range(20)] == [1] * 20


def test_an_ipv6_client_is_counted_by_its_64(alone: TestClient, clock: FakeClock) -> None:
    """A client that takes a new address of its /64 for every token is still one client:
    its redemptions show `ip_velocity` as one address's would; another /64 is not counted."""
    site = new_site(alone, clock)
    threshold = VELOCITY_WEIGHTS["ip_redemptions"].threshold
    for n in range(1, threshold + 1):
        assert "ip_velocity" not in reasons_of_a_token(alone, site, f"2001:db8:0:1::{n:x}")
    assert "ip_velocity" in reasons_of_a_token(alone, site, "2001:db8:0:1:ffff::1")
    assert "ip_velocity" not in reasons_of_a_token(alone, site, "2001:db8:0:2::1")


def test_the_sites_load_is_the_sum_of_every_workers(workers: Workers, clock: FakeClock) -> None:
    """The site's last-minute and last-hour counts are both workers' together."""
    one, two = workers
    site = new_site(one, clock)
    for n in range(5):
        challenge(one, site, f"192.0.2.{n}")
    for n in range(7):
        challenge(two, site, f"203.0.113.{n}")
    sync(one, two, one)
    now = clock.now_ms()
    for client in workers:
        velocity = services(client).velocity
        assert velocity.site_recent.count(site.site.sitekey, now) == 12
        assert velocity.site_hour.count(site.site.sitekey, now) == 12


def test_a_worker_started_later_weighs_the_hours_count_over_the_time_it_covers(
    workers: Workers, tmp_path: Path, clock: FakeClock
) -> None:
    """Thirty minutes of steady traffic on one worker, then a new worker (a restart): after
    its first sync it takes in that half hour's count and divides it by the half hour the
    server counted, not by its own minute of uptime, so it sees the same baseline."""
    one, _ = workers
    site = new_site(one, clock)
    for n in range(900):  # 0.5 challenges a second, synced every 10 s
        challenge(one, site, f"100.{n % 200}.{n // 200}.1")
        clock.advance(2)
        if n % 5 == 0:
            sync(one)
    sync(one)
    with TestClient(create_app(settings_for(tmp_path / "data"), clock=clock)) as later:
        sync(later)
        now = clock.now_ms()
        _, _, kept = services(one).velocity.challenge(site.site.sitekey, "192.0.2.1", now)
        _, _, fresh = services(later).velocity.challenge(site.site.sitekey, "192.0.2.2", now)
    assert kept.baseline == pytest.approx(0.5, rel=0.05)
    assert fresh.baseline == pytest.approx(kept.baseline, rel=0.05)


def test_synced_counts_are_not_counted_twice(workers: Workers, clock: FakeClock) -> None:
    """Syncing again and again adds only what is new, on both sides."""
    one, two = workers
    site = new_site(one, clock)
    for _ in range(4):
        challenge(one, site)
    challenge(two, site)
    for _ in range(3):
        sync(one, two)
    challenge(two, site)
    sync(two, one, two)
    now = clock.now_ms()
    for client in workers:
        assert services(client).velocity.challenges.count(FLOODER, now) == 6


def test_windows_still_forget_old_counts(workers: Workers, clock: FakeClock) -> None:
    """Counts learned from another worker age like one's own and are never read back."""
    one, two = workers
    site = new_site(one, clock)
    for _ in range(10):
        challenge(two, site)
    sync(two)
    counts = services(one).velocity.challenges
    assert counts.count(FLOODER, clock.now_ms()) == 0  # never counted here: asked next sync
    sync(one)
    assert counts.count(FLOODER, clock.now_ms()) == 10
    clock.advance(VELOCITY_WINDOW_S * 1.5)  # half of the last window still overlaps
    assert counts.count(FLOODER, clock.now_ms()) == pytest.approx(5)
    sync(one, two)
    assert counts.count(FLOODER, clock.now_ms()) == pytest.approx(5)
    clock.advance(VELOCITY_WINDOW_S)
    sync(one, two, one)
    assert counts.count(FLOODER, clock.now_ms()) == 0
    assert services(two).velocity.challenges.count(FLOODER, clock.now_ms()) == 0


def test_a_failed_sync_keeps_the_counts_for_the_next(
    workers: Workers, clock: FakeClock, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """While the store is locked a sync fails (and no request does); the next one sends all."""
    one, two = workers
    site = new_site(one, clock)
    challenge(two, site)
    for _ in range(5):
        challenge(one, site)
    locker = sqlite3.connect(tmp_path / "data" / "ephemeral.sqlite3", isolation_level=None)
    try:
        locker.execute("BEGIN IMMEDIATE")
        assert sync(one) == [False]
        locker.execute("ROLLBACK")
    finally:
        locker.close()
    assert "could not sync the velocity counts" in caplog.text
    assert "database is locked" in caplog.text
    challenge(one, site)
    assert sync(one, two) == [True, True]
    assert services(two).velocity.challenges.count(FLOODER, clock.now_ms()) == 1 + 6


def test_a_sync_sends_at_most_its_bound_of_keys_busiest_first(
    workers: Workers, clock: FakeClock
) -> None:
    """With a bound of 3 keys a count, the busiest 3 go first and the rest wait their turn."""
    one, two = workers
    site = new_site(one, clock)
    syncer = services(one).velocity_sync
    syncer.keys_per_count = 3
    for n in range(1, 11):  # 192.0.2.n asks n times: 55 for the subnet, 10 for the busiest
        for _ in range(n):
            challenge(one, site, f"192.0.2.{n}")
    store = services(one).store
    subnet = subnet_key("192.0.2.1")
    index = clock.now_ms() // (VELOCITY_WINDOW_S * 1000)

    def shared() -> dict[str, int]:
        keys = {shared_key("vc", index, k): (0, 0) for k in [subnet, *ips]}
        got: dict[str, int] = one.portal.call(store.add_counts, keys)  # type: ignore[union-attr]
        return {key.split(":", 2)[2]: count for key, count in got.items() if count}

    ips = [f"192.0.2.{n}" for n in range(1, 11)]
    sync(one)
    assert syncer.synced_keys == 3 + 1 + 1  # IP and subnet challenges; the site's two rates
    assert shared() == {subnet: 55, "192.0.2.10": 10, "192.0.2.9": 9}
    sync(one)
    assert shared() == {subnet: 55, **{f"192.0.2.{n}": n for n in range(6, 11)}}
    sync(one, one)
    assert shared() == {subnet: 55, **{ip: int(ip.rsplit(".")[-1]) for ip in ips}}
    challenge(two, site, "192.0.2.10")
    sync(two)
    assert services(two).velocity.challenges.count("192.0.2.10", clock.now_ms()) == 11


def test_the_sync_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """AUTHKONG_VELOCITY_SYNC_S sets the interval (default 1 s); a bad value names it."""
    assert Settings().velocity_sync_s == 1.0
    monkeypatch.setenv("AUTHKONG_VELOCITY_SYNC_S", "0.25")
    assert Settings().velocity_sync_s == 0.25
    for bad in ("0", "soon"):
        monkeypatch.setenv("AUTHKONG_VELOCITY_SYNC_S", bad)
        with pytest.raises(ValueError, match="AUTHKONG_VELOCITY_SYNC_S"):
            Settings()


@pytest.mark.server
def test_a_flood_shows_ip_velocity_across_real_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With `serve --workers 2`, the 11th redemption from one client shows `ip_velocity`,
    wherever its requests land, as with one worker."""
    monkeypatch.setenv("AUTHKONG_VELOCITY_SYNC_S", "0.05")
    monkeypatch.setenv("AUTHKONG_ADAPTIVE_DIFFICULTY", "0")  # pure-Python solving stays cheap
    data = tmp_path / "data"
    made = run_cli_json(
        "site", "create", "--name", "V", "--domain", "example.com", *CHEAP_ARGS,
        "--rate-ip-per-min", "0", data_dir=data,
    )  # fmt: skip
    threshold = VELOCITY_WEIGHTS["ip_redemptions"].threshold
    first_flagged = None
    # A new connection per request, so both workers answer some.
    limits = httpx.Limits(max_keepalive_connections=0)
    with (
        running_server(data, tmp_path / "logs", workers=2) as server,
        httpx.Client(base_url=server.base_url, timeout=10.0, limits=limits) as fresh,
    ):
        for n in range(1, 3 * threshold):
            issued = fresh.post(
                "/api/v1/challenge", json={"sitekey": made["sitekey"], "hostname": "example.com"}
            ).json()
            token = fresh.post(
                "/api/v1/redeem",
                json={"challenge": issued["challenge"], "nonces": solve_challenge(issued)},
            ).json()["token"]
            verified = fresh.post(
                "/api/siteverify", data={"secret": made["secret"], "response": token}
            ).json()
            if "ip_velocity" in verified["reasons"]:
                first_flagged = n
                break
            # Pace the flood so that every worker has synced before the next redemption:
            # once this one is in the shared counters, four more sync intervals (real
            # time, since these are real processes).
            wait_until_shared(data / "ephemeral.sqlite3", "vr", "127.0.0.1", n)
            time.sleep(0.2)
    assert first_flagged == threshold + 1


def wait_until_shared(path: Path, count: str, key: str, total: int) -> None:
    """Wait until the workers have sent `total` of `count` for `key` to the store."""
    deadline = time.monotonic() + 10
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        while time.monotonic() < deadline:
            (sent,) = db.execute(
                "SELECT coalesce(sum(count), 0) FROM counters WHERE key LIKE ?",
                (f"{count}:%:{key}",),  # shared_key's, in any window
            ).fetchone()
            if sent >= total:
                return
            time.sleep(0.01)
    raise AssertionError(f"the workers sent {sent} of {total} {count} counts for {key}")
