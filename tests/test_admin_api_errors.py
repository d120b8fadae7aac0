"""The admin API's failures: every bad input, header or body is a documented JSON error."""

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from authkong.admin.api import MAX_BODY_BYTES, PREFIX
from authkong.api.services import Services
from tests.admin_api_support import (
    PASSWORD,
    Org,
    assert_error,
    auth,
    org_a_fixture,  # noqa: F401  (fixture)
)

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
DOMAINS = st.sampled_from(["example.com", "*.example.org", "Ex.COM.", "a..b", "*.com", ""]) | TEXT
SETTINGS = {
    "difficulty": st.fixed_dictionaries(
        {}, optional={"preset": TEXT, "k": JSON_VALUES, "solution_hashes": st.integers()}
    ),
    "token_lifetime": st.integers() | JSON_VALUES,
    "rate_limits": st.dictionaries(st.sampled_from(["ip_per_min", "ip_burst", "x"]), st.integers()),
    "risk": st.dictionaries(st.sampled_from(["scoring", "max_wait_s"]), JSON_VALUES),
}
SITE_BODIES = st.fixed_dictionaries(
    {"name": TEXT, "domains": st.lists(DOMAINS, min_size=1, max_size=3)},
    optional={k: st.sampled_from([{}, None]) | v for k, v in SETTINGS.items()},
) | st.fixed_dictionaries(
    {}, optional={"name": JSON_VALUES, "domains": JSON_VALUES | st.lists(DOMAINS), **SETTINGS}
)


@FUZZ
@given(data=st.data())
def test_tampered_token_never_authenticates(
    client: TestClient, org_a: Org, data: st.DataObject
) -> None:
    """Changing any one character of a valid token gives 401, never access or a 500."""
    value = org_a.token
    i = data.draw(st.integers(0, len(value) - 1))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    other = data.draw(st.sampled_from(alphabet.replace(value[i], "")))
    tampered = value[:i] + other + value[i + 1 :]
    assert_error(client.get(f"{PREFIX}/me", headers=auth(tampered)), 401, "unauthenticated")


HEADER_BYTES = st.binary(max_size=300).map(lambda b: bytes(x for x in b if x not in b"\0\r\n"))


@FUZZ
@given(bearer=HEADER_BYTES)
def test_arbitrary_bearer_values_answer_401(client: TestClient, bearer: bytes) -> None:
    """Any header value (any bytes) that is not a live token is 401 unauthenticated."""
    for header in (b"Bearer " + bearer, bearer, b"Bearer akt_" + bearer):
        got = client.get(f"{PREFIX}/me", headers={"Authorization": header})  # type: ignore[dict-item]
        assert_error(got, 401, "unauthenticated")


@FUZZ
@given(body=SITE_BODIES)
def test_arbitrary_site_bodies_never_fail_the_server(
    client: TestClient, org_a: Org, body: dict[str, Any]
) -> None:
    """Any JSON object posted as a site is either created or a 422 naming a field."""
    got = client.post(f"{PREFIX}/sites", json=body, headers=auth(org_a.token))
    event(f"status {got.status_code}")
    if got.status_code == 201:
        assert got.json()["site"]["name"] == body["name"].strip()
        assert got.json()["secret"].startswith("aks_")
        return
    assert assert_error(got, 422, "invalid_input")["field"]


# -- input errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"domains": ["example.com"]}, "name"),
        ({"name": "", "domains": ["example.com"]}, "name"),
        ({"name": "   ", "domains": ["example.com"]}, "name"),
        ({"name": "x" * 201, "domains": ["example.com"]}, "name"),
        ({"name": "Shop", "domains": []}, "domains"),
        ({"name": "Shop", "domains": ["not a domain"]}, "domains"),
        ({"name": "Shop", "domains": ["*.com"]}, "domains"),
        ({"name": "Shop", "domains": "example.com"}, "domains"),
        ({"name": "Shop", "domains": [7]}, "domains.0"),
        ({"name": "Shop", "domains": ["example.com"], "token_lifetime": 1}, "token_lifetime"),
        ({"name": "Shop", "domains": ["example.com"], "difficulty": {"k": 0}}, "difficulty.k"),
        (
            {"name": "Shop", "domains": ["example.com"], "difficulty": {"preset": "brutal"}},
            "difficulty.preset",
        ),
        (
            {"name": "Shop", "domains": ["example.com"], "rate_limits": {"ip_burst": 0}},
            "rate_limits.ip_burst",
        ),
        (
            {"name": "Shop", "domains": ["example.com"], "risk": {"max_wait_s": 9999}},
            "risk.max_wait_s",
        ),
        ({"name": "Shop", "domains": ["example.com"], "nmae": "typo"}, "nmae"),
        ([], "body"),
        ("Shop", "body"),
    ],
)
def test_bad_site_input_answers_422_with_the_field(
    client: TestClient, org_a: Org, body: object, field: str
) -> None:
    """Every malformed or out-of-range member is 422 invalid_input naming that member."""
    got = client.post(f"{PREFIX}/sites", json=body, headers=auth(org_a.token))
    assert assert_error(got, 422, "invalid_input")["field"] == field
    assert client.get(f"{PREFIX}/sites", headers=auth(org_a.token)).json() == {"sites": []}


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/analytics?span=week", None, "span"),
        ("GET", "/audit?limit=0", None, "limit"),
        ("GET", "/audit?limit=501", None, "limit"),
        ("GET", "/audit?before_id=x", None, "before_id"),
        ("PATCH", "/members/abc", {"role": "admin"}, "user_id"),
        ("PATCH", "/members/1", {"role": "emperor"}, "role"),
        ("POST", "/members", {"email": "a@example.com"}, "role"),
        ("POST", "/members", {"email": "nope", "role": "viewer", "password": PASSWORD}, "email"),
        ("POST", "/members", {"email": "new@example.com", "role": "viewer"}, "password"),
        (
            "POST",
            "/members",
            {"email": "n@example.com", "role": "viewer", "password": "1"},
            "password",
        ),
        ("POST", "/invitations", {"email": "", "role": "viewer"}, "email"),
        ("POST", "/tokens", {"name": "t", "scopes": []}, "scopes"),
        ("POST", "/tokens", {"name": "t\x1b[2J", "scopes": ["sites:read"]}, "name"),
        ("POST", "/sites", {"name": "S\x00", "domains": ["example.com"]}, "name"),
        ("POST", "/tokens", {"name": "t", "scopes": ["root"]}, "scopes.0"),
        (
            "POST",
            "/tokens",
            {"name": "t", "scopes": ["sites:read"], "expires_in_s": 1},
            "expires_in_s",
        ),
        ("POST", "/sites/ak_x/rotate-secret", {"overlap_s": -1}, "overlap_s"),
    ],
)
def test_bad_input_elsewhere_answers_422(
    client: TestClient, org_a: Org, method: str, path: str, body: object, field: str
) -> None:
    """Query, path and body errors on the other endpoints are 422 invalid_input too."""
    got = client.request(method, PREFIX + path, json=body, headers=auth(org_a.token))
    assert assert_error(got, 422, "invalid_input")["field"] == field


