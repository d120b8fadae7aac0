"""Rate limits: per-IP token buckets and per-site caps on challenge and redeem (429)."""

from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from starlette.testclient import TestClient

from authkong.api.errors import WIDGET_ERRORS
from authkong.api.rate_limit import client_key
from authkong.api.services import Services
from authkong.domain.clock import FakeClock
from authkong.domain.site import DEFAULT_RATE_IP_BURST, RateLimits, RiskSettings
from authkong.storage.registry import NewSecret, Registry, open_engine
from tests.server import CHEAP_ARGS, run_cli_json, running_server
from tests.support import get_token, make_site, solve_challenge

CHALLENGE = "/api/v1/challenge"
REDEEM = "/api/v1/redeem"


def ask(client: TestClient | httpx.Client, sitekey: str, url: str = "") -> Any:
    return client.post(f"{url}{CHALLENGE}", json={"sitekey": sitekey, "hostname": "example.com"})


def statuses(client: TestClient, sitekey: str, n: int) -> list[int]:
    return [ask(client, sitekey).status_code for _ in range(n)]


def from_ip(client: TestClient, ip: str) -> TestClient:
    """Another visitor of the same app (no second lifespan: the first one owns the stores)."""
    return TestClient(client.app, client=(ip, 40000))


def limit(services: Services, clock: FakeClock, site: NewSecret, **limits: int) -> str:
    sitekey = site.site.sitekey
    services.registry.update_site(sitekey, now_ms=clock.now_ms(), rate_limits=RateLimits(**limits))
    return sitekey


def assert_rate_limited(got: Any, retry_after: int) -> None:
    assert got.status_code == 429, got.text
    assert got.headers["retry-after"] == str(retry_after)
    error = WIDGET_ERRORS["rate_limited"]
    assert got.json() == {"error_code": "rate_limited", "message": error.message}


# -- per IP --------------------------------------------------------------------------


