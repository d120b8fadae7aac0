"""reCAPTCHA siteverify: /recaptcha/api/siteverify, v2 and v3 answers, codes and test keys."""

import re

from starlette.testclient import TestClient

from authkong.api.services import Services
from authkong.domain.clock import FakeClock
from authkong.storage.registry import NewSecret
from tests.support import IN_PROCESS, get_token, make_site

URL = "/recaptcha/api/siteverify"
TEST_SECRET = "6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe"
V2_SUCCESS = {"success": True, "challenge_ts": "2026-01-01T00:00:00Z", "hostname": "example.com"}
TS_FORMAT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def failure(*codes: str) -> dict[str, object]:
    return {"success": False, "error-codes": list(codes)}


def test_get_query_string_success(client: TestClient, site: NewSecret) -> None:
    """GET with a query string (Flask-ReCaptcha's way) verifies a v2 token."""
    token = get_token(client, site.site.sitekey)
    got = client.get(URL, params={"secret": site.secret, "response": token})
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/json"
    assert got.json() == V2_SUCCESS


def test_post_form_success(client: TestClient, site: NewSecret) -> None:
    """A form POST with the extra params real clients send (remoteip None, version) verifies."""
    token = get_token(client, site.site.sitekey)
    form = {"secret": site.secret, "response": token, "remoteip": "None", "version": "php_1.3.0"}
    assert client.post(URL, data=form).json() == V2_SUCCESS


def test_post_with_query_string_success(client: TestClient, site: NewSecret) -> None:
    """A POST that carries its parameters in the query string and no body verifies."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, params={"secret": site.secret, "response": token})
    assert got.json() == V2_SUCCESS


def test_post_body_overrides_query(client: TestClient, site: NewSecret) -> None:
    """When both carry a parameter, the body's value wins."""
    token = get_token(client, site.site.sitekey)
    got = client.post(
        URL, params={"secret": "wrong"}, data={"secret": site.secret, "response": token}
    )
    assert got.json() == V2_SUCCESS


def test_v2_has_no_score_or_action(client: TestClient, site: NewSecret) -> None:
    """A checkbox token (mode=checkbox, with an action) answers without score and action."""
    token = get_token(client, site.site.sitekey, mode="checkbox", action="login")
    body = client.post(URL, data={"secret": site.secret, "response": token}).json()
    assert "score" not in body
    assert "action" not in body
    assert body == V2_SUCCESS


def test_v3_has_score_and_action(client: TestClient, site: NewSecret) -> None:
    """A score-mode token answers with score and action, as v3 clients require."""
    token = get_token(client, site.site.sitekey, mode="score", action="homepage")
    body = client.post(URL, data={"secret": site.secret, "response": token}).json()
    assert body == {**V2_SUCCESS, "score": IN_PROCESS.score, "action": "homepage"}


def test_v3_without_action_still_has_action(client: TestClient, site: NewSecret) -> None:
    """A score-mode token with no action reports an empty action rather than omitting it."""
    token = get_token(client, site.site.sitekey, mode="score")
    body = client.post(URL, data={"secret": site.secret, "response": token}).json()
    assert body["action"] == ""
    assert isinstance(body["score"], float)


def test_challenge_ts_format(client: TestClient, site: NewSecret, clock: FakeClock) -> None:
    """challenge_ts is YYYY-MM-DDTHH:MM:SSZ without fractions, at the token's issue time."""
    clock.advance(3723.789)
    token = get_token(client, site.site.sitekey)
    body = client.post(URL, data={"secret": site.secret, "response": token}).json()
    assert TS_FORMAT.fullmatch(body["challenge_ts"])
    assert body["challenge_ts"] == "2026-01-01T01:02:03Z"


def test_missing_both(client: TestClient) -> None:
    """Neither secret nor response: both missing codes at once."""
    got = client.post(URL, data={})
    assert got.status_code == 200
    assert got.json() == failure("missing-input-secret", "missing-input-response")


