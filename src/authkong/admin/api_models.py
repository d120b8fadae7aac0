"""The admin API's request and response bodies (pydantic), and their mapping to the domain.

Requests check only shape and range here; names, domains, emails and what an actor may
do are the service's to judge (its Invalid carries the field). Unknown members are
refused (`extra="forbid"`), so a typo in a field name is an error instead of a no-op.
Responses never carry a secret or a token value, except the one answer that creates it.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from authkong.admin.analytics import Analytics, Point, Span
from authkong.admin.model import (
    ApiToken,
    AuditEntry,
    Invitation,
    Member,
    PendingInvitation,
    Role,
    Scope,
)
from authkong.domain.pow import Difficulty
from authkong.domain.site import (
    DEFAULT_PRESET,
    MAX_MAX_WAIT_S,
    MAX_RATE,
    MAX_TOKEN_LIFETIME,
    MIN_TOKEN_LIFETIME,
    PRESETS,
    RateLimits,
    RiskSettings,
    Site,
)

MAX_NAME = 200
"""The registry's column width for site and token names."""
MAX_EMAIL = 320
MAX_PASSWORD = 1024
"""Argon2 takes any length; the cap keeps a request from asking for a huge hash input."""
MAX_DOMAINS = 100
MAX_DOMAIN = 260
"""253 characters of hostname plus a `*.` prefix and some slack; the service checks it."""
MAX_TOKEN_LIFETIME_S = 10 * 365 * 86_400
MAX_K = 64

Preset = Literal["easy", "normal", "hard"]


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(BaseModel):
    """Every failure: a permanent code (docs/admin-api.md) and a message for people."""

    error_code: str = Field(examples=["not_found"])
    message: str = Field(examples=["No such item."])
    field: str | None = Field(
        default=None,
        description="With invalid_input: the offending field, e.g. `domains.0` or `span`.",
    )


# -- sites -----------------------------------------------------------------------------


class DifficultyIn(_Input):
    """A preset, optionally with k or solution_hashes overriding its values."""

    preset: Preset | None = Field(default=None, description="easy, normal or hard.")
    k: int | None = Field(default=None, ge=1, le=MAX_K, description="Solutions per challenge.")
    solution_hashes: int | None = Field(
        default=None, ge=1, le=2**32, description="Mean hashes to find one solution."
    )

    def apply(self, base: Difficulty) -> Difficulty:
        chosen = PRESETS[self.preset] if self.preset else base
        return Difficulty(
            k=self.k or chosen.k, solution_hashes=self.solution_hashes or chosen.solution_hashes
        )


class DifficultyOut(BaseModel):
    k: int
    solution_hashes: int
    expected_hashes: int = Field(description="Mean SHA-256 evaluations to solve a challenge.")


class RateLimitsIn(_Input):
    """Omitted members keep their current (or default) value; 0 per minute is off."""

    ip_per_min: int | None = Field(default=None, ge=0, le=MAX_RATE)
    ip_burst: int | None = Field(default=None, ge=1, le=MAX_RATE)
    site_per_min: int | None = Field(default=None, ge=0, le=MAX_RATE)

    def apply(self, base: RateLimits) -> RateLimits:
        return RateLimits(
            ip_per_min=base.ip_per_min if self.ip_per_min is None else self.ip_per_min,
            ip_burst=base.ip_burst if self.ip_burst is None else self.ip_burst,
            site_per_min=base.site_per_min if self.site_per_min is None else self.site_per_min,
        )


class RateLimitsOut(BaseModel):
    ip_per_min: int
    ip_burst: int
    site_per_min: int


class RiskIn(_Input):
    """Omitted members keep their current (or default) value."""

    scoring: bool | None = None
    adaptive: bool | None = None
    max_wait_s: float | None = Field(default=None, ge=0.1, le=MAX_MAX_WAIT_S)

    def apply(self, base: RiskSettings) -> RiskSettings:
        return RiskSettings(
            scoring=base.scoring if self.scoring is None else self.scoring,
            adaptive=base.adaptive if self.adaptive is None else self.adaptive,
            max_wait_s=base.max_wait_s if self.max_wait_s is None else self.max_wait_s,
        )


class RiskOut(BaseModel):
    scoring: bool
    adaptive: bool
    max_wait_s: float


