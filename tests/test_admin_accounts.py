"""Accounts through the admin service: passwords, login and its throttling, sessions,
members, roles and invitations, on the real registry and ephemeral store."""

# The fixtures imported from tests/admin_support.py are parameters of the tests below.
# ruff: noqa: F811

import re
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, update

from authkong.admin import passwords
from authkong.admin.model import (
    READ_SCOPES,
    Actor,
    BadCredentials,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Role,
    Scope,
    Throttled,
    Unauthenticated,
)
from authkong.admin.service import AdminService
from authkong.api.services import Services
from authkong.config import Settings
from authkong.domain.clock import FakeClock
from authkong.storage.tables import sessions, users
from tests.admin_support import PASSWORD, Org, admin, call, login_actor, org_a  # noqa: F401
from tests.test_admin_service import db_bytes

Call = Callable[..., Any]
_PHC = re.compile(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$")


def stored_hash(services: Services, email: str) -> str:
    with services.registry.engine.connect() as conn:
        found: str = conn.execute(
            select(users.c.password_hash).where(users.c.email == email)
        ).scalar_one()
    return found


# -- passwords -------------------------------------------------------------------------


def test_password_hash_is_argon2id_at_owasp_parameters(org_a: Org, services: Services) -> None:
    """The stored PHC string says Argon2id with m >= 19456 KiB, t >= 2, p >= 1."""
    match = _PHC.match(stored_hash(services, "owner@a.test"))
    assert match is not None
    memory, time, lanes = (int(g) for g in match.groups())
    assert memory >= 19_456 and time >= 2 and lanes >= 1
    assert PASSWORD not in stored_hash(services, "owner@a.test")


def test_weaker_hash_is_upgraded_at_login(
    admin: AdminService, call: Call, org_a: Org, services: Services
) -> None:
    """A hash made with weaker parameters still logs in, and is replaced by today's."""
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with services.registry.engine.begin() as conn:
        conn.execute(
            update(users).where(users.c.email == "owner@a.test").values(password_hash=weak)
        )
    call(admin.login, "owner@a.test", PASSWORD, "192.0.2.1")
    match = _PHC.match(stored_hash(services, "owner@a.test"))
    assert match is not None and int(match.group(1)) == passwords.MEMORY_KIB


def test_unknown_account_verifies_against_a_dummy_hash() -> None:
    """With no stored hash the password is still checked (against a dummy), never accepted."""
    assert passwords.verify_password_sync(None, "") == passwords.Checked(ok=False)
    assert passwords.verify_password_sync(None, PASSWORD) == passwords.Checked(ok=False)
    real = passwords.hash_password_sync(PASSWORD)
    assert passwords.verify_password_sync(real, PASSWORD).ok
    assert not passwords.verify_password_sync("not a hash", PASSWORD).ok


@pytest.mark.parametrize("bad", ["short", "", "x" * 1025])
def test_new_passwords_need_a_sensible_length(admin: AdminService, call: Call, bad: str) -> None:
    """Setup refuses a password under 8 or over 1024 characters, naming the field."""
    with pytest.raises(Invalid) as raised:
        call(admin.create_first_owner, "a@example.com", bad, "Org", "192.0.2.1")
    assert raised.value.field == "password"
    assert admin.needs_setup()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "no-at-sign",
        "a@b@c",
        "a b@example.com",
        "a@-bad-.com",
        "ann\x00@example.com",  # control characters (Cc)
        "ann\x1b[31m@example.com",
        "ann\x7f@example.com",
        "ann\u200b@example.com",  # format characters (Cf): zero-width space, RTL override
        "ann\u202emoc.liam@example.com",
        "\ufeffann@example.com",
    ],
)
def test_emails_are_validated(admin: AdminService, call: Call, bad: str) -> None:
    """A malformed email, or one hiding control or format characters, is
    Invalid(field="email")."""
    with pytest.raises(Invalid) as raised:
        call(admin.create_first_owner, bad, PASSWORD, "Org", "192.0.2.1")
    assert raised.value.field == "email"


