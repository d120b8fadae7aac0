"""Admin API tokens: `akt_` + 256 random bits, stored only as their SHA-256 digest.

A token belongs to an organization (not to the member who made it) and carries the
scopes it was given. Its last use is recorded at most every LAST_USED_EVERY_MS, since
every registry write makes each server reload its site cache.
"""

import hmac
import secrets

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Row

from authkong.admin.accounts import digest
from authkong.admin.model import ApiToken, Scope
from authkong.storage.tables import api_tokens

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

    def create(
        self,
        org_id: int,
        name: str,
        scopes: frozenset[Scope],
        created_by: int | None,
        expires_ms: int | None,
        now_ms: int,
    ) -> tuple[ApiToken, str]:
        value = new_token()
        with self.engine.begin() as conn:
            token_id = conn.execute(
                insert(api_tokens)
                .returning(api_tokens.c.id)
                .values(
                    org_id=org_id,
                    name=name,
                    digest=digest(value),
                    scopes=scopes_text(scopes),
                    created_by=created_by,
                    created_ms=now_ms,
                    expires_ms=expires_ms,
                )
            ).scalar_one()
        token = ApiToken(
            id=token_id,
            name=name,
            scopes=scopes,
            created_ms=now_ms,
            expires_ms=expires_ms,
            last_used_ms=None,
            revoked_ms=None,
        )
        return token, value

    def of_org(self, org_id: int) -> list[ApiToken]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(api_tokens).where(api_tokens.c.org_id == org_id).order_by(api_tokens.c.id)
            ).all()
        return [_token(r) for r in rows]

    def get(self, org_id: int, token_id: int) -> ApiToken | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(api_tokens).where(api_tokens.c.org_id == org_id, api_tokens.c.id == token_id)
            ).first()
        return None if row is None else _token(row)

    def revoke(self, token_id: int, now_ms: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == token_id, api_tokens.c.revoked_ms.is_(None))
                .values(revoked_ms=now_ms)
            )

    def use(self, value: str, now_ms: int) -> tuple[int, ApiToken] | None:
        """The organization id and token for a bearer value if it is live, else None."""
        if not value.startswith(PREFIX) or len(value) > 100:
            return None
        key = digest(value)
        with self.engine.connect() as conn:
            row = conn.execute(select(api_tokens).where(api_tokens.c.digest == key)).first()
        # The lookup is by digest (an index cannot compare in constant time); comparing
        # again here keeps the decision itself free of early exits.
        if row is None or not hmac.compare_digest(bytes(row.digest), key):
            return None
        if row.revoked_ms is not None or (row.expires_ms is not None and row.expires_ms <= now_ms):
            return None
        token = _token(row)
        if row.last_used_ms is None or now_ms - row.last_used_ms >= LAST_USED_EVERY_MS:
            with self.engine.begin() as conn:
                conn.execute(
                    update(api_tokens).where(api_tokens.c.id == row.id).values(last_used_ms=now_ms)
                )
        return row.org_id, token


def _token(row: Row[tuple[object, ...]]) -> ApiToken:
    return ApiToken(
        id=row.id,
        name=row.name,
        scopes=parse_scopes(row.scopes),
        created_ms=row.created_ms,
        expires_ms=row.expires_ms,
        last_used_ms=row.last_used_ms,
        revoked_ms=row.revoked_ms,
    )
