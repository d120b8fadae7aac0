"""The admin service's sites, API tokens, audit log and first-run setup, on the real
SQLite registry of an in-process app."""

# The fixtures imported from tests/admin_support.py are parameters of the tests below.
# ruff: noqa: F811

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from sqlalchemy import select

from authkong.admin.analytics import Span
from authkong.admin.model import (
    Actor,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Role,
    Scope,
)
from authkong.admin.service import AdminService, SiteChanges, cli_actor
from authkong.api.services import Services
from authkong.config import Settings
from authkong.domain.clock import FakeClock
from authkong.domain.pow import Difficulty
from authkong.domain.site import RateLimits
from authkong.storage.tables import api_tokens, audit_log
from tests.admin_support import (  # noqa: F401
    PASSWORD,
    Org,
    admin,
    call,
    login_actor,
    org_a,
    org_b,
)
from tests.support import CHEAP, make_site

Call = Callable[..., Any]


def new_site(admin: AdminService, actor: Actor, name: str = "Shop") -> str:
    made = admin.create_site(actor, name=name, domains=("example.com",), difficulty=CHEAP)
    return made.site.sitekey


def db_bytes(settings: Settings) -> bytes:
    """Everything the registry holds on disk, the write-ahead log included."""
    path = settings.registry_path
    wal = Path(f"{path}-wal")
    return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


# -- organization scoping --------------------------------------------------------------


def test_other_orgs_sitekey_is_not_found(admin: AdminService, org_a: Org, org_b: Org) -> None:
    """A member of org B gets NotFound for org A's sitekey on get, update, rotate, delete."""
    sitekey = new_site(admin, org_a.owner)
    intruder = org_b.owner
    with pytest.raises(NotFound):
        admin.get_site(intruder, sitekey)
    with pytest.raises(NotFound):
        admin.update_site(intruder, sitekey, SiteChanges(name="Mine now"))
    with pytest.raises(NotFound):
        admin.rotate_secret(intruder, sitekey, 0)
    with pytest.raises(NotFound):
        admin.delete_site(intruder, sitekey)
    with pytest.raises(NotFound):
        admin.analytics(intruder, sitekey, Span.DAY)
    assert admin.list_sites(intruder) == []
    assert admin.get_site(org_a.owner, sitekey).name == "Shop"  # untouched


def test_unknown_and_foreign_sitekeys_answer_alike(
    admin: AdminService, org_a: Org, org_b: Org
) -> None:
    """Another org's sitekey and a made-up one raise the same NotFound message."""
    sitekey = new_site(admin, org_a.owner)
    with pytest.raises(NotFound) as foreign:
        admin.get_site(org_b.owner, sitekey)
    with pytest.raises(NotFound) as unknown:
        admin.get_site(org_b.owner, "ak_nope")
    assert foreign.value.message == unknown.value.message


def test_list_sites_shows_only_own_org(admin: AdminService, org_a: Org, org_b: Org) -> None:
    """Each organization lists its own sites; the CLI's actor lists every site."""
    a, b = new_site(admin, org_a.owner, "A"), new_site(admin, org_b.owner, "B")
    assert [s.sitekey for s in admin.list_sites(org_a.owner)] == [a]
    assert [s.sitekey for s in admin.list_sites(org_b.owner)] == [b]
    assert [s.sitekey for s in admin.list_sites(cli_actor())] == [a, b]


def test_viewer_reads_but_cannot_write(admin: AdminService, org_a: Org) -> None:
    """A viewer lists and reads sites; create, update, rotate and delete are Forbidden."""
    sitekey = new_site(admin, org_a.owner)
    viewer = org_a.member("viewer@a.test", Role.VIEWER)
    assert admin.get_site(viewer, sitekey).sitekey == sitekey
    with pytest.raises(Forbidden):
        new_site(admin, viewer)
    with pytest.raises(Forbidden):
        admin.update_site(viewer, sitekey, SiteChanges(name="x"))
    with pytest.raises(Forbidden):
        admin.rotate_secret(viewer, sitekey, 0)
    with pytest.raises(Forbidden):
        admin.delete_site(viewer, sitekey)