# -- login -----------------------------------------------------------------------------


def test_login_normalises_email_and_starts_a_session(
    admin: AdminService, call: Call, org_a: Org, services: Services, settings: Settings
) -> None:
    """Login with the email in any case gives a session; only its digest is stored."""
    grant = call(admin.login, "  OWNER@A.test ", PASSWORD, "192.0.2.3")
    assert (grant.user.email, grant.org.name, grant.role) == ("owner@a.test", "Org A", Role.OWNER)
    found = admin.session_actor(grant.token, "192.0.2.3")
    assert found is not None
    user, actor = found
    assert (user.email, actor.label, actor.role) == (
        "owner@a.test",
        "user:owner@a.test",
        Role.OWNER,
    )
    assert actor.scopes == frozenset(Scope)
    assert grant.token.encode() not in db_bytes(settings)
    assert grant.token not in repr(grant)


def test_wrong_password_and_unknown_email_fail_alike(
    admin: AdminService, call: Call, org_a: Org
) -> None:
    """A wrong password, an unknown email and a malformed one all raise the same error."""
    errors = []
    for email, password in (
        ("owner@a.test", "wrong password"),
        ("nobody@a.test", PASSWORD),
        ("not an email", PASSWORD),
    ):
        with pytest.raises(BadCredentials) as raised:
            call(admin.login, email, password, "192.0.2.4")
        errors.append((type(raised.value), raised.value.code, raised.value.message))
    assert len(set(errors)) == 1
    failed = [e for e in admin.audit_log(org_a.owner) if e.action == "login.failed"]
    assert [(e.target, e.ip) for e in failed] == [("owner@a.test", "192.0.2.4")]
    assert "wrong password" not in repr(failed)


def test_login_throttles_per_account_and_address_and_releases(
    admin: AdminService, call: Call, org_a: Org, clock: FakeClock
) -> None:
    """Five tries at one account from one address (an IPv6 /64 is one), then one a minute,
    as Retry-After says; the owner at another address and other accounts go on."""
    call(admin.add_member, org_a.owner, "ann@a.test", Role.ADMIN, PASSWORD)
    for i in range(5):
        with pytest.raises(BadCredentials):
            call(admin.login, "ann@a.test", "wrong password", f"2001:db8::{i + 1}")
    with pytest.raises(Throttled) as raised:
        call(admin.login, "ann@a.test", PASSWORD, "2001:db8::ffff")
    assert raised.value.retry_after_s == 60
    assert raised.value.status == 429
    call(admin.login, "ann@a.test", PASSWORD, "2001:db8:1::1")  # another /64: the owner
    with pytest.raises(BadCredentials):  # another account from the guesser's address
        call(admin.login, "someone@a.test", "x", "2001:db8::ffff")
    clock.advance(59)
    with pytest.raises(Throttled) as raised:
        call(admin.login, "ann@a.test", PASSWORD, "2001:db8::ffff")
    assert raised.value.retry_after_s == 1
    clock.advance(1)
    call(admin.login, "ann@a.test", PASSWORD, "2001:db8::ffff")


def test_a_guesser_at_its_limit_cannot_lock_the_owner_out(
    admin: AdminService, call: Call, org_a: Org, clock: FakeClock
) -> None:
    """One address trying as often as it may never holds up the owner elsewhere."""
    call(admin.add_member, org_a.owner, "ann@a.test", Role.ADMIN, PASSWORD)
    for _ in range(10):
        for _ in range(2):  # once at its limit, the second is refused and counts nowhere
            with pytest.raises((BadCredentials, Throttled)):
                call(admin.login, "ann@a.test", "guess", "198.51.100.66")
        call(admin.login, "ann@a.test", PASSWORD, "203.0.113.10")
        clock.advance(60)