def test_missing_both_on_get(client: TestClient) -> None:
    """A bare GET reports both missing codes too."""
    assert client.get(URL).json() == failure("missing-input-secret", "missing-input-response")


def test_missing_secret(client: TestClient, site: NewSecret) -> None:
    """Only a response: missing-input-secret."""
    token = get_token(client, site.site.sitekey)
    assert client.post(URL, data={"response": token}).json() == failure("missing-input-secret")


def test_missing_response(client: TestClient, site: NewSecret) -> None:
    """Only a secret: missing-input-response."""
    assert client.post(URL, data={"secret": site.secret}).json() == failure(
        "missing-input-response"
    )


def test_invalid_secret(client: TestClient, site: NewSecret) -> None:
    """A secret no site holds: invalid-input-secret."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, data={"secret": "nope", "response": token})
    assert got.json() == failure("invalid-input-secret")


def test_invalid_response(client: TestClient, site: NewSecret) -> None:
    """A forged token: invalid-input-response."""
    got = client.post(URL, data={"secret": site.secret, "response": "03AGdBq24-forged"})
    assert got.json() == failure("invalid-input-response")


def test_token_of_another_site(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """A token of another site: invalid-input-response (reCAPTCHA has no mismatch code)."""
    other = make_site(services.registry, clock.now_ms(), name="Other")
    token = get_token(client, other.site.sitekey)
    got = client.post(URL, data={"secret": site.secret, "response": token})
    assert got.json() == failure("invalid-input-response")


def test_expired(client: TestClient, site: NewSecret, clock: FakeClock) -> None:
    """A token past its lifetime: timeout-or-duplicate."""
    token = get_token(client, site.site.sitekey)
    clock.advance(300)
    got = client.post(URL, data={"secret": site.secret, "response": token})
    assert got.json() == failure("timeout-or-duplicate")


def test_duplicate(client: TestClient, site: NewSecret) -> None:
    """A second verification of one token: timeout-or-duplicate."""
    token = get_token(client, site.site.sitekey)
    assert client.post(URL, data={"secret": site.secret, "response": token}).json() == V2_SUCCESS
    got = client.post(URL, data={"secret": site.secret, "response": token})
    assert got.json() == failure("timeout-or-duplicate")


def test_bad_request(client: TestClient) -> None:
    """A body of an unsupported type: bad-request with HTTP 200."""
    got = client.post(URL, content=b"<xml/>", headers={"content-type": "application/xml"})
    assert got.status_code == 200
    assert got.json() == failure("bad-request")


def test_test_secret_passes_any_response(client: TestClient, clock: FakeClock) -> None:
    """Google's test secret passes any response, for hostname testkey.google.com, at now."""
    clock.advance(1.5)
    for response in ("anything", "03AGdBq24-whatever"):
        got = client.post(URL, data={"secret": TEST_SECRET, "response": response})
        assert got.json() == {
            "success": True,
            "challenge_ts": "2026-01-01T00:00:01Z",
            "hostname": "testkey.google.com",
        }


def test_test_secret_passes_again_and_on_get(client: TestClient) -> None:
    """The test secret never reports a duplicate, also over GET."""
    for _ in range(2):
        body = client.get(URL, params={"secret": TEST_SECRET, "response": "same"}).json()
        assert body["success"] is True
        assert body["hostname"] == "testkey.google.com"


def test_test_secret_without_response(client: TestClient) -> None:
    """Even the test secret needs a response: missing-input-response."""
    got = client.post(URL, data={"secret": TEST_SECRET})
    assert got.json() == failure("missing-input-response")


def test_real_token_with_test_secret(client: TestClient, site: NewSecret) -> None:
    """A real token under the test secret passes as a test key and stays unspent."""
    token = get_token(client, site.site.sitekey)
    body = client.post(URL, data={"secret": TEST_SECRET, "response": token}).json()
    assert body["hostname"] == "testkey.google.com"
    assert client.post(URL, data={"secret": site.secret, "response": token}).json() == V2_SUCCESS