def test_site_to_update_needs_sites_write_not_sites_read(
    admin: AdminService, org_a: Org, org_b: Org
) -> None:
    """A partial edit reads the site with sites:write alone; readers and other orgs cannot."""
    sitekey = new_site(admin, org_a.owner)
    _, value = admin.create_api_token(org_a.owner, "w", frozenset({Scope.SITES_WRITE}), None)
    writer = admin.token_actor(value, "192.0.2.50")
    assert writer is not None
    with pytest.raises(Forbidden):
        admin.get_site(writer, sitekey)
    assert admin.site_to_update(writer, sitekey).sitekey == sitekey
    with pytest.raises(Forbidden):
        admin.site_to_update(org_a.member("viewer@a.test", Role.VIEWER), sitekey)
    with pytest.raises(NotFound):
        admin.site_to_update(org_b.owner, sitekey)


def test_admin_member_manages_sites(admin: AdminService, org_a: Org, clock: FakeClock) -> None:
    """An admin creates, edits, rotates (with overlap) and deletes a site of their org."""
    member = org_a.member("admin@a.test", Role.ADMIN)
    made = admin.create_site(member, name=" Shop ", domains=("Example.COM.", "example.com"))
    assert made.site.org_id == org_a.owner.org_id
    assert (made.site.name, made.site.domains) == ("Shop", ("example.com",))
    changes = SiteChanges(
        name="Store",
        token_lifetime=60,
        difficulty=Difficulty(k=8, solution_hashes=32),
        rate_limits=RateLimits(ip_per_min=5, ip_burst=2, site_per_min=100),
    )
    updated = admin.update_site(member, made.site.sitekey, changes)
    assert (updated.name, updated.token_lifetime, updated.difficulty.k) == ("Store", 60, 8)
    assert updated.rate_limits.site_per_min == 100
    rotated = admin.rotate_secret(member, made.site.sitekey, 3600)
    assert rotated.secret != made.secret
    expiring = [s for s in rotated.site.secrets if s.expires_ms is not None]
    assert [s.expires_ms for s in expiring] == [clock.now_ms() + 3_600_000]
    admin.delete_site(member, made.site.sitekey)
    with pytest.raises(NotFound):
        admin.get_site(member, made.site.sitekey)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"domains": ()}, "domains"),
        ({"domains": ("not a domain",)}, "domains"),
        ({"domains": ("*.com",)}, "domains"),
        ({"token_lifetime": 5}, "token_lifetime"),
        ({"token_lifetime": 86_401}, "token_lifetime"),
        ({"difficulty": Difficulty(k=0, solution_hashes=16)}, "k"),
        ({"difficulty": Difficulty(k=4, solution_hashes=2**33)}, "solution_difficulty"),
    ],
)
def test_create_site_rejects_bad_input_by_field(
    admin: AdminService, org_a: Org, kwargs: dict[str, Any], field: str
) -> None:
    """Bad site input raises Invalid naming the field, and stores nothing."""
    args: dict[str, Any] = {"name": "Shop", "domains": ("example.com",), **kwargs}
    with pytest.raises(Invalid) as raised:
        admin.create_site(org_a.owner, **args)
    assert raised.value.field == field
    assert admin.list_sites(org_a.owner) == []


def test_update_and_rotate_reject_bad_input(admin: AdminService, org_a: Org) -> None:
    """Updates are checked like creation; a negative or over-long overlap is Invalid."""
    sitekey = new_site(admin, org_a.owner)
    for changes, field in (
        (SiteChanges(domains=("bad domain",)), "domains"),
        (SiteChanges(token_lifetime=1), "token_lifetime"),
        (SiteChanges(name=""), "name"),
    ):
        with pytest.raises(Invalid) as raised:
            admin.update_site(org_a.owner, sitekey, changes)
        assert raised.value.field == field
    for overlap in (-1, 366 * 86_400):
        with pytest.raises(Invalid) as raised:
            admin.rotate_secret(org_a.owner, sitekey, overlap)
        assert raised.value.field == "overlap_s"


