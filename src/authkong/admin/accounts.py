"""Users, organizations, memberships and invitations, in the registry database.

Emails are stored normalised (trimmed, lower case), so "Ann@Example.com" and
"ann@example.com " are one account and one throttling key.
"""

import hashlib
import re
import secrets
import unicodedata

from sqlalchemy import Engine, and_, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from authkong.admin.model import (
    Conflict,
    Invalid,
    Member,
    Organization,
    PendingInvitation,
    Role,
    User,
)
from authkong.storage.tables import invitations, memberships, organizations, users

MAX_EMAIL = 320
MAX_ORG_NAME = 200
INVITATION_TTL_MS = 7 * 86_400_000
"""An invitation link works for a week, once."""

# Deliberately loose: one @, no spaces, a hostname after it. Whether the mailbox exists
# is the inviter's business; this only keeps garbage and look-alike keys out.
_EMAIL = re.compile(r"^[^@\s]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63})*$")


def normalize_email(value: str) -> str:
    """The stored form of an email address; Invalid(field="email") if it is not one."""
    email = value.strip().lower()
    if len(email) > MAX_EMAIL or not _EMAIL.match(email) or _has_control(email):
        raise Invalid("Enter an email address such as ann@example.com.", field="email")
    return email


def _has_control(text: str) -> bool:
    """Control and format characters (NUL, bidi overrides, zero-width joiners): the
    regex lets them through, and in an audit line or a member list they hide or disguise
    what an address really is."""
    return any(unicodedata.category(c) in ("Cc", "Cf") for c in text)


def check_org_name(value: str) -> str:
    name = value.strip()
    if not 1 <= len(name) <= MAX_ORG_NAME:
        raise Invalid(f"Name the organization in 1 to {MAX_ORG_NAME} characters.", field="org_name")
    return name


