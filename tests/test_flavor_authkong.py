"""AuthKong's own siteverify: GET or POST /api/siteverify, every code with its exact message."""

from typing import Any

import pytest
from starlette.testclient import TestClient

from authkong.api.errors import SITEVERIFY_ERRORS
from authkong.api.services import Services
from authkong.domain.clock import FakeClock
from authkong.storage.registry import NewSecret
from tests.support import IN_PROCESS, get_token, make_site

URL = "/api/siteverify"
SUCCESS_MESSAGE = "The response token is valid."


def failure(code: str) -> dict[str, Any]:
    return {"success": False, "message": SITEVERIFY_ERRORS[code].message, "error_code": code}


def success(site: NewSecret, **fields: str) -> dict[str, Any]:
    return {
        "success": True,
        "message": SUCCESS_MESSAGE,
        "error_code": None,
        "sitekey": site.site.sitekey,
        "hostname": "example.com",
        "challenge_ts": "2026-01-01T00:00:00.000Z",
        "action": "",
        "cdata": "",
        "score": IN_PROCESS.score,
        "fraudscore": IN_PROCESS.fraudscore,
        "reasons": list(IN_PROCESS.reasons),
        "countrycode": "XX",  # the test client's 203.0.113.7 is a documentation address
        **fields,
    }


def test_post_form_success(client: TestClient, site: NewSecret) -> None:
    """A form POST with a fresh token answers success with the token's facts."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, data={"secret": site.secret, "response": token})
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/json"
    assert got.json() == success(site)


def test_get_query_success(client: TestClient, site: NewSecret) -> None:
    """GET with secret and response in the query string verifies too."""
    token = get_token(client, site.site.sitekey)
    got = client.get(URL, params={"secret": site.secret, "response": token})
    assert got.status_code == 200
    assert got.json() == success(site)


def test_post_json_success(client: TestClient, site: NewSecret) -> None:
    """A JSON body is accepted."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, json={"secret": site.secret, "response": token})
    assert got.json() == success(site)


def test_post_multipart_success(client: TestClient, site: NewSecret) -> None:
    """A multipart/form-data body is accepted."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, files={"secret": (None, site.secret), "response": (None, token)})
    assert got.json() == success(site)


def test_captcha_response_field_name(client: TestClient, site: NewSecret) -> None:
    """The widget's hidden field name `captcha-response` works in place of `response`."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, data={"secret": site.secret, "captcha-response": token})
    assert got.json() == success(site)


def test_action_cdata_and_hostname_round_trip(client: TestClient, site: NewSecret) -> None:
    """action, cdata and a wildcard-matched hostname come back as the widget sent them."""
    token = get_token(
        client, site.site.sitekey, "shop.example.org", action="login", cdata="abc-123"
    )
    got = client.post(URL, data={"secret": site.secret, "response": token})
    assert got.json() == success(site, hostname="shop.example.org", action="login", cdata="abc-123")


def test_challenge_ts_is_redeem_time(client: TestClient, site: NewSecret, clock: FakeClock) -> None:
    """challenge_ts is when the token was issued, not when it is verified."""
    clock.advance(12.345)
    token = get_token(client, site.site.sitekey)
    clock.advance(60)
    body = client.post(URL, data={"secret": site.secret, "response": token}).json()
    assert body["challenge_ts"] == "2026-01-01T00:00:12.345Z"


def test_missing_secret(client: TestClient, site: NewSecret) -> None:
    """No secret: missing_secret."""
    token = get_token(client, site.site.sitekey)
    assert client.post(URL, data={"response": token}).json() == failure("missing_secret")


def test_empty_secret_is_missing(client: TestClient, site: NewSecret) -> None:
    """An empty secret counts as missing."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, data={"secret": "", "response": token})
    assert got.json() == failure("missing_secret")


def test_missing_response(client: TestClient, site: NewSecret) -> None:
    """No response: missing_response."""
    assert client.post(URL, data={"secret": site.secret}).json() == failure("missing_response")


def test_invalid_secret(client: TestClient, site: NewSecret) -> None:
    """A secret no site holds: invalid_secret, and the token stays unspent."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, data={"secret": "aks_not-a-real-secret", "response": token})
    assert got.json() == failure("invalid_secret")
    again = client.post(URL, data={"secret": site.secret, "response": token})
    assert again.json()["success"] is True