def test_flood_from_one_ip_meets_429_then_recovers(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    """After the default burst a client gets 429 with Retry-After; tokens come back at the rate."""
    sitekey = make_site(services.registry, clock.now_ms(), rate_limits=RateLimits()).site.sitekey
    assert statuses(client, sitekey, DEFAULT_RATE_IP_BURST) == [200] * DEFAULT_RATE_IP_BURST
    assert_rate_limited(ask(client, sitekey), retry_after=1)  # 60/min: one token a second
    clock.advance(0.4)
    assert_rate_limited(ask(client, sitekey), retry_after=1)  # 0.6 s, rounded up
    clock.advance(0.6)
    assert statuses(client, sitekey, 2) == [200, 429]
    clock.advance(60)
    assert statuses(client, sitekey, DEFAULT_RATE_IP_BURST + 1)[-2:] == [200, 429]


def test_retry_after_is_whole_seconds_rounded_up(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """At 2 a minute the wait for the next token is 30 s, and a client that waits it gets in."""
    sitekey = limit(services, clock, site, ip_per_min=2, ip_burst=1)
    assert ask(client, sitekey).status_code == 200
    assert_rate_limited(ask(client, sitekey), retry_after=30)
    clock.advance(29.5)
    assert_rate_limited(ask(client, sitekey), retry_after=1)
    clock.advance(0.5)
    assert ask(client, sitekey).status_code == 200


def test_other_ips_and_other_sites_are_unaffected(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """One client's empty bucket leaves other clients of the site, and its other sites, alone."""
    sitekey = limit(services, clock, site, ip_per_min=1, ip_burst=2)
    assert statuses(client, sitekey, 3) == [200, 200, 429]
    assert statuses(from_ip(client, "198.51.100.9"), sitekey, 3) == [200, 200, 429]
    other = make_site(services.registry, clock.now_ms(), name="Other").site.sitekey
    assert statuses(client, other, 3) == [200, 200, 200]


def test_an_ipv6_client_is_its_slash_64() -> None:
    """IPv6 clients count per /64 (one host's usual share); IPv4-mapped addresses as IPv4."""
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::2")
    assert client_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("::ffff:192.0.2.1") == client_key("192.0.2.1") == "192.0.2.1"
    assert client_key("testclient") == "testclient"


def test_ipv6_neighbours_share_a_bucket(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """Two addresses in one /64 share a bucket; the next /64 has its own."""
    sitekey = limit(services, clock, site, ip_per_min=1, ip_burst=2)
    assert statuses(from_ip(client, "2001:db8::1"), sitekey, 2) == [200, 200]
    assert statuses(from_ip(client, "2001:db8::ffff:2"), sitekey, 1) == [429]
    assert statuses(from_ip(client, "2001:db8:0:1::1"), sitekey, 1) == [200]


def test_refused_requests_take_no_tokens(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """Requests refused for cheaper reasons (foreign hostname, bad parameter) cost no token."""
    sitekey = limit(services, clock, site, ip_per_min=1, ip_burst=2)
    for _ in range(20):
        got = client.post(CHALLENGE, json={"sitekey": sitekey, "hostname": "evil.test"})
        assert got.json()["error_code"] == "hostname_not_allowed"
        got = client.post(
            CHALLENGE, json={"sitekey": sitekey, "hostname": "example.com", "mode": "x"}
        )
        assert got.json()["error_code"] == "invalid_parameter"
    assert statuses(client, sitekey, 3) == [200, 200, 429]


def test_a_limit_of_zero_is_off(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """ip_per_min=0 turns the per-IP limit off."""
    sitekey = limit(services, clock, site, ip_per_min=0)
    assert set(statuses(client, sitekey, 3 * DEFAULT_RATE_IP_BURST)) == {200}


# -- redeem --------------------------------------------------------------------------


def test_redeem_has_its_own_bucket(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """Redeem is limited per IP; wrong solutions take nothing; a refused redeem can be retried."""
    sitekey = limit(services, clock, site, ip_per_min=6, ip_burst=3)

    def solved(challenge: dict[str, Any]) -> dict[str, Any]:
        return {"challenge": challenge["challenge"], "nonces": solve_challenge(challenge)}

    bodies = [solved(ask(client, sitekey).json()) for _ in range(3)]
    assert [client.post(REDEEM, json=b).status_code for b in bodies] == [200, 200, 200]
    clock.advance(10)  # one token back in each bucket
    later = solved(ask(client, sitekey).json())
    wrong = {**later, "nonces": later["nonces"][:-1]}
    for _ in range(5):
        assert client.post(REDEEM, json=wrong).json()["error_code"] == "invalid_solution"
    replay = client.post(REDEEM, json=bodies[0])
    assert replay.json()["error_code"] == "challenge_already_redeemed"  # took the token
    assert_rate_limited(client.post(REDEEM, json=later), retry_after=10)
    clock.advance(10)
    assert client.post(REDEEM, json=later).status_code == 200  # not claimed when refused


def test_siteverify_is_never_rate_limited(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """With the client's buckets empty, siteverify still answers every call on its merits."""
    sitekey = limit(services, clock, site, ip_per_min=1, ip_burst=3)
    tokens = [get_token(client, sitekey) for _ in range(3)]
    assert ask(client, sitekey).status_code == 429
    for token in tokens:
        got = client.post("/api/siteverify", data={"secret": site.secret, "response": token})
        assert got.status_code == 200 and got.json()["success"] is True
    for _ in range(100):
        got = client.post("/api/siteverify", data={"secret": site.secret, "response": tokens[0]})
        assert got.status_code == 200 and got.json()["error_code"] == "already_spent"


# -- per site ------------------------------------------------------------------------


def test_site_cap_holds_across_ips(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """The site cap refuses a new IP once the site used a minute's worth; it refills at its rate."""
    sitekey = limit(services, clock, site, ip_per_min=0, site_per_min=3)
    visitors = [from_ip(client, f"192.0.2.{n}") for n in range(5)]
    assert [ask(v, sitekey).status_code for v in visitors[:3]] == [200, 200, 200]
    assert_rate_limited(ask(visitors[3], sitekey), retry_after=20)
    clock.advance(20)
    assert [ask(v, sitekey).status_code for v in visitors[3:]] == [200, 429]


def test_a_flooding_ip_does_not_use_up_the_site_cap(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """Requests refused by the per-IP bucket take nothing from the site's cap."""
    sitekey = limit(services, clock, site, ip_per_min=1, ip_burst=1, site_per_min=2)
    assert statuses(client, sitekey, 50) == [200] + [429] * 49
    assert ask(from_ip(client, "192.0.2.1"), sitekey).status_code == 200


# -- settings ------------------------------------------------------------------------


def test_rate_limits_are_validated() -> None:
    """A negative rate or a burst below 1 is refused when the value is made."""
    with pytest.raises(ValueError, match="burst"):
        RateLimits(ip_burst=0)
    with pytest.raises(ValueError, match="per minute"):
        RateLimits(ip_per_min=-1)
    with pytest.raises(ValueError, match="per minute"):
        RateLimits(site_per_min=10**9)


def test_cli_sets_and_shows_limits(tmp_path: Path) -> None:
    """`site create/update --rate-*` store the limits and `site show --json` lists them."""
    data = tmp_path / "data"
    made = run_cli_json(
        "site", "create", "--name", "L", "--domain", "example.com", "--rate-ip-per-min", "10",
        data_dir=data,
    )  # fmt: skip
    assert (made["rate_ip_per_min"], made["rate_ip_burst"], made["rate_site_per_min"]) == (
        10,
        DEFAULT_RATE_IP_BURST,
        0,
    )
    run_cli_json(
        "site", "update", made["sitekey"], "--rate-ip-burst", "4", "--rate-site-per-min", "900",
        data_dir=data,
    )  # fmt: skip
    shown = run_cli_json("site", "show", made["sitekey"], data_dir=data)
    assert (shown["rate_ip_per_min"], shown["rate_ip_burst"], shown["rate_site_per_min"]) == (
        10,
        4,
        900,
    )


def test_migration_gives_existing_sites_the_defaults(tmp_path: Path, clock: FakeClock) -> None:
    """A registry made before rate limits existed upgrades with the default limits on its sites."""
    engine = open_engine(tmp_path / "authkong.sqlite3")
    config = Config()
    config.set_main_option("script_location", str(files("authkong.storage") / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0001")
        conn.execute(
            sa.text(
                "INSERT INTO sites (sitekey, name, domains, k, solution_hashes, token_lifetime,"
                " created_ms, updated_ms) VALUES ('ak_old', 'Old', '[\"a.com\"]', 4, 16, 300, 0, 0)"
            )
        )
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
    upgraded = Registry(engine).get_site("ak_old")
    assert (upgraded.rate_limits, upgraded.risk) == (RateLimits(), RiskSettings())
    engine.dispose()


# -- several workers -------------------------------------------------------------------


@pytest.fixture
def fresh() -> Iterator[httpx.Client]:
    """A client that opens a new connection for every request, so both workers answer some."""
    with httpx.Client(timeout=10.0, limits=httpx.Limits(max_keepalive_connections=0)) as c:
        yield c


@pytest.mark.server
def test_limit_holds_across_workers(tmp_path: Path, fresh: httpx.Client) -> None:
    """With `serve --workers 2`, one IP gets exactly its burst in all, not a burst per worker."""
    data = tmp_path / "data"
    made = run_cli_json(
        "site", "create", "--name", "W", "--domain", "example.com", *CHEAP_ARGS,
        "--rate-ip-per-min", "1", "--rate-ip-burst", "8", data_dir=data,
    )  # fmt: skip
    with running_server(data, tmp_path / "logs", workers=2) as server:
        answers = [ask(fresh, made["sitekey"], server.base_url) for _ in range(40)]
    assert [a.status_code for a in answers] == [200] * 8 + [429] * 32
    assert all(1 <= int(a.headers["retry-after"]) <= 60 for a in answers[8:])
    assert {a.json()["error_code"] for a in answers[8:]} == {"rate_limited"}
