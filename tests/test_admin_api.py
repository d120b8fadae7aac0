"""The admin API (/api/admin/v1) over real HTTP: tokens, scopes, organizations, sites."""

import json
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate
from starlette.testclient import TestClient

from authkong.admin.api import PREFIX, router
from authkong.admin.model import Role, Scope
from authkong.api.services import Services
from authkong.app import create_app
from authkong.config import Settings
from authkong.domain.clock import FakeClock
from tests.admin_api_support import (
    CHEAP_SITE,
    PASSWORD,
    XSS,
    Org,
    assert_error,
    auth,
    create_site,
    make_org,
    org_a_fixture,  # noqa: F401  (fixture)
    org_b_fixture,  # noqa: F401  (fixture)
    token_for,
)
from tests.server import fetch_token, running_server, verify
from tests.support import get_token

# -- authentication and scopes ---------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwdw==", "Bearer akt_not-a-token", "Bearer x"],
)
def test_without_a_valid_token_answers_401(client: TestClient, header: str | None) -> None:
    """No token, another scheme or an unknown token: 401 unauthenticated with a challenge."""
    headers = {} if header is None else {"Authorization": header}
    got = client.get(f"{PREFIX}/sites", headers=headers)
    assert_error(got, 401, "unauthenticated")
    assert got.headers["www-authenticate"].startswith("Bearer")


def test_revoked_token_answers_401(client: TestClient, services: Services, org_a: Org) -> None:
    """A token works until it is revoked through the API, then answers 401."""
    doomed = token_for(services, org_a, Scope.SITES_READ, name="doomed")
    assert client.get(f"{PREFIX}/sites", headers=auth(doomed)).status_code == 200
    listed = client.get(f"{PREFIX}/tokens", headers=auth(org_a.token)).json()["tokens"]
    (doomed_id,) = [t["id"] for t in listed if t["name"] == "doomed"]
    got = client.delete(f"{PREFIX}/tokens/{doomed_id}", headers=auth(org_a.token))
    assert got.status_code == 204, got.text
    assert_error(client.get(f"{PREFIX}/sites", headers=auth(doomed)), 401, "unauthenticated")
    listed = client.get(f"{PREFIX}/tokens", headers=auth(org_a.token)).json()["tokens"]
    assert [t["revoked_ms"] is not None for t in listed if t["id"] == doomed_id] == [True]


def test_expired_token_answers_401(client: TestClient, clock: FakeClock, org_a: Org) -> None:
    """A token made with expires_in_s stops working once that time has passed."""
    body = {"name": "short", "scopes": ["sites:read"], "expires_in_s": 60}
    made = client.post(f"{PREFIX}/tokens", json=body, headers=auth(org_a.token))
    assert made.status_code == 201, made.text
    value = made.json()["value"]
    assert client.get(f"{PREFIX}/sites", headers=auth(value)).status_code == 200
    clock.advance(61)
    assert_error(client.get(f"{PREFIX}/sites", headers=auth(value)), 401, "unauthenticated")


def test_missing_scope_answers_403(client: TestClient, services: Services, org_a: Org) -> None:
    """A token without sites:write may list sites but gets 403 forbidden on POST /sites."""
    reader = token_for(services, org_a, Scope.SITES_READ)
    assert client.get(f"{PREFIX}/sites", headers=auth(reader)).status_code == 200
    body = {"name": "Shop", "domains": ["example.com"]}
    got = client.post(f"{PREFIX}/sites", json=body, headers=auth(reader))
    assert "sites:write" in assert_error(got, 403, "forbidden")["message"]
    assert client.get(f"{PREFIX}/sites", headers=auth(reader)).json() == {"sites": []}


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/me", None),
        ("GET", "/sites", Scope.SITES_READ),
        ("GET", "/analytics", Scope.ANALYTICS_READ),
        ("GET", "/members", Scope.MEMBERS_READ),
        ("GET", "/tokens", Scope.TOKENS_WRITE),
        ("GET", "/audit", Scope.AUDIT_READ),
    ],
)
def test_each_read_needs_its_scope(
    client: TestClient,
    services: Services,
    org_a: Org,
    method: str,
    path: str,
    scope: Scope | None,
) -> None:
    """A token with only its scope may call an endpoint; one with every other scope may not."""
    if scope is not None:
        others = token_for(services, org_a, *(set(Scope) - {scope}))
        assert_error(client.request(method, PREFIX + path, headers=auth(others)), 403, "forbidden")
    holder = token_for(services, org_a, scope or Scope.AUDIT_READ)
    assert client.request(method, PREFIX + path, headers=auth(holder)).status_code == 200