def test_login_throttles_one_account_across_addresses(
    admin: AdminService, call: Call, org_a: Org, clock: FakeClock
) -> None:
    """Fifty tries at one account from as many addresses, then ten a minute from anywhere."""
    call(admin.add_member, org_a.owner, "ann@a.test", Role.ADMIN, PASSWORD)
    for i in range(50):
        with pytest.raises(BadCredentials):
            call(admin.login, "ann@a.test", "guess", f"198.51.100.{i}")
    with pytest.raises(Throttled) as raised:
        call(admin.login, "ann@a.test", PASSWORD, "203.0.113.10")
    assert raised.value.retry_after_s == 6
    call(admin.login, "owner@a.test", PASSWORD, "198.51.100.1")  # another account
    clock.advance(6)
    call(admin.login, "ann@a.test", PASSWORD, "203.0.113.10")


def test_unknown_accounts_are_throttled_too(admin: AdminService, call: Call) -> None:
    """An email nobody has is throttled like a real one, from one address and from many:
    the limits reveal nothing."""
    for _ in range(5):
        with pytest.raises(BadCredentials):
            call(admin.login, "ghost@example.com", "guess", "198.51.100.1")
    with pytest.raises(Throttled):
        call(admin.login, "Ghost@Example.com", "guess", "198.51.100.1")
    for i in range(2, 47):  # 45 more addresses: 50 counted (the refused one took nothing)
        with pytest.raises(BadCredentials):
            call(admin.login, "ghost@example.com", "guess", f"198.51.100.{i}")
    with pytest.raises(Throttled):
        call(admin.login, "ghost@example.com", "guess", "198.51.100.99")


def test_login_throttles_per_ip_and_releases(
    admin: AdminService, call: Call, org_a: Org, clock: FakeClock
) -> None:
    """Twenty tries from one IP at many accounts, then ten a minute; an IPv6 /64 is one IP."""
    for i in range(20):
        with pytest.raises(BadCredentials):
            call(admin.login, f"user{i}@a.test", "guess", f"2001:db8::{i + 1}")
    with pytest.raises(Throttled) as raised:
        call(admin.login, "owner@a.test", PASSWORD, "2001:db8::ffff")
    assert raised.value.retry_after_s == 6
    call(admin.login, "owner@a.test", PASSWORD, "2001:db8:1::1")  # another /64
    clock.advance(6)
    call(admin.login, "owner@a.test", PASSWORD, "2001:db8::ffff")


# -- sessions --------------------------------------------------------------------------


def test_session_idles_out_and_use_extends_it(
    admin: AdminService, call: Call, org_a: Org, clock: FakeClock
) -> None:
    """A session lives 12 h from its last use (recorded every 5 minutes at most)."""
    grant = call(admin.login, "owner@a.test", PASSWORD, "192.0.2.5")
    clock.advance(11 * 3600)
    assert admin.session_actor(grant.token, "") is not None  # refreshes seen and expiry
    clock.advance(11 * 3600)
    assert admin.session_actor(grant.token, "") is not None
    clock.advance(12 * 3600)
    assert admin.session_actor(grant.token, "") is None


def test_session_writes_are_rare(
    admin: AdminService, call: Call, org_a: Org, clock: FakeClock, services: Services
) -> None:
    """Using a session within five minutes of its last recorded use writes nothing."""
    grant = call(admin.login, "owner@a.test", PASSWORD, "192.0.2.5")
    start = clock.now_ms()
    clock.advance(240)
    admin.session_actor(grant.token, "")
    with services.registry.engine.connect() as conn:
        assert set(conn.execute(select(sessions.c.seen_ms)).scalars()) == {start}


def test_logout_ends_the_session(admin: AdminService, call: Call, org_a: Org) -> None:
    """After logout the cookie value is no session; the audit log says who left."""
    grant = call(admin.login, "owner@a.test", PASSWORD, "192.0.2.6")
    admin.logout(grant.token)
    assert admin.session_actor(grant.token, "") is None
    assert admin.audit_log(org_a.owner)[0].action == "logout"
    admin.logout(grant.token)  # twice is harmless
    assert admin.session_actor("made-up", "") is None