# -- API tokens ------------------------------------------------------------------------


def test_api_token_is_hashed_at_rest(
    admin: AdminService, org_a: Org, services: Services, settings: Settings
) -> None:
    """Only the token's SHA-256 is stored: the registry's files never hold its value."""
    token, value = admin.create_api_token(org_a.owner, "deploy", frozenset(Scope), None)
    assert value.startswith("akt_") and len(value) >= 4 + 43
    with services.registry.engine.connect() as conn:
        stored = conn.execute(select(api_tokens.c.digest).where(api_tokens.c.id == token.id))
        assert stored.scalar_one() == hashlib.sha256(value.encode()).digest()
    assert value.encode() not in db_bytes(settings)
    assert value not in repr(token)


def test_token_actor_has_the_tokens_scopes(admin: AdminService, org_a: Org) -> None:
    """A bearer token acts in its org with exactly its scopes; reading works, writing not."""
    sitekey = new_site(admin, org_a.owner)
    _, value = admin.create_api_token(org_a.owner, "reader", frozenset({Scope.SITES_READ}), None)
    actor = admin.token_actor(value, "203.0.113.50")
    assert actor is not None
    assert (actor.org_id, actor.label, actor.scopes) == (
        org_a.owner.org_id,
        "token:reader",
        frozenset({Scope.SITES_READ}),
    )
    assert admin.get_site(actor, sitekey).sitekey == sitekey
    with pytest.raises(Forbidden):
        new_site(admin, actor)


@pytest.mark.parametrize("bad", ["", "akt_", "akt_" + "A" * 43, "Bearer x", "x" * 5000])
def test_unknown_bearer_gives_none(admin: AdminService, org_a: Org, bad: str) -> None:
    """Made-up, empty or huge bearer values are no actor."""
    admin.create_api_token(org_a.owner, "real", frozenset({Scope.SITES_READ}), None)
    assert admin.token_actor(bad, "") is None


def test_revoked_and_expired_tokens_give_none(
    admin: AdminService, org_a: Org, clock: FakeClock
) -> None:
    """A revoked token stops at once; an expiring one at its expiry."""
    scopes = frozenset({Scope.SITES_READ})
    revoked, revoked_value = admin.create_api_token(org_a.owner, "old", scopes, None)
    _, expiring_value = admin.create_api_token(
        org_a.owner, "short", scopes, clock.now_ms() + 60_000
    )
    admin.revoke_api_token(org_a.owner, revoked.id)
    assert admin.token_actor(revoked_value, "") is None
    assert admin.token_actor(expiring_value, "") is not None
    clock.advance(60)
    assert admin.token_actor(expiring_value, "") is None
    listed = {t.name: t for t in admin.api_tokens(org_a.owner)}
    assert listed["old"].revoked_ms is not None
    assert listed["short"].revoked_ms is None


def test_token_cannot_grant_more_than_its_creator(admin: AdminService, org_a: Org) -> None:
    """Scopes beyond the creator's are Forbidden; a viewer cannot make tokens at all."""
    limited = frozenset({Scope.SITES_READ, Scope.TOKENS_WRITE})
    _, value = admin.create_api_token(org_a.owner, "limited", limited, None)
    actor = admin.token_actor(value, "")
    assert actor is not None
    with pytest.raises(Forbidden) as raised:
        admin.create_api_token(actor, "wider", frozenset({Scope.SITES_WRITE}), None)
    assert "sites:write" in raised.value.message
    narrower, _ = admin.create_api_token(actor, "same", frozenset({Scope.SITES_READ}), None)
    assert narrower.scopes == frozenset({Scope.SITES_READ})
    viewer = org_a.member("viewer@a.test", Role.VIEWER)
    with pytest.raises(Forbidden):
        admin.create_api_token(viewer, "v", frozenset({Scope.SITES_READ}), None)


