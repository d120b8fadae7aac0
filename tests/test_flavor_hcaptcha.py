"""hCaptcha siteverify: POST /siteverify (form), its codes, test keys and pairing errors."""

import pytest
from starlette.testclient import TestClient

from authkong.api.services import Services
from authkong.domain.clock import FakeClock
from authkong.storage.registry import NewSecret
from tests.support import IN_PROCESS, get_token, make_site

URL = "/siteverify"
TEST_SECRET = "0x0000000000000000000000000000000000000000"
PUBLISHER = ("10000000-ffff-ffff-ffff-000000000001", "10000000-aaaa-bbbb-cccc-000000000001")
SAFE = ("20000000-ffff-ffff-ffff-000000000002", "20000000-aaaa-bbbb-cccc-000000000002")
BOT = ("30000000-ffff-ffff-ffff-000000000003", "30000000-aaaa-bbbb-cccc-000000000003")
NOW = "2026-01-01T00:00:00.000Z"


def failure(*codes: str) -> dict[str, object]:
    return {"success": False, "error-codes": list(codes)}


def real_success(site: NewSecret) -> dict[str, object]:
    return {
        "success": True,
        "challenge_ts": NOW,
        "hostname": "example.com",
        "credit": False,
        "sitekey": site.site.sitekey,
        "score": round(IN_PROCESS.fraudscore / 99, 2),  # hCaptcha's direction: 1.0 a threat
        "score_reason": list(IN_PROCESS.reasons),
    }


def test_post_form_success(client: TestClient, site: NewSecret) -> None:
    """A form POST with a fresh token answers success, credit false and the sitekey."""
    token = get_token(client, site.site.sitekey)
    got = client.post(
        # the address that solved (the test client's); another one would count against it
        URL,
        data={"secret": site.secret, "response": token, "remoteip": "203.0.113.7"},
    )
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/json"
    assert got.json() == real_success(site)


def test_sitekey_param_matches(client: TestClient, site: NewSecret) -> None:
    """The optional sitekey parameter passes when it is the token's sitekey."""
    token = get_token(client, site.site.sitekey)
    got = client.post(
        URL, data={"secret": site.secret, "response": token, "sitekey": site.site.sitekey}
    )
    assert got.json() == real_success(site)


def test_sitekey_param_mismatch(client: TestClient, site: NewSecret) -> None:
    """A sitekey parameter naming another key: sitekey-secret-mismatch."""
    token = get_token(client, site.site.sitekey)
    got = client.post(
        URL, data={"secret": site.secret, "response": token, "sitekey": "ak_someone-else"}
    )
    assert got.status_code == 200
    assert got.json() == failure("sitekey-secret-mismatch")