def test_change_password_ends_other_sessions(
    admin: AdminService, call: Call, org_a: Org, clock: FakeClock
) -> None:
    """The new password works, the old one not, and only the asking session survives."""
    here = call(admin.login, "owner@a.test", PASSWORD, "192.0.2.7")
    elsewhere = call(admin.login, "owner@a.test", PASSWORD, "192.0.2.8")
    found = admin.session_actor(here.token, "192.0.2.7")
    assert found is not None
    actor = found[1]
    with pytest.raises(Invalid) as raised:
        call(admin.change_password, actor, "not it", "a new password")
    assert raised.value.field == "current_password"
    with pytest.raises(Invalid) as raised:
        call(admin.change_password, actor, PASSWORD, "short")
    assert raised.value.field == "new_password"
    call(partial(admin.change_password, keep_session=here.token), actor, PASSWORD, "new password!")
    clock.advance(120)  # the account's login bucket was spent by the steps above
    assert admin.session_actor(here.token, "") is not None
    assert admin.session_actor(elsewhere.token, "") is None
    with pytest.raises(BadCredentials):
        call(admin.login, "owner@a.test", PASSWORD, "192.0.2.9")
    call(admin.login, "owner@a.test", "new password!", "192.0.2.9")
    assert any(e.action == "password.change" for e in admin.audit_log(org_a.owner))


def test_api_token_has_no_password(admin: AdminService, call: Call, org_a: Org) -> None:
    """An API token's actor cannot change a password (it has none)."""
    _, value = admin.create_api_token(org_a.owner, "t", frozenset(Scope), None)
    actor = admin.token_actor(value, "")
    assert actor is not None
    with pytest.raises(Forbidden):
        call(admin.change_password, actor, PASSWORD, "whatever else")


# -- members and roles -----------------------------------------------------------------


def test_add_member_existing_or_new(admin: AdminService, call: Call, org_a: Org) -> None:
    """A new user needs a password; an existing one joins by email; twice is Conflict."""
    owner = org_a.owner
    with pytest.raises(Invalid) as raised:
        call(admin.add_member, owner, "new@a.test", Role.VIEWER, None)
    assert raised.value.field == "password"
    added = call(admin.add_member, owner, "New@A.test", Role.VIEWER, PASSWORD)
    assert (added.email, added.role) == ("new@a.test", Role.VIEWER)
    with pytest.raises(Conflict):
        call(admin.add_member, owner, "new@a.test", Role.ADMIN, None)
    emails = [(m.email, m.role) for m in admin.members(owner)]
    assert emails == [("owner@a.test", Role.OWNER), ("new@a.test", Role.VIEWER)]


def test_only_owners_make_owners(admin: AdminService, call: Call, org_a: Org) -> None:
    """An admin manages admins and viewers but cannot make, demote or remove an owner."""
    boss = org_a.member("admin@a.test", Role.ADMIN)
    viewer = org_a.member("viewer@a.test", Role.VIEWER)
    viewer_id = viewer.user_id
    assert viewer_id is not None and org_a.owner.user_id is not None
    assert admin.set_role(boss, viewer_id, Role.ADMIN).role is Role.ADMIN
    with pytest.raises(Forbidden):
        admin.set_role(boss, viewer_id, Role.OWNER)
    with pytest.raises(Forbidden):
        admin.set_role(boss, org_a.owner.user_id, Role.ADMIN)
    with pytest.raises(Forbidden):
        admin.remove_member(boss, org_a.owner.user_id)
    with pytest.raises(Forbidden):
        admin.invite(boss, "x@a.test", Role.OWNER)
    with pytest.raises(Forbidden):
        call(admin.add_member, boss, "y@a.test", Role.OWNER, PASSWORD)
    assert admin.set_role(org_a.owner, viewer_id, Role.OWNER).role is Role.OWNER
    # Roles are read on every request: the promoted member's session has the new role.
    found = admin.session_actor(
        call(admin.login, "viewer@a.test", PASSWORD, "192.0.2.10").token, ""
    )
    assert found is not None and found[1].role is Role.OWNER


