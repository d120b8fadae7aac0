"""The registry: sites and their hashed secrets, in SQLite (default) through SQLAlchemy Core.

The CLI and every server process open the same database. Servers keep all sites in
memory (`SiteCache`) and reload them only when the database says another connection
wrote to it, so the hot path never reads static data from disk.
"""

import json
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, delete, event, insert, or_, select, update
from sqlalchemy.engine import Connection

from authkong.domain.pow import Difficulty
from authkong.domain.site import (
    RateLimits,
    RiskSettings,
    SecretHash,
    Site,
    hash_secret,
    new_secret,
    new_sitekey,
)
from authkong.storage.tables import site_secrets, sites

InTransaction = Callable[[Connection, Site], None]
"""Work that must commit or roll back with a site change (its audit entry): called inside
the change's transaction with the site as it now is (for a deletion, as it was)."""


class SiteNotFound(LookupError):
    """No site has that sitekey."""


@dataclass(frozen=True, slots=True)
class NewSecret:
    site: Site
    secret: str
    """Shown once to the operator; only its hash is stored."""


def open_engine(db_path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{db_path}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    config = Config()
    config.set_main_option("script_location", str(files("authkong.storage") / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


class Registry:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- reads ---------------------------------------------------------------------

    def all_sites(self) -> list[Site]:
        with self.engine.connect() as conn:
            return self._load(conn, None)

    def get_site(self, sitekey: str) -> Site:
        with self.engine.connect() as conn:
            found = self._load(conn, sitekey)
        if not found:
            raise SiteNotFound(sitekey)
        return found[0]

    def sites_of(self, org_id: int | None) -> list[Site]:
        """An organization's sites; with None, the ones no organization has adopted."""
        with self.engine.connect() as conn:
            return self._load(conn, None, org_id=org_id, by_org=True)

    # -- writes --------------------------------------------------------------------

    def create_site(
        self,
        *,
        name: str,
        domains: tuple[str, ...],
        difficulty: Difficulty,
        token_lifetime: int,
        now_ms: int,
        sitekey: str | None = None,
        rate_limits: RateLimits | None = None,
        risk: RiskSettings | None = None,
        org_id: int | None = None,
        also: InTransaction | None = None,
    ) -> NewSecret:
        sitekey = sitekey or new_sitekey()
        secret = new_secret()
        with self.engine.begin() as conn:
            site_id = conn.execute(
                insert(sites)
                .returning(sites.c.id)
                .values(
                    sitekey=sitekey,
                    name=name,
                    domains=json.dumps(list(domains)),
                    k=difficulty.k,
                    solution_hashes=difficulty.solution_hashes,
                    token_lifetime=token_lifetime,
                    created_ms=now_ms,
                    updated_ms=now_ms,
                    **_rate_columns(rate_limits or RateLimits()),
                    **_risk_columns(risk or RiskSettings()),
                    org_id=org_id,
                )
            ).scalar_one()
            conn.execute(
                insert(site_secrets).values(
                    site_id=site_id, digest=hash_secret(secret), created_ms=now_ms, expires_ms=None
                )
            )
            site = self._load(conn, sitekey)[0]
            if also is not None:
                also(conn, site)
        return NewSecret(site=site, secret=secret)

    def update_site(
        self,
        sitekey: str,
        *,
        now_ms: int,
        name: str | None = None,
        domains: tuple[str, ...] | None = None,
        difficulty: Difficulty | None = None,
        token_lifetime: int | None = None,
        rate_limits: RateLimits | None = None,
        risk: RiskSettings | None = None,
        also: InTransaction | None = None,
    ) -> Site:
        changes: dict[str, object] = {"updated_ms": now_ms}
        if name is not None:
            changes["name"] = name
        if domains is not None:
            changes["domains"] = json.dumps(list(domains))
        if difficulty is not None:
            changes["k"] = difficulty.k
            changes["solution_hashes"] = difficulty.solution_hashes
        if token_lifetime is not None:
            changes["token_lifetime"] = token_lifetime
        if rate_limits is not None:
            changes.update(_rate_columns(rate_limits))
        if risk is not None:
            changes.update(_risk_columns(risk))
        with self.engine.begin() as conn:
            done = conn.execute(update(sites).where(sites.c.sitekey == sitekey).values(**changes))
            if done.rowcount == 0:
                raise SiteNotFound(sitekey)
            site = self._load(conn, sitekey)[0]
            if also is not None:
                also(conn, site)
            return site

    def rotate_secret(
        self, sitekey: str, *, overlap_ms: int, now_ms: int, also: InTransaction | None = None
    ) -> NewSecret:
        """Issue a new secret; the older ones keep working for `overlap_ms` more at most.

        Every older secret's end is brought forward to now + overlap, not only the current
        one's: an emergency rotation with overlap 0 also ends a leaked secret that an
        earlier rotation left in its overlap."""
        secret = new_secret()
        with self.engine.begin() as conn:
            site_id = conn.execute(
                select(sites.c.id).where(sites.c.sitekey == sitekey)
            ).scalar_one_or_none()
            if site_id is None:
                raise SiteNotFound(sitekey)
            old = site_secrets.c.site_id == site_id
            conn.execute(delete(site_secrets).where(old, site_secrets.c.expires_ms <= now_ms))
            ends = now_ms + overlap_ms
            conn.execute(
                update(site_secrets)
                .where(
                    old,
                    or_(site_secrets.c.expires_ms.is_(None), site_secrets.c.expires_ms > ends),
                )
                .values(expires_ms=ends)
            )
            conn.execute(
                insert(site_secrets).values(
                    site_id=site_id, digest=hash_secret(secret), created_ms=now_ms, expires_ms=None
                )
            )
            conn.execute(update(sites).where(sites.c.id == site_id).values(updated_ms=now_ms))
            site = self._load(conn, sitekey)[0]
            if also is not None:
                also(conn, site)
        return NewSecret(site=site, secret=secret)

    def adopt_unassigned(self, conn: Connection, org_id: int, now_ms: int) -> list[str]:
        """Give every site without an organization to `org_id`, inside the caller's
        transaction (the first owner's setup); returns their sitekeys."""
        adopted = list(
            conn.execute(select(sites.c.sitekey).where(sites.c.org_id.is_(None))).scalars()
        )
        if adopted:
            conn.execute(
                update(sites)
                .where(sites.c.org_id.is_(None))
                .values(org_id=org_id, updated_ms=now_ms)
            )
        return adopted

    def delete_site(self, sitekey: str, also: InTransaction | None = None) -> None:
        with self.engine.begin() as conn:
            found = self._load(conn, sitekey)
            if not found:
                raise SiteNotFound(sitekey)
            conn.execute(delete(sites).where(sites.c.sitekey == sitekey))
            if also is not None:
                also(conn, found[0])

    # -- internals -----------------------------------------------------------------

    @staticmethod
    def _load(
        conn: Connection, sitekey: str | None, *, org_id: int | None = None, by_org: bool = False
    ) -> list[Site]:
        query = select(sites).order_by(sites.c.id)
        if sitekey is not None:
            query = query.where(sites.c.sitekey == sitekey)
        if by_org:
            query = query.where(
                sites.c.org_id.is_(None) if org_id is None else sites.c.org_id == org_id
            )
        rows = conn.execute(query).all()
        secret_rows = conn.execute(
            select(site_secrets).where(site_secrets.c.site_id.in_([r.id for r in rows]))
        ).all()
        by_site: dict[int, list[SecretHash]] = {}
        for s in secret_rows:
            by_site.setdefault(s.site_id, []).append(
                SecretHash(digest=bytes(s.digest), expires_ms=s.expires_ms)
            )
        return [
            Site(
                sitekey=r.sitekey,
                name=r.name,
                domains=tuple(json.loads(r.domains)),
                difficulty=Difficulty(k=r.k, solution_hashes=r.solution_hashes),
                token_lifetime=r.token_lifetime,
                secrets=tuple(by_site.get(r.id, ())),
                created_ms=r.created_ms,
                rate_limits=RateLimits(
                    ip_per_min=r.rate_ip_per_min,
                    ip_burst=r.rate_ip_burst,
                    site_per_min=r.rate_site_per_min,
                ),
                risk=RiskSettings(
                    scoring=bool(r.risk_scoring),
                    adaptive=bool(r.risk_adaptive),
                    max_wait_s=r.risk_max_wait_ms / 1000,
                ),
                org_id=r.org_id,
            )
            for r in rows
        ]


def _rate_columns(limits: RateLimits) -> dict[str, int]:
    return {
        "rate_ip_per_min": limits.ip_per_min,
        "rate_ip_burst": limits.ip_burst,
        "rate_site_per_min": limits.site_per_min,
    }


def _risk_columns(risk: RiskSettings) -> dict[str, object]:
    return {
        "risk_scoring": risk.scoring,
        "risk_adaptive": risk.adaptive,
        "risk_max_wait_ms": round(risk.max_wait_s * 1000),
    }


class SiteCache:
    """Every site in memory, indexed by sitekey and by secret digest.

    Each lookup first asks whether any process wrote to the registry since the last
    look, so a site created, rotated or deleted by the CLI counts at once, without a
    restart. `PRAGMA data_version` answers exactly but takes three system calls; a stat
    of the WAL file (every commit writes to it) answers "nothing changed" with one, and
    is trusted only once the file has been quiet for longer than the filesystem's
    timestamp granularity could hide a second write.
    """

    QUIET_NS = 2_000_000_000

    def __init__(self, registry: Registry, db_path: Path) -> None:
        self._registry = registry
        self._watch = sqlite3.connect(db_path, check_same_thread=False)
        self._wal = f"{db_path}-wal"
        self._seen: tuple[int, int, int] | None = None
        self._version: int | None = None
        self._by_key: dict[str, Site] = {}
        self._by_secret: dict[bytes, Site] = {}

    def refresh_if_changed(self) -> None:
        try:
            st = os.stat(self._wal)  # noqa: PTH116  # on every request; Path.stat costs more
        except OSError:
            self._seen = None  # no WAL file yet: fall back to asking SQLite every time
        else:
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            if stamp == self._seen:
                return
            quiet = time.time_ns() - st.st_mtime_ns > self.QUIET_NS
            self._seen = stamp if quiet else None
        version = int(self._watch.execute("PRAGMA data_version").fetchone()[0])
        if version != self._version:
            self._version = version
            self._index(self._registry.all_sites())

    def by_sitekey(self, sitekey: str) -> Site | None:
        self.refresh_if_changed()
        return self._by_key.get(sitekey)

    def by_secret(self, digest: bytes, now_ms: int) -> Site | None:
        self.refresh_if_changed()
        site = self._by_secret.get(digest)
        if site is None or not site.accepts_secret(digest, now_ms):
            return None
        return site

    def close(self) -> None:
        self._watch.close()

    def _index(self, all_sites: list[Site]) -> None:
        self._by_key = {s.sitekey: s for s in all_sites}
        self._by_secret = {secret.digest: s for s in all_sites for secret in s.secrets}