def test_token_cannot_revoke_one_that_reaches_further(admin: AdminService, org_a: Org) -> None:
    """A token may revoke tokens within its own scopes, not one holding more (the owner's
    deploy token stays); a member holding every scope revokes any."""
    limited = frozenset({Scope.SITES_READ, Scope.TOKENS_WRITE})
    _, value = admin.create_api_token(org_a.owner, "limited", limited, None)
    actor = admin.token_actor(value, "")
    assert actor is not None
    wider, wider_value = admin.create_api_token(org_a.owner, "deploy", frozenset(Scope), None)
    with pytest.raises(Forbidden):
        admin.revoke_api_token(actor, wider.id)
    assert admin.token_actor(wider_value, "") is not None
    narrower, narrower_value = admin.create_api_token(
        actor, "read", frozenset({Scope.SITES_READ}), None
    )
    admin.revoke_api_token(actor, narrower.id)
    assert admin.token_actor(narrower_value, "") is None
    admin.revoke_api_token(org_a.owner, wider.id)
    assert admin.token_actor(wider_value, "") is None


def test_token_input_is_checked(admin: AdminService, org_a: Org, clock: FakeClock) -> None:
    """A blank name, no scopes or a past expiry raise Invalid naming the field."""
    one = frozenset({Scope.SITES_READ})
    for name, scopes, expires, field in (
        (" ", one, None, "name"),
        ("t", frozenset(), None, "scopes"),
        ("t", one, clock.now_ms(), "expires_ms"),
    ):
        with pytest.raises(Invalid) as raised:
            admin.create_api_token(org_a.owner, name, scopes, expires)
        assert raised.value.field == field


def test_other_orgs_token_cannot_be_revoked(admin: AdminService, org_a: Org, org_b: Org) -> None:
    """Revoking another organization's token id is NotFound and leaves it working."""
    token, value = admin.create_api_token(org_a.owner, "a", frozenset({Scope.SITES_READ}), None)
    with pytest.raises(NotFound):
        admin.revoke_api_token(org_b.owner, token.id)
    assert admin.api_tokens(org_b.owner) == []
    assert admin.token_actor(value, "") is not None


def test_token_last_use_is_written_rarely(
    admin: AdminService, org_a: Org, clock: FakeClock
) -> None:
    """last_used_ms is set on first use and then at most every five minutes."""
    _, value = admin.create_api_token(org_a.owner, "t", frozenset({Scope.SITES_READ}), None)
    first = clock.now_ms()
    admin.token_actor(value, "")
    clock.advance(60)
    admin.token_actor(value, "")
    assert admin.api_tokens(org_a.owner)[0].last_used_ms == first
    clock.advance(300)
    admin.token_actor(value, "")
    assert admin.api_tokens(org_a.owner)[0].last_used_ms == clock.now_ms()


def _bearer(admin: AdminService, value: str) -> Actor:
    actor = admin.token_actor(value, "203.0.113.60")
    assert actor is not None
    return actor


def test_removing_a_member_revokes_the_tokens_they_made(admin: AdminService, org_a: Org) -> None:
    """A removed admin's tokens, and the tokens those tokens made, stop working and are
    listed as revoked, each with an audit entry; another member's token goes on."""
    departing = org_a.member("leaver@a.test", Role.ADMIN)
    _, theirs = admin.create_api_token(departing, "ci", frozenset(Scope), None)
    _, grandchild = admin.create_api_token(
        _bearer(admin, theirs), "made-by-ci", frozenset({Scope.SITES_READ}), None
    )
    _, owners = admin.create_api_token(org_a.owner, "owner's", frozenset(Scope), None)
    assert departing.user_id is not None
    admin.remove_member(org_a.owner, departing.user_id)
    assert admin.token_actor(theirs, "") is None
    assert admin.token_actor(grandchild, "") is None
    assert admin.token_actor(owners, "") is not None
    listed = {t.name: t for t in admin.api_tokens(org_a.owner)}
    assert listed["ci"].revoked_ms is not None and listed["made-by-ci"].revoked_ms is not None
    assert listed["owner's"].revoked_ms is None
    entries = admin.audit_log(org_a.owner)
    automatic = {e.target: e.detail for e in entries if e.action == "token.revoke"}
    assert automatic == {
        name: {"id": listed[name].id, "made_by": "leaver@a.test", "because": "member.remove"}
        for name in ("ci", "made-by-ci")
    }
    removal = next(e for e in entries if e.action == "member.remove")
    assert removal.detail["revoked_tokens"] == 2