def test_viewer_cannot_manage_members(admin: AdminService, call: Call, org_a: Org) -> None:
    """A viewer lists members but cannot invite, add, change or remove anyone."""
    viewer = org_a.member("viewer@a.test", Role.VIEWER)
    assert len(admin.members(viewer)) == 2
    assert org_a.owner.user_id is not None
    with pytest.raises(Forbidden):
        admin.invite(viewer, "x@a.test", Role.VIEWER)
    with pytest.raises(Forbidden):
        admin.set_role(viewer, org_a.owner.user_id, Role.VIEWER)
    with pytest.raises(Forbidden):
        admin.remove_member(viewer, org_a.owner.user_id)
    with pytest.raises(Forbidden):
        admin.api_tokens(viewer)


def test_last_owner_stays(admin: AdminService, call: Call, org_a: Org) -> None:
    """The last owner can be neither demoted nor removed; with a second owner, they can."""
    owner_id = org_a.owner.user_id
    assert owner_id is not None
    with pytest.raises(Conflict):
        admin.set_role(org_a.owner, owner_id, Role.ADMIN)
    with pytest.raises(Conflict):
        admin.remove_member(org_a.owner, owner_id)
    assert admin.members(org_a.owner)[0].role is Role.OWNER
    second = org_a.member("second@a.test", Role.OWNER)
    assert admin.set_role(second, owner_id, Role.ADMIN).role is Role.ADMIN
    assert second.user_id is not None
    with pytest.raises(Conflict):
        admin.remove_member(second, second.user_id)


def test_removed_member_loses_access(admin: AdminService, call: Call, org_a: Org) -> None:
    """Removing a member ends their sessions and logs it; they cannot log in to the org."""
    grant = call(admin.add_member, org_a.owner, "gone@a.test", Role.ADMIN, PASSWORD)
    session = call(admin.login, "gone@a.test", PASSWORD, "192.0.2.11")
    admin.remove_member(org_a.owner, grant.user_id)
    assert admin.session_actor(session.token, "") is None
    with pytest.raises(Forbidden):
        call(admin.login, "gone@a.test", PASSWORD, "192.0.2.11")
    with pytest.raises(NotFound):
        admin.remove_member(org_a.owner, grant.user_id)
    actions = [(e.action, e.target) for e in admin.audit_log(org_a.owner)]
    assert ("member.remove", "gone@a.test") in actions


def test_members_of_other_orgs_are_not_found(admin: AdminService, call: Call, org_a: Org) -> None:
    """Changing the role of a user id outside the organization is NotFound."""
    call(admin.create_user, "owner@b.test", PASSWORD, "Org B", Role.OWNER)
    outsider = login_actor(admin, call, "owner@b.test", ip="192.0.2.12")
    assert outsider.user_id is not None
    with pytest.raises(NotFound):
        admin.set_role(org_a.owner, outsider.user_id, Role.VIEWER)
    assert [m.email for m in admin.members(outsider)] == ["owner@b.test"]


# -- invitations -----------------------------------------------------------------------


def test_invitation_is_single_use(admin: AdminService, call: Call, org_a: Org) -> None:
    """An invitation makes the account and its session once; the link then stops working."""
    invitation = admin.invite(org_a.owner, "Guest@A.test", Role.VIEWER)
    assert invitation.email == "guest@a.test"
    assert admin.invitation(invitation.token) == ("guest@a.test", Role.VIEWER)
    grant = call(admin.accept_invitation, invitation.token, PASSWORD, "192.0.2.13")
    assert (grant.user.email, grant.org.name, grant.role) == ("guest@a.test", "Org A", Role.VIEWER)
    assert admin.session_actor(grant.token, "") is not None
    with pytest.raises(NotFound):
        call(admin.accept_invitation, invitation.token, PASSWORD, "192.0.2.13")
    assert admin.invitation(invitation.token) is None
    actions = [(e.actor, e.action) for e in admin.audit_log(org_a.owner)]
    assert ("user:guest@a.test", "member.join") in actions
    assert ("user:owner@a.test", "member.invite") in actions


