"""The admin API against the security review's findings: role grants within a token's
scopes, no account probing or adoption through POST /members, pending invitations listed
and revoked, out-of-range ids as invalid_input, and PATCH with sites:write alone."""

from typing import Any

import pytest
from starlette.testclient import TestClient

from authkong.admin.api import MAX_ID, PREFIX
from authkong.admin.model import READ_SCOPES, ROLE_SCOPES, Actor, Role, Scope
from authkong.api.services import Services
from tests.admin_api_support import (
    PASSWORD,
    Org,
    assert_error,
    auth,
    create_site,
    make_org,
    org_a_fixture,  # noqa: F401  (fixture)
    org_b_fixture,  # noqa: F401  (fixture)
    token_for,
)


def _invite(client: TestClient, token: str, email: str, role: str = "viewer") -> dict[str, Any]:
    got = client.post(
        f"{PREFIX}/invitations", headers=auth(token), json={"email": email, "role": role}
    )
    assert got.status_code == 201, got.text
    body: dict[str, Any] = got.json()
    return body


def test_members_write_token_cannot_mint_an_admin(
    client: TestClient, services: Services, org_a: Org
) -> None:
    """members:write (even with the read scopes) cannot add, invite or promote an admin."""
    weak = token_for(services, org_a, Scope.MEMBERS_WRITE, *READ_SCOPES)
    for role in ("admin", "owner"):
        body = {"email": "mallory@evil.test", "role": role, "password": "mallory-pass-1"}
        assert_error(
            client.post(f"{PREFIX}/members", headers=auth(weak), json=body), 403, "forbidden"
        )
        invite = {"email": "mallory@evil.test", "role": role}
        got = client.post(f"{PREFIX}/invitations", headers=auth(weak), json=invite)
        assert_error(got, 403, "forbidden")
    viewer = {"email": "v@example.com", "role": "viewer", "password": PASSWORD}
    added = client.post(f"{PREFIX}/members", headers=auth(weak), json=viewer)
    assert added.status_code == 201, added.text
    user_id = added.json()["user_id"]
    promote = client.patch(
        f"{PREFIX}/members/{user_id}", headers=auth(weak), json={"role": "admin"}
    )
    assert_error(promote, 403, "forbidden")
    members = client.get(f"{PREFIX}/members", headers=auth(org_a.token)).json()["members"]
    assert sorted(m["role"] for m in members) == ["owner", "viewer"]


def test_post_members_refuses_existing_accounts_alike_in_any_org(
    client: TestClient, services: Services, org_a: Org, org_b: Org
) -> None:
    """An email with an account (here or elsewhere) is 409 conflict and joins nothing."""
    victim = org_b.owner.label.removeprefix("user:")
    mine = org_a.owner.label.removeprefix("user:")
    for email, password in ((victim, None), (victim, PASSWORD), (mine, None)):
        body = {"email": email, "role": "viewer", "password": password}
        got = client.post(f"{PREFIX}/members", headers=auth(org_a.token), json=body)
        assert "invitation" in assert_error(got, 409, "conflict")["message"]
    got = client.post(
        f"{PREFIX}/members",
        headers=auth(org_a.token),
        json={"email": "new@x.test", "role": "viewer"},
    )
    assert assert_error(got, 422, "invalid_input")["field"] == "password"
    grant = client.portal.call(services.admin.login, victim, PASSWORD, "192.0.2.9")  # type: ignore[union-attr]
    assert (grant.org.id, grant.role) == (org_b.org_id, Role.OWNER)