def test_me_names_the_token(client: TestClient, services: Services, org_a: Org) -> None:
    """GET /me answers the token's organization, audit label and scopes."""
    value = token_for(services, org_a, Scope.SITES_READ, Scope.AUDIT_READ, name="ci deploy")
    got = client.get(f"{PREFIX}/me", headers=auth(value))
    assert got.json() == {
        "org_id": org_a.org_id,
        "actor": "token:ci deploy",
        "scopes": ["audit:read", "sites:read"],
        "role": None,
    }


# -- organizations ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "", None),
        ("PATCH", "", {"name": "Taken over"}),
        ("DELETE", "", None),
        ("POST", "/rotate-secret", {"overlap_s": 0}),
        ("GET", "/snippets", None),
        ("GET", "/analytics", None),
    ],
)
def test_another_orgs_sitekey_answers_404(
    client: TestClient, org_a: Org, org_b: Org, method: str, suffix: str, body: object
) -> None:
    """Org A's token meets org B's sitekey exactly as an unknown one, and changes nothing."""
    theirs = create_site(client, org_b.token, name="B's shop")
    sitekey = theirs["site"]["sitekey"]
    path = f"{PREFIX}/sites/{sitekey}{suffix}"
    foreign = client.request(method, path, json=body, headers=auth(org_a.token))
    unknown = client.request(
        method, path.replace(sitekey, "ak_doesnotexist"), json=body, headers=auth(org_a.token)
    )
    assert assert_error(foreign, 404, "not_found") == assert_error(unknown, 404, "not_found")
    after = client.get(f"{PREFIX}/sites/{sitekey}", headers=auth(org_b.token))
    assert after.status_code == 200
    assert after.json() == theirs["site"]
    assert client.get(f"{PREFIX}/sites", headers=auth(org_a.token)).json() == {"sites": []}


# -- sites -----------------------------------------------------------------------------


def test_secret_appears_only_in_create_and_rotate(client: TestClient, org_a: Org) -> None:
    """The create and rotate answers carry the secret; no read answer ever does."""
    created = create_site(client, org_a.token)
    first, sitekey = created["secret"], created["site"]["sitekey"]
    assert first.startswith("aks_")
    got = client.post(
        f"{PREFIX}/sites/{sitekey}/rotate-secret", json={"overlap_s": 60}, headers=auth(org_a.token)
    )
    assert got.status_code == 200, got.text
    second = got.json()["secret"]
    assert second.startswith("aks_") and second != first
    assert got.json()["site"]["old_secret_valid_until_ms"] is not None
    for path in (
        "/sites",
        f"/sites/{sitekey}",
        f"/sites/{sitekey}/snippets",
        "/audit",
        "/analytics",
        f"/sites/{sitekey}/analytics",
    ):
        read = client.get(PREFIX + path, headers=auth(org_a.token))
        assert read.status_code == 200, read.text
        assert first not in read.text and second not in read.text, path


def test_rotation_overlap_keeps_the_old_secret_verifying(
    client: TestClient, clock: FakeClock, org_a: Org
) -> None:
    """After rotate-secret with overlap_s, both secrets verify until the overlap ends."""
    created = create_site(client, org_a.token)
    old, sitekey = created["secret"], created["site"]["sitekey"]
    got = client.post(
        f"{PREFIX}/sites/{sitekey}/rotate-secret",
        json={"overlap_s": 30},
        headers=auth(org_a.token),
    )
    new = got.json()["secret"]

    def verified(secret: str) -> object:
        token = get_token(client, sitekey)
        return client.post("/api/siteverify", data={"secret": secret, "response": token}).json()[
            "error_code"
        ]

    assert verified(old) is None
    assert verified(new) is None
    clock.advance(31)
    assert verified(old) == "invalid_secret"
    assert verified(new) is None


