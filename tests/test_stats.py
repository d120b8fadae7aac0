"""Analytics counters through the real endpoints, with a fake clock: recorded in memory,
flushed to data_dir/stats.sqlite3 and read back as per-minute, hour and day points."""

import math
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.exc import OperationalError
from starlette.testclient import TestClient

from authkong.admin.analytics import (
    SOLVE_STEPS_PER_DOUBLING,
    Analytics,
    Span,
    percentile_ms,
    solve_bucket,
)
from authkong.admin.stats import Stats, open_stats_engine
from authkong.api.services import Services
from authkong.app import create_app
from authkong.config import Settings
from authkong.domain.clock import FakeClock, SystemClock
from authkong.domain.site import RiskSettings
from authkong.storage.registry import NewSecret
from tests.server import create_site, fetch_token, running_server
from tests.server import verify as verify_over_http
from tests.support import IN_PROCESS, get_challenge, get_token, make_site, solve_challenge

PROXY = "10.255.0.1"
# Within the histogram's resolution: a bucket's middle is at most half a bucket from t + 1.
RESOLUTION = 2 ** (1 / (2 * SOLVE_STEPS_PER_DOUBLING))


def read(services: Services, sitekeys: list[str], span: Span, clock: FakeClock) -> Analytics:
    services.stats.flush()
    return services.stats.analytics(sitekeys, span, clock.now_ms())


def verify(client: TestClient, secret: str, token: str) -> dict[str, object]:
    got = client.post("/api/siteverify", data={"secret": secret, "response": token})
    assert got.status_code == 200, got.text
    body: dict[str, object] = got.json()
    return body


def redeem(client: TestClient, challenge: dict[str, object]) -> None:
    got = client.post(
        "/api/v1/redeem",
        json={"challenge": challenge["challenge"], "nonces": solve_challenge(challenge)},
    )
    assert got.status_code == 200, got.text


def stored_rows(settings: Settings) -> dict[int, int]:
    """Rows per resolution (bucket width in ms), read straight from the file."""
    with sqlite3.connect(settings.stats_path) as db:
        rows = db.execute("SELECT bucket_ms, count(*) FROM counters GROUP BY bucket_ms").fetchall()
    return dict(rows)


def test_counts_land_in_the_minute_hour_and_day_points(
    client: TestClient, services: Services, site: NewSecret, clock: FakeClock
) -> None:
    """Challenges, solves and verifications show in the current minute, hour and day."""
    sitekey = site.site.sitekey
    tokens = [get_token(client, sitekey) for _ in range(2)]
    get_challenge(client, sitekey)
    verify(client, site.secret, tokens[0])
    for span, width, count in ((Span.HOUR, 60_000, 60), (Span.DAY, 3_600_000, 24)):
        got = read(services, [sitekey], span, clock)
        assert (got.span, got.bucket_ms, len(got.points)) == (span, width, count)
        starts = [p.start_ms for p in got.points]
        assert starts == sorted(starts) and starts[-1] <= clock.now_ms() < starts[-1] + width
        last = got.points[-1]
        assert (last.challenges, last.solves, last.verified, last.rejected) == (3, 2, 1, 0)
        assert all(p.challenges == p.solves == p.verified == 0 for p in got.points[:-1])
    month = read(services, [sitekey], Span.MONTH, clock)
    assert len(month.points) == 30 and month.points[-1].start_ms % 86_400_000 == 0
    assert (month.totals.challenges, month.totals.solves, month.totals.verified) == (3, 2, 1)


def test_counts_before_a_flush_are_not_read_and_nothing_counts_twice(
    client: TestClient, services: Services, site: NewSecret, clock: FakeClock
) -> None:
    """Reads see what was flushed; flushing again adds nothing new."""
    get_challenge(client, site.site.sitekey)
    hour = services.stats.analytics([site.site.sitekey], Span.HOUR, clock.now_ms())
    assert hour.totals.challenges == 0
    for _ in range(3):
        services.stats.flush()
    assert read(services, [site.site.sitekey], Span.HOUR, clock).totals.challenges == 1


def test_failed_verifications_are_counted_by_reason(
    client: TestClient, services: Services, site: NewSecret, clock: FakeClock
) -> None:
    """Each Failure code is counted for the secret's site; calls naming no site are not."""
    sitekey = site.site.sitekey
    spent = get_token(client, sitekey)
    verify(client, site.secret, spent)
    verify(client, site.secret, spent)  # already_spent
    tampered = get_token(client, sitekey)
    verify(client, site.secret, tampered[:-4] + ("AAAA" if tampered[-4:] != "AAAA" else "BBBB"))
    other = make_site(services.registry, clock.now_ms(), name="Other")
    verify(client, site.secret, get_token(client, other.site.sitekey))  # sitekey_mismatch
    verify(client, "not-a-secret", get_token(client, sitekey))  # no site: not counted
    client.post("/api/siteverify", data={"secret": site.secret})  # checked before the secret
    late = get_token(client, sitekey)
    clock.advance(301)  # past the token's 300 s lifetime
    verify(client, site.secret, late)

    day = read(services, [sitekey], Span.DAY, clock)
    assert day.rejected_by_reason == {
        "already_spent": 1,
        "expired_response": 1,
        "invalid_response": 1,
        "sitekey_mismatch": 1,
    }
    assert (day.totals.verified, day.totals.rejected) == (1, 4)
    assert read(services, [other.site.sitekey], Span.DAY, clock).totals.rejected == 0