def test_invitations_are_listed_and_revoked(
    client: TestClient, services: Services, org_a: Org
) -> None:
    """GET /invitations lists pending ones without links; DELETE revokes; scopes apply."""
    made = _invite(client, org_a.token, "guest@x.test", "admin")
    reader = token_for(services, org_a, Scope.MEMBERS_READ, name="reader")
    listed = client.get(f"{PREFIX}/invitations", headers=auth(reader))
    assert listed.status_code == 200
    [item] = listed.json()["invitations"]
    assert item["email"] == "guest@x.test" and item["role"] == "admin"
    # Made with an API token: its maker is the inviter, so removing them revokes it.
    assert item["invited_by"] == org_a.owner.label.removeprefix("user:")
    assert made["token"] not in listed.text
    gone = client.delete(f"{PREFIX}/invitations/{item['id']}", headers=auth(reader))
    assert_error(gone, 403, "forbidden")
    assert (
        client.delete(f"{PREFIX}/invitations/{item['id']}", headers=auth(org_a.token)).status_code
        == 204
    )
    again = client.delete(f"{PREFIX}/invitations/{item['id']}", headers=auth(org_a.token))
    assert_error(again, 404, "not_found")
    assert client.get(f"{PREFIX}/invitations", headers=auth(reader)).json() == {"invitations": []}
    assert services.admin.invitation(made["token"]) is None  # the link is dead
    writer = token_for(services, org_a, Scope.MEMBERS_WRITE, name="writer")
    assert_error(client.get(f"{PREFIX}/invitations", headers=auth(writer)), 403, "forbidden")


def test_other_orgs_invitation_is_not_found(client: TestClient, org_a: Org, org_b: Org) -> None:
    """Org B neither sees nor revokes Org A's invitation."""
    _invite(client, org_a.token, "guest@x.test")
    [item] = client.get(f"{PREFIX}/invitations", headers=auth(org_a.token)).json()["invitations"]
    assert (
        client.get(f"{PREFIX}/invitations", headers=auth(org_b.token)).json()["invitations"] == []
    )
    got = client.delete(f"{PREFIX}/invitations/{item['id']}", headers=auth(org_b.token))
    assert_error(got, 404, "not_found")


def test_removing_an_inviter_revokes_their_invitation(
    client: TestClient, services: Services, org_a: Org
) -> None:
    """A removed admin's invitation can no longer bring anyone back in."""
    body = {"email": "rogue@x.test", "role": "admin", "password": "rogue pass 1"}
    rogue_id = client.post(f"{PREFIX}/members", headers=auth(org_a.token), json=body).json()[
        "user_id"
    ]
    admin = services.admin
    grant = client.portal.call(admin.login, "rogue@x.test", "rogue pass 1", "192.0.2.1")  # type: ignore[union-attr]
    found = admin.session_actor(grant.token, "192.0.2.1")
    assert found is not None
    invitation = admin.invite(found[1], "rogue2@x.test", Role.ADMIN)
    assert (
        client.delete(f"{PREFIX}/members/{rogue_id}", headers=auth(org_a.token)).status_code == 204
    )
    assert (
        client.get(f"{PREFIX}/invitations", headers=auth(org_a.token)).json()["invitations"] == []
    )
    assert admin.invitation(invitation.token) is None


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/members/99999999999999999999"),
        ("PATCH", "/members/99999999999999999999"),
        ("PATCH", f"/members/{MAX_ID + 1}"),
        ("DELETE", "/tokens/99999999999999999999"),
        ("DELETE", "/invitations/99999999999999999999"),
        ("GET", "/audit?before_id=99999999999999999999"),
    ],
)
def test_ids_beyond_64_bits_are_invalid_input(
    client: TestClient, org_a: Org, method: str, path: str
) -> None:
    """An id no row can have is 422 invalid_input, never a 500."""
    kw: dict[str, Any] = {"json": {"role": "viewer"}} if method == "PATCH" else {}
    got = client.request(method, PREFIX + path, headers=auth(org_a.token), **kw)
    assert_error(got, 422, "invalid_input")


def test_largest_id_is_simply_not_found(client: TestClient, org_a: Org) -> None:
    """2^63-1 passes validation and answers 404 like any unknown id."""
    for method, path in (("DELETE", "members"), ("DELETE", "tokens"), ("DELETE", "invitations")):
        got = client.request(method, f"{PREFIX}/{path}/{MAX_ID}", headers=auth(org_a.token))
        assert_error(got, 404, "not_found")
    got = client.get(f"{PREFIX}/audit?before_id={MAX_ID}", headers=auth(org_a.token))
    assert got.status_code == 200