def test_invitation_expires(admin: AdminService, call: Call, org_a: Org, clock: FakeClock) -> None:
    """An invitation not taken within seven days no longer works."""
    invitation = admin.invite(org_a.owner, "late@a.test", Role.VIEWER)
    assert invitation.expires_ms == clock.now_ms() + 7 * 86_400_000
    clock.advance(7 * 86_400)
    with pytest.raises(NotFound):
        call(admin.accept_invitation, invitation.token, PASSWORD, "192.0.2.14")
    with pytest.raises(NotFound):
        call(admin.accept_invitation, "made-up", PASSWORD, "192.0.2.14")


def test_invitation_for_an_existing_account_is_joined_logged_in(
    admin: AdminService, call: Call, org_a: Org, clock: FakeClock
) -> None:
    """An existing account joins only from its own session; the link and a password never do."""
    call(admin.create_user, "owner@b.test", PASSWORD, "Org B", Role.OWNER)
    invitation = admin.invite(org_a.owner, "owner@b.test", Role.ADMIN)
    for password in (PASSWORD, "someone else's pass"):
        with pytest.raises(Conflict):
            call(admin.accept_invitation, invitation.token, password, "192.0.2.15")
    with pytest.raises(Unauthenticated):
        admin.join_invitation(invitation.token, "", "192.0.2.15")
    stranger = call(admin.login, "owner@a.test", PASSWORD, "192.0.2.15")
    with pytest.raises(Forbidden):
        admin.join_invitation(invitation.token, stranger.token, "192.0.2.15")
    grant = call(admin.login, "owner@b.test", PASSWORD, "192.0.2.15")
    clock.advance(60)
    joined = admin.join_invitation(invitation.token, grant.token, "192.0.2.15")
    assert joined.name == "Org A"
    found = admin.session_actor(grant.token, "")
    assert found is not None and found[1].role is Role.ADMIN  # the session moved to Org A
    orgs = [(o.name, r) for o, r in admin.organizations_of(grant.user.id)]
    assert orgs == [("Org B", Role.OWNER), ("Org A", Role.ADMIN)]  # the order joined in
    with pytest.raises(NotFound):
        admin.join_invitation(invitation.token, grant.token, "192.0.2.15")
    with pytest.raises(Conflict):
        admin.invite(org_a.owner, "owner@b.test", Role.VIEWER)


def test_invitation_answers_alike_whether_or_not_the_email_has_an_account(
    admin: AdminService, call: Call, org_a: Org
) -> None:
    """A weak password gets the same invalid_input for a known and an unknown email (no probe)."""
    call(admin.create_user, "owner@b.test", PASSWORD, "Org B", Role.OWNER)
    known = admin.invite(org_a.owner, "owner@b.test", Role.VIEWER)
    new = admin.invite(org_a.owner, "nobody@x.test", Role.VIEWER)
    answers = []
    for invitation in (known, new):
        with pytest.raises(Invalid) as caught:
            call(admin.accept_invitation, invitation.token, "x", "9.9.9.9")
        answers.append((caught.value.status, caught.value.message, caught.value.field))
    assert answers[0] == answers[1]


def _scoped(admin: AdminService, org: Org, *scopes: Scope) -> Actor:
    _, value = admin.create_api_token(org.owner, "scoped", frozenset(scopes), None)
    actor = admin.token_actor(value, "192.0.2.30")
    assert actor is not None
    return actor


