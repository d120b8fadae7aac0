"""What an organization can read back: its audit log and its analytics."""

from authkong.admin.analytics import Analytics, Point, Span
from authkong.admin.model import Actor, AuditEntry, Scope
from authkong.admin.service._base import ANY_ORG, ServiceBase, _require

_SPAN_BUCKETS: dict[Span, tuple[int, int]] = {
    Span.HOUR: (60_000, 60),
    Span.DAY: (3_600_000, 24),
    Span.MONTH: (86_400_000, 30),
}


class ReportsMixin(ServiceBase):
    """The audit log and analytics."""

    def audit_log(
        self, actor: Actor, *, limit: int = 100, before_id: int | None = None
    ) -> list[AuditEntry]:
        _require(actor, Scope.AUDIT_READ)
        return self.audit.entries(actor.org_id, limit, before_id)

    def analytics(self, actor: Actor, sitekey: str | None, span: Span) -> Analytics:
        """One site's, or with sitekey None the whole organization's."""
        _require(actor, Scope.ANALYTICS_READ)
        if sitekey is not None:
            keys = [self._site(actor, sitekey).sitekey]
        elif actor.org_id == ANY_ORG:
            keys = [s.sitekey for s in self.registry.all_sites()]
        else:
            keys = [s.sitekey for s in self.registry.sites_of(actor.org_id)]
        now = self.clock.now_ms()
        if self.stats is not None:
            return self.stats.analytics(keys, span, now)
        bucket_ms, count = _SPAN_BUCKETS[span]
        first = (now // bucket_ms - count + 1) * bucket_ms
        points = [Point(start_ms=first + i * bucket_ms) for i in range(count)]
        return Analytics(span=span, bucket_ms=bucket_ms, points=points)