def test_patch_nested_settings_needs_sites_write_only(
    client: TestClient, services: Services, org_a: Org
) -> None:
    """A sites:write token without sites:read changes nested settings, keeping the rest."""
    sitekey = create_site(client, org_a.token)["site"]["sitekey"]
    writer = token_for(services, org_a, Scope.SITES_WRITE, name="writer")
    assert_error(client.get(f"{PREFIX}/sites/{sitekey}", headers=auth(writer)), 403, "forbidden")
    got = client.patch(
        f"{PREFIX}/sites/{sitekey}",
        headers=auth(writer),
        json={"risk": {"scoring": False}, "rate_limits": {"site_per_min": 100}},
    )
    assert got.status_code == 200, got.text
    site = got.json()
    assert site["risk"]["scoring"] is False and site["risk"]["adaptive"] is True
    assert site["rate_limits"] == {"ip_per_min": 0, "ip_burst": 30, "site_per_min": 100}
    other = make_org(services, "Org C")
    foreign = client.patch(
        f"{PREFIX}/sites/{sitekey}", headers=auth(other.token), json={"risk": {"scoring": True}}
    )
    assert_error(foreign, 404, "not_found")


def test_a_removed_admins_tokens_stop_working(
    client: TestClient, services: Services, org_a: Org
) -> None:
    """An admin removed through the API loses their token, and with it every way back in;
    GET /tokens names who made each token and shows it revoked."""
    added = client.post(
        f"{PREFIX}/members",
        headers=auth(org_a.token),
        json={"email": "leaver@x.test", "role": "admin", "password": PASSWORD},
    )
    assert added.status_code == 201, added.text
    user_id = added.json()["user_id"]
    admin_actor = Actor(
        org_id=org_a.org_id,
        label="user:leaver@x.test",
        scopes=ROLE_SCOPES[Role.ADMIN],
        role=Role.ADMIN,
        user_id=user_id,
    )
    _, theirs = services.admin.create_api_token(admin_actor, "ci", frozenset(Scope), None)
    listed = client.get(f"{PREFIX}/tokens", headers=auth(theirs)).json()["tokens"]
    assert {t["name"]: t["created_by"] for t in listed} == {
        "all": org_a.owner.label.removeprefix("user:"),
        "ci": "leaver@x.test",
    }
    gone = client.delete(f"{PREFIX}/members/{user_id}", headers=auth(org_a.token))
    assert gone.status_code == 204
    assert_error(client.get(f"{PREFIX}/me", headers=auth(theirs)), 401, "unauthenticated")
    back = client.post(
        f"{PREFIX}/members",
        headers=auth(theirs),
        json={"email": "back-door@x.test", "role": "admin", "password": PASSWORD},
    )
    assert_error(back, 401, "unauthenticated")
    [ci] = [t for t in client.get(f"{PREFIX}/tokens", headers=auth(org_a.token)).json()["tokens"]
            if t["name"] == "ci"]  # fmt: skip
    assert ci["revoked_ms"] is not None


def test_a_token_cannot_make_one_that_outlives_it(client: TestClient, org_a: Org) -> None:
    """An expiring token asking for a token without an expiry, or a later one, answers
    403 forbidden; one that expires no later is made."""
    made = client.post(
        f"{PREFIX}/tokens",
        headers=auth(org_a.token),
        json={"name": "short", "scopes": ["tokens:write", "sites:read"], "expires_in_s": 3600},
    )
    assert made.status_code == 201, made.text
    short = made.json()["value"]
    for expires_in_s in (None, 3601):
        body = {"name": "child", "scopes": ["sites:read"], "expires_in_s": expires_in_s}
        got = client.post(f"{PREFIX}/tokens", headers=auth(short), json=body)
        assert "outlives" in assert_error(got, 403, "forbidden")["message"]
    body = {"name": "child", "scopes": ["sites:read"], "expires_in_s": 600}
    assert client.post(f"{PREFIX}/tokens", headers=auth(short), json=body).status_code == 201