def test_members_write_cannot_grant_a_role_beyond_its_own_scopes(
    admin: AdminService, call: Call, org_a: Org
) -> None:
    """A members:write token cannot make, invite, promote, demote or remove an admin."""
    weak = _scoped(admin, org_a, Scope.MEMBERS_WRITE, *READ_SCOPES)
    for role in (Role.ADMIN, Role.OWNER):
        with pytest.raises(Forbidden):
            call(admin.add_member, weak, "mallory@evil.test", role, PASSWORD)
        with pytest.raises(Forbidden):
            admin.invite(weak, "mallory@evil.test", role)
    assert admin.invitations(org_a.owner) == []
    viewer = call(admin.add_member, weak, "v@a.test", Role.VIEWER, PASSWORD)  # within its scopes
    with pytest.raises(Forbidden):
        admin.set_role(weak, viewer.user_id, Role.ADMIN)
    boss = call(admin.add_member, org_a.owner, "boss@a.test", Role.ADMIN, PASSWORD)
    with pytest.raises(Forbidden):
        admin.set_role(weak, boss.user_id, Role.VIEWER)
    with pytest.raises(Forbidden):
        admin.remove_member(weak, boss.user_id)
    bare = _scoped(admin, org_a, Scope.MEMBERS_WRITE)
    with pytest.raises(Forbidden):  # even a viewer holds read scopes this token lacks
        call(admin.add_member, bare, "v2@a.test", Role.VIEWER, PASSWORD)
    roles = {m.email: m.role for m in admin.members(org_a.owner)}
    assert roles == {"owner@a.test": Role.OWNER, "v@a.test": Role.VIEWER, "boss@a.test": Role.ADMIN}


def test_add_member_makes_new_accounts_only(admin: AdminService, call: Call, org_a: Org) -> None:
    """An email with an account anywhere is Conflict, and its owner's login stays in their org."""
    call(admin.create_user, "victim@b.test", PASSWORD, "Org B", Role.OWNER)
    with pytest.raises(Conflict) as caught:
        call(admin.add_member, org_a.owner, "victim@b.test", Role.VIEWER, None)
    assert "invitation" in caught.value.message
    with pytest.raises(Invalid):  # a new email still needs a password
        call(admin.add_member, org_a.owner, "nobody@x.test", Role.VIEWER, None)
    assert [m.email for m in admin.members(org_a.owner)] == ["owner@a.test"]
    grant = call(admin.login, "victim@b.test", PASSWORD, "192.0.2.31")
    assert (grant.org.name, grant.role) == ("Org B", Role.OWNER)


def test_login_opens_the_last_used_org_and_switching_is_audited(
    admin: AdminService, call: Call, org_a: Org, clock: FakeClock
) -> None:
    """A member of two orgs lands in the one joined first, then where they last worked."""
    call(admin.create_user, "owner@b.test", PASSWORD, "Org B", Role.OWNER)
    invitation = admin.invite(org_a.owner, "owner@b.test", Role.VIEWER)
    first = call(admin.login, "owner@b.test", PASSWORD, "192.0.2.32")
    assert first.org.name == "Org B"
    clock.advance(60)
    a_id = admin.join_invitation(invitation.token, first.token, "192.0.2.32").id
    admin.logout(first.token)
    grant = call(admin.login, "owner@b.test", PASSWORD, "192.0.2.32")
    assert (grant.org.id, grant.role) == (a_id, Role.VIEWER)
    assert admin.switch_org(grant.token, first.org.id, "192.0.2.33").name == "Org B"
    found = admin.session_actor(grant.token, "")
    assert found is not None and (found[1].org_id, found[1].role) == (first.org.id, Role.OWNER)
    assert call(admin.login, "owner@b.test", PASSWORD, "192.0.2.32").org.name == "Org B"
    with pytest.raises(NotFound):
        admin.switch_org(grant.token, a_id + 1000, "192.0.2.33")
    with pytest.raises(Unauthenticated):
        admin.switch_org("forged", a_id, "192.0.2.33")
    assert admin.switch_org(grant.token, a_id, "192.0.2.34").name == "Org A"
    entries = [(e.action, e.target, e.ip) for e in admin.audit_log(org_a.owner)]
    assert ("org.switch", "Org A", "192.0.2.34") in entries


# -- listing and revoking invitations --------------------------------------------------


