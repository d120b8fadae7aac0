"""The audit log: who did what to which thing, from where, in each organization.

`detail` is a small JSON object of non-secret facts (a site's new name, a member's new
role). Callers never pass a secret, a token or a password; `record` also drops any key
that names one, as a second line of defence.
"""

import json
from collections.abc import Mapping

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from authkong.admin.model import AuditEntry
from authkong.storage.tables import audit_log

MAX_TARGET = 200
MAX_PAGE = 500
_ENTERED = ("login", "member.join", "org.switch")
"""The actions that put a user's session in an organization (AuditLog.last_org)."""
_NEVER = frozenset({"secret", "password", "token", "value"})


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self,
        *,
        org_id: int | None,
        actor: str,
        action: str,
        target: str = "",
        detail: Mapping[str, object] | None = None,
        ip: str = "",
        now_ms: int,
        conn: Connection | None = None,
    ) -> None:
        safe = {
            k: v
            for k, v in (detail or {}).items()
            if k not in _NEVER and not k.endswith(("_secret", "_password"))
        }
        values = {
            "org_id": org_id,
            "actor": actor[:320],
            "action": action,
            "target": target[:MAX_TARGET],
            "detail": json.dumps(safe, sort_keys=True, default=str),
            "ip": ip[:64],
            "created_ms": now_ms,
        }
        if conn is not None:
            conn.execute(insert(audit_log).values(**values))
            return
        with self.engine.begin() as own:
            own.execute(insert(audit_log).values(**values))

    def adopt(self, conn: Connection, org_id: int, targets: list[str]) -> None:
        """Give an organization the unassigned entries about things it has just adopted
        (sites the CLI made before any organization existed)."""
        if targets:
            conn.execute(
                update(audit_log)
                .where(audit_log.c.org_id.is_(None), audit_log.c.target.in_(targets))
                .values(org_id=org_id)
            )

    def entries(self, org_id: int, limit: int, before_id: int | None) -> list[AuditEntry]:
        """Newest first; `before_id` pages back from an earlier page's last id."""
        query = (
            select(audit_log)
            .where(audit_log.c.org_id == org_id)
            .order_by(audit_log.c.id.desc())
            .limit(max(1, min(limit, MAX_PAGE)))
        )
        if before_id is not None:
            query = query.where(audit_log.c.id < before_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            AuditEntry(
                id=r.id,
                actor=r.actor,
                action=r.action,
                target=r.target,
                detail=json.loads(r.detail),
                ip=r.ip,
                created_ms=r.created_ms,
            )
            for r in rows
        ]

    def last_org(self, actor: str, org_ids: list[int]) -> int | None:
        """Which of `org_ids` the actor last logged in to, joined or switched to: login
        opens it again. Read from the log because sessions, ended at logout, forget it;
        the org_id index keeps the scan to the user's own organizations' entries."""
        if not org_ids:
            return None
        with self.engine.connect() as conn:
            return conn.execute(
                select(audit_log.c.org_id)
                .where(
                    audit_log.c.org_id.in_(org_ids),
                    audit_log.c.actor == actor,
                    audit_log.c.action.in_(_ENTERED),
                )
                .order_by(audit_log.c.id.desc())
                .limit(1)
            ).scalar_one_or_none()
