"""Turnstile siteverify: POST /turnstile/v0/siteverify, bodies, idempotency and test keys."""

import uuid

import pytest
from starlette.testclient import TestClient

from authkong.api.services import Services
from authkong.domain.clock import FakeClock
from authkong.storage.registry import NewSecret
from tests.support import IN_PROCESS, get_token, make_site

URL = "/turnstile/v0/siteverify"
DUMMY = "XXXX.DUMMY.TOKEN.XXXX"
PASS_SECRET = "1x0000000000000000000000000000000AA"
FAIL_SECRET = "2x0000000000000000000000000000000AA"
SPENT_SECRET = "3x0000000000000000000000000000000AA"
NOW = "2026-01-01T00:00:00.000Z"


def failure(*codes: str) -> dict[str, object]:
    return {"success": False, "error-codes": list(codes), "messages": []}


def success(
    hostname: str = "example.com", action: str = "", cdata: str = "", *, test_key: bool = False
) -> dict[str, object]:
    """A success answer; test keys' answers carry no assessment in `metadata`."""
    return {
        "success": True,
        "challenge_ts": NOW,
        "hostname": hostname,
        "error-codes": [],
        "action": action,
        "cdata": cdata,
        "metadata": {}
        if test_key
        else {
            "score": IN_PROCESS.score,
            "fraudscore": IN_PROCESS.fraudscore,
            "reasons": list(IN_PROCESS.reasons),
        },
        "messages": [],
    }


def test_form_success(client: TestClient, site: NewSecret) -> None:
    """A form POST verifies, with empty error-codes."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, data={"secret": site.secret, "response": token, "remoteip": "None"})
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/json"
    assert got.json() == success()


def test_json_success(client: TestClient, site: NewSecret) -> None:
    """A JSON body verifies; null fields (cloudstile sends remoteip null) count as absent."""
    token = get_token(client, site.site.sitekey)
    body = {"secret": site.secret, "response": token, "remoteip": None, "idempotency_key": None}
    assert client.post(URL, json=body).json() == success()


def test_multipart_success(client: TestClient, site: NewSecret) -> None:
    """A multipart body (JavaScript FormData) verifies."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, files={"secret": (None, site.secret), "response": (None, token)})
    assert got.json() == success()


def test_get_not_allowed(client: TestClient, site: NewSecret) -> None:
    """GET is not part of Turnstile's API: 405 with a JSON bad-request body."""
    token = get_token(client, site.site.sitekey)
    got = client.get(URL, params={"secret": site.secret, "response": token})
    assert got.status_code == 405
    assert got.headers["content-type"] == "application/json"
    assert got.json() == failure("bad-request")
    # The refused GET did not spend the token.
    assert client.post(URL, data={"secret": site.secret, "response": token}).json() == success()


def test_action_and_cdata_round_trip(client: TestClient, site: NewSecret) -> None:
    """The widget's action and cData come back as action and cdata."""
    cdata = "sessionid-123456789_" + "x" * 235
    token = get_token(
        client, site.site.sitekey, "a.example.org", action="login_form-1", cdata=cdata
    )
    got = client.post(URL, json={"secret": site.secret, "response": token})
    assert got.json() == success(hostname="a.example.org", action="login_form-1", cdata=cdata)


def test_idempotency_same_key_retries(client: TestClient, site: NewSecret) -> None:
    """Retrying with the first call's idempotency_key returns success again, and again."""
    token = get_token(client, site.site.sitekey)
    key = str(uuid.uuid4())
    form = {"secret": site.secret, "response": token, "idempotency_key": key}
    for _ in range(3):
        assert client.post(URL, data=form).json() == success()


def test_idempotency_other_key_is_duplicate(client: TestClient, site: NewSecret) -> None:
    """A different idempotency_key on a spent token: timeout-or-duplicate."""
    token = get_token(client, site.site.sitekey)
    first = {"secret": site.secret, "response": token, "idempotency_key": str(uuid.uuid4())}
    assert client.post(URL, data=first).json() == success()
    second = {**first, "idempotency_key": str(uuid.uuid4())}
    assert client.post(URL, data=second).json() == failure("timeout-or-duplicate")


def test_idempotency_key_missing_on_retry(client: TestClient, site: NewSecret) -> None:
    """A retry without the key, or a keyed retry of an unkeyed first call: timeout-or-duplicate."""
    keyed, plain = get_token(client, site.site.sitekey), get_token(client, site.site.sitekey)
    key = str(uuid.uuid4())
    assert client.post(
        URL, data={"secret": site.secret, "response": keyed, "idempotency_key": key}
    ).json()["success"]
    got = client.post(URL, data={"secret": site.secret, "response": keyed})
    assert got.json() == failure("timeout-or-duplicate")
    assert client.post(URL, data={"secret": site.secret, "response": plain}).json()["success"]
    got = client.post(URL, data={"secret": site.secret, "response": plain, "idempotency_key": key})
    assert got.json() == failure("timeout-or-duplicate")