def test_median_and_p95_solve_times_within_the_histograms_resolution(
    client: TestClient, services: Services, site: NewSecret, clock: FakeClock
) -> None:
    """Known solve times give back their median and p95 to within the bucket resolution."""
    solve_ms = sorted(round(40 * 1.19**n) + 7 * n for n in range(45))  # 40 ms .. ~90 s
    challenges = [get_challenge(client, site.site.sitekey) for _ in solve_ms]
    elapsed = 0
    for challenge, target in zip(challenges, solve_ms, strict=True):
        clock.advance((target - elapsed) / 1000)
        elapsed = target
        redeem(client, challenge)
    got = read(services, [site.site.sitekey], Span.DAY, clock)
    assert got.totals.solves == len(solve_ms)
    for estimate, q in ((got.solve_ms_p50, 0.5), (got.solve_ms_p95, 0.95)):
        exact = solve_ms[math.ceil(q * len(solve_ms)) - 1]  # nearest rank
        assert estimate is not None
        assert 1 / RESOLUTION <= (estimate + 1) / (exact + 1) <= RESOLUTION, (q, estimate, exact)


def test_no_solves_means_no_percentiles(
    services: Services, site: NewSecret, clock: FakeClock
) -> None:
    """A site without solves has no median or p95, and ten empty score bands."""
    got = read(services, [site.site.sitekey], Span.MONTH, clock)
    assert (got.solve_ms_p50, got.solve_ms_p95) == (None, None)
    assert [count for _band, count in got.score_histogram] == [0] * 10
    assert got.score_histogram[0][0] == "0.0-0.1" and got.score_histogram[-1][0] == "0.9-1.0"


@given(st.lists(st.integers(min_value=0, max_value=300_000), min_size=1, max_size=200))
def test_percentiles_from_buckets_stay_within_resolution(times: list[int]) -> None:
    """For any solve times the bucket estimate of p50 and p95 is within the resolution."""
    histogram: dict[int, int] = {}
    for t in times:
        histogram[solve_bucket(t)] = histogram.get(solve_bucket(t), 0) + 1
    ordered = sorted(times)
    for q in (0.5, 0.95):
        exact = ordered[math.ceil(q * len(ordered)) - 1]
        estimate = percentile_ms(histogram, q)
        assert estimate is not None
        # +1 ms: the estimate is rounded to whole milliseconds
        assert (exact + 1) / RESOLUTION - 1 <= estimate + 1 <= (exact + 1) * RESOLUTION + 1


def test_score_histogram_counts_tokens_by_band_per_site_and_organization(
    client: TestClient, services: Services, site: NewSecret, clock: FakeClock
) -> None:
    """Tokens land in their score's band; an organization's read sums its sites."""
    unscored = make_site(
        services.registry, clock.now_ms(), name="Unscored", risk=RiskSettings(scoring=False)
    )
    for _ in range(2):
        get_token(client, site.site.sitekey)  # scored: solved at once, no Accept-Language
    get_token(client, unscored.site.sitekey)  # score 1.0
    band = "0.2-0.3"
    assert 0.2 <= IN_PROCESS.score < 0.3  # what the scored site's tokens carry
    scored = dict(read(services, [site.site.sitekey], Span.HOUR, clock).score_histogram)
    assert scored[band] == 2 and sum(scored.values()) == 2
    both = read(services, [site.site.sitekey, unscored.site.sitekey], Span.HOUR, clock)
    histogram = dict(both.score_histogram)
    assert (histogram[band], histogram["0.9-1.0"], sum(histogram.values())) == (2, 1, 3)
    assert (both.totals.challenges, both.totals.solves) == (3, 3)


@pytest.fixture
def proxied(tmp_path: Path, clock: FakeClock) -> Iterator[TestClient]:
    # The test client is a trusted proxy, so X-Forwarded-For names each visitor's address.
    settings = Settings(
        data_dir=tmp_path / "data", adaptive_difficulty=False, trusted_proxies=(PROXY,)
    )
    with TestClient(create_app(settings, clock=clock), client=(PROXY, 50000)) as client:
        yield client