def test_demotion_revokes_the_tokens_beyond_the_new_role(admin: AdminService, org_a: Org) -> None:
    """Demoted to viewer, an admin keeps tokens within a viewer's scopes and loses the
    others; a promotion revokes nothing."""
    member = org_a.member("demoted@a.test", Role.ADMIN)
    assert member.user_id is not None
    _, wide = admin.create_api_token(member, "wide", frozenset({Scope.SITES_WRITE}), None)
    _, narrow = admin.create_api_token(member, "narrow", frozenset({Scope.SITES_READ}), None)
    admin.set_role(org_a.owner, member.user_id, Role.VIEWER)
    assert admin.token_actor(wide, "") is None
    assert admin.token_actor(narrow, "") is not None
    admin.set_role(org_a.owner, member.user_id, Role.ADMIN)
    assert admin.token_actor(narrow, "") is not None
    changes = [e.detail for e in admin.audit_log(org_a.owner) if e.action == "member.role"]
    assert [c["revoked_tokens"] for c in changes] == [0, 1]  # newest first
    revoked = [e for e in admin.audit_log(org_a.owner) if e.action == "token.revoke"]
    assert [(e.target, e.detail["because"]) for e in revoked] == [("wide", "member.role")]


def test_a_token_stops_when_its_maker_loses_access_by_any_route(
    admin: AdminService, org_a: Org
) -> None:
    """Even a token the revocation missed (made while its maker was being removed, or
    the membership changed around the service) stops working with its maker's access."""
    member = org_a.member("raced@a.test", Role.ADMIN)
    assert member.user_id is not None
    _, full = admin.create_api_token(member, "full", frozenset(Scope), None)
    _, reader = admin.create_api_token(member, "reader", frozenset({Scope.SITES_READ}), None)
    with admin.registry.engine.begin() as conn:
        admin.accounts.change_role(conn, org_a.owner.org_id, member.user_id, Role.VIEWER,
                                   was_owner=False)  # fmt: skip
    assert admin.token_actor(full, "") is None
    assert admin.token_actor(reader, "") is not None
    with admin.registry.engine.begin() as conn:
        admin.accounts.remove_membership(conn, org_a.owner.org_id, member.user_id,
                                         was_owner=False)  # fmt: skip
    assert admin.token_actor(reader, "") is None


def test_tokens_show_the_member_they_act_for(admin: AdminService, org_a: Org) -> None:
    """A token lists its maker's email; a token made by a token, the same member's."""
    member = org_a.member("maker@a.test", Role.ADMIN)
    made, value = admin.create_api_token(member, "parent", frozenset(Scope), None)
    child, _ = admin.create_api_token(_bearer(admin, value), "child", frozenset(Scope), None)
    assert made.created_by == child.created_by == "maker@a.test"
    listed = {t.name: t.created_by for t in admin.api_tokens(org_a.owner)}
    assert listed == {"parent": "maker@a.test", "child": "maker@a.test"}


def test_token_cannot_make_one_that_outlives_it(
    admin: AdminService, org_a: Org, clock: FakeClock
) -> None:
    """An expiring token's children must expire no later than it (no expiry is later);
    a token without an expiry may give any."""
    ends = clock.now_ms() + 3_600_000
    _, short = admin.create_api_token(org_a.owner, "short", frozenset(Scope), ends)
    parent = _bearer(admin, short)
    for too_late in (None, ends + 1):
        with pytest.raises(Forbidden) as raised:
            admin.create_api_token(parent, "child", frozenset(Scope), too_late)
        assert "outlives" in raised.value.message
    child, _ = admin.create_api_token(parent, "child", frozenset(Scope), ends)
    assert child.expires_ms == ends
    _, lasting = admin.create_api_token(org_a.owner, "lasting", frozenset(Scope), None)
    forever, _ = admin.create_api_token(_bearer(admin, lasting), "c", frozenset(Scope), None)
    assert forever.expires_ms is None