@pytest.mark.parametrize("key", ["not-a-uuid", "1234", "x" * 65, str(uuid.uuid4()) + "0"])
def test_idempotency_key_malformed(client: TestClient, site: NewSecret, key: str) -> None:
    """An idempotency_key that is not a UUID: bad-request, and the token stays unspent."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, data={"secret": site.secret, "response": token, "idempotency_key": key})
    assert got.status_code == 200
    assert got.json() == failure("bad-request")
    assert client.post(URL, data={"secret": site.secret, "response": token}).json() == success()


def test_idempotent_retry_after_expiry(
    client: TestClient, site: NewSecret, clock: FakeClock
) -> None:
    """An idempotent retry once the token has expired: timeout-or-duplicate."""
    token = get_token(client, site.site.sitekey)
    form = {"secret": site.secret, "response": token, "idempotency_key": str(uuid.uuid4())}
    assert client.post(URL, data=form).json() == success()
    clock.advance(300)
    assert client.post(URL, data=form).json() == failure("timeout-or-duplicate")


def test_missing_both(client: TestClient) -> None:
    """An empty body: both missing codes."""
    got = client.post(URL, data={})
    assert got.json() == failure("missing-input-secret", "missing-input-response")


def test_missing_secret(client: TestClient) -> None:
    """Only a response: missing-input-secret."""
    assert client.post(URL, json={"response": DUMMY}).json() == failure("missing-input-secret")


def test_missing_response(client: TestClient, site: NewSecret) -> None:
    """Only a secret: missing-input-response."""
    assert client.post(URL, json={"secret": site.secret}).json() == failure(
        "missing-input-response"
    )


def test_invalid_secret(client: TestClient, site: NewSecret) -> None:
    """A secret no site holds: invalid-input-secret."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, data={"secret": "0x4AAAAAAAnotreal", "response": token})
    assert got.json() == failure("invalid-input-secret")


def test_invalid_response(client: TestClient, site: NewSecret) -> None:
    """A forged token: invalid-input-response."""
    got = client.post(URL, data={"secret": site.secret, "response": "0.forged"})
    assert got.json() == failure("invalid-input-response")


def test_token_of_another_site(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """A token of another site: invalid-input-response."""
    other = make_site(services.registry, clock.now_ms(), name="Other")
    token = get_token(client, other.site.sitekey)
    got = client.post(URL, data={"secret": site.secret, "response": token})
    assert got.json() == failure("invalid-input-response")


def test_expired(client: TestClient, site: NewSecret, clock: FakeClock) -> None:
    """A token older than its 300 s lifetime: timeout-or-duplicate."""
    token = get_token(client, site.site.sitekey)
    clock.advance(300)
    got = client.post(URL, data={"secret": site.secret, "response": token})
    assert got.json() == failure("timeout-or-duplicate")


def test_duplicate(client: TestClient, site: NewSecret) -> None:
    """A second verification without idempotency_key: timeout-or-duplicate."""
    token = get_token(client, site.site.sitekey)
    assert client.post(URL, data={"secret": site.secret, "response": token}).json() == success()
    got = client.post(URL, json={"secret": site.secret, "response": token})
    assert got.json() == failure("timeout-or-duplicate")


def test_pass_test_secret(client: TestClient) -> None:
    """1x…AA with the dummy token always passes."""
    for _ in range(2):
        got = client.post(URL, data={"secret": PASS_SECRET, "response": DUMMY})
        assert got.json() == success(test_key=True)


def test_fail_test_secret(client: TestClient) -> None:
    """2x…AA with the dummy token always fails: invalid-input-response."""
    got = client.post(URL, json={"secret": FAIL_SECRET, "response": DUMMY})
    assert got.json() == failure("invalid-input-response")


def test_spent_test_secret(client: TestClient) -> None:
    """3x…AA with the dummy token: timeout-or-duplicate ("token already spent")."""
    got = client.post(URL, data={"secret": SPENT_SECRET, "response": DUMMY})
    assert got.json() == failure("timeout-or-duplicate")


def test_real_secret_with_dummy_token(client: TestClient, site: NewSecret) -> None:
    """A production secret rejects the dummy token: invalid-input-response."""
    got = client.post(URL, data={"secret": site.secret, "response": DUMMY})
    assert got.json() == failure("invalid-input-response")


@pytest.mark.parametrize("secret", [PASS_SECRET, FAIL_SECRET, SPENT_SECRET])
def test_test_secret_with_real_token(client: TestClient, site: NewSecret, secret: str) -> None:
    """A test secret with a real token: invalid-input-secret, and the token stays unspent."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, data={"secret": secret, "response": token})
    assert got.json() == failure("invalid-input-secret")
    assert client.post(URL, data={"secret": site.secret, "response": token}).json() == success()


def test_non_ascii_secret(client: TestClient) -> None:
    """A secret with non-ASCII characters is refused with a code, not a crash."""
    body = b'{"secret": "1x\\u00e9\\ud800", "response": "XXXX.DUMMY.TOKEN.XXXX"}'
    got = client.post(URL, content=body, headers={"content-type": "application/json"})
    assert got.status_code == 200
    assert got.json() == failure("invalid-input-response")