def digest(token: str) -> bytes:
    """What is stored of a random 256-bit token: a fast hash suffices for such values."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class Accounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- users -------------------------------------------------------------------------

    def any_user(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(users.c.id).limit(1)).first() is not None

    def user_by_email(self, email: str) -> tuple[User, str] | None:
        """The user and their stored password hash."""
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.email == email)).first()
        if row is None:
            return None
        return User(id=row.id, email=row.email, created_ms=row.created_ms), row.password_hash

    def user_by_id(self, user_id: int) -> tuple[User, str] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(users).where(users.c.id == user_id)).first()
        if row is None:
            return None
        return User(id=row.id, email=row.email, created_ms=row.created_ms), row.password_hash

    @staticmethod
    def insert_user(conn: Connection, email: str, password_hash: str, now_ms: int) -> User:
        if conn.execute(select(users.c.id).where(users.c.email == email)).first():
            raise Conflict("A user with that email already exists.")
        user_id = conn.execute(
            insert(users)
            .returning(users.c.id)
            .values(
                email=email,
                password_hash=password_hash,
                created_ms=now_ms,
                password_changed_ms=now_ms,
            )
        ).scalar_one()
        return User(id=user_id, email=email, created_ms=now_ms)

    @staticmethod
    def count_users(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(users)).scalar_one())

    @staticmethod
    def set_password_hash(conn: Connection, user_id: int, password_hash: str, now_ms: int) -> None:
        conn.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(password_hash=password_hash, password_changed_ms=now_ms)
        )

    # -- organizations -----------------------------------------------------------------

    @staticmethod
    def insert_org(conn: Connection, name: str, now_ms: int) -> Organization:
        org_id = conn.execute(
            insert(organizations).returning(organizations.c.id).values(name=name, created_ms=now_ms)
        ).scalar_one()
        return Organization(id=org_id, name=name)

    @staticmethod
    def org_by_name(conn: Connection, name: str) -> Organization | None:
        row = conn.execute(
            select(organizations)
            .where(organizations.c.name == name)
            .order_by(organizations.c.id)
            .limit(1)
        ).first()
        return None if row is None else Organization(id=row.id, name=row.name)

    @staticmethod
    def first_org(conn: Connection) -> Organization | None:
        row = conn.execute(select(organizations).order_by(organizations.c.id).limit(1)).first()
        return None if row is None else Organization(id=row.id, name=row.name)

    def all_orgs(self) -> list[Organization]:
        """Every organization on this server, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(organizations).order_by(organizations.c.id)).all()
        return [Organization(id=row.id, name=row.name) for row in rows]

    def find_org(self, name: str) -> Organization | None:
        with self.engine.connect() as conn:
            return self.org_by_name(conn, name.strip())

    def org(self, org_id: int) -> Organization | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(organizations).where(organizations.c.id == org_id)).first()
        return None if row is None else Organization(id=row.id, name=row.name)

    def organizations_of(self, user_id: int) -> list[tuple[Organization, Role]]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(organizations.c.id, organizations.c.name, memberships.c.role)
                .join(memberships, memberships.c.org_id == organizations.c.id)
                .where(memberships.c.user_id == user_id)
                # The order they joined in: login falls back to the first one (service/).
                .order_by(memberships.c.created_ms, organizations.c.id)
            ).all()
        return [(Organization(id=r.id, name=r.name), Role(r.role)) for r in rows]

    # -- memberships -------------------------------------------------------------------

    @staticmethod
    def insert_membership(
        conn: Connection, user_id: int, org_id: int, role: Role, now_ms: int
    ) -> None:
        exists = conn.execute(
            select(memberships.c.role).where(
                memberships.c.user_id == user_id, memberships.c.org_id == org_id
            )
        ).first()
        if exists:
            raise Conflict("That user is already a member of this organization.")
        conn.execute(
            insert(memberships).values(
                user_id=user_id, org_id=org_id, role=role.value, created_ms=now_ms
            )
        )

    def members(self, org_id: int) -> list[Member]:
        with self.engine.connect() as conn:
            return self._members(conn, org_id)

    def member(self, org_id: int, user_id: int) -> Member | None:
        with self.engine.connect() as conn:
            found = self._members(conn, org_id, user_id)
        return found[0] if found else None

    @classmethod
    def member_in(cls, conn: Connection, org_id: int, user_id: int) -> Member | None:
        """member(), inside a transaction already open."""
        found = cls._members(conn, org_id, user_id)
        return found[0] if found else None

    @staticmethod
    def _members(conn: Connection, org_id: int, user_id: int | None = None) -> list[Member]:
        query = (
            select(users.c.id, users.c.email, memberships.c.role, memberships.c.created_ms)
            .join(memberships, memberships.c.user_id == users.c.id)
            .where(memberships.c.org_id == org_id)
            .order_by(memberships.c.created_ms, users.c.id)
        )
        if user_id is not None:
            query = query.where(users.c.id == user_id)
        return [
            Member(user_id=r.id, email=r.email, role=Role(r.role), since_ms=r.created_ms)
            for r in conn.execute(query).all()
        ]

    @classmethod
    def change_role(
        cls, conn: Connection, org_id: int, user_id: int, role: Role, *, was_owner: bool
    ) -> None:
        """Set a member's role; Conflict if an owner's change would leave none.

        The owner count is read inside the writing transaction, so two owners demoting
        each other at once cannot both succeed.
        """
        where = and_(memberships.c.user_id == user_id, memberships.c.org_id == org_id)
        conn.execute(update(memberships).where(where).values(role=role.value))
        if was_owner:
            cls._keep_an_owner(conn, org_id)

    @classmethod
    def remove_membership(
        cls, conn: Connection, org_id: int, user_id: int, *, was_owner: bool
    ) -> None:
        conn.execute(
            delete(memberships).where(
                memberships.c.user_id == user_id, memberships.c.org_id == org_id
            )
        )
        if was_owner:
            cls._keep_an_owner(conn, org_id)

    @staticmethod
    def count_owners(conn: Connection, org_id: int) -> int:
        return int(
            conn.execute(
                select(func.count())
                .select_from(memberships)
                .where(memberships.c.org_id == org_id, memberships.c.role == Role.OWNER.value)
            ).scalar_one()
        )

    @classmethod
    def _keep_an_owner(cls, conn: Connection, org_id: int) -> None:
        if not cls.count_owners(conn, org_id):
            raise Conflict("An organization keeps at least one owner.")

    # -- invitations -------------------------------------------------------------------

    @staticmethod
    def create_invitation(
        conn: Connection, org_id: int, email: str, role: Role, created_by: int | None, now_ms: int
    ) -> tuple[str, int]:
        """A new invitation's token (for the link; only its digest is stored) and expiry."""
        token = secrets.token_urlsafe(32)
        expires_ms = now_ms + INVITATION_TTL_MS
        conn.execute(
            insert(invitations).values(
                org_id=org_id,
                email=email,
                role=role.value,
                digest=digest(token),
                created_by=created_by,
                created_ms=now_ms,
                expires_ms=expires_ms,
            )
        )
        return token, expires_ms

    @staticmethod
    def take_invitation(
        conn: Connection, token: str, now_ms: int
    ) -> tuple[int, str, Role, int | None] | None:
        """Mark a live invitation used and return its org id, email, role and creator (a
        user id; None if made by a token or the CLI); None if the token is unknown, used
        or expired. The update's WHERE makes it single-use even when two people click the
        link at once."""
        where = and_(
            invitations.c.digest == digest(token),
            invitations.c.accepted_ms.is_(None),
            invitations.c.expires_ms > now_ms,
        )
        row = conn.execute(select(invitations).where(where)).first()
        if row is None:
            return None
        taken = conn.execute(
            update(invitations).where(where, invitations.c.id == row.id).values(accepted_ms=now_ms)
        )
        if taken.rowcount != 1:
            return None
        return row.org_id, row.email, Role(row.role), row.created_by

    def peek_invitation(self, token: str, now_ms: int) -> tuple[str, Role] | None:
        offer = self.invitation_offer(token, now_ms)
        return None if offer is None else (offer[0], offer[1])

    def invitation_offer(self, token: str, now_ms: int) -> tuple[str, Role, Organization] | None:
        """A live invitation's email, role and organization (shown before accepting)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    invitations.c.email,
                    invitations.c.role,
                    organizations.c.id,
                    organizations.c.name,
                )
                .join(organizations, organizations.c.id == invitations.c.org_id)
                .where(
                    invitations.c.digest == digest(token),
                    invitations.c.accepted_ms.is_(None),
                    invitations.c.expires_ms > now_ms,
                )
            ).first()
        if row is None:
            return None
        return row.email, Role(row.role), Organization(id=row.id, name=row.name)

    def pending_invitations(
        self, org_id: int, now_ms: int, invitation_id: int | None = None
    ) -> list[PendingInvitation]:
        """Live invitations of an organization, newest first (or the one with that id)."""
        query = (
            select(
                invitations.c.id,
                invitations.c.email,
                invitations.c.role,
                invitations.c.created_ms,
                invitations.c.expires_ms,
                users.c.email.label("invited_by"),
            )
            .outerjoin(users, users.c.id == invitations.c.created_by)
            .where(
                invitations.c.org_id == org_id,
                invitations.c.accepted_ms.is_(None),
                invitations.c.expires_ms > now_ms,
            )
            .order_by(invitations.c.id.desc())
        )
        if invitation_id is not None:
            query = query.where(invitations.c.id == invitation_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            PendingInvitation(
                id=r.id,
                email=r.email,
                role=Role(r.role),
                invited_by=r.invited_by or "",
                created_ms=r.created_ms,
                expires_ms=r.expires_ms,
            )
            for r in rows
        ]

    @staticmethod
    def delete_invitations(
        conn: Connection,
        org_id: int,
        *,
        invitation_id: int | None = None,
        created_by: int | None = None,
    ) -> int:
        """Revoke pending invitations (one by id, or all one member made): deleting the
        row is enough, since a link only works while its digest is stored. How many."""
        query = delete(invitations).where(
            invitations.c.org_id == org_id, invitations.c.accepted_ms.is_(None)
        )
        if invitation_id is not None:
            query = query.where(invitations.c.id == invitation_id)
        if created_by is not None:
            query = query.where(invitations.c.created_by == created_by)
        return int(conn.execute(query).rowcount)
