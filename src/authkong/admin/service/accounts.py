"""Accounts and sessions: first-run setup, the CLI's `user create`, login and logout,
the session cookie's actor, password changes and moving a session between organizations.

First-run setup's one-time code is checked by the dashboard (admin/setup_code.py), the only
surface that offers setup remotely, so create_first_owner does not ask for it.
"""

import anyio.to_thread
from sqlalchemy.engine import Connection

from authkong.admin.accounts import check_org_name, normalize_email
from authkong.admin.model import (
    ROLE_SCOPES,
    Actor,
    BadCredentials,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Organization,
    Role,
    SessionGrant,
    Unauthenticated,
    User,
)
from authkong.admin.passwords import check_new_password, hash_password, verify_password
from authkong.admin.service._base import CLI_LABEL, ServiceBase


class AccountsMixin(ServiceBase):
    """Setup, login, sessions and passwords."""

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
        if not await anyio.to_thread.run_sync(self.needs_setup):
            raise Conflict("The owner account exists already; log in instead.")
        password_hash = await hash_password(password)
        return await anyio.to_thread.run_sync(self._set_up, email, password_hash, name, ip)

    def _set_up(self, email: str, password_hash: str, name: str, ip: str) -> SessionGrant:
        now = self.clock.now_ms()
        with self.registry.engine.begin() as conn:
            org = self.accounts.insert_org(conn, name, now)
            user = self.accounts.insert_user(conn, email, password_hash, now)
            self.accounts.insert_membership(conn, user.id, org.id, Role.OWNER, now)
            # Checked again after writing: two setups racing each other both saw no user,
            # but only one can be the sole user once both have written.
            if self.accounts.count_users(conn) > 1:
                raise Conflict("The owner account exists already; log in instead.")
            adopted = self._adopt(conn, org, now)
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
        first org, or a new "Default" one). An organization's first owner adopts the sites
        that belong to no organization, as the dashboard's setup does: whoever was
        created before (a viewer, say) did not."""
        email = normalize_email(email)
        check_new_password(password)
        name = check_org_name(org_name) if org_name is not None else None
        password_hash = await hash_password(password)
        return await anyio.to_thread.run_sync(self._create_user, email, password_hash, name, role)

    def _create_user(
        self, email: str, password_hash: str, name: str | None, role: Role
    ) -> tuple[User, Organization]:
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
            if role is Role.OWNER and self.accounts.count_owners(conn, org.id) == 1:
                adopted = self._adopt(conn, org, now)
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

    def _adopt(self, conn: Connection, org: Organization, now_ms: int) -> list[str]:
        """Give the organization every site without one, with the audit entries about
        them; the sitekeys."""
        adopted = self.registry.adopt_unassigned(conn, org.id, now_ms)
        self.audit.adopt(conn, org.id, adopted)
        return adopted

    async def login(self, email: str, password: str, ip: str) -> SessionGrant:
        """BadCredentials alike for unknown emails and wrong passwords (same work done);
        Throttled with retry_after_s per address, per account from that address and per
        account (admin/throttle.py). The database work runs in worker threads: SQLite may
        wait seconds for a lock another process holds."""
        try:
            key = normalize_email(email)
        except Invalid:
            key = email.strip().lower()[:320]  # cannot exist, but costs and counts the same
        await self.throttle.check(key, ip)
        found = await anyio.to_thread.run_sync(self.accounts.user_by_email, key)
        checked = await verify_password(found[1] if found else None, password)
        if found is None or not checked.ok:
            await anyio.to_thread.run_sync(self._failed_login, key, found, ip)
            raise BadCredentials
        rehashed = await hash_password(password) if checked.needs_rehash else None
        return await anyio.to_thread.run_sync(self._open_session, found[0], rehashed, ip)

    def _failed_login(self, key: str, found: tuple[User, str] | None, ip: str) -> None:
        orgs = self.accounts.organizations_of(found[0].id) if found else []
        self.audit.record(
            org_id=orgs[0][0].id if orgs else None,
            actor=f"user:{key}",
            action="login.failed",
            target=key,
            ip=ip,
            now_ms=self.clock.now_ms(),
        )

    def _open_session(self, user: User, rehashed: str | None, ip: str) -> SessionGrant:
        """After a right password: the session, in the organization login lands in."""
        now = self.clock.now_ms()
        orgs = self.accounts.organizations_of(user.id)
        if not orgs:
            raise Forbidden("Your account belongs to no organization; ask an owner to add you.")
        if rehashed is not None:
            with self.registry.engine.begin() as conn:
                self.accounts.set_password_hash(conn, user.id, rehashed, now)
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
        found = await anyio.to_thread.run_sync(self.accounts.user_by_id, actor.user_id)
        if found is None:
            raise NotFound
        user, stored = found
        check_new_password(new, field="new_password")
        # A stolen session must not become a free password oracle: same buckets as login.
        await self.throttle.check(user.email, actor.ip)
        if not (await verify_password(stored, current)).ok:
            raise Invalid("The current password is not right.", field="current_password")
        password_hash = await hash_password(new)
        await anyio.to_thread.run_sync(self._set_password, actor, user, password_hash, keep_session)

    def _set_password(
        self, actor: Actor, user: User, password_hash: str, keep_session: str | None
    ) -> None:
        with self.registry.engine.begin() as conn:
            self.accounts.set_password_hash(conn, user.id, password_hash, self.clock.now_ms())
            self.sessions.end_all(conn, user.id, keep=keep_session)
            self._record(actor, "password.change", user.email, {}, conn=conn)

    def organizations_of(self, user_id: int) -> list[tuple[Organization, Role]]:
        return self.accounts.organizations_of(user_id)

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