# -- audit log -------------------------------------------------------------------------


def test_audit_log_records_each_action_without_secrets(
    admin: AdminService, org_a: Org, services: Services
) -> None:
    """Site, secret and token changes are logged with their actor, newest first, and no
    secret or token value appears anywhere in the audit table."""
    owner = org_a.owner
    made = admin.create_site(owner, name="Shop", domains=("example.com",))
    admin.update_site(owner, made.site.sitekey, SiteChanges(name="Store"))
    rotated = admin.rotate_secret(owner, made.site.sitekey, 60)
    token, value = admin.create_api_token(owner, "ci", frozenset({Scope.SITES_WRITE}), None)
    token_actor = admin.token_actor(value, "203.0.113.9")
    assert token_actor is not None
    admin.delete_site(token_actor, made.site.sitekey)
    admin.revoke_api_token(owner, token.id)

    entries = admin.audit_log(owner)
    ours = [(e.actor, e.action, e.target) for e in entries if e.action != "login"]
    sk = made.site.sitekey
    assert ours == [
        ("user:owner@a.test", "token.revoke", "ci"),
        ("token:ci", "site.delete", sk),
        ("user:owner@a.test", "token.create", "ci"),
        ("user:owner@a.test", "secret.rotate", sk),
        ("user:owner@a.test", "site.update", sk),
        ("user:owner@a.test", "site.create", sk),
        ("user:owner@a.test", "setup", "owner@a.test"),
    ]
    by_action = {e.action: e for e in entries}
    assert by_action["site.update"].detail == {"name": "Store"}
    assert by_action["secret.rotate"].detail == {"overlap_s": 60}
    assert by_action["site.delete"].ip == "203.0.113.9"
    with services.registry.engine.connect() as conn:
        everything = json.dumps([list(r) for r in conn.execute(select(audit_log)).all()])
    for secret in (made.secret, rotated.secret, value, PASSWORD):
        assert secret not in everything


class _AuditDown(Exception):
    pass