def test_site_crud(client: TestClient, org_a: Org) -> None:
    """Create, list, patch (nested objects merge), delete, and 404 afterwards."""
    created = create_site(client, org_a.token, domains=["Example.com", "*.example.org"])
    site = created["site"]
    assert site["domains"] == ["example.com", "*.example.org"]
    assert site["rate_limits"] == {"ip_per_min": 0, "ip_burst": 30, "site_per_min": 0}
    assert site["difficulty"]["expected_hashes"] == 4 * 16
    sitekey = site["sitekey"]
    listed = client.get(f"{PREFIX}/sites", headers=auth(org_a.token)).json()["sites"]
    assert listed == [site]
    patch = {"name": "Renamed", "rate_limits": {"ip_burst": 5}, "risk": {"max_wait_s": 2.5}}
    got = client.patch(f"{PREFIX}/sites/{sitekey}", json=patch, headers=auth(org_a.token))
    assert got.status_code == 200, got.text
    changed = got.json()
    assert changed["name"] == "Renamed"
    assert changed["rate_limits"] == {"ip_per_min": 0, "ip_burst": 5, "site_per_min": 0}
    assert changed["risk"] == {**site["risk"], "max_wait_s": 2.5}
    assert changed["difficulty"] == site["difficulty"]
    got = client.patch(
        f"{PREFIX}/sites/{sitekey}",
        json={"difficulty": {"preset": "easy"}},
        headers=auth(org_a.token),
    )
    assert got.json()["difficulty"] == {"k": 16, "solution_hashes": 2**16, "expected_hashes": 2**20}
    got = client.delete(f"{PREFIX}/sites/{sitekey}", headers=auth(org_a.token))
    assert got.status_code == 204 and got.content == b""
    assert_error(
        client.get(f"{PREFIX}/sites/{sitekey}", headers=auth(org_a.token)), 404, "not_found"
    )


def test_hostile_site_name_round_trips_as_json_text(client: TestClient, org_a: Org) -> None:
    """A site named like an XSS payload comes back as the same JSON string, never as HTML."""
    sitekey = create_site(client, org_a.token, name=XSS)["site"]["sitekey"]
    for path in (f"/sites/{sitekey}", "/sites"):
        got = client.get(PREFIX + path, headers=auth(org_a.token))
        assert got.headers["content-type"] == "application/json"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert XSS in json.dumps(got.json())
    assert client.get(f"{PREFIX}/sites/{sitekey}", headers=auth(org_a.token)).json()["name"] == XSS


def test_snippets_carry_the_sitekey_but_not_the_secret(client: TestClient, org_a: Org) -> None:
    """Each flavor's snippet names the sitekey and this server, never the site's secret."""
    created = create_site(client, org_a.token)
    sitekey = created["site"]["sitekey"]
    got = client.get(f"{PREFIX}/sites/{sitekey}/snippets", headers=auth(org_a.token))
    snippets = got.json()["snippets"]
    assert {s["flavor"] for s in snippets} == {
        "authkong",
        "recaptcha",
        "hcaptcha",
        "turnstile",
        "zencaptcha",
    }
    for snippet in snippets:
        assert sitekey in snippet["frontend"]
        assert "http://testserver/" in snippet["frontend"] + snippet["backend"]
        assert created["secret"] not in snippet["frontend"] + snippet["backend"]


