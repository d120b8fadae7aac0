"""Values and errors shared by the dashboard, the admin API and the CLI."""

import sqlite3
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.exc import OperationalError

STORE_UNAVAILABLE = (OperationalError, sqlite3.OperationalError)
"""A database that stayed locked past its busy timeout, or could not be opened: the
registry's (through SQLAlchemy) or the ephemeral store's (sqlite3 itself, which login
throttling asks). The dashboard and the admin API answer 503 for these."""


class Role(StrEnum):
    OWNER = "owner"
    """Everything, including owners' roles and the organization itself."""
    ADMIN = "admin"
    """Sites, secrets, API tokens and members below owner."""
    VIEWER = "viewer"
    """Reads sites (never secrets), analytics, members and the audit log."""


class Scope(StrEnum):
    """What an actor may do. A member has its role's scopes; an API token the ones it got."""

    SITES_READ = "sites:read"
    SITES_WRITE = "sites:write"
    SECRETS_ROTATE = "secrets:rotate"
    ANALYTICS_READ = "analytics:read"
    MEMBERS_READ = "members:read"
    MEMBERS_WRITE = "members:write"
    TOKENS_WRITE = "tokens:write"
    AUDIT_READ = "audit:read"


READ_SCOPES = frozenset(
    {Scope.SITES_READ, Scope.ANALYTICS_READ, Scope.MEMBERS_READ, Scope.AUDIT_READ}
)
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.VIEWER: READ_SCOPES,
    Role.ADMIN: frozenset(Scope),
    Role.OWNER: frozenset(Scope),
}
"""Admins and owners hold every scope; what only owners may do (make or demote owners)
is checked on the role itself."""


@dataclass(frozen=True, slots=True)
class ApiToken:
    id: int
    name: str
    scopes: frozenset[Scope]
    created_ms: int
    expires_ms: int | None
    last_used_ms: int | None
    revoked_ms: int | None
    creator_id: int | None = None
    """The member it acts for: who made it, or made the token that made it. None if not
    recorded (a token made by another token before tokens kept their maker). Removing or
    demoting that member revokes it."""
    created_by: str = ""
    """That member's email; "" for none."""


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is asking, within which organization."""

    org_id: int
    label: str
    """As the audit log names it: "user:<email>", "token:<name>" or "cli"."""
    scopes: frozenset[Scope]
    role: Role | None = None
    """A member's role; None for an API token or the CLI."""
    user_id: int | None = None
    """A signed-in member's user id; None for an API token or the CLI."""
    ip: str = ""
    token: ApiToken | None = None
    """The API token acting; None for a session or the CLI."""

    @property
    def member_id(self) -> int | None:
        """The member this actor acts for: the signed-in user, or whoever made the API
        token; None for the CLI."""
        return self.token.creator_id if self.token is not None else self.user_id


@dataclass(frozen=True, slots=True)
class User:
    id: int
    email: str
    created_ms: int


@dataclass(frozen=True, slots=True)
class Organization:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    email: str
    role: Role
    since_ms: int


@dataclass(frozen=True, slots=True)
class Invitation:
    email: str
    role: Role
    expires_ms: int
    token: str = field(repr=False)
    """Goes in the invitation link (/admin/invite/<token>); shown once, stored hashed."""


@dataclass(frozen=True, slots=True)
class PendingInvitation:
    """An invitation not yet accepted, as the members page and GET /invitations list it."""

    id: int
    email: str
    role: Role
    invited_by: str
    """The inviting member's email (for an API token, its maker's); "" if made by the CLI
    or by a token whose maker is not recorded."""
    created_ms: int
    expires_ms: int


@dataclass(frozen=True, slots=True)
class SessionGrant:
    """A new dashboard session: the cookie's value, shown to nobody else."""

    token: str = field(repr=False)
    user: User
    org: Organization
    role: Role
    expires_ms: int


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    actor: str
    action: str
    target: str
    detail: dict[str, object]
    ip: str
    created_ms: int


# -- errors ----------------------------------------------------------------------------
# One class per documented code; the dashboard shows `message`, the API answers
# {"error_code": code, "message": message} with `status`.


class AdminError(Exception):
    code = "admin_error"
    status = 400
    message = "The request could not be completed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message


class NotFound(AdminError):
    """Also for another organization's ids: their existence is not disclosed."""

    code, status, message = "not_found", 404, "No such item."


class Forbidden(AdminError):
    code, status, message = "forbidden", 403, "Your role does not allow this."


class Unauthenticated(AdminError):
    code, status, message = "unauthenticated", 401, "Log in, or send a valid API token."


class BadCredentials(AdminError):
    """The same answer for an unknown email and a wrong password (no enumeration)."""

    code, status, message = "bad_credentials", 401, "Wrong email or password."


class Throttled(AdminError):
    code, status, message = "too_many_attempts", 429, "Too many attempts; try again later."

    def __init__(self, retry_after_s: int, message: str | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class Invalid(AdminError):
    code, status, message = "invalid_input", 422, "Some of the input is not valid."

    def __init__(self, message: str | None = None, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class Conflict(AdminError):
    code, status, message = "conflict", 409, "That conflicts with what exists."