class SiteCreate(_Input):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    domains: list[str] = Field(
        min_length=1,
        max_length=MAX_DOMAINS,
        description="Allowed hostnames: example.com, or *.example.com for its subdomains.",
    )
    difficulty: DifficultyIn | None = Field(
        default=None, description=f"Default: the {DEFAULT_PRESET} preset."
    )
    token_lifetime: int | None = Field(
        default=None,
        ge=MIN_TOKEN_LIFETIME,
        le=MAX_TOKEN_LIFETIME,
        description="Seconds a response token stays valid.",
    )
    rate_limits: RateLimitsIn | None = None
    risk: RiskIn | None = None


class SitePatch(_Input):
    """Only the members sent change; nested objects change only the members they carry."""

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME)
    domains: list[str] | None = Field(default=None, min_length=1, max_length=MAX_DOMAINS)
    difficulty: DifficultyIn | None = None
    token_lifetime: int | None = Field(default=None, ge=MIN_TOKEN_LIFETIME, le=MAX_TOKEN_LIFETIME)
    rate_limits: RateLimitsIn | None = None
    risk: RiskIn | None = None


class RotateSecret(_Input):
    overlap_s: int = Field(
        default=0,
        ge=0,
        le=365 * 86_400,
        description="How long the old secret keeps verifying; 0 ends it at once.",
    )


class SiteOut(BaseModel):
    sitekey: str
    name: str
    domains: list[str]
    difficulty: DifficultyOut
    token_lifetime: int
    rate_limits: RateLimitsOut
    risk: RiskOut
    created_ms: int
    old_secret_valid_until_ms: int | None = Field(
        description="While a rotated-out secret still verifies: when it stops; else null."
    )

    @classmethod
    def of(cls, site: Site, now_ms: int) -> "SiteOut":
        overlap = [
            s.expires_ms for s in site.secrets if s.expires_ms is not None and s.expires_ms > now_ms
        ]
        d, r, k = site.difficulty, site.rate_limits, site.risk
        return cls(
            sitekey=site.sitekey,
            name=site.name,
            domains=list(site.domains),
            difficulty=DifficultyOut(
                k=d.k, solution_hashes=d.solution_hashes, expected_hashes=d.expected_hashes
            ),
            token_lifetime=site.token_lifetime,
            rate_limits=RateLimitsOut(
                ip_per_min=r.ip_per_min, ip_burst=r.ip_burst, site_per_min=r.site_per_min
            ),
            risk=RiskOut(scoring=k.scoring, adaptive=k.adaptive, max_wait_s=k.max_wait_s),
            created_ms=site.created_ms,
            old_secret_valid_until_ms=max(overlap, default=None),
        )


class SiteList(BaseModel):
    sites: list[SiteOut]


class SiteWithSecret(BaseModel):
    site: SiteOut
    secret: str = Field(
        description="The site's secret for siteverify. Shown only in this answer: only its "
        "SHA-256 digest is stored."
    )


class SnippetOut(BaseModel):
    flavor: str
    title: str
    frontend: str = Field(description="HTML for the page.")
    backend: str = Field(description="A verify call; the secret appears as a placeholder.")


class SnippetList(BaseModel):
    snippets: list[SnippetOut]


# -- analytics -------------------------------------------------------------------------


class PointOut(BaseModel):
    start_ms: int
    challenges: int
    solves: int
    verified: int
    rejected: int

    @classmethod
    def of(cls, p: Point) -> "PointOut":
        return cls(
            start_ms=p.start_ms,
            challenges=p.challenges,
            solves=p.solves,
            verified=p.verified,
            rejected=p.rejected,
        )


class CountOut(BaseModel):
    key: str
    count: int


class AnalyticsOut(BaseModel):
    span: Span
    bucket_ms: int
    points: list[PointOut] = Field(description="Oldest first, one per bucket, zeros included.")
    totals: PointOut
    rejected_by_reason: dict[str, int]
    solve_ms_p50: int | None
    solve_ms_p95: int | None
    score_histogram: list[CountOut] = Field(description="Tokens issued by score band.")
    top_countries: list[CountOut] = Field(
        description='Challenges by country code, most first; "" for unknown.'
    )

    @classmethod
    def of(cls, a: Analytics) -> "AnalyticsOut":
        return cls(
            span=a.span,
            bucket_ms=a.bucket_ms,
            points=[PointOut.of(p) for p in a.points],
            totals=PointOut.of(a.totals),
            rejected_by_reason=dict(a.rejected_by_reason),
            solve_ms_p50=a.solve_ms_p50,
            solve_ms_p95=a.solve_ms_p95,
            score_histogram=[CountOut(key=k, count=n) for k, n in a.score_histogram],
            top_countries=[CountOut(key=k, count=n) for k, n in a.top_countries],
        )