@pytest.mark.parametrize(("span", "points"), [("hour", 60), ("day", 24), ("month", 30)])
def test_analytics_spans(client: TestClient, org_a: Org, span: str, points: int) -> None:
    """Site and organization analytics answer one point per bucket over the span."""
    sitekey = create_site(client, org_a.token)["site"]["sitekey"]
    for path in (f"/sites/{sitekey}/analytics", "/analytics"):
        got = client.get(f"{PREFIX}{path}?span={span}", headers=auth(org_a.token))
        assert got.status_code == 200, got.text
        body = got.json()
        assert body["span"] == span
        assert len(body["points"]) == points
        assert set(body["totals"]) == {"start_ms", "challenges", "solves", "verified", "rejected"}


def test_analytics_count_real_traffic(
    client: TestClient, services: Services, org_a: Org, org_b: Org
) -> None:
    """Challenges, solves and verifications of a site show in its and its org's analytics."""
    created = create_site(client, org_a.token)
    sitekey, secret = created["site"]["sitekey"], created["secret"]
    token = get_token(client, sitekey)
    for _ in range(2):  # the second is already_spent
        client.post("/api/siteverify", data={"secret": secret, "response": token})
    services.stats.flush()
    for path in (f"/sites/{sitekey}/analytics", "/analytics"):
        body = client.get(f"{PREFIX}{path}?span=hour", headers=auth(org_a.token)).json()
        assert {k: body["totals"][k] for k in ("challenges", "solves", "verified", "rejected")} == {
            "challenges": 1,
            "solves": 1,
            "verified": 1,
            "rejected": 1,
        }
        assert body["rejected_by_reason"] == {"already_spent": 1}
    theirs = client.get(f"{PREFIX}/analytics?span=hour", headers=auth(org_b.token)).json()
    assert theirs["totals"]["challenges"] == 0


# -- members, invitations, tokens, audit -----------------------------------------------


def test_member_management(client: TestClient, services: Services, org_a: Org) -> None:
    """Add a new user, change their role, refuse a duplicate, remove them."""
    body = {"email": "Ann@Example.com", "role": "viewer", "password": PASSWORD}
    got = client.post(f"{PREFIX}/members", json=body, headers=auth(org_a.token))
    assert got.status_code == 201, got.text
    ann = got.json()
    assert ann["email"] == "ann@example.com" and ann["role"] == "viewer"
    assert PASSWORD not in got.text
    got = client.post(f"{PREFIX}/members", json=body, headers=auth(org_a.token))
    assert_error(got, 409, "conflict")
    got = client.patch(
        f"{PREFIX}/members/{ann['user_id']}", json={"role": "admin"}, headers=auth(org_a.token)
    )
    assert got.json()["role"] == "admin"
    # An API token is no owner: it cannot make one.
    got = client.patch(
        f"{PREFIX}/members/{ann['user_id']}", json={"role": "owner"}, headers=auth(org_a.token)
    )
    assert_error(got, 403, "forbidden")
    members = client.get(f"{PREFIX}/members", headers=auth(org_a.token)).json()["members"]
    assert sorted(m["role"] for m in members) == ["admin", "owner"]
    got = client.delete(f"{PREFIX}/members/{ann['user_id']}", headers=auth(org_a.token))
    assert got.status_code == 204
    got = client.delete(f"{PREFIX}/members/{ann['user_id']}", headers=auth(org_a.token))
    assert_error(got, 404, "not_found")


def test_another_orgs_member_answers_404(client: TestClient, org_a: Org, org_b: Org) -> None:
    """Org A cannot change or remove org B's owner by user id."""
    b_owner = org_b.owner.user_id
    got = client.patch(
        f"{PREFIX}/members/{b_owner}", json={"role": "viewer"}, headers=auth(org_a.token)
    )
    assert_error(got, 404, "not_found")
    assert_error(
        client.delete(f"{PREFIX}/members/{b_owner}", headers=auth(org_a.token)), 404, "not_found"
    )


