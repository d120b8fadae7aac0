"""What every part of the admin service shares: its state, the permission checks, and
the command line's actor.

ServiceBase holds the stores the operations work on; each area's mixin (accounts.py,
members.py, sites.py, tokens.py, reports.py) inherits it, so mypy knows the attributes
they use, and AdminService (__init__.py) combines them.
"""

from collections.abc import Mapping, Sequence
from typing import Protocol

from sqlalchemy.engine import Connection

from authkong.admin.accounts import Accounts
from authkong.admin.analytics import Analytics, Span
from authkong.admin.api_tokens import ApiTokens
from authkong.admin.audit import AuditLog
from authkong.admin.model import (
    ROLE_SCOPES,
    Actor,
    Forbidden,
    NotFound,
    Organization,
    Role,
    Scope,
    SessionGrant,
    User,
)
from authkong.admin.sessions import Sessions
from authkong.admin.throttle import LoginThrottle
from authkong.domain.clock import Clock
from authkong.domain.site import Site
from authkong.storage.ephemeral import EphemeralStore
from authkong.storage.registry import Registry, SiteNotFound

ANY_ORG = 0
"""The CLI actor's org_id: it may act on every site. No organization has id 0."""

CLI_LABEL = "cli"


def cli_actor(org_id: int | None = None) -> Actor:
    """The command line's actor: every scope; on every site, or within one organization
    (`site create --org NAME` makes the site there)."""
    return Actor(
        org_id=ANY_ORG if org_id is None else org_id, label=CLI_LABEL, scopes=frozenset(Scope)
    )


class AnalyticsSource(Protocol):
    """What analytics are read from (admin/stats.py): aggregated counters."""

    def analytics(self, sitekeys: Sequence[str], span: Span, now_ms: int) -> Analytics: ...


class ServiceBase:
    """The admin service's state and the helpers every area uses."""

    def __init__(
        self,
        registry: Registry,
        store: EphemeralStore,
        clock: Clock,
        stats: AnalyticsSource | None = None,
    ) -> None:
        self.registry = registry
        self.clock = clock
        self.stats = stats
        """Where analytics come from; without one, every chart is zeros."""
        self.accounts = Accounts(registry.engine)
        self.sessions = Sessions(registry.engine)
        self.tokens = ApiTokens(registry.engine)
        self.audit = AuditLog(registry.engine)
        self.throttle = LoginThrottle(store)

    def _grant(self, user: User, org: Organization, role: Role, now_ms: int) -> SessionGrant:
        token, expires_ms = self.sessions.start(user.id, org.id, now_ms)
        return SessionGrant(token=token, user=user, org=org, role=role, expires_ms=expires_ms)

    def _site(self, actor: Actor, sitekey: str) -> Site:
        """The site if the actor's organization owns it; NotFound alike for another
        organization's site and for none, so sitekeys cannot be probed."""
        try:
            site = self.registry.get_site(sitekey)
        except SiteNotFound:
            raise NotFound("No site has that sitekey.") from None
        if actor.org_id != ANY_ORG and site.org_id != actor.org_id:
            raise NotFound("No site has that sitekey.")
        return site

    def _record(
        self,
        actor: Actor,
        action: str,
        target: str,
        detail: Mapping[str, object],
        org_id: int | None = None,
        conn: Connection | None = None,
    ) -> None:
        """Write an audit entry; with `conn`, inside that transaction (it commits or rolls
        back with the change it records)."""
        self.audit.record(
            org_id=actor.org_id if actor.org_id != ANY_ORG else org_id,
            actor=actor.label,
            action=action,
            target=target,
            detail=detail,
            ip=actor.ip,
            now_ms=self.clock.now_ms(),
            conn=conn,
        )


def _require(actor: Actor, scope: Scope) -> None:
    if scope not in actor.scopes:
        raise Forbidden(f"This needs the {scope.value} permission, which you do not have.")


def _may_grant(actor: Actor, role: Role) -> None:
    """Whether the actor may give someone `role` (or act on a member who has it): only
    with every permission the role holds, so members:write alone cannot make an admin."""
    if role is Role.OWNER and actor.role is not Role.OWNER and actor.label != CLI_LABEL:
        raise Forbidden("Only an owner can make, change or remove an owner.")
    beyond = ROLE_SCOPES[role] - actor.scopes
    if beyond:
        listed = ", ".join(sorted(s.value for s in beyond))
        raise Forbidden(f"The {role.value} role holds permissions you do not have: {listed}.")
