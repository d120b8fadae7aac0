"""The one service layer under the dashboard, the admin API and the CLI.

Every operation takes the Actor asking, checks its scope (model.Scope) and role, keeps
it inside the actor's organization (another organization's ids raise NotFound, never
Forbidden) and writes the audit log for logins, member, token, key and site changes.
Methods that hash a password (Argon2id, tens of milliseconds) or touch the ephemeral
store (login throttling) are async; they must not block the event loop.

The CLI acts as `cli_actor()`: every scope, on every organization's sites (it is run by
whoever holds the data directory, who could edit the database anyway).
"""

# Status (helper A1): every method is implemented and tested (tests/test_admin_service.py,
# tests/test_admin_accounts.py, tests/test_cli_user.py); the CLI's `site` and `user`
# commands run on this layer. Additions to the contract, all backwards compatible:
# change_password(..., keep_session=<cookie value>) keeps the asking session alive;
# logout(token, ip="") records the IP; invitation(token) -> (email, role) | None shows an
# invitation before it is accepted; cli_actor() and AnalyticsSource below.
# New passwords: 8 to 1024 characters (admin/passwords.py). Login throttling: 5 then
# 1/min per account, 20 then 10/min per IP (admin/throttle.py).
# After the security review: roles are granted only within the actor's scopes
# (_may_grant); add_member makes new accounts only; accept_invitation is for new accounts,
# join_invitation for a logged-in existing one; switch_org, invitation_offer,
# invitations, revoke_invitation and site_to_update are new. First-run setup's code is
# checked by the dashboard (admin/setup_code.py), which alone offers setup remotely.

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.engine import Connection

from authkong.admin import sites as site_checks
from authkong.admin.accounts import Accounts, check_org_name, normalize_email
from authkong.admin.analytics import Analytics, Point, Span
from authkong.admin.api_tokens import MAX_NAME as MAX_TOKEN_NAME
from authkong.admin.api_tokens import ApiTokens
from authkong.admin.audit import AuditLog
from authkong.admin.model import (
    ROLE_SCOPES,
    Actor,
    AdminError,
    ApiToken,
    AuditEntry,
    BadCredentials,
    Conflict,
    Forbidden,
    Invalid,
    Invitation,
    Member,
    NotFound,
    Organization,
    PendingInvitation,
    Role,
    Scope,
    SessionGrant,
    Unauthenticated,
    User,
)
from authkong.admin.passwords import check_new_password, hash_password, verify_password
from authkong.admin.sessions import Sessions
from authkong.admin.throttle import LoginThrottle
from authkong.domain.clock import Clock
from authkong.domain.pow import Difficulty
from authkong.domain.site import (
    DEFAULT_PRESET,
    DEFAULT_TOKEN_LIFETIME,
    PRESETS,
    RateLimits,
    RiskSettings,
    Site,
)
from authkong.storage.ephemeral import EphemeralStore
from authkong.storage.registry import NewSecret, Registry, SiteNotFound

ANY_ORG = 0
"""The CLI actor's org_id: it may act on every site. No organization has id 0."""

CLI_LABEL = "cli"

LOG_IN_TO_JOIN = (
    "If you already have an account with this email, log in first, then open this "
    "invitation link again to join."
)
_RANK = {Role.VIEWER: 0, Role.ADMIN: 1, Role.OWNER: 2}
"""For telling a demotion apart: a demoted member's pending invitations are revoked."""

_SPAN_BUCKETS: dict[Span, tuple[int, int]] = {
    Span.HOUR: (60_000, 60),
    Span.DAY: (3_600_000, 24),
    Span.MONTH: (86_400_000, 30),
}


def cli_actor(org_id: int | None = None) -> Actor:
    """The command line's actor: every scope; on every site, or within one organization
    (`site create --org NAME` makes the site there)."""
    return Actor(
        org_id=ANY_ORG if org_id is None else org_id, label=CLI_LABEL, scopes=frozenset(Scope)
    )