def test_invitation_returns_a_link_once(client: TestClient, services: Services, org_a: Org) -> None:
    """POST /invitations answers the link's token; the invitation is then live."""
    body = {"email": "bob@example.com", "role": "admin"}
    got = client.post(f"{PREFIX}/invitations", json=body, headers=auth(org_a.token))
    assert got.status_code == 201, got.text
    invitation = got.json()
    assert invitation["link"] == f"http://testserver/admin/invite/{invitation['token']}"
    assert services.admin.invitation(invitation["token"]) == ("bob@example.com", Role.ADMIN)
    audit = client.get(f"{PREFIX}/audit", headers=auth(org_a.token)).text
    assert invitation["token"] not in audit


def test_tokens_are_listed_without_values(client: TestClient, org_a: Org) -> None:
    """A new token's value is in the create answer only; listing shows its metadata."""
    body = {"name": "deploy", "scopes": ["sites:read", "sites:write"]}
    got = client.post(f"{PREFIX}/tokens", json=body, headers=auth(org_a.token))
    assert got.status_code == 201, got.text
    made = got.json()
    assert made["value"].startswith("akt_")
    assert made["token"]["scopes"] == ["sites:read", "sites:write"]
    listed = client.get(f"{PREFIX}/tokens", headers=auth(org_a.token))
    assert made["value"] not in listed.text and org_a.token not in listed.text
    assert made["token"] in listed.json()["tokens"]
    me = client.get(f"{PREFIX}/me", headers=auth(made["value"])).json()
    assert me["scopes"] == ["sites:read", "sites:write"]


def test_token_cannot_grant_scopes_it_lacks(
    client: TestClient, services: Services, org_a: Org
) -> None:
    """A token holding tokens:write cannot make a token with scopes beyond its own."""
    limited = token_for(services, org_a, Scope.TOKENS_WRITE, Scope.SITES_READ)
    body = {"name": "escalate", "scopes": ["sites:write"]}
    got = client.post(f"{PREFIX}/tokens", json=body, headers=auth(limited))
    assert_error(got, 403, "forbidden")


def test_another_orgs_token_answers_404(client: TestClient, org_a: Org, org_b: Org) -> None:
    """Org A cannot revoke org B's tokens by id; B's token keeps working."""
    b_tokens = client.get(f"{PREFIX}/tokens", headers=auth(org_b.token)).json()["tokens"]
    for token in b_tokens:
        got = client.delete(f"{PREFIX}/tokens/{token['id']}", headers=auth(org_a.token))
        assert_error(got, 404, "not_found")
    assert client.get(f"{PREFIX}/me", headers=auth(org_b.token)).status_code == 200


def test_audit_log_pages_newest_first(client: TestClient, org_a: Org, org_b: Org) -> None:
    """The API's changes are in the audit log under the token's name, paged by before_id."""
    sitekey = create_site(client, org_a.token)["site"]["sitekey"]
    client.post(f"{PREFIX}/sites/{sitekey}/rotate-secret", headers=auth(org_a.token))
    client.delete(f"{PREFIX}/sites/{sitekey}", headers=auth(org_a.token))
    create_site(client, org_b.token)
    page = client.get(f"{PREFIX}/audit?limit=2", headers=auth(org_a.token)).json()
    actions = [(e["actor"], e["action"], e["target"]) for e in page["entries"]]
    assert actions == [
        ("token:all", "site.delete", sitekey),
        ("token:all", "secret.rotate", sitekey),
    ]
    assert page["next_before_id"] == page["entries"][-1]["id"]
    rest = client.get(
        f"{PREFIX}/audit?limit=500&before_id={page['next_before_id']}", headers=auth(org_a.token)
    ).json()
    assert rest["entries"][0]["action"] == "site.create"
    assert rest["next_before_id"] is None
    assert all(e["id"] < page["next_before_id"] for e in rest["entries"])
    everything = [*page["entries"], *rest["entries"]]
    assert all(e["target"] != sitekey or e["actor"] == "token:all" for e in everything)
    b_sites = client.get(f"{PREFIX}/sites", headers=auth(org_b.token)).json()["sites"]
    assert b_sites[0]["sitekey"] not in json.dumps(everything)


# -- the OpenAPI document --------------------------------------------------------------


