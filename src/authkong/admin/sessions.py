"""Dashboard sessions: a random cookie value, stored only as its SHA-256 digest.

A session ends after IDLE_MS without use, and in any case ABSOLUTE_MS after login. Use
is recorded at most every SEEN_EVERY_MS: each write to the registry makes every server
reload its site cache (storage/registry.py SiteCache), so a busy dashboard must not
write on every page view.
"""

import secrets
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.engine import Connection

from authkong.admin.accounts import digest
from authkong.admin.model import Role, User
from authkong.storage.tables import memberships, sessions, users

IDLE_MS = 12 * 3_600_000
ABSOLUTE_MS = 30 * 86_400_000
SEEN_EVERY_MS = 5 * 60_000


@dataclass(frozen=True, slots=True)
class LiveSession:
    user: User
    org_id: int
    role: Role
    expires_ms: int


class Sessions:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(self, user_id: int, org_id: int, now_ms: int) -> tuple[str, int]:
        """A new session's cookie value and expiry; expired sessions are swept meanwhile."""
        token = secrets.token_urlsafe(32)
        expires_ms = now_ms + IDLE_MS
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.expires_ms <= now_ms))
            conn.execute(
                insert(sessions).values(
                    digest=digest(token),
                    user_id=user_id,
                    org_id=org_id,
                    created_ms=now_ms,
                    expires_ms=expires_ms,
                    seen_ms=now_ms,
                )
            )
        return token, expires_ms

    def find(self, token: str, now_ms: int) -> LiveSession | None:
        """The live session for a cookie value, its user still a member; None otherwise."""
        key = digest(token)
        with self.engine.connect() as conn:
            row = conn.execute(
                select(
                    sessions.c.org_id,
                    sessions.c.created_ms,
                    sessions.c.expires_ms,
                    sessions.c.seen_ms,
                    users.c.id,
                    users.c.email,
                    users.c.created_ms.label("user_created_ms"),
                    memberships.c.role,
                )
                .join(users, users.c.id == sessions.c.user_id)
                .join(
                    memberships,
                    (memberships.c.user_id == sessions.c.user_id)
                    & (memberships.c.org_id == sessions.c.org_id),
                )
                .where(sessions.c.digest == key)
            ).first()
        if row is None or row.expires_ms <= now_ms:
            return None
        expires_ms = row.expires_ms
        if now_ms - row.seen_ms >= SEEN_EVERY_MS:
            expires_ms = min(now_ms + IDLE_MS, row.created_ms + ABSOLUTE_MS)
            with self.engine.begin() as conn:
                conn.execute(
                    update(sessions)
                    .where(sessions.c.digest == key)
                    .values(seen_ms=now_ms, expires_ms=expires_ms)
                )
        user = User(id=row.id, email=row.email, created_ms=row.user_created_ms)
        return LiveSession(user=user, org_id=row.org_id, role=Role(row.role), expires_ms=expires_ms)

    def end(self, token: str) -> int | None:
        """Delete a session; the user id it belonged to, or None if there was none."""
        key = digest(token)
        with self.engine.begin() as conn:
            user_id = conn.execute(
                select(sessions.c.user_id).where(sessions.c.digest == key)
            ).scalar_one_or_none()
            if user_id is not None:
                conn.execute(delete(sessions).where(sessions.c.digest == key))
        return user_id

    @staticmethod
    def end_all(
        conn: Connection, user_id: int, *, keep: str | None = None, org_id: int | None = None
    ) -> None:
        """End a user's sessions (in one organization, if given), except the one `keep`,
        inside the caller's transaction."""
        query = delete(sessions).where(sessions.c.user_id == user_id)
        if org_id is not None:
            query = query.where(sessions.c.org_id == org_id)
        if keep is not None:
            query = query.where(sessions.c.digest != digest(keep))
        conn.execute(query)

    def switch(self, token: str, org_id: int) -> None:
        """Point a session at another of its user's organizations (the org switcher)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(sessions).where(sessions.c.digest == digest(token)).values(org_id=org_id)
            )