def test_broken_json_answers_422_after_authentication(client: TestClient, org_a: Org) -> None:
    """A body that is not JSON is invalid_input for a valid token, 401 for none."""
    broken, json_type = b'{"name": ', {"Content-Type": "application/json"}
    got = client.post(f"{PREFIX}/sites", content=broken, headers={**json_type, **auth(org_a.token)})
    assert assert_error(got, 422, "invalid_input")["field"] == "body"
    got = client.post(f"{PREFIX}/sites", content=broken, headers=json_type)
    assert_error(got, 401, "unauthenticated")


def test_password_never_echoed_in_errors(client: TestClient, org_a: Org) -> None:
    """An error about a password does not repeat the password."""
    body = {"email": "weak@example.com", "role": "viewer", "password": "hunter2"}
    got = client.post(f"{PREFIX}/members", json=body, headers=auth(org_a.token))
    assert_error(got, 422, "invalid_input")
    assert "hunter2" not in got.text


def test_oversized_body_answers_413(client: TestClient, org_a: Org) -> None:
    """A body over the limit is 413 payload_too_large, declared or streamed."""
    big = {"name": "Shop", "domains": ["example.com"], "pad": "x" * MAX_BODY_BYTES}
    got = client.post(f"{PREFIX}/sites", json=big, headers=auth(org_a.token))
    assert_error(got, 413, "payload_too_large")
    assert got.headers["cache-control"] == "no-store"

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "' + b"x" * (MAX_BODY_BYTES // 2)
        yield b"x" * (MAX_BODY_BYTES // 2) + b'"}'

    streamed = client.post(
        f"{PREFIX}/sites",
        content=chunks(),
        headers={"Content-Type": "application/json", **auth(org_a.token)},
    )
    assert_error(streamed, 413, "payload_too_large")
    assert client.get(f"{PREFIX}/sites", headers=auth(org_a.token)).json() == {"sites": []}


def test_unknown_route_and_wrong_method_answer_json(client: TestClient, org_a: Org) -> None:
    """An unknown path under the mount is JSON 404; a wrong method is JSON 405 with Allow."""
    for headers in ({}, auth(org_a.token)):
        assert_error(client.get(f"{PREFIX}/nope", headers=headers), 404, "not_found")
        assert_error(client.get(f"{PREFIX}/sites/x/y/z", headers=headers), 404, "not_found")
    got = client.put(f"{PREFIX}/sites", headers=auth(org_a.token))
    assert_error(got, 405, "method_not_allowed")
    assert got.headers["allow"] == "GET, POST"
    got = client.post(f"{PREFIX}/sites/ak_x", headers=auth(org_a.token))
    assert got.headers["allow"] == "DELETE, GET, PATCH"


def test_locked_database_answers_503(client: TestClient, services: Services, org_a: Org) -> None:
    """A registry locked by another process past the busy timeout is 503, not a 500."""
    assert client.get(f"{PREFIX}/me", headers=auth(org_a.token)).status_code == 200
    locker = sqlite3.connect(services.settings.registry_path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        got = client.post(
            f"{PREFIX}/sites",
            json={"name": "Shop", "domains": ["example.com"]},
            headers=auth(org_a.token),
        )
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert_error(got, 503, "service_unavailable")
    assert got.headers["retry-after"] == "1"
    assert client.get(f"{PREFIX}/sites", headers=auth(org_a.token)).json() == {"sites": []}
