"""Members and invitations: who belongs to an organization, in which role, and how
someone joins it.
"""

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

    def _member(self, actor: Actor, user_id: int) -> Member:
        found = self.accounts.member(actor.org_id, user_id)
        if found is None:
            raise NotFound("No member has that id.")
        return found


def _dead_invitation() -> AdminError:
    return NotFound("This invitation is not valid: it expired, was used, or never existed.")