def test_invalid_response(client: TestClient, site: NewSecret) -> None:
    """A token this server never issued: invalid_response."""
    got = client.post(URL, data={"secret": site.secret, "response": "k1.bm90LWEtdG9rZW4"})
    assert got.json() == failure("invalid_response")


def test_expired_response(client: TestClient, site: NewSecret, clock: FakeClock) -> None:
    """A token past its lifetime (300 s): expired_response; one ms earlier it passes."""
    old = get_token(client, site.site.sitekey)
    fresh = get_token(client, site.site.sitekey)
    clock.advance(299.999)
    assert (
        client.post(URL, data={"secret": site.secret, "response": fresh}).json()["success"] is True
    )
    clock.advance(0.001)
    got = client.post(URL, data={"secret": site.secret, "response": old})
    assert got.json() == failure("expired_response")


def test_already_spent(client: TestClient, site: NewSecret) -> None:
    """The second verification of one token: already_spent."""
    token = get_token(client, site.site.sitekey)
    assert client.post(URL, data={"secret": site.secret, "response": token}).json()["success"]
    got = client.get(URL, params={"secret": site.secret, "response": token})
    assert got.json() == failure("already_spent")


def test_token_of_another_site(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """A token issued for site B, verified with site A's secret: sitekey_mismatch."""
    other = make_site(services.registry, clock.now_ms(), name="Other")
    token = get_token(client, other.site.sitekey)
    got = client.post(URL, data={"secret": site.secret, "response": token})
    assert got.json() == failure("sitekey_mismatch")


def test_sitekey_param_matches(client: TestClient, site: NewSecret) -> None:
    """The optional sitekey parameter passes when it names the token's site."""
    token = get_token(client, site.site.sitekey)
    got = client.post(
        URL, data={"secret": site.secret, "response": token, "sitekey": site.site.sitekey}
    )
    assert got.json() == success(site)


def test_sitekey_param_mismatch(client: TestClient, site: NewSecret) -> None:
    """A sitekey parameter naming another site: sitekey_mismatch, and the token stays unspent."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, data={"secret": site.secret, "response": token, "sitekey": "ak_other"})
    assert got.json() == failure("sitekey_mismatch")
    assert (
        client.post(URL, data={"secret": site.secret, "response": token}).json()["success"] is True
    )


def test_bad_request(client: TestClient, site: NewSecret) -> None:
    """An unreadable body: bad_request with HTTP 200."""
    got = client.post(URL, content=b"secret=x", headers={"content-type": "application/xml"})
    assert got.status_code == 200
    assert got.json() == failure("bad_request")


@pytest.mark.parametrize("code", sorted(SITEVERIFY_ERRORS))
def test_every_code_answers_200(code: str) -> None:
    """Every siteverify error is declared with HTTP 200 and a sentence for a message."""
    error = SITEVERIFY_ERRORS[code]
    assert error.status == 200
    assert error.message.endswith(".")


def test_rotated_secret_keeps_working_during_overlap(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """After rotation both secrets verify until the overlap ends, then only the new one."""
    rotated = services.registry.rotate_secret(
        site.site.sitekey, overlap_ms=60_000, now_ms=clock.now_ms()
    )
    first, second = get_token(client, site.site.sitekey), get_token(client, site.site.sitekey)
    assert (
        client.post(URL, data={"secret": site.secret, "response": first}).json()["success"] is True
    )
    clock.advance(60)
    got = client.post(URL, data={"secret": site.secret, "response": second})
    assert got.json() == failure("invalid_secret")
    assert (
        client.post(URL, data={"secret": rotated.secret, "response": second}).json()["success"]
        is True
    )