def test_openapi_document_describes_every_route(client: TestClient) -> None:
    """The document is valid OpenAPI and lists every route with its scopes and errors."""
    got = client.get(f"{PREFIX}/openapi.json")
    assert got.status_code == 200
    doc = got.json()
    validate(doc)
    assert doc["servers"] == [{"url": PREFIX}]
    assert doc["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": doc["components"]["securitySchemes"]["bearer"]["description"],
    }
    error = doc["components"]["schemas"]["ErrorBody"]
    assert {"error_code", "message"} <= set(error["required"])
    routes = [(r.path, m.lower()) for r in router.routes for m in r.methods]  # type: ignore[attr-defined]
    assert len(routes) == 21
    for path, method in routes:
        operation = doc["paths"][path][method]
        scopes = operation["x-required-scopes"]
        assert operation["security"] == [{"bearer": scopes}], (path, method)
        assert all(s in {x.value for x in Scope} for s in scopes)
        for status in ("401", "403", "422", "500"):
            ref = operation["responses"][status]["content"]["application/json"]["schema"]
            assert ref == {"$ref": "#/components/schemas/ErrorBody"}, (path, method, status)
        assert any(s.startswith("2") for s in operation["responses"]), (path, method)
    documented = {(p, m) for p, ops in doc["paths"].items() for m in ops}
    assert documented == set(routes)


def test_openapi_scopes_match_what_the_server_enforces(
    client: TestClient, services: Services, org_a: Org
) -> None:
    """Each operation's documented scopes are enough, and a token without them gets 403."""
    doc = client.get(f"{PREFIX}/openapi.json").json()
    sitekey = create_site(client, org_a.token)["site"]["sitekey"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if method not in ("get",):
                continue  # the reads are safe to call repeatedly; writes are tested above
            scopes = [Scope(s) for s in operation["x-required-scopes"]]
            url = PREFIX + path.replace("{sitekey}", sitekey)
            if scopes:
                lacking = token_for(services, org_a, *(set(Scope) - set(scopes)))
                assert_error(client.get(url, headers=auth(lacking)), 403, "forbidden")
            enough = token_for(services, org_a, *(scopes or [Scope.AUDIT_READ]))
            assert client.get(url, headers=auth(enough)).status_code == 200, url


# -- a real server ---------------------------------------------------------------------


@pytest.mark.server
def test_site_made_through_the_api_verifies_on_a_real_server(tmp_path: Path) -> None:
    """`authkong serve`: a site created with the API issues tokens its secret verifies."""
    data_dir = tmp_path / "data"
    with TestClient(create_app(Settings(data_dir=data_dir))) as setup:
        org = make_org(setup.app.state.services, "Real")  # type: ignore[attr-defined]
    with (
        running_server(data_dir, tmp_path / "logs", workers=2) as server,
        httpx.Client(timeout=10.0) as http,
    ):
        api = f"{server.base_url}{PREFIX}"
        assert http.get(f"{api}/sites", headers=auth("akt_wrong")).status_code == 401
        body = {"name": XSS, "domains": ["example.com"], **CHEAP_SITE}
        got = http.post(f"{api}/sites", json=body, headers=auth(org.token))
        assert got.status_code == 201, got.text
        sitekey, secret = got.json()["site"]["sitekey"], got.json()["secret"]
        token = fetch_token(http, server.base_url, sitekey)
        answer = verify(http, server.base_url, "authkong", secret, token)
        assert answer["success"] is True and answer["sitekey"] == sitekey
        rotated = http.post(f"{api}/sites/{sitekey}/rotate-secret", headers=auth(org.token))
        new_secret = rotated.json()["secret"]
        token = fetch_token(http, server.base_url, sitekey)
        assert verify(http, server.base_url, "authkong", secret, token)["error_code"] == (
            "invalid_secret"
        )
        assert verify(http, server.base_url, "authkong", new_secret, token)["success"] is True
        listed = http.get(f"{api}/sites", headers=auth(org.token))
        assert listed.json()["sites"][0]["name"] == XSS
        assert secret not in listed.text and new_secret not in listed.text