def test_a_site_change_and_its_audit_entry_commit_together(
    admin: AdminService, org_a: Org, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the audit entry cannot be written, the site change it records is rolled back:
    no site created, changed, rotated or deleted without its entry (a retry then does not
    make a duplicate)."""
    owner = org_a.owner
    made = admin.create_site(owner, name="Shop", domains=("example.com",), difficulty=CHEAP)
    sitekey, before = made.site.sitekey, admin.get_site(owner, made.site.sitekey)
    entries = len(admin.audit_log(owner))

    def failing_insert(*_args: object, **_kwargs: object) -> None:
        raise _AuditDown

    monkeypatch.setattr(admin.audit, "record", failing_insert)
    attempts: list[Callable[[], object]] = [
        lambda: admin.create_site(owner, name="Twice", domains=("example.com",)),
        lambda: admin.update_site(owner, sitekey, SiteChanges(name="Renamed")),
        lambda: admin.rotate_secret(owner, sitekey, 60),
        lambda: admin.delete_site(owner, sitekey),
    ]
    for attempt in attempts:
        with pytest.raises(_AuditDown):
            attempt()
    monkeypatch.undo()
    assert [s.sitekey for s in admin.list_sites(owner)] == [sitekey]
    assert admin.get_site(owner, sitekey) == before  # same name, same secrets
    assert len(admin.audit_log(owner)) == entries


def test_member_and_token_changes_commit_with_their_audit_entries(
    admin: AdminService, org_a: Org, call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the audit entry cannot be written, the member, invitation, token or password
    change it records is rolled back too (the API's 503 promises that)."""
    owner = org_a.owner
    member = org_a.member("kept@a.test", Role.ADMIN)
    assert member.user_id is not None
    token, value = admin.create_api_token(member, "kept", frozenset(Scope), None)
    invitation = admin.invite(owner, "invited@x.test", Role.VIEWER)
    [pending] = admin.invitations(owner)
    entries = len(admin.audit_log(owner))

    def failing_insert(*_args: object, **_kwargs: object) -> None:
        raise _AuditDown

    monkeypatch.setattr(admin.audit, "record", failing_insert)
    attempts: list[Callable[[], object]] = [
        lambda: admin.create_api_token(owner, "new", frozenset(Scope), None),
        lambda: admin.revoke_api_token(owner, token.id),
        lambda: call(admin.add_member, owner, "new@a.test", Role.VIEWER, PASSWORD),
        lambda: admin.invite(owner, "other@x.test", Role.VIEWER),
        lambda: admin.revoke_invitation(owner, pending.id),
        lambda: admin.set_role(owner, member.user_id, Role.VIEWER),
        lambda: admin.remove_member(owner, member.user_id),
        lambda: call(admin.change_password, member, PASSWORD, "a brand new password"),
    ]
    for attempt in attempts:
        with pytest.raises(_AuditDown):
            attempt()
    monkeypatch.undo()
    assert [t.name for t in admin.api_tokens(owner)] == ["kept"]
    assert admin.token_actor(value, "") is not None
    assert [(m.email, m.role) for m in admin.members(owner)] == [
        ("owner@a.test", Role.OWNER),
        ("kept@a.test", Role.ADMIN),
    ]
    assert admin.accounts.user_by_email("new@a.test") is None
    assert [i.email for i in admin.invitations(owner)] == ["invited@x.test"]
    assert admin.invitation(invitation.token) is not None
    login_actor(admin, call, "kept@a.test")  # the old password still works
    assert len(admin.audit_log(owner)) == entries + 1  # that login


def test_audit_log_is_per_org_and_pages(admin: AdminService, org_a: Org, org_b: Org) -> None:
    """Each organization sees only its entries; before_id pages back; viewers may read."""
    made = {new_site(admin, org_a.owner, name) for name in ("one", "two", "three")}
    seen_by_b = admin.audit_log(org_b.owner)
    assert {(e.actor, e.action) for e in seen_by_b} == {
        ("cli", "user.create"),
        ("user:owner@b.test", "login"),
    }
    assert not made & {e.target for e in seen_by_b}
    first = admin.audit_log(org_a.owner, limit=2)
    second = admin.audit_log(org_a.owner, limit=2, before_id=first[-1].id)
    assert len(first) == 2 and second and second[0].id < first[-1].id
    viewer = org_a.member("v@a.test", Role.VIEWER)
    assert admin.audit_log(viewer)[0].action == "login"


# -- first-run setup and the CLI actor -------------------------------------------------


def test_first_owner_adopts_unassigned_sites_and_setup_closes(
    admin: AdminService, call: Call, services: Services, clock: FakeClock
) -> None:
    """Sites made before any account join the first owner's org; a second setup is refused."""
    early = make_site(services.registry, clock.now_ms()).site.sitekey
    by_cli = new_site(admin, cli_actor(), "From CLI")
    assert admin.needs_setup()
    grant = call(admin.create_first_owner, "Boss@Example.com", PASSWORD, "Acme", "192.0.2.1")
    assert (grant.user.email, grant.org.name, grant.role) == (
        "boss@example.com",
        "Acme",
        Role.OWNER,
    )
    assert not admin.needs_setup()
    found = admin.session_actor(grant.token, "192.0.2.1")
    assert found is not None
    owner = found[1]
    assert {s.sitekey for s in admin.list_sites(owner)} == {early, by_cli}
    # The CLI's entry about the adopted site now belongs to the organization too.
    assert ("cli", "site.create", by_cli) in [
        (e.actor, e.action, e.target) for e in admin.audit_log(owner)
    ]
    with pytest.raises(Conflict):
        call(admin.create_first_owner, "other@example.com", PASSWORD, "Evil", "192.0.2.2")
    later = new_site(admin, cli_actor(), "Later")
    assert later not in {s.sitekey for s in admin.list_sites(owner)}


def test_an_organizations_first_owner_adopts_unassigned_sites(
    admin: AdminService, call: Call
) -> None:
    """A viewer made first adopts nothing; the owner who comes later does, and only an
    organization's first owner: a second one leaves newer unassigned sites alone."""
    legacy = new_site(admin, cli_actor(), "Legacy")
    call(admin.create_user, "viewer@x.test", PASSWORD, None, Role.VIEWER)
    assert admin.registry.get_site(legacy).org_id is None
    _, org = call(admin.create_user, "owner@x.test", PASSWORD, None, Role.OWNER)
    assert admin.registry.get_site(legacy).org_id == org.id
    owner = login_actor(admin, call, "owner@x.test")
    assert [s.name for s in admin.list_sites(owner)] == ["Legacy"]
    adopted = next(e for e in admin.audit_log(owner) if e.action == "user.create")
    assert adopted.detail["adopted_sites"] == [legacy]
    later = new_site(admin, cli_actor(), "Later")
    call(admin.create_user, "second@x.test", PASSWORD, None, Role.OWNER)
    assert admin.registry.get_site(later).org_id is None


def test_cli_actor_acts_on_every_site(admin: AdminService, org_a: Org, org_b: Org) -> None:
    """The CLI's actor reads, edits, rotates and deletes any organization's site."""
    a, b = new_site(admin, org_a.owner), new_site(admin, org_b.owner)
    cli = cli_actor()
    assert admin.update_site(cli, a, SiteChanges(name="Renamed")).name == "Renamed"
    admin.rotate_secret(cli, b, 0)
    admin.delete_site(cli, b)
    assert [s.sitekey for s in admin.list_sites(cli)] == [a]
    assert any(e.actor == "cli" and e.action == "site.update" for e in admin.audit_log(org_a.owner))


# -- the event loop --------------------------------------------------------------------


def test_login_keeps_the_event_loop_free_while_the_registry_is_locked(
    admin: AdminService, org_a: Org, call: Call, settings: Settings
) -> None:
    """With the registry locked by another process for a second, a login waits for the
    lock in a worker thread: other tasks on the loop never stall for more than 0.3 s."""

    async def login_beside_a_ticker() -> float:
        gaps: list[float] = []

        async def tick() -> None:
            last = time.monotonic()
            for _ in range(30):
                await anyio.sleep(0.05)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(tick)
            await anyio.sleep(0.1)
            await admin.login("owner@a.test", PASSWORD, "192.0.2.1")
        return max(gaps)

    locker = sqlite3.connect(settings.registry_path, isolation_level=None, check_same_thread=False)
    locker.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(1.0, lambda: locker.execute("ROLLBACK"))
    release.start()
    started = time.monotonic()
    try:
        longest = call(login_beside_a_ticker)
    finally:
        release.join()
        locker.close()
    assert time.monotonic() - started >= 1.0  # the login did wait for the lock
    assert longest < 0.3


# -- analytics -------------------------------------------------------------------------


@pytest.mark.parametrize(("span", "points"), [(Span.HOUR, 60), (Span.DAY, 24), (Span.MONTH, 30)])
def test_analytics_reads_the_orgs_counters(
    admin: AdminService, org_a: Org, span: Span, points: int
) -> None:
    """Analytics for a site or the whole org come back with one point per bucket."""
    sitekey = new_site(admin, org_a.owner)
    for key in (sitekey, None):
        shown = admin.analytics(org_a.owner, key, span)
        assert shown.span is span
        assert len(shown.points) == points
        assert shown.totals.challenges == 0


def test_analytics_needs_its_scope(admin: AdminService, org_a: Org) -> None:
    """A token without analytics:read cannot read analytics."""
    _, value = admin.create_api_token(org_a.owner, "r", frozenset({Scope.SITES_READ}), None)
    actor = admin.token_actor(value, "")
    assert actor is not None
    with pytest.raises(Forbidden):
        admin.analytics(actor, None, Span.DAY)