def test_invitations_are_listed_and_revoked(
    admin: AdminService, call: Call, org_a: Org, clock: FakeClock
) -> None:
    """Pending, unexpired invitations are listed; a revoked one's link stops working."""
    old = admin.invite(org_a.owner, "old@a.test", Role.VIEWER)
    clock.advance(7 * 86_400)
    pending = admin.invite(org_a.owner, "new@a.test", Role.ADMIN)
    used = admin.invite(org_a.owner, "used@a.test", Role.VIEWER)
    call(admin.accept_invitation, used.token, PASSWORD, "192.0.2.40")
    listed = admin.invitations(org_a.owner)
    assert [(i.email, i.role, i.invited_by) for i in listed] == [
        ("new@a.test", Role.ADMIN, "owner@a.test")
    ]
    viewer = login_actor(admin, call, "used@a.test")
    assert admin.invitations(viewer) == listed  # members:read
    with pytest.raises(Forbidden):
        admin.revoke_invitation(viewer, listed[0].id)
    admin.revoke_invitation(org_a.owner, listed[0].id)
    with pytest.raises(NotFound):
        call(admin.accept_invitation, pending.token, PASSWORD, "192.0.2.40")
    with pytest.raises(NotFound):
        admin.revoke_invitation(org_a.owner, listed[0].id)
    assert admin.invitation(old.token) is None and admin.invitations(org_a.owner) == []
    entries = [(e.action, e.target) for e in admin.audit_log(org_a.owner)]
    assert ("invitation.revoke", "new@a.test") in entries


def test_other_orgs_invitations_are_not_found(admin: AdminService, call: Call, org_a: Org) -> None:
    """Another organization's invitation id cannot be listed or revoked."""
    call(admin.create_user, "owner@b.test", PASSWORD, "Org B", Role.OWNER)
    outsider = login_actor(admin, call, "owner@b.test", ip="192.0.2.41")
    admin.invite(org_a.owner, "x@a.test", Role.VIEWER)
    theirs = admin.invitations(org_a.owner)[0]
    assert admin.invitations(outsider) == []
    with pytest.raises(NotFound):
        admin.revoke_invitation(outsider, theirs.id)
    assert admin.invitations(org_a.owner) == [theirs]


@pytest.mark.parametrize("how", ["remove", "demote"])
def test_removing_or_demoting_an_inviter_revokes_their_invitations(
    admin: AdminService, call: Call, org_a: Org, how: str
) -> None:
    """A removed or demoted admin's pending invitations stop working; others' stay."""
    rogue = org_a.member("rogue@a.test", Role.ADMIN)
    assert rogue.user_id is not None
    theirs = admin.invite(rogue, "rogue2@x.test", Role.ADMIN)
    kept = admin.invite(org_a.owner, "friend@x.test", Role.VIEWER)
    if how == "remove":
        admin.remove_member(org_a.owner, rogue.user_id)
    else:
        admin.set_role(org_a.owner, rogue.user_id, Role.VIEWER)
    with pytest.raises(NotFound):
        call(admin.accept_invitation, theirs.token, PASSWORD, "192.0.2.42")
    assert [i.email for i in admin.invitations(org_a.owner)] == ["friend@x.test"]
    assert call(admin.accept_invitation, kept.token, PASSWORD, "192.0.2.42").role is Role.VIEWER
    detail = next(e.detail for e in admin.audit_log(org_a.owner) if e.target == "rogue@a.test")
    assert detail["revoked_invitations"] == 1


def test_acceptance_rechecks_that_the_inviter_may_still_grant_the_role(
    admin: AdminService, call: Call, org_a: Org
) -> None:
    """An invitation whose maker lost the right to grant its role (however) no longer works."""
    inviter = org_a.member("inviter@a.test", Role.ADMIN)
    assert inviter.user_id is not None
    invitation = admin.invite(inviter, "late@x.test", Role.ADMIN)
    # Demoted around the service (which would have revoked the invitation itself).
    with admin.registry.engine.begin() as conn:
        admin.accounts.change_role(
            conn, inviter.org_id, inviter.user_id, Role.VIEWER, was_owner=False
        )
    with pytest.raises(NotFound):
        call(admin.accept_invitation, invitation.token, PASSWORD, "192.0.2.43")
    assert admin.accounts.user_by_email("late@x.test") is None