def test_token_of_another_site(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """A token issued for another site under this secret: sitekey-secret-mismatch."""
    other = make_site(services.registry, clock.now_ms(), name="Other")
    token = get_token(client, other.site.sitekey)
    got = client.post(URL, data={"secret": site.secret, "response": token})
    assert got.json() == failure("sitekey-secret-mismatch")


def test_expired(client: TestClient, site: NewSecret, clock: FakeClock) -> None:
    """A token past its lifetime: expired-input-response."""
    token = get_token(client, site.site.sitekey)
    clock.advance(301)
    got = client.post(URL, data={"secret": site.secret, "response": token})
    assert got.json() == failure("expired-input-response")


def test_reused(client: TestClient, site: NewSecret) -> None:
    """A second verification of one token: already-seen-response."""
    token = get_token(client, site.site.sitekey)
    assert (
        client.post(URL, data={"secret": site.secret, "response": token}).json()["success"] is True
    )
    got = client.post(URL, data={"secret": site.secret, "response": token})
    assert got.json() == failure("already-seen-response")


def test_missing_both(client: TestClient) -> None:
    """An empty form: both missing codes, response first, as hCaptcha answers."""
    got = client.post(URL, data={})
    assert got.status_code == 200
    assert got.json() == failure("missing-input-response", "missing-input-secret")


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
    got = client.post(URL, data={"secret": "0xdeadbeef", "response": token})
    assert got.json() == failure("invalid-input-secret")


def test_invalid_response(client: TestClient, site: NewSecret) -> None:
    """A forged token: invalid-input-response."""
    got = client.post(URL, data={"secret": site.secret, "response": "P1_eyJforged"})
    assert got.json() == failure("invalid-input-response")


def test_json_body_is_bad_request(client: TestClient, site: NewSecret) -> None:
    """hCaptcha takes forms only: a JSON body is bad-request with HTTP 200."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, json={"secret": site.secret, "response": token})
    assert got.status_code == 200
    assert got.json() == failure("bad-request")


def test_get_not_allowed(client: TestClient) -> None:
    """GET is not part of hCaptcha's API: 405 with a JSON body."""
    got = client.get(URL, params={"secret": TEST_SECRET, "response": PUBLISHER[1]})
    assert got.status_code == 405
    assert got.json() == {
        "success": False,
        "error_code": "method_not_allowed",
        "message": "This endpoint does not accept that HTTP method.",
    }


def test_publisher_test_key(client: TestClient) -> None:
    """The publisher test pair passes with hostname dummy-key-pass and credit false."""
    got = client.post(URL, data={"secret": TEST_SECRET, "response": PUBLISHER[1]})
    assert got.json() == {
        "success": True,
        "challenge_ts": NOW,
        "hostname": "dummy-key-pass",
        "credit": False,
    }


def test_publisher_test_key_with_its_sitekey(client: TestClient) -> None:
    """The publisher test pair also passes when its test sitekey is sent, and never spends."""
    for _ in range(2):
        form = {"secret": TEST_SECRET, "response": PUBLISHER[1], "sitekey": PUBLISHER[0]}
        assert client.post(URL, data=form).json()["success"] is True


@pytest.mark.parametrize(
    ("pair", "score", "reason"),
    [(SAFE, 0, "safe"), (BOT, 1, "bot")],
    ids=["safe-end-user", "bot-detected"],
)
def test_enterprise_test_keys(
    client: TestClient, pair: tuple[str, str], score: int, reason: str
) -> None:
    """Enterprise test pairs pass with sitekey, score and score_reason (bot still succeeds)."""
    sitekey, token = pair
    got = client.post(URL, data={"secret": TEST_SECRET, "response": token, "sitekey": sitekey})
    assert got.json() == {
        "success": True,
        "challenge_ts": NOW,
        "hostname": "dummy-key-pass",
        "sitekey": sitekey,
        "score": score,
        "score_reason": [reason],
    }


def test_test_token_with_wrong_test_sitekey(client: TestClient) -> None:
    """The publisher test token sent with the bot test sitekey: sitekey-secret-mismatch."""
    form = {"secret": TEST_SECRET, "response": PUBLISHER[1], "sitekey": BOT[0]}
    assert client.post(URL, data=form).json() == failure("sitekey-secret-mismatch")


def test_test_token_with_real_secret(client: TestClient, site: NewSecret) -> None:
    """A test token sent with a real secret: not-using-dummy-secret."""
    got = client.post(URL, data={"secret": site.secret, "response": SAFE[1]})
    assert got.status_code == 200
    assert got.json() == failure("not-using-dummy-secret")


def test_test_sitekey_with_real_secret(client: TestClient, site: NewSecret) -> None:
    """A test sitekey sent with a real secret and a real token: not-using-dummy-passcode."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, data={"secret": site.secret, "response": token, "sitekey": PUBLISHER[0]})
    assert got.json() == failure("not-using-dummy-passcode")
    # The pairing error did not spend the real token.
    assert client.post(URL, data={"secret": site.secret, "response": token}).json() == real_success(
        site
    )


def test_test_secret_with_real_token(client: TestClient, site: NewSecret) -> None:
    """The test secret with a real token: invalid-input-response, and the token stays unspent."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, data={"secret": TEST_SECRET, "response": token})
    assert got.json() == failure("invalid-input-response")
    assert client.post(URL, data={"secret": site.secret, "response": token}).json() == real_success(
        site
    )


def test_non_ascii_secret(client: TestClient) -> None:
    """A secret with non-ASCII characters is an invalid secret, not a crash."""
    got = client.post(URL, data={"secret": "0x\u00e9\u2603", "response": PUBLISHER[1]})
    assert got.status_code == 200
    assert got.json() == failure("not-using-dummy-secret")
