"""Admin API tokens: `akt_` + 256 random bits, stored only as their SHA-256 digest.

A token belongs to an organization and carries the scopes it was given; it acts for the
member who made it (or who made the token that made it). Removing that member revokes it,
demoting them revokes it if it holds a scope their new role lacks, and `use` refuses it
meanwhile too, so a token never outlasts its maker's access. Its last use is recorded at
most every LAST_USED_EVERY_MS, since every registry write makes each server reload its
site cache.
"""

import hmac
import secrets

from sqlalchemy import Engine, Select, and_, insert, or_, select, update
from sqlalchemy.engine import Connection, Row

from authkong.admin.accounts import digest
from authkong.admin.model import ROLE_SCOPES, ApiToken, Role, Scope
from authkong.storage.tables import api_tokens, memberships, users

PREFIX = "akt_"
LAST_USED_EVERY_MS = 5 * 60_000
MAX_NAME = 200


def new_token() -> str:
    return PREFIX + secrets.token_urlsafe(32)


def scopes_text(scopes: frozenset[Scope]) -> str:
    return " ".join(sorted(s.value for s in scopes))


def parse_scopes(text: str) -> frozenset[Scope]:
    # Unknown words are dropped rather than failing: a scope retired in a later version
    # then simply stops granting anything.
    known = {s.value for s in Scope}
    return frozenset(Scope(word) for word in text.split() if word in known)


class ApiTokens:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @staticmethod
    def create(
        conn: Connection,
        org_id: int,
        name: str,
        scopes: frozenset[Scope],
        creator_id: int | None,
        expires_ms: int | None,
        now_ms: int,
    ) -> tuple[ApiToken, str]:
        """A new token and its value, inside the caller's transaction (with its audit
        entry)."""
        value = new_token()
        token_id = conn.execute(
            insert(api_tokens)
            .returning(api_tokens.c.id)
            .values(
                org_id=org_id,
                name=name,
                digest=digest(value),
                scopes=scopes_text(scopes),
                created_by=creator_id,
                created_ms=now_ms,
                expires_ms=expires_ms,
            )
        ).scalar_one()
        row = conn.execute(_listed().where(api_tokens.c.id == token_id)).one()
        return _token(row), value

    def of_org(self, org_id: int) -> list[ApiToken]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                _listed().where(api_tokens.c.org_id == org_id).order_by(api_tokens.c.id)
            ).all()
        return [_token(r) for r in rows]

    def get(self, org_id: int, token_id: int) -> ApiToken | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                _listed().where(api_tokens.c.org_id == org_id, api_tokens.c.id == token_id)
            ).first()
        return None if row is None else _token(row)

    @staticmethod
    def revoke(conn: Connection, token_id: int, now_ms: int) -> None:
        conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked_ms.is_(None))
            .values(revoked_ms=now_ms)
        )

    @staticmethod
    def revoke_made_by(
        conn: Connection,
        org_id: int,
        creator_id: int,
        now_ms: int,
        *,
        keep_within: frozenset[Scope] | None = None,
    ) -> list[ApiToken]:
        """Revoke a member's live tokens in an organization: all of them, or with
        `keep_within` only those holding a scope outside it. The ones revoked."""
        live = conn.execute(
            _listed().where(
                api_tokens.c.org_id == org_id,
                api_tokens.c.created_by == creator_id,
                api_tokens.c.revoked_ms.is_(None),
                or_(api_tokens.c.expires_ms.is_(None), api_tokens.c.expires_ms > now_ms),
            )
        ).all()
        doomed = [
            _token(r)
            for r in live
            if keep_within is None or not parse_scopes(r.scopes) <= keep_within
        ]
        if doomed:
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id.in_([t.id for t in doomed]))
                .values(revoked_ms=now_ms)
            )
        return doomed

    def use(self, value: str, now_ms: int) -> tuple[int, ApiToken] | None:
        """The organization id and token for a bearer value if it is live, else None.
        A token whose maker has left the organization, or whose role no longer holds all
        of its scopes, is not (demotion revokes it too: this also covers a token made
        while its maker was being removed)."""
        if not value.startswith(PREFIX) or len(value) > 100:
            return None
        key = digest(value)
        with self.engine.connect() as conn:
            row = conn.execute(
                _listed()
                .add_columns(memberships.c.role.label("creator_role"))
                .outerjoin(
                    memberships,
                    and_(
                        memberships.c.user_id == api_tokens.c.created_by,
                        memberships.c.org_id == api_tokens.c.org_id,
                    ),
                )
                .where(api_tokens.c.digest == key)
            ).first()
        # The lookup is by digest (an index cannot compare in constant time); comparing
        # again here keeps the decision itself free of early exits.
        if row is None or not hmac.compare_digest(bytes(row.digest), key):
            return None
        if row.revoked_ms is not None or (row.expires_ms is not None and row.expires_ms <= now_ms):
            return None
        token = _token(row)
        if token.creator_id is not None and (
            row.creator_role is None or not token.scopes <= ROLE_SCOPES[Role(row.creator_role)]
        ):
            return None
        if row.last_used_ms is None or now_ms - row.last_used_ms >= LAST_USED_EVERY_MS:
            with self.engine.begin() as conn:
                conn.execute(
                    update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_ms=now_ms)
                )
        return row.org_id, token


def _listed() -> Select[tuple[object, ...]]:
    """A token's row with its maker's email."""
    return select(api_tokens, users.c.email.label("creator_email")).outerjoin(
        users, users.c.id == api_tokens.c.created_by
    )


def _token(row: Row[tuple[object, ...]]) -> ApiToken:
    return ApiToken(
        id=row.id,
        name=row.name,
        scopes=parse_scopes(row.scopes),
        created_ms=row.created_ms,
        expires_ms=row.expires_ms,
        last_used_ms=row.last_used_ms,
        revoked_ms=row.revoked_ms,
        creator_id=row.created_by,
        created_by=row.creator_email or "",
    )
