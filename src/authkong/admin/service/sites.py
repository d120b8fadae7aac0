"""Sites: listing, creating, editing and deleting them, and rotating their secrets.

The input checks these operations run are admin/sites.py's, imported as `site_checks`.
"""

from dataclasses import dataclass

from authkong.admin import sites as site_checks
from authkong.admin.model import Actor, NotFound, Scope
from authkong.admin.service._base import ANY_ORG, ServiceBase, _require
from authkong.domain.pow import Difficulty
from authkong.domain.site import (
    DEFAULT_PRESET,
    DEFAULT_TOKEN_LIFETIME,
    PRESETS,
    RateLimits,
    RiskSettings,
    Site,
)
from authkong.storage.registry import NewSecret, SiteNotFound


@dataclass(frozen=True, slots=True)
class SiteChanges:
    """What an edit may change; None leaves a field as it is."""

    name: str | None = None
    domains: tuple[str, ...] | None = None
    difficulty: Difficulty | None = None
    token_lifetime: int | None = None
    rate_limits: RateLimits | None = None
    risk: RiskSettings | None = None


class SitesMixin(ServiceBase):
    """Sites and their secrets."""

    def list_sites(self, actor: Actor) -> list[Site]:
        _require(actor, Scope.SITES_READ)
        if actor.org_id == ANY_ORG:
            return self.registry.all_sites()
        return self.registry.sites_of(actor.org_id)

    def get_site(self, actor: Actor, sitekey: str) -> Site:
        _require(actor, Scope.SITES_READ)
        return self._site(actor, sitekey)

    def site_to_update(self, actor: Actor, sitekey: str) -> Site:
        """The current site for a partial edit (PATCH merges nested settings into it):
        needs sites:write only, since a writer may see what it is about to change."""
        _require(actor, Scope.SITES_WRITE)
        return self._site(actor, sitekey)

    def create_site(
        self,
        actor: Actor,
        *,
        name: str,
        domains: tuple[str, ...],
        difficulty: Difficulty | None = None,
        token_lifetime: int | None = None,
        rate_limits: RateLimits | None = None,
        risk: RiskSettings | None = None,
    ) -> NewSecret:
        """Invalid (with `field`) for a bad name, domain or setting."""
        _require(actor, Scope.SITES_WRITE)
        return self.registry.create_site(
            name=site_checks.check_name(name),
            domains=site_checks.check_domains(domains),
            difficulty=site_checks.check_difficulty(difficulty or PRESETS[DEFAULT_PRESET]),
            token_lifetime=site_checks.check_token_lifetime(
                DEFAULT_TOKEN_LIFETIME if token_lifetime is None else token_lifetime
            ),
            now_ms=self.clock.now_ms(),
            rate_limits=rate_limits,
            risk=risk,
            org_id=None if actor.org_id == ANY_ORG else actor.org_id,
            also=lambda conn, site: self._record(
                actor, "site.create", site.sitekey,
                {"name": site.name, "domains": list(site.domains)}, site.org_id, conn,
            ),
        )  # fmt: skip

    def update_site(self, actor: Actor, sitekey: str, changes: SiteChanges) -> Site:
        _require(actor, Scope.SITES_WRITE)
        current = self._site(actor, sitekey)
        name = None if changes.name is None else site_checks.check_name(changes.name)
        domains = None if changes.domains is None else site_checks.check_domains(changes.domains)
        difficulty = (
            None if changes.difficulty is None else site_checks.check_difficulty(changes.difficulty)
        )
        lifetime = changes.token_lifetime
        if lifetime is not None:
            site_checks.check_token_lifetime(lifetime)
        try:
            updated = self.registry.update_site(
                sitekey,
                now_ms=self.clock.now_ms(),
                name=name,
                domains=domains,
                difficulty=difficulty,
                token_lifetime=lifetime,
                rate_limits=changes.rate_limits,
                risk=changes.risk,
                also=lambda conn, site: self._record(
                    actor, "site.update", sitekey, _changed(current, site), site.org_id, conn
                ),
            )
        except SiteNotFound:
            raise NotFound from None
        return updated

    def rotate_secret(self, actor: Actor, sitekey: str, overlap_s: int) -> NewSecret:
        _require(actor, Scope.SECRETS_ROTATE)
        site = self._site(actor, sitekey)
        overlap_s = site_checks.check_overlap(overlap_s)
        try:
            rotated = self.registry.rotate_secret(
                sitekey,
                overlap_ms=overlap_s * 1000,
                now_ms=self.clock.now_ms(),
                also=lambda conn, _site: self._record(
                    actor, "secret.rotate", sitekey, {"overlap_s": overlap_s}, site.org_id, conn
                ),
            )
        except SiteNotFound:
            raise NotFound from None
        return rotated

    def delete_site(self, actor: Actor, sitekey: str) -> None:
        _require(actor, Scope.SITES_WRITE)
        site = self._site(actor, sitekey)
        try:
            self.registry.delete_site(
                sitekey,
                also=lambda conn, _site: self._record(
                    actor, "site.delete", sitekey, {"name": site.name}, site.org_id, conn
                ),
            )
        except SiteNotFound:
            raise NotFound from None


def _changed(before: Site, after: Site) -> dict[str, object]:
    """What an update changed, as new values, for the audit log (a site holds no secret
    but its hashed ones, which are never part of this)."""
    pairs: dict[str, tuple[object, object]] = {
        "name": (before.name, after.name),
        "domains": (list(before.domains), list(after.domains)),
        "k": (before.difficulty.k, after.difficulty.k),
        "solution_difficulty": (
            before.difficulty.solution_hashes,
            after.difficulty.solution_hashes,
        ),
        "token_lifetime": (before.token_lifetime, after.token_lifetime),
        "rate_ip_per_min": (before.rate_limits.ip_per_min, after.rate_limits.ip_per_min),
        "rate_ip_burst": (before.rate_limits.ip_burst, after.rate_limits.ip_burst),
        "rate_site_per_min": (before.rate_limits.site_per_min, after.rate_limits.site_per_min),
        "risk_scoring": (before.risk.scoring, after.risk.scoring),
        "adaptive_difficulty": (before.risk.adaptive, after.risk.adaptive),
        "max_wait_s": (before.risk.max_wait_s, after.risk.max_wait_s),
    }
    return {key: new for key, (old, new) in pairs.items() if old != new}
