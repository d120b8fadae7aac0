"""Risk signals from the request to every flavor's answer, in process with a fake clock.

A clean visitor (a browser's headers, a plausible solve time, no automation hints) gets
the best score; each kind of evidence lowers it and names its reason code.
"""

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from authkong.domain.clock import FakeClock
from authkong.domain.site import RiskSettings
from authkong.storage.registry import NewSecret
from tests.support import get_challenge, solve_challenge

BROWSER = {
    "user-agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36",
    "accept-language": "en-GB,en;q=0.8",
}
SOLVE_S = 1.0  # a plausible solve at the test site's cheap difficulty


def token(
    client: TestClient, clock: FakeClock, site: NewSecret, *, hints: str = "", **headers: str
) -> str:
    """A token from a visitor with `headers` who solved in SOLVE_S, reporting `hints`."""
    sent = {**BROWSER, **headers}
    challenge = get_challenge(client, site.site.sitekey, mode="score")
    clock.advance(SOLVE_S)
    redeemed = client.post(
        "/api/v1/redeem",
        json={
            "challenge": challenge["challenge"],
            "nonces": solve_challenge(challenge),
            "hints": hints,
        },
        headers=sent,
    )
    assert redeemed.status_code == 200, redeemed.text
    value: str = redeemed.json()["token"]
    return value


def verify(client: TestClient, path: str, **form: str) -> dict[str, Any]:
    got = client.post(path, data=form)
    assert got.status_code == 200
    body: dict[str, Any] = got.json()
    assert body["success"] is True, body
    return body


def authkong(client: TestClient, site: NewSecret, response: str, **form: str) -> dict[str, Any]:
    return verify(client, "/api/siteverify", secret=site.secret, response=response, **form)


def test_a_clean_visitor_gets_the_best_score_in_every_flavor(
    client: TestClient, clock: FakeClock, site: NewSecret
) -> None:
    body = authkong(client, site, token(client, clock, site))
    assert (body["score"], body["fraudscore"], body["reasons"]) == (1.0, 0, [])
    recaptcha = verify(
        client, "/recaptcha/api/siteverify", secret=site.secret, response=token(client, clock, site)
    )
    assert recaptcha["score"] == 1.0
    zencaptcha = verify(
        client, "/captcha/siteverify", secret=site.secret, response=token(client, clock, site)
    )
    assert zencaptcha["fraudscore"] == 0
    hcaptcha = verify(
        client, "/siteverify", secret=site.secret, response=token(client, clock, site)
    )
    assert (hcaptcha["score"], hcaptcha["score_reason"]) == (0.0, [])
    turnstile = verify(
        client, "/turnstile/v0/siteverify", secret=site.secret, response=token(client, clock, site)
    )
    assert turnstile["metadata"] == {"score": 1.0, "fraudscore": 0, "reasons": []}


def test_a_solve_flagged_as_automated_scores_worse(
    client: TestClient, clock: FakeClock, site: NewSecret
) -> None:
    clean = authkong(client, site, token(client, clock, site))
    flagged = authkong(client, site, token(client, clock, site, hints="webdriver,headless_ua"))
    assert flagged["score"] < clean["score"]
    assert flagged["fraudscore"] > 55  # suspicious in zencaptcha's terms
    assert flagged["reasons"] == ["automation_hint"]


def test_request_hints_name_their_reasons(
    client: TestClient, clock: FakeClock, site: NewSecret
) -> None:
    library = authkong(client, site, token(client, clock, site, **{"user-agent": "curl/8.5.0"}))
    assert library["reasons"] == ["library_client"]
    elsewhere = token(client, clock, site, origin="https://evil.test")
    assert authkong(client, site, elsewhere)["reasons"] == ["origin_mismatch"]


def test_an_instant_solve_is_too_fast(client: TestClient, site: NewSecret) -> None:
    challenge = get_challenge(client, site.site.sitekey)
    redeemed = client.post(
        "/api/v1/redeem",
        json={"challenge": challenge["challenge"], "nonces": solve_challenge(challenge)},
        headers=BROWSER,
    )
    assert "solve_too_fast" in authkong(client, site, redeemed.json()["token"])["reasons"]


def test_remoteip_of_another_network_counts_against_the_token(
    client: TestClient, clock: FakeClock, site: NewSecret
) -> None:
    same = authkong(client, site, token(client, clock, site), remoteip="203.0.113.99")
    assert same["reasons"] == []  # the test client solves from 203.0.113.7: same /24
    other = authkong(client, site, token(client, clock, site), remoteip="198.51.100.1")
    assert other["reasons"] == ["remoteip_mismatch"]
    assert other["score"] < same["score"]


def test_a_disposable_email_counts_against_the_token(
    client: TestClient, clock: FakeClock, site: NewSecret
) -> None:
    body = verify(
        client,
        "/captcha/siteverify",
        secret=site.secret,
        response=token(client, clock, site),
        email="someone@mailinator.com",
    )
    assert body["emailvalid"] == "disposable_email"
    assert body["fraudscore"] > 0


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    hints=st.text(max_size=80),
    user_agent=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=60),
    remoteip=st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
)
def test_scores_stay_in_range(
    client: TestClient,
    clock: FakeClock,
    site: NewSecret,
    hints: str,
    user_agent: str,
    remoteip: str,
) -> None:
    response = token(client, clock, site, hints=hints, **{"user-agent": user_agent})
    body = authkong(client, site, response, remoteip=remoteip)
    assert 0.0 <= body["score"] <= 1.0
    assert isinstance(body["fraudscore"], int)
    assert 0 <= body["fraudscore"] <= 99
    assert (body["score"] >= 0.5) == (body["fraudscore"] <= 55)


def test_a_site_without_scoring_weighs_nothing(
    client: TestClient, clock: FakeClock, site: NewSecret
) -> None:
    """Scoring off: automation hints, a disposable email and another network change nothing."""
    registry = client.app.state.services.registry  # type: ignore[attr-defined]
    registry.update_site(site.site.sitekey, now_ms=clock.now_ms(), risk=RiskSettings(scoring=False))
    flagged = token(client, clock, site, hints="webdriver,headless_ua")
    body = verify(
        client,
        "/captcha/siteverify",
        secret=site.secret,
        response=flagged,
        email="someone@mailinator.com",
        remoteip="198.51.100.1",
    )
    assert (body["fraudscore"], body["emailvalid"]) == (0, "disposable_email")
    body = authkong(client, site, token(client, clock, site, hints="webdriver"))
    assert (body["score"], body["reasons"]) == (1.0, [])