def test_top_countries_are_the_ten_with_most_challenges(
    proxied: TestClient, clock: FakeClock
) -> None:
    """Challenges count by the visitor's country, most first, at most ten, "" for unknown."""
    services: Services = proxied.app.state.services  # type: ignore[attr-defined]
    site = make_site(services.registry, clock.now_ms())
    visitors = {"8.8.8.8": 5, "202.12.27.33": 4, "10.1.2.3": 3, "5.5.5.5": 2}
    # Eleven more countries with one challenge each: only seven of them make the top ten.
    singles = ["1.1.1.1", "193.0.6.139", "81.2.69.160", "200.160.0.8", "41.0.0.1", "14.0.0.1"]
    singles += ["49.0.0.1", "61.0.0.1", "62.0.0.1", "85.0.0.1", "95.0.0.1"]
    visitors |= dict.fromkeys(singles, 1)
    for ip, count in visitors.items():
        for _ in range(count):
            got = proxied.post(
                "/api/v1/challenge",
                json={"sitekey": site.site.sitekey, "hostname": "example.com"},
                headers={"x-forwarded-for": ip},
            )
            assert got.status_code == 200, got.text
    top = read(services, [site.site.sitekey], Span.HOUR, clock).top_countries
    assert top[:4] == [("US", 5), ("JP", 4), ("", 3), ("DE", 2)]
    assert len(top) == 10 and all(count == 1 for _code, count in top[4:])
    assert [code for code, _count in top[4:]] == sorted(code for code, _count in top[4:])


def test_windows_roll_forward(
    client: TestClient, services: Services, site: NewSecret, clock: FakeClock
) -> None:
    """The hour span forgets a 2-hour-old minute; the day and month spans keep it."""
    sitekey = site.site.sitekey
    get_challenge(client, sitekey)
    clock.advance(2 * 3600)
    get_challenge(client, sitekey)
    hour = read(services, [sitekey], Span.HOUR, clock)
    assert hour.totals.challenges == 1 and hour.points[-1].challenges == 1
    day = read(services, [sitekey], Span.DAY, clock)
    assert [p.challenges for p in day.points[-3:]] == [1, 0, 1]
    assert read(services, [sitekey], Span.MONTH, clock).totals.challenges == 2
    clock.advance(31 * 86400)
    assert read(services, [sitekey], Span.MONTH, clock).totals.challenges == 0


def test_two_workers_flush_into_one_total(
    settings: Settings, clock: FakeClock, site: NewSecret, client: TestClient
) -> None:
    """Two app instances on one data dir add their counts into the same rows."""
    with TestClient(create_app(settings, clock=clock), client=("198.51.100.9", 1)) as second:
        other: Services = second.app.state.services  # type: ignore[attr-defined]
        first: Services = client.app.state.services  # type: ignore[attr-defined]
        for _ in range(3):
            get_token(client, site.site.sitekey)
        for _ in range(2):
            get_token(second, site.site.sitekey)
        first.stats.flush()
        other.stats.flush()
        for svc in (first, other):
            got = svc.stats.analytics([site.site.sitekey], Span.HOUR, clock.now_ms())
            assert (got.totals.challenges, got.totals.solves) == (5, 5)
    assert stored_rows(settings)[60_000] == 3  # minute rows: challenge, solve time, score band


def test_counting_adds_to_rows_instead_of_storing_events(
    client: TestClient, services: Services, site: NewSecret, clock: FakeClock, settings: Settings
) -> None:
    """The stats file holds only counter rows: 200 challenges in a minute make 3 rows."""
    for _ in range(200):
        get_challenge(client, site.site.sitekey)
    services.stats.flush()
    assert stored_rows(settings) == {60_000: 1, 3_600_000: 1, 86_400_000: 1}
    with sqlite3.connect(settings.stats_path) as db:
        tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert tables == [("counters",)]


def test_old_rows_are_pruned_per_resolution(
    client: TestClient, services: Services, site: NewSecret, clock: FakeClock, settings: Settings
) -> None:
    """Minute rows go after ~2 hours, hour rows after ~2 days, day rows after ~400 days."""
    get_challenge(client, site.site.sitekey)
    services.stats.flush()
    assert stored_rows(settings) == {60_000: 1, 3_600_000: 1, 86_400_000: 1}
    clock.advance(3 * 3600)
    services.stats.flush()
    assert stored_rows(settings) == {3_600_000: 1, 86_400_000: 1}
    clock.advance(3 * 86400)
    services.stats.flush()
    assert stored_rows(settings) == {86_400_000: 1}
    clock.advance(300 * 86400)
    services.stats.flush()
    assert stored_rows(settings) == {86_400_000: 1}
    clock.advance(101 * 86400)
    services.stats.flush()
    assert stored_rows(settings) == {}