# -- the actor, members and invitations ------------------------------------------------


class MeOut(BaseModel):
    org_id: int
    actor: str = Field(description='As the audit log names it, e.g. "token:deploy".')
    scopes: list[Scope]
    role: Role | None = Field(description="A member's role; null for an API token.")


class MemberOut(BaseModel):
    user_id: int
    email: str
    role: Role
    since_ms: int

    @classmethod
    def of(cls, m: Member) -> "MemberOut":
        return cls(user_id=m.user_id, email=m.email, role=m.role, since_ms=m.since_ms)


class MemberList(BaseModel):
    members: list[MemberOut]


class MemberCreate(_Input):
    email: str = Field(min_length=1, max_length=MAX_EMAIL)
    role: Role
    password: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PASSWORD,
        description="The new account's password (an email that has an account already "
        "answers 409 conflict: invite that person instead).",
    )


class MemberPatch(_Input):
    role: Role


class InvitationCreate(_Input):
    email: str = Field(min_length=1, max_length=MAX_EMAIL)
    role: Role


class InvitationOut(BaseModel):
    email: str
    role: Role
    expires_ms: int
    token: str = Field(description="Shown only in this answer; only its digest is stored.")
    link: str = Field(description="The page where the invited person sets a password.")

    @classmethod
    def of(cls, inv: Invitation, base_url: str) -> "InvitationOut":
        return cls(
            email=inv.email,
            role=inv.role,
            expires_ms=inv.expires_ms,
            token=inv.token,
            link=f"{base_url}/admin/invite/{inv.token}",
        )


class PendingInvitationOut(BaseModel):
    id: int
    email: str
    role: Role
    invited_by: str = Field(
        description="The inviting member's email (for an API token, the member who made "
        'it); "" if not recorded.'
    )
    created_ms: int
    expires_ms: int

    @classmethod
    def of(cls, inv: PendingInvitation) -> "PendingInvitationOut":
        return cls(
            id=inv.id,
            email=inv.email,
            role=inv.role,
            invited_by=inv.invited_by,
            created_ms=inv.created_ms,
            expires_ms=inv.expires_ms,
        )


class InvitationList(BaseModel):
    invitations: list[PendingInvitationOut]


# -- API tokens and the audit log ------------------------------------------------------


class TokenOut(BaseModel):
    id: int
    name: str
    scopes: list[Scope]
    created_ms: int
    expires_ms: int | None
    last_used_ms: int | None
    revoked_ms: int | None
    created_by: str = Field(
        description="The email of the member it acts for: who made it, or made the token "
        'that made it; "" if not recorded. Removing that member revokes it.'
    )

    @classmethod
    def of(cls, t: ApiToken) -> "TokenOut":
        return cls(
            id=t.id,
            name=t.name,
            scopes=sorted(t.scopes),
            created_ms=t.created_ms,
            expires_ms=t.expires_ms,
            last_used_ms=t.last_used_ms,
            revoked_ms=t.revoked_ms,
            created_by=t.created_by,
        )


class TokenList(BaseModel):
    tokens: list[TokenOut]


class TokenCreate(_Input):
    name: str = Field(min_length=1, max_length=MAX_NAME)
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))
    expires_in_s: int | None = Field(
        default=None,
        ge=60,
        le=MAX_TOKEN_LIFETIME_S,
        description="Seconds until the token stops working; null: until revoked.",
    )


class TokenWithValue(BaseModel):
    token: TokenOut
    value: str = Field(
        description="Send as `Authorization: Bearer <value>`. Shown only in this answer."
    )


class AuditEntryOut(BaseModel):
    id: int
    actor: str
    action: str
    target: str
    detail: dict[str, object]
    ip: str
    created_ms: int

    @classmethod
    def of(cls, e: AuditEntry) -> "AuditEntryOut":
        return cls(
            id=e.id,
            actor=e.actor,
            action=e.action,
            target=e.target,
            detail=dict(e.detail),
            ip=e.ip,
            created_ms=e.created_ms,
        )


class AuditPage(BaseModel):
    entries: list[AuditEntryOut] = Field(description="Newest first.")
    next_before_id: int | None = Field(
        description="Pass as before_id for the next (older) page; null on the last page."
    )
