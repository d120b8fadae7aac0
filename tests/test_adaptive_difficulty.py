"""Adaptive difficulty and velocity through the real endpoints, with a fake clock.

A fresh visitor gets the site's own work; a flood from one address meets harder
challenges and then 429; a surge across many addresses raises everyone's work (site
load); many redemptions from one address show as `ip_velocity` in the score.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from authkong.app import create_app
from authkong.config import Settings
from authkong.domain.clock import FakeClock
from authkong.domain.site import RateLimits, RiskSettings
from authkong.domain.sliding import SlidingCounts
from authkong.storage.registry import NewSecret
from tests.support import CHEAP, make_site, solve_challenge

WAIT_S, HASH_RATE = 10.0, 1000.0  # a cap of 10_000 expected hashes: reachable in tests
PROXY = "10.255.0.1"
SHORT_WAIT_S = 0.2  # 200 hashes: below what the flood below asks of the cheap site (64)


@pytest.fixture
def adaptive(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    # The test client is a trusted proxy, so X-Forwarded-For names each visitor's address.
    settings = Settings(
        data_dir=tmp_path / "data",
        assumed_hash_rate=HASH_RATE,
        trusted_proxies=(PROXY,),
    )
    with TestClient(create_app(settings, clock=clock), client=(PROXY, 50000)) as client:
        yield client


def new_site(client: TestClient, clock: FakeClock, limits: RateLimits) -> NewSecret:
    registry = client.app.state.services.registry  # type: ignore[attr-defined]
    return make_site(
        registry, clock.now_ms(), rate_limits=limits, risk=RiskSettings(max_wait_s=WAIT_S)
    )


def challenge(client: TestClient, site: NewSecret, ip: str) -> dict[str, object]:
    got = client.post(
        "/api/v1/challenge",
        json={"sitekey": site.site.sitekey, "hostname": "example.com"},
        headers={"x-forwarded-for": ip},
    )
    assert got.status_code in (200, 429), got.text
    body: dict[str, object] = got.json()
    body["status"] = got.status_code
    return body


def test_a_fresh_visitor_gets_the_sites_own_work(adaptive: TestClient, clock: FakeClock) -> None:
    site = new_site(adaptive, clock, RateLimits())
    got = challenge(adaptive, site, "198.51.100.1")
    assert (got["expected_hashes"], got["reason"]) == (CHEAP.expected_hashes, "base")


def test_a_flood_from_one_address_meets_harder_work_then_429(
    adaptive: TestClient, clock: FakeClock
) -> None:
    site = new_site(adaptive, clock, RateLimits(ip_per_min=60, ip_burst=60))
    answers = [challenge(adaptive, site, "198.51.100.2") for _ in range(61)]
    work = [a["expected_hashes"] for a in answers[:60]]
    assert work == sorted(work)  # never easier as the flood goes on
    assert work[-1] > work[0] == CHEAP.expected_hashes
    assert "client_risk" in str(answers[59]["reason"])
    assert answers[60]["status"] == 429
    # Someone else meanwhile still gets the site's own work.
    assert challenge(adaptive, site, "203.0.113.50")["expected_hashes"] == CHEAP.expected_hashes


def test_a_surge_raises_everyones_work_up_to_the_cap(
    adaptive: TestClient, clock: FakeClock
) -> None:
    site = new_site(adaptive, clock, RateLimits(ip_per_min=0))
    for n in range(60):  # a quiet hour's worth of baseline: one visitor a minute
        challenge(adaptive, site, f"192.0.2.{n}")
        clock.advance(60)
    for n in range(600):  # then hundreds of visitors in a minute, each from its own address
        last = challenge(adaptive, site, f"10.{n // 250}.{n % 250}.1")
        clock.advance(0.1)
    assert "site_load" in str(last["reason"])
    assert CHEAP.expected_hashes < int(str(last["expected_hashes"])) <= WAIT_S * HASH_RATE


def test_many_redemptions_from_one_address_show_in_the_score(
    adaptive: TestClient, clock: FakeClock
) -> None:
    site = new_site(adaptive, clock, RateLimits(ip_per_min=0))
    reasons: list[str] = []
    for _ in range(40):
        issued = challenge(adaptive, site, "198.51.100.3")
        clock.advance(1)
        redeemed = adaptive.post(
            "/api/v1/redeem",
            json={"challenge": issued["challenge"], "nonces": solve_challenge(issued)},  # type: ignore[arg-type]
            headers={"x-forwarded-for": "198.51.100.3"},
        )
        token = redeemed.json()["token"]
        verified = adaptive.post(
            "/api/siteverify", data={"secret": site.secret, "response": token}
        ).json()
        reasons = verified["reasons"]
    assert "ip_velocity" in reasons


def test_sliding_counts_forget_old_windows_and_bound_memory() -> None:
    counts = SlidingCounts(window_s=10, max_keys=2)
    assert counts.hit("a", 0) == 1
    assert counts.hit("a", 5_000) == 2
    assert counts.count("a", 15_000) == pytest.approx(1.0)  # half the old window remains
    assert counts.count("a", 30_000) == 0
    counts.hit("b", 30_000)
    counts.hit("c", 30_000)  # the least recently hit key ("a") goes
    assert counts.count("a", 30_000) == 0
    assert counts.count("b", 30_000) == 1


def flood(client: TestClient, site: NewSecret, ip: str, n: int) -> dict[str, object]:
    for _ in range(n):
        last = challenge(client, site, ip)
    return last


def test_each_site_has_its_own_maximum_wait(adaptive: TestClient, clock: FakeClock) -> None:
    registry = adaptive.app.state.services.registry  # type: ignore[attr-defined]
    short = make_site(
        registry, clock.now_ms(), rate_limits=RateLimits(ip_per_min=0),
        risk=RiskSettings(max_wait_s=SHORT_WAIT_S),
    )  # fmt: skip
    long = new_site(adaptive, clock, RateLimits(ip_per_min=0))
    short_work = flood(adaptive, short, "198.51.100.4", 400)
    long_work = flood(adaptive, long, "198.51.100.5", 400)
    assert (short_work["reason"], long_work["reason"]) == ("client_risk+capped", "client_risk")
    assert int(str(short_work["expected_hashes"])) <= SHORT_WAIT_S * HASH_RATE
    assert int(str(short_work["expected_hashes"])) < int(str(long_work["expected_hashes"]))


@pytest.mark.parametrize(
    "risk", [RiskSettings(adaptive=False), RiskSettings(scoring=False)], ids=["fixed", "no_scoring"]
)
def test_a_site_can_keep_its_work_fixed(
    adaptive: TestClient, clock: FakeClock, risk: RiskSettings
) -> None:
    """Adaptive difficulty off, or scoring off: a flood gets the site's own work throughout."""
    registry = adaptive.app.state.services.registry  # type: ignore[attr-defined]
    site = make_site(registry, clock.now_ms(), rate_limits=RateLimits(ip_per_min=0), risk=risk)
    last = flood(adaptive, site, "198.51.100.6", 200)
    assert (last["expected_hashes"], last["reason"]) == (CHEAP.expected_hashes, "base")


@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(0, 25_000)), max_size=40))
def test_sliding_hit_and_count_agree(steps: list[tuple[str, int]]) -> None:
    """hit() rolls windows by its own copy of the rule; count() right after agrees with it."""
    counts, now = SlidingCounts(window_s=10), 0
    for key, step_ms in steps:
        now += step_ms
        assert counts.hit(key, now) == pytest.approx(counts.count(key, now))