def test_a_restart_keeps_the_month(settings: Settings, clock: FakeClock) -> None:
    """Counts flushed at shutdown are read by the next server on the same data dir."""
    with TestClient(create_app(settings, clock=clock)) as first:
        svc: Services = first.app.state.services  # type: ignore[attr-defined]
        site = make_site(svc.registry, clock.now_ms())
        for _ in range(4):
            get_token(first, site.site.sitekey)
    clock.advance(5 * 86400)
    with TestClient(create_app(settings, clock=clock)) as second:
        svc = second.app.state.services  # type: ignore[attr-defined]
        month = svc.stats.analytics([site.site.sitekey], Span.MONTH, clock.now_ms())
    assert (month.totals.challenges, month.totals.solves) == (4, 4)
    assert month.points[-6].solves == 4


def test_background_flushes_while_requests_continue_lose_nothing(
    settings: Settings, clock: FakeClock
) -> None:
    """Requests keep counting while the lifespan's task flushes every few ms: none is lost."""
    fast = replace(settings, stats_flush_s=0.002)
    made = 0
    with TestClient(create_app(fast, clock=clock)) as client:
        svc: Services = client.app.state.services  # type: ignore[attr-defined]
        site = make_site(svc.registry, clock.now_ms())
        while svc.stats.flushes < 5 and made < 5000:
            get_challenge(client, site.site.sitekey)
            made += 1
            if made % 7 == 0:
                clock.advance(13)  # counts cross minute boundaries too
        flushes_seen = svc.stats.flushes
        for _ in range(25):  # and more after the last background flush so far
            get_challenge(client, site.site.sitekey)
            made += 1
    assert flushes_seen >= 5
    reader = Stats(settings.stats_path, clock)
    try:
        got = reader.analytics([site.site.sitekey], Span.DAY, clock.now_ms())
    finally:
        reader.close()
    assert got.totals.challenges == made


def test_flushes_between_requests_lose_nothing(
    client: TestClient, services: Services, site: NewSecret, clock: FakeClock
) -> None:
    """Counts made before, between and after flushes all add up."""
    for n in range(30):
        get_token(client, site.site.sitekey)
        if n % 4 == 0:
            services.stats.flush()
    got = read(services, [site.site.sitekey], Span.HOUR, clock)
    assert (got.totals.challenges, got.totals.solves) == (30, 30)


def test_a_failed_write_keeps_the_counts_for_the_next_flush(
    client: TestClient, services: Services, site: NewSecret, clock: FakeClock, settings: Settings
) -> None:
    """When the file cannot take a flush, its counts stay in memory and land next time."""
    for _ in range(3):
        get_challenge(client, site.site.sitekey)
    with sqlite3.connect(settings.stats_path) as db:
        db.execute("DROP TABLE counters")
    with pytest.raises(OperationalError, match="no such table"):
        services.stats.flush()
    get_challenge(client, site.site.sitekey)
    open_stats_engine(settings.stats_path).dispose()  # what the next start-up does
    assert read(services, [site.site.sitekey], Span.HOUR, clock).totals.challenges == 4


def test_no_sites_read_as_zeros(services: Services, clock: FakeClock) -> None:
    """An organization without sites reads as a full span of zero points."""
    got = services.stats.analytics([], Span.DAY, clock.now_ms())
    assert len(got.points) == 24 and got.totals.challenges == 0 and got.top_countries == []


def test_the_flush_interval_must_be_positive(tmp_path: Path) -> None:
    """A zero or negative stats_flush_s stops start-up with a clear message."""
    with pytest.raises(ValueError, match="stats flush interval"):
        Settings(data_dir=tmp_path, stats_flush_s=0)


@pytest.mark.server
def test_two_worker_processes_count_into_one_file_and_flush_at_shutdown(tmp_path: Path) -> None:
    """`authkong serve --workers 2`: every request counted once, all flushed on SIGTERM."""
    data_dir = tmp_path / "data"
    made = create_site(data_dir)
    fresh = httpx.Limits(max_keepalive_connections=0)  # new connections: both workers answer
    with (
        running_server(data_dir, tmp_path / "logs", workers=2) as server,
        httpx.Client(timeout=10.0, limits=fresh) as http,
    ):
        tokens = [fetch_token(http, server.base_url, made["sitekey"]) for _ in range(12)]
        for token in tokens + tokens[:3]:  # the last three are already spent
            verify_over_http(http, server.base_url, "authkong", made["secret"], token)
    # Stopped, and its data dir closed: only the shutdown flushes can have written these.
    reader = Stats(data_dir / "stats.sqlite3", SystemClock())
    try:
        got = reader.analytics([made["sitekey"]], Span.DAY, SystemClock().now_ms())
    finally:
        reader.close()
    totals = got.totals
    assert (totals.challenges, totals.solves, totals.verified, totals.rejected) == (12, 12, 12, 3)
    assert got.rejected_by_reason == {"already_spent": 3}
