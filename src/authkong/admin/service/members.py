"""Members and invitations: who belongs to an organization, in which role, and how
someone joins it.
"""

import anyio.to_thread
from sqlalchemy.engine import Connection

from authkong.admin.accounts import normalize_email
from authkong.admin.model import (
    ROLE_SCOPES,
    Actor,
    AdminError,
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
from authkong.admin.passwords import check_new_password, hash_password
from authkong.admin.service._base import ServiceBase, _may_grant, _require

LOG_IN_TO_JOIN = (
    "If you already have an account with this email, log in first, then open this "
    "invitation link again to join."
)

_RANK = {Role.VIEWER: 0, Role.ADMIN: 1, Role.OWNER: 2}
"""For telling a demotion apart: a demoted member's pending invitations are revoked."""


class MembersMixin(ServiceBase):
    """Members, their roles, and invitations."""

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
        with self.registry.engine.begin() as conn:
            token, expires_ms = self.accounts.create_invitation(
                conn, actor.org_id, email, role, actor.member_id, now
            )
            self._record(actor, "member.invite", email, {"role": role.value}, conn=conn)
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
        link alone (it may have been forwarded) never signs anyone into an account.
        The database work runs in worker threads: SQLite may wait for a lock."""
        pending = await anyio.to_thread.run_sync(self.invitation, token)
        if pending is None:
            raise _dead_invitation()
        # Checked before the email is looked up, so a weak password gets the same answer
        # whether or not the invited email has an account.
        check_new_password(password)
        email = pending[0]
        if await anyio.to_thread.run_sync(self.accounts.user_by_email, email) is not None:
            raise Conflict(LOG_IN_TO_JOIN)
        password_hash = await hash_password(password)
        return await anyio.to_thread.run_sync(self._accept, token, email, password_hash, ip)

    def _accept(self, token: str, email: str, password_hash: str, ip: str) -> SessionGrant:
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

    def invitations(self, actor: Actor) -> list[PendingInvitation]:
        """Pending, unexpired invitations, newest first."""
        _require(actor, Scope.MEMBERS_READ)
        return self.accounts.pending_invitations(actor.org_id, self.clock.now_ms())

    def revoke_invitation(self, actor: Actor, invitation_id: int) -> None:
        _require(actor, Scope.MEMBERS_WRITE)
        found = self.accounts.pending_invitations(
            actor.org_id, self.clock.now_ms(), invitation_id=invitation_id
        )
        with self.registry.engine.begin() as conn:
            if not found or not self.accounts.delete_invitations(
                conn, actor.org_id, invitation_id=invitation_id
            ):
                raise NotFound("No pending invitation has that id.")
            inv = found[0]
            detail = {"id": inv.id, "role": inv.role.value}
            self._record(actor, "invitation.revoke", inv.email, detail, conn=conn)

    async def add_member(
        self, actor: Actor, email: str, role: Role, password: str | None
    ) -> Member:
        """A new account with `password`, in the actor's organization. An email that has
        an account already is Conflict: that person joins through an invitation, which
        they accept themselves (this answer does tell an admin the account exists)."""
        _require(actor, Scope.MEMBERS_WRITE)
        _may_grant(actor, role)
        email = normalize_email(email)
        if await anyio.to_thread.run_sync(self.accounts.user_by_email, email) is not None:
            raise Conflict(
                "An account with that email exists already; send them an invitation instead."
            )
        if password is None:
            raise Invalid("Give a password for the new account.", field="password")
        check_new_password(password)
        password_hash = await hash_password(password)
        return await anyio.to_thread.run_sync(self._add, actor, email, role, password_hash)

    def _add(self, actor: Actor, email: str, role: Role, password_hash: str) -> Member:
        now = self.clock.now_ms()
        with self.registry.engine.begin() as conn:
            user = self.accounts.insert_user(conn, email, password_hash, now)
            self.accounts.insert_membership(conn, user.id, actor.org_id, role, now)
            detail = {"role": role.value, "new_user": True}
            self._record(actor, "member.add", email, detail, conn=conn)
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
        detail: dict[str, object] = {"from": target.role.value, "to": role.value}
        was_owner = target.role is Role.OWNER
        with self.registry.engine.begin() as conn:
            self.accounts.change_role(conn, actor.org_id, user_id, role, was_owner=was_owner)
            if _RANK[role] < _RANK[target.role]:
                detail["revoked_invitations"] = self.accounts.delete_invitations(
                    conn, actor.org_id, created_by=user_id
                )
            # A token must not keep what its maker's role no longer grants.
            detail["revoked_tokens"] = self._revoke_tokens_of(
                conn, actor, target, "member.role", keep_within=ROLE_SCOPES[role]
            )
            self._record(actor, "member.role", target.email, detail, conn=conn)
        return Member(user_id=user_id, email=target.email, role=role, since_ms=target.since_ms)

    def remove_member(self, actor: Actor, user_id: int) -> None:
        _require(actor, Scope.MEMBERS_WRITE)
        target = self._member(actor, user_id)
        _may_grant(actor, target.role)
        was_owner = target.role is Role.OWNER
        with self.registry.engine.begin() as conn:
            self.accounts.remove_membership(conn, actor.org_id, user_id, was_owner=was_owner)
            self.sessions.end_all(conn, user_id, org_id=actor.org_id)
            # What they invited, or the tokens they made, would otherwise let them (or
            # anyone holding the link or the token) back in.
            detail = {
                "role": target.role.value,
                "revoked_invitations": self.accounts.delete_invitations(
                    conn, actor.org_id, created_by=user_id
                ),
                "revoked_tokens": self._revoke_tokens_of(conn, actor, target, "member.remove"),
            }
            self._record(actor, "member.remove", target.email, detail, conn=conn)

    def _revoke_tokens_of(
        self,
        conn: Connection,
        actor: Actor,
        member: Member,
        because: str,
        keep_within: frozenset[Scope] | None = None,
    ) -> int:
        """Revoke the member's live API tokens (with `keep_within`, those holding a scope
        outside it), each with its own audit entry saying why; how many."""
        revoked = self.tokens.revoke_made_by(
            conn, actor.org_id, member.user_id, self.clock.now_ms(), keep_within=keep_within
        )
        for token in revoked:
            detail = {"id": token.id, "made_by": member.email, "because": because}
            self._record(actor, "token.revoke", token.name, detail, conn=conn)
        return len(revoked)

    def _take_invitation(self, conn: Connection, token: str, now_ms: int) -> tuple[int, Role]:
        """Use up a live invitation: its org id and role. Refused, like a dead one, if
        whoever made it (for an API token, the member who made the token) has since left
        the organization or can no longer grant the role. One with no recorded maker (an
        older token's) lives until it expires or is revoked."""
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

    def _member(self, actor: Actor, user_id: int) -> Member:
        found = self.accounts.member(actor.org_id, user_id)
        if found is None:
            raise NotFound("No member has that id.")
        return found


def _dead_invitation() -> AdminError:
    return NotFound("This invitation is not valid: it expired, was used, or never existed.")