class AnalyticsSource(Protocol):
    """What analytics are read from (admin/stats.py): aggregated counters."""

    def analytics(self, sitekeys: Sequence[str], span: Span, now_ms: int) -> Analytics: ...


@dataclass(frozen=True, slots=True)
class SiteChanges:
    """What an edit may change; None leaves a field as it is."""

    name: str | None = None
    domains: tuple[str, ...] | None = None
    difficulty: Difficulty | None = None
    token_lifetime: int | None = None
    rate_limits: RateLimits | None = None
    risk: RiskSettings | None = None


class AdminService:
    def __init__(
        self,
        registry: Registry,
        store: EphemeralStore,
        clock: Clock,
        stats: AnalyticsSource | None = None,
    ) -> None:
        self.registry = registry
        self.clock = clock
        self.stats = stats
        """Where analytics come from; without one, every chart is zeros."""
        self.accounts = Accounts(registry.engine)
        self.sessions = Sessions(registry.engine)
        self.tokens = ApiTokens(registry.engine)
        self.audit = AuditLog(registry.engine)
        self.throttle = LoginThrottle(store)

    # -- accounts and sessions ---------------------------------------------------------

    def needs_setup(self) -> bool:
        """True until the first user exists: /admin then offers to create the owner."""
        return not self.accounts.any_user()

    async def create_first_owner(
        self, email: str, password: str, org_name: str, ip: str
    ) -> SessionGrant:
        """Only while needs_setup(); raises Conflict after. Adopts sites without an org."""
        email = normalize_email(email)
        check_new_password(password)
        name = check_org_name(org_name)
        if not self.needs_setup():
            raise Conflict("The owner account exists already; log in instead.")
        password_hash = await hash_password(password)
        now = self.clock.now_ms()
        with self.registry.engine.begin() as conn:
            org = self.accounts.insert_org(conn, name, now)
            user = self.accounts.insert_user(conn, email, password_hash, now)
            self.accounts.insert_membership(conn, user.id, org.id, Role.OWNER, now)
            # Checked again after writing: two setups racing each other both saw no user,
            # but only one can be the sole user once both have written.
            if self.accounts.count_users(conn) > 1:
                raise Conflict("The owner account exists already; log in instead.")
            adopted = self.registry.adopt_unassigned(conn, org.id, now)
            self.audit.adopt(conn, org.id, adopted)
            self.audit.record(
                org_id=org.id,
                actor=f"user:{email}",
                action="setup",
                target=email,
                detail={"org": name, "adopted_sites": adopted},
                ip=ip,
                now_ms=now,
                conn=conn,
            )
        return self._grant(user, org, Role.OWNER, now)

    async def create_user(
        self, email: str, password: str, org_name: str | None, role: Role
    ) -> tuple[User, Organization]:
        """The CLI's `user create`: joins the named org (made if missing; default: the
        first org, or a new "Default" one). The very first user, if an owner, adopts the
        sites made before any account existed, as the dashboard's setup does."""
        email = normalize_email(email)
        check_new_password(password)
        name = check_org_name(org_name) if org_name is not None else None
        password_hash = await hash_password(password)
        now = self.clock.now_ms()
        with self.registry.engine.begin() as conn:
            found = (
                self.accounts.org_by_name(conn, name)
                if name is not None
                else self.accounts.first_org(conn)
            )
            org = found or self.accounts.insert_org(conn, name or "Default", now)
            user = self.accounts.insert_user(conn, email, password_hash, now)
            self.accounts.insert_membership(conn, user.id, org.id, role, now)
            adopted: list[str] = []
            if role is Role.OWNER and self.accounts.count_users(conn) == 1:
                adopted = self.registry.adopt_unassigned(conn, org.id, now)
                self.audit.adopt(conn, org.id, adopted)
            self.audit.record(
                org_id=org.id,
                actor=CLI_LABEL,
                action="user.create",
                target=email,
                detail={"org": org.name, "role": role.value, "adopted_sites": adopted},
                now_ms=now,
                conn=conn,
            )
        return user, org

    async def login(self, email: str, password: str, ip: str) -> SessionGrant:
        """BadCredentials alike for unknown emails and wrong passwords (same work done);
        Throttled with retry_after_s per account and per IP."""
        try:
            key = normalize_email(email)
        except Invalid:
            key = email.strip().lower()[:320]  # cannot exist, but costs and counts the same
        await self.throttle.check(key, ip)
        found = self.accounts.user_by_email(key)
        checked = await verify_password(found[1] if found else None, password)
        now = self.clock.now_ms()
        orgs = self.accounts.organizations_of(found[0].id) if found else []
        if found is None or not checked.ok:
            self.audit.record(
                org_id=orgs[0][0].id if orgs else None,
                actor=f"user:{key}",
                action="login.failed",
                target=key,
                ip=ip,
                now_ms=now,
            )
            raise BadCredentials
        user = found[0]
        if not orgs:
            raise Forbidden("Your account belongs to no organization; ask an owner to add you.")
        if checked.needs_rehash:
            self.accounts.set_password_hash(user.id, await hash_password(password), now)
        # The organization the user last worked in (the org switcher remembers it), else
        # the one they joined first: joining another never changes where login lands.
        last = self.audit.last_org(f"user:{user.email}", [o.id for o, _ in orgs])
        org, role = next(((o, r) for o, r in orgs if o.id == last), orgs[0])
        self.audit.record(
            org_id=org.id, actor=f"user:{user.email}", action="login", target=user.email,
            ip=ip, now_ms=now,
        )  # fmt: skip
        return self._grant(user, org, role, now)

    def session_actor(self, token: str, ip: str) -> tuple[User, Actor] | None:
        """The session cookie's user and actor, or None if unknown or expired."""
        if not token or len(token) > 100:
            return None
        live = self.sessions.find(token, self.clock.now_ms())
        if live is None:
            return None
        actor = Actor(
            org_id=live.org_id,
            label=f"user:{live.user.email}",
            scopes=ROLE_SCOPES[live.role],
            role=live.role,
            user_id=live.user.id,
            ip=ip,
        )
        return live.user, actor

    def logout(self, token: str, ip: str = "") -> None:
        if not token or len(token) > 100:
            return
        now = self.clock.now_ms()
        live = self.sessions.find(token, now)
        self.sessions.end(token)
        if live is not None:
            self.audit.record(
                org_id=live.org_id, actor=f"user:{live.user.email}", action="logout",
                target=live.user.email, ip=ip, now_ms=now,
            )  # fmt: skip

    async def change_password(
        self, actor: Actor, current: str, new: str, *, keep_session: str | None = None
    ) -> None:
        """Ends the user's other sessions (every one but `keep_session`, the cookie value
        of the session asking, when given)."""
        if actor.user_id is None:
            raise Forbidden("Only a signed-in user has a password to change.")
        found = self.accounts.user_by_id(actor.user_id)
        if found is None:
            raise NotFound
        user, stored = found
        check_new_password(new, field="new_password")
        # A stolen session must not become a free password oracle: same buckets as login.
        await self.throttle.check(user.email, actor.ip)
        if not (await verify_password(stored, current)).ok:
            raise Invalid("The current password is not right.", field="current_password")
        now = self.clock.now_ms()
        self.accounts.set_password_hash(user.id, await hash_password(new), now)
        self.sessions.end_all(user.id, keep=keep_session)
        self._record(actor, "password.change", user.email, {})

    def organizations_of(self, user_id: int) -> list[tuple[Organization, Role]]:
        return self.accounts.organizations_of(user_id)

    # -- members -----------------------------------------------------------------------

    def members(self, actor: Actor) -> list[Member]:
        _require(actor, Scope.MEMBERS_READ)
        return self.accounts.members(actor.org_id)

    def invite(self, actor: Actor, email: str, role: Role) -> Invitation:
        _require(actor, Scope.MEMBERS_WRITE)
        _may_grant(actor, role)
        email = normalize_email(email)
        if any(m.email == email for m in self.accounts.members(actor.org_id)):
            raise Conflict("That user is already a member of this organization.")
        now = self.clock.now_ms()
        token, expires_ms = self.accounts.create_invitation(
            actor.org_id, email, role, actor.user_id, now
        )
        self._record(actor, "member.invite", email, {"role": role.value})
        return Invitation(email=email, role=role, expires_ms=expires_ms, token=token)

    def invitation(self, token: str) -> tuple[str, Role] | None:
        """The email and role a live invitation is for (to show before accepting)."""
        if not token or len(token) > 100:
            return None
        return self.accounts.peek_invitation(token, self.clock.now_ms())

    def invitation_offer(self, token: str) -> tuple[str, Role, Organization] | None:
        """The email, role and organization of a live invitation (its page shows them)."""
        if not token or len(token) > 100:
            return None
        return self.accounts.invitation_offer(token, self.clock.now_ms())

    async def accept_invitation(self, token: str, password: str, ip: str) -> SessionGrant:
        """A new user joins with the password they choose. An invitation for an email that
        has an account already is accepted with join_invitation, logged in as it: the
        link alone (it may have been forwarded) never signs anyone into an account."""
        pending = self.invitation(token)
        if pending is None:
            raise _dead_invitation()
        # Checked before the email is looked up, so a weak password gets the same answer
        # whether or not the invited email has an account.
        check_new_password(password)
        email = pending[0]
        if self.accounts.user_by_email(email) is not None:
            raise Conflict(LOG_IN_TO_JOIN)
        password_hash = await hash_password(password)
        now = self.clock.now_ms()
        with self.registry.engine.begin() as conn:
            org_id, role = self._take_invitation(conn, token, now)
            user = self.accounts.insert_user(conn, email, password_hash, now)
            self._join(conn, user, org_id, role, ip, now)
        org = self.accounts.org(org_id)
        if org is None:
            raise _dead_invitation()
        return self._grant(user, org, role, now)

    def join_invitation(self, token: str, session_token: str, ip: str) -> Organization:
        """An existing user, logged in as the invited email, joins; their session moves
        to the new organization."""
        now = self.clock.now_ms()
        live = self.sessions.find(session_token, now) if 0 < len(session_token) <= 100 else None
        if live is None:
            raise Unauthenticated(LOG_IN_TO_JOIN)
        offer = self.invitation_offer(token)
        if offer is None:
            raise _dead_invitation()
        email, _, org = offer
        if email != live.user.email:
            raise Forbidden(f"This invitation is for {email}; log in as that account to accept it.")
        with self.registry.engine.begin() as conn:
            org_id, role = self._take_invitation(conn, token, now)
            self._join(conn, live.user, org_id, role, ip, now)
        self.sessions.switch(session_token, org.id)
        return org

    def switch_org(self, session_token: str, org_id: int, ip: str) -> Organization:
        """Move a dashboard session to another organization the user belongs to."""
        now = self.clock.now_ms()
        live = self.sessions.find(session_token, now) if 0 < len(session_token) <= 100 else None
        if live is None:
            raise Unauthenticated
        orgs = self.accounts.organizations_of(live.user.id)
        org = next((o for o, _ in orgs if o.id == org_id), None)
        if org is None:
            raise NotFound("You are not a member of that organization.")
        self.sessions.switch(session_token, org.id)
        self.audit.record(
            org_id=org.id, actor=f"user:{live.user.email}", action="org.switch",
            target=org.name, ip=ip, now_ms=now,
        )  # fmt: skip
        return org

    def invitations(self, actor: Actor) -> list[PendingInvitation]:
        """Pending, unexpired invitations, newest first."""
        _require(actor, Scope.MEMBERS_READ)
        return self.accounts.pending_invitations(actor.org_id, self.clock.now_ms())

    def revoke_invitation(self, actor: Actor, invitation_id: int) -> None:
        _require(actor, Scope.MEMBERS_WRITE)
        found = self.accounts.pending_invitations(
            actor.org_id, self.clock.now_ms(), invitation_id=invitation_id
        )
        if not found or not self.accounts.delete_invitations(
            actor.org_id, invitation_id=invitation_id
        ):
            raise NotFound("No pending invitation has that id.")
        inv = found[0]
        self._record(actor, "invitation.revoke", inv.email, {"id": inv.id, "role": inv.role.value})

    async def add_member(
        self, actor: Actor, email: str, role: Role, password: str | None
    ) -> Member:
        """A new account with `password`, in the actor's organization. An email that has
        an account already is Conflict: that person joins through an invitation, which
        they accept themselves (this answer does tell an admin the account exists)."""
        _require(actor, Scope.MEMBERS_WRITE)
        _may_grant(actor, role)
        email = normalize_email(email)
        if self.accounts.user_by_email(email) is not None:
            raise Conflict(
                "An account with that email exists already; send them an invitation instead."
            )
        if password is None:
            raise Invalid("Give a password for the new account.", field="password")
        check_new_password(password)
        password_hash = await hash_password(password)
        now = self.clock.now_ms()
        with self.registry.engine.begin() as conn:
            user = self.accounts.insert_user(conn, email, password_hash, now)
            self.accounts.insert_membership(conn, user.id, actor.org_id, role, now)
        self._record(actor, "member.add", email, {"role": role.value, "new_user": True})
        return Member(user_id=user.id, email=email, role=role, since_ms=now)

    def set_role(self, actor: Actor, user_id: int, role: Role) -> Member:
        """Only owners make or demote owners; the last owner stays an owner."""
        _require(actor, Scope.MEMBERS_WRITE)
        target = self._member(actor, user_id)
        # Both ends: nobody re-roles a member above their own permissions, either way.
        _may_grant(actor, target.role)
        _may_grant(actor, role)
        if target.role is role:
            return target
        self.accounts.change_role(actor.org_id, user_id, role, was_owner=target.role is Role.OWNER)
        detail: dict[str, object] = {"from": target.role.value, "to": role.value}
        if _RANK[role] < _RANK[target.role]:
            detail["revoked_invitations"] = self.accounts.delete_invitations(
                actor.org_id, created_by=user_id
            )
        self._record(actor, "member.role", target.email, detail)
        return Member(user_id=user_id, email=target.email, role=role, since_ms=target.since_ms)

    def remove_member(self, actor: Actor, user_id: int) -> None:
        _require(actor, Scope.MEMBERS_WRITE)
        target = self._member(actor, user_id)
        _may_grant(actor, target.role)
        self.accounts.remove_membership(actor.org_id, user_id, was_owner=target.role is Role.OWNER)
        self.sessions.end_all(user_id, org_id=actor.org_id)
        # What they invited would otherwise let them (or anyone holding the link) back in.
        revoked = self.accounts.delete_invitations(actor.org_id, created_by=user_id)
        detail = {"role": target.role.value, "revoked_invitations": revoked}
        self._record(actor, "member.remove", target.email, detail)

    # -- sites -------------------------------------------------------------------------

    def list_sites(self, actor: Actor) -> list[Site]:
        _require(actor, Scope.SITES_READ)
        if actor.org_id == ANY_ORG:
            return self.registry.all_sites()
        return self.registry.sites_of(actor.org_id)

    def get_site(self, actor: Actor, sitekey: str) -> Site:
        _require(actor, Scope.SITES_READ)
        return self._site(actor, sitekey)

    def site_to_update(self, actor: Actor, sitekey: str) -> Site:
        """The current site for a partial edit (PATCH merges nested settings into it):
        needs sites:write only, since a writer may see what it is about to change."""
        _require(actor, Scope.SITES_WRITE)
        return self._site(actor, sitekey)

    def create_site(
        self,
        actor: Actor,
        *,
        name: str,
        domains: tuple[str, ...],
        difficulty: Difficulty | None = None,
        token_lifetime: int | None = None,
        rate_limits: RateLimits | None = None,
        risk: RiskSettings | None = None,
    ) -> NewSecret:
        """Invalid (with `field`) for a bad name, domain or setting."""
        _require(actor, Scope.SITES_WRITE)
        created = self.registry.create_site(
            name=site_checks.check_name(name),
            domains=site_checks.check_domains(domains),
            difficulty=site_checks.check_difficulty(difficulty or PRESETS[DEFAULT_PRESET]),
            token_lifetime=site_checks.check_token_lifetime(
                DEFAULT_TOKEN_LIFETIME if token_lifetime is None else token_lifetime
            ),
            now_ms=self.clock.now_ms(),
            rate_limits=rate_limits,
            risk=risk,
            org_id=None if actor.org_id == ANY_ORG else actor.org_id,
        )
        site = created.site
        detail = {"name": site.name, "domains": list(site.domains)}
        self._record(actor, "site.create", site.sitekey, detail, org_id=site.org_id)
        return created

    def update_site(self, actor: Actor, sitekey: str, changes: SiteChanges) -> Site:
        _require(actor, Scope.SITES_WRITE)
        current = self._site(actor, sitekey)
        name = None if changes.name is None else site_checks.check_name(changes.name)
        domains = None if changes.domains is None else site_checks.check_domains(changes.domains)
        difficulty = (
            None if changes.difficulty is None else site_checks.check_difficulty(changes.difficulty)
        )
        lifetime = changes.token_lifetime
        if lifetime is not None:
            site_checks.check_token_lifetime(lifetime)
        try:
            updated = self.registry.update_site(
                sitekey,
                now_ms=self.clock.now_ms(),
                name=name,
                domains=domains,
                difficulty=difficulty,
                token_lifetime=lifetime,
                rate_limits=changes.rate_limits,
                risk=changes.risk,
            )
        except SiteNotFound:
            raise NotFound from None
        self._record(actor, "site.update", sitekey, _changed(current, updated), updated.org_id)
        return updated

    def rotate_secret(self, actor: Actor, sitekey: str, overlap_s: int) -> NewSecret:
        _require(actor, Scope.SECRETS_ROTATE)
        site = self._site(actor, sitekey)
        overlap_s = site_checks.check_overlap(overlap_s)
        try:
            rotated = self.registry.rotate_secret(
                sitekey, overlap_ms=overlap_s * 1000, now_ms=self.clock.now_ms()
            )
        except SiteNotFound:
            raise NotFound from None
        self._record(actor, "secret.rotate", sitekey, {"overlap_s": overlap_s}, site.org_id)
        return rotated

    def delete_site(self, actor: Actor, sitekey: str) -> None:
        _require(actor, Scope.SITES_WRITE)
        site = self._site(actor, sitekey)
        try:
            self.registry.delete_site(sitekey)
        except SiteNotFound:
            raise NotFound from None
        self._record(actor, "site.delete", sitekey, {"name": site.name}, site.org_id)

    # -- API tokens, audit, analytics --------------------------------------------------

    def create_api_token(
        self, actor: Actor, name: str, scopes: frozenset[Scope], expires_ms: int | None
    ) -> tuple[ApiToken, str]:
        """The token's value is returned once; only its hash is stored. An actor cannot
        grant scopes it does not hold."""
        _require(actor, Scope.TOKENS_WRITE)
        name = name.strip()
        if not 1 <= len(name) <= MAX_TOKEN_NAME:
            raise Invalid(f"Name the token in 1 to {MAX_TOKEN_NAME} characters.", field="name")
        if not scopes:
            raise Invalid("Give the token at least one scope.", field="scopes")
        beyond = scopes - actor.scopes
        if beyond:
            listed = ", ".join(sorted(s.value for s in beyond))
            raise Forbidden(f"You cannot grant scopes you do not hold: {listed}.")
        now = self.clock.now_ms()
        if expires_ms is not None and expires_ms <= now:
            raise Invalid("The expiry must be in the future.", field="expires_ms")
        if actor.org_id == ANY_ORG:
            raise Invalid("An API token belongs to one organization; name it.", field="org")
        token, value = self.tokens.create(
            actor.org_id, name, scopes, actor.user_id, expires_ms, now
        )
        detail = {"id": token.id, "scopes": sorted(s.value for s in scopes)}
        self._record(actor, "token.create", name, {**detail, "expires_ms": expires_ms})
        return token, value

    def api_tokens(self, actor: Actor) -> list[ApiToken]:
        """Listing tokens needs tokens:write: viewers never learn what automation exists."""
        _require(actor, Scope.TOKENS_WRITE)
        return self.tokens.of_org(actor.org_id)

    def revoke_api_token(self, actor: Actor, token_id: int) -> None:
        _require(actor, Scope.TOKENS_WRITE)
        token = self.tokens.get(actor.org_id, token_id)
        if token is None:
            raise NotFound
        self.tokens.revoke(token_id, self.clock.now_ms())
        self._record(actor, "token.revoke", token.name, {"id": token_id})

    def token_actor(self, bearer: str, ip: str) -> Actor | None:
        """The actor for an `Authorization: Bearer` value, or None."""
        found = self.tokens.use(bearer.strip(), self.clock.now_ms())
        if found is None:
            return None
        org_id, token = found
        return Actor(org_id=org_id, label=f"token:{token.name}", scopes=token.scopes, ip=ip)

    def audit_log(
        self, actor: Actor, *, limit: int = 100, before_id: int | None = None
    ) -> list[AuditEntry]:
        _require(actor, Scope.AUDIT_READ)
        return self.audit.entries(actor.org_id, limit, before_id)

    def analytics(self, actor: Actor, sitekey: str | None, span: Span) -> Analytics:
        """One site's, or with sitekey None the whole organization's."""
        _require(actor, Scope.ANALYTICS_READ)
        if sitekey is not None:
            keys = [self._site(actor, sitekey).sitekey]
        elif actor.org_id == ANY_ORG:
            keys = [s.sitekey for s in self.registry.all_sites()]
        else:
            keys = [s.sitekey for s in self.registry.sites_of(actor.org_id)]
        now = self.clock.now_ms()
        if self.stats is not None:
            return self.stats.analytics(keys, span, now)
        bucket_ms, count = _SPAN_BUCKETS[span]
        first = (now // bucket_ms - count + 1) * bucket_ms
        points = [Point(start_ms=first + i * bucket_ms) for i in range(count)]
        return Analytics(span=span, bucket_ms=bucket_ms, points=points)

    # -- internals ---------------------------------------------------------------------

    def _grant(self, user: User, org: Organization, role: Role, now_ms: int) -> SessionGrant:
        token, expires_ms = self.sessions.start(user.id, org.id, now_ms)
        return SessionGrant(token=token, user=user, org=org, role=role, expires_ms=expires_ms)

    def _take_invitation(self, conn: Connection, token: str, now_ms: int) -> tuple[int, Role]:
        """Use up a live invitation: its org id and role. Refused, like a dead one, if
        whoever made it has since left the organization or can no longer grant the role
        (an invitation from an API token or the CLI lives until it expires or is revoked)."""
        taken = self.accounts.take_invitation(conn, token, now_ms)
        if taken is None:
            raise _dead_invitation()
        org_id, _, role, created_by = taken
        if created_by is not None:
            inviter = self.accounts.member_in(conn, org_id, created_by)
            if inviter is None:
                raise _dead_invitation()
            as_actor = Actor(
                org_id=org_id, label="", scopes=ROLE_SCOPES[inviter.role], role=inviter.role
            )
            try:
                _may_grant(as_actor, role)
            except Forbidden:
                raise _dead_invitation() from None
        return org_id, role

    def _join(
        self, conn: Connection, user: User, org_id: int, role: Role, ip: str, now_ms: int
    ) -> None:
        self.accounts.insert_membership(conn, user.id, org_id, role, now_ms)
        self.audit.record(
            org_id=org_id, actor=f"user:{user.email}", action="member.join", target=user.email,
            detail={"role": role.value}, ip=ip, now_ms=now_ms, conn=conn,
        )  # fmt: skip

    def _site(self, actor: Actor, sitekey: str) -> Site:
        """The site if the actor's organization owns it; NotFound alike for another
        organization's site and for none, so sitekeys cannot be probed."""
        try:
            site = self.registry.get_site(sitekey)
        except SiteNotFound:
            raise NotFound("No site has that sitekey.") from None
        if actor.org_id != ANY_ORG and site.org_id != actor.org_id:
            raise NotFound("No site has that sitekey.")
        return site

    def _member(self, actor: Actor, user_id: int) -> Member:
        found = self.accounts.member(actor.org_id, user_id)
        if found is None:
            raise NotFound("No member has that id.")
        return found

    def _record(
        self,
        actor: Actor,
        action: str,
        target: str,
        detail: Mapping[str, object],
        org_id: int | None = None,
    ) -> None:
        self.audit.record(
            org_id=actor.org_id if actor.org_id != ANY_ORG else org_id,
            actor=actor.label,
            action=action,
            target=target,
            detail=detail,
            ip=actor.ip,
            now_ms=self.clock.now_ms(),
        )


def _require(actor: Actor, scope: Scope) -> None:
    if scope not in actor.scopes:
        raise Forbidden(f"This needs the {scope.value} permission, which you do not have.")


def _may_grant(actor: Actor, role: Role) -> None:
    """Whether the actor may give someone `role` (or act on a member who has it): only
    with every permission the role holds, so members:write alone cannot make an admin."""
    if role is Role.OWNER and actor.role is not Role.OWNER and actor.label != CLI_LABEL:
        raise Forbidden("Only an owner can make, change or remove an owner.")
    beyond = ROLE_SCOPES[role] - actor.scopes
    if beyond:
        listed = ", ".join(sorted(s.value for s in beyond))
        raise Forbidden(f"The {role.value} role holds permissions you do not have: {listed}.")


def _dead_invitation() -> AdminError:
    return NotFound("This invitation is not valid: it expired, was used, or never existed.")


def _changed(before: Site, after: Site) -> dict[str, object]:
    """What an update changed, as new values, for the audit log (a site holds no secret
    but its hashed ones, which are never part of this)."""
    pairs: dict[str, tuple[object, object]] = {
        "name": (before.name, after.name),
        "domains": (list(before.domains), list(after.domains)),
        "k": (before.difficulty.k, after.difficulty.k),
        "solution_difficulty": (
            before.difficulty.solution_hashes,
            after.difficulty.solution_hashes,
        ),
        "token_lifetime": (before.token_lifetime, after.token_lifetime),
        "rate_ip_per_min": (before.rate_limits.ip_per_min, after.rate_limits.ip_per_min),
        "rate_ip_burst": (before.rate_limits.ip_burst, after.rate_limits.ip_burst),
        "rate_site_per_min": (before.rate_limits.site_per_min, after.rate_limits.site_per_min),
        "risk_scoring": (before.risk.scoring, after.risk.scoring),
        "adaptive_difficulty": (before.risk.adaptive, after.risk.adaptive),
        "max_wait_s": (before.risk.max_wait_s, after.risk.max_wait_s),
    }
    return {key: new for key, (old, new) in pairs.items() if old != new}
