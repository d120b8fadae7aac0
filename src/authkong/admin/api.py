"""The admin API, /api/admin/v1: what the dashboard does, for scripts holding an API token.

A FastAPI application mounted in the Starlette app (app.py); it only translates between
JSON and AdminService, which checks every permission again and writes the audit log.
Every failure answers `{"error_code", "message"}` (docs/admin-api.md): the service's
AdminError, pydantic's validation errors (invalid_input with the field), routing errors
and oversized bodies all land in one of the handlers below, never in a bare 500.
"""

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from authkong import __version__
from authkong.admin import api_models as m
from authkong.admin.analytics import Span
from authkong.admin.model import (
    STORE_UNAVAILABLE,
    Actor,
    AdminError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    Throttled,
    Unauthenticated,
)
from authkong.admin.model import Scope as S
from authkong.admin.service import AdminService, SiteChanges
from authkong.admin.snippets import snippets_for
from authkong.api.errors import METHOD_NOT_ALLOWED, WIDGET_ERRORS, ApiError
from authkong.api.services import Services, services
from authkong.domain.pow import Difficulty
from authkong.domain.site import DEFAULT_PRESET, PRESETS, RateLimits, RiskSettings

PREFIX = "/api/admin/v1"
MAX_BODY_BYTES = 64 * 1024
"""Far above any real request (a site with 100 domains is about 10 KiB)."""

# -- errors ----------------------------------------------------------------------------
# Failures that are not the service's AdminErrors, in the same shape.
ROUTE_NOT_FOUND = ApiError(NotFound.code, NotFound.status, "No such endpoint.")
PAYLOAD_TOO_LARGE = ApiError("payload_too_large", 413, "The request body is too large.")
INTERNAL_ERROR = ApiError(
    "internal_error", 500, "The server failed to answer; the failure was logged."
)
UNAVAILABLE = WIDGET_ERRORS["service_unavailable"]
"""The registry stayed locked by another process past SQLite's busy timeout."""
UNREADABLE_BODY = "The request body could not be read."
NOT_JSON = "The request body is not valid JSON."
_BEARER_CHALLENGE = 'Bearer realm="authkong-admin"'
_INVALID = (Invalid.code, Invalid.status)

ERRORS: dict[str, ApiError] = {
    e.code: e
    for e in (
        *(
            ApiError(c.code, c.status, c.message)
            for c in (Unauthenticated, Forbidden, NotFound, Conflict, Invalid)
        ),
        PAYLOAD_TOO_LARGE,
        METHOD_NOT_ALLOWED,
        UNAVAILABLE,
        INTERNAL_ERROR,
    )
}
"""Every code the API answers, with its status and default message (docs/admin-api.md).

The service may give a more specific message (not_found: "No site has that sitekey.");
the code and status never vary."""


def error_response(
    code: str,
    status: int,
    message: str,
    *,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, object] = {"error_code": code, "message": message}
    if field is not None:
        body["field"] = field
    return JSONResponse(body, status, headers=headers)


def _api_error(error: ApiError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return error_response(error.code, error.status, error.message, headers=headers)


def _admin_error_response(exc: AdminError) -> JSONResponse:
    headers: dict[str, str] = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = _BEARER_CHALLENGE
    if isinstance(exc, Throttled):
        headers["Retry-After"] = str(max(1, exc.retry_after_s))
    field = (exc.field or None) if isinstance(exc, Invalid) else None
    return error_response(exc.code, exc.status, exc.message, field=field, headers=headers)


async def _on_admin_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, AdminError)
    return _admin_error_response(exc)


def _field_of(loc: tuple[int | str, ...]) -> str:
    """`("body", "domains", 0)` -> "domains.0"; a whole missing body is "body"."""
    inner = loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc
    return ".".join(str(part) for part in inner) or "body"


async def _on_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        # FastAPI parses the body before it runs the dependencies, so only here could a
        # caller without a token learn something; authentication comes first.
        try:
            await run_in_threadpool(_authenticate, request, [])
        except AdminError as denied:
            return _admin_error_response(denied)
        return error_response(*_INVALID, NOT_JSON, field="body")
    first = errors[0] if errors else {"loc": ("body",), "msg": UNREADABLE_BODY}
    field = _field_of(tuple(first.get("loc", ())))
    # Only pydantic's message, never the input: it may be a password.
    return error_response(*_INVALID, f"{field}: {first.get('msg', '')}", field=field)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return _api_error(ROUTE_NOT_FOUND)
    if exc.status_code == 405:
        return _api_error(METHOD_NOT_ALLOWED, headers={"Allow": _allowed(request)})
    # FastAPI's own 400 for a body it could not read (not JSON syntax: that is above).
    return error_response(*_INVALID, UNREADABLE_BODY, field="body")


def _allowed(request: Request) -> str:
    """Every method the path serves: Starlette's 405 names only the first route's."""
    methods: set[str] = set()
    for route in router.routes:
        match, _ = route.matches(request.scope)
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


async def _on_database_busy(_request: Request, _exc: Exception) -> Response:
    # SQLite rolled the failed transaction back; the client may retry after a moment.
    return _api_error(UNAVAILABLE, headers={"Retry-After": "1"})


async def _on_bug(_request: Request, _exc: Exception) -> Response:
    # Starlette re-raises after answering, so the server logs the traceback.
    return _api_error(INTERNAL_ERROR)


# -- authentication --------------------------------------------------------------------

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API token made on the dashboard's Tokens page or with POST /tokens. "
    "Each operation lists the scopes it needs.",
)


def _client_ip(request: Request, svc: Services) -> str:
    peer = request.client.host if request.client else ""
    return svc.proxies.client_ip(peer, request.scope["headers"]) if svc.proxies else peer


def _admin(request: Request) -> AdminService:
    admin: AdminService = services(request).admin
    return admin


def _authenticate(request: Request, scopes: list[str]) -> Actor:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if scheme.lower() != "bearer" or not value:
        raise Unauthenticated
    svc = services(request)
    actor = svc.admin.token_actor(value, _client_ip(request, svc))
    if actor is None:
        raise Unauthenticated
    for scope in scopes:
        if scope not in actor.scopes:
            raise Forbidden(f"This token does not have the scope {scope}.")
    return actor


def _actor(
    request: Request,
    security: SecurityScopes,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    # _credentials is there for the OpenAPI security scheme; the header is read again so
    # that a malformed one is 401 unauthenticated like a missing one.
    return _authenticate(request, security.scopes)


def _needs(*scopes: S) -> Any:
    return Security(_actor, scopes=[s.value for s in scopes])


Me = Annotated[Actor, _needs()]
SitesRead = Annotated[Actor, _needs(S.SITES_READ)]
SitesWrite = Annotated[Actor, _needs(S.SITES_WRITE)]
SecretsRotate = Annotated[Actor, _needs(S.SECRETS_ROTATE)]
AnalyticsRead = Annotated[Actor, _needs(S.ANALYTICS_READ)]
MembersRead = Annotated[Actor, _needs(S.MEMBERS_READ)]
MembersWrite = Annotated[Actor, _needs(S.MEMBERS_WRITE)]
TokensWrite = Annotated[Actor, _needs(S.TOKENS_WRITE)]
AuditRead = Annotated[Actor, _needs(S.AUDIT_READ)]

Sitekey = Annotated[str, Path(description="The site's sitekey.")]
MAX_ID = 2**63 - 1
"""SQLite's largest integer: a larger id could not exist, and would overflow the query."""
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]
TokenId = Annotated[int, Path(ge=1, le=MAX_ID)]
InvitationId = Annotated[int, Path(ge=1, le=MAX_ID)]
SpanQuery = Annotated[Span, Query(description="hour, day or month.")]

# -- documented answers ----------------------------------------------------------------


def _answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    text = {
        401: "No token, or an unknown, expired or revoked one (`unauthenticated`).",
        403: "The token lacks the operation's scope, or the role forbids it (`forbidden`).",
        404: "No such item in the token's organization, or no such path (`not_found`).",
        409: "Conflicts with what exists (`conflict`).",
        413: f"The body is over {MAX_BODY_BYTES // 1024} KiB (`payload_too_large`).",
        422: "A field is missing, malformed or out of range (`invalid_input`, with `field`).",
        500: "A bug in the server (`internal_error`); it is logged.",
        503: "The database stayed busy (`service_unavailable`); retry after Retry-After.",
    }
    base = (401, 403, 422, 500, 503)
    return {s: {"model": m.ErrorBody, "description": text[s]} for s in sorted({*base, *statuses})}


def _doc(scope: S | None, summary: str) -> dict[str, Any]:
    scopes = [scope.value] if scope else []
    needs = f"Scope: `{scope.value}`." if scope else "Any valid token."
    return {
        "summary": summary,
        "description": needs,
        "openapi_extra": {"x-required-scopes": scopes},
    }


router = APIRouter()

_ITEM = _answers(404)
_WRITE = _answers(404, 409, 413)


def _now(request: Request) -> int:
    return services(request).clock.now_ms()


def _base_url(request: Request) -> str:
    """Where browsers reach this server: the outer app's root (uvicorn --root-path)."""
    return str(request.base_url).rstrip("/")


# -- the actor -------------------------------------------------------------------------


@router.get("/me", response_model=m.MeOut, responses=_answers(), **_doc(None, "Who the token is"))
def me(actor: Me) -> m.MeOut:
    return m.MeOut(
        org_id=actor.org_id, actor=actor.label, scopes=sorted(actor.scopes), role=actor.role
    )


# -- sites -----------------------------------------------------------------------------


@router.get(
    "/sites", response_model=m.SiteList, responses=_answers(), **_doc(S.SITES_READ, "List sites")
)
def list_sites(request: Request, actor: SitesRead) -> m.SiteList:
    now = _now(request)
    return m.SiteList(sites=[m.SiteOut.of(s, now) for s in _admin(request).list_sites(actor)])


@router.post(
    "/sites",
    status_code=201,
    response_model=m.SiteWithSecret,
    responses=_WRITE,
    **_doc(S.SITES_WRITE, "Create a site (its secret is in this answer only)"),
)
def create_site(request: Request, actor: SitesWrite, body: m.SiteCreate) -> m.SiteWithSecret:
    created = _admin(request).create_site(
        actor,
        name=body.name,
        domains=tuple(body.domains),
        difficulty=body.difficulty.apply(_default_difficulty()) if body.difficulty else None,
        token_lifetime=body.token_lifetime,
        rate_limits=_settings(body.rate_limits, "rate_limits"),
        risk=_settings(body.risk, "risk"),
    )
    return m.SiteWithSecret(site=m.SiteOut.of(created.site, _now(request)), secret=created.secret)


def _default_difficulty() -> Difficulty:
    return PRESETS[DEFAULT_PRESET]


def _settings(given: Any, field: str, base: Any = None) -> Any:
    """A nested settings object applied to `base` (or the defaults); None if not given."""
    if given is None:
        return None
    try:
        if base is None:
            base = RateLimits() if field == "rate_limits" else RiskSettings()
        return given.apply(base)
    except ValueError as bad:  # the dataclass's own check, should pydantic's bounds drift
        raise Invalid(f"{field}: {bad}", field=field) from bad


@router.get(
    "/sites/{sitekey}",
    response_model=m.SiteOut,
    responses=_ITEM,
    **_doc(S.SITES_READ, "One site"),
)
def get_site(request: Request, actor: SitesRead, sitekey: Sitekey) -> m.SiteOut:
    return m.SiteOut.of(_admin(request).get_site(actor, sitekey), _now(request))


@router.patch(
    "/sites/{sitekey}",
    response_model=m.SiteOut,
    responses=_WRITE,
    **_doc(S.SITES_WRITE, "Change a site"),
)
def update_site(
    request: Request, actor: SitesWrite, sitekey: Sitekey, body: m.SitePatch
) -> m.SiteOut:
    admin = _admin(request)
    nested = body.difficulty or body.rate_limits or body.risk
    # Nested objects change only the members they carry, so they start from the current
    # values, read with sites:write alone (a write-only token may still edit).
    current = admin.site_to_update(actor, sitekey) if nested else None
    changes = SiteChanges(
        name=body.name,
        domains=tuple(body.domains) if body.domains is not None else None,
        difficulty=body.difficulty.apply(current.difficulty)
        if body.difficulty and current
        else None,
        token_lifetime=body.token_lifetime,
        rate_limits=_settings(body.rate_limits, "rate_limits", current and current.rate_limits),
        risk=_settings(body.risk, "risk", current and current.risk),
    )
    return m.SiteOut.of(admin.update_site(actor, sitekey, changes), _now(request))


@router.delete(
    "/sites/{sitekey}",
    status_code=204,
    response_class=Response,
    responses=_ITEM,
    **_doc(S.SITES_WRITE, "Delete a site (its tokens stop verifying at once)"),
)
def delete_site(request: Request, actor: SitesWrite, sitekey: Sitekey) -> Response:
    _admin(request).delete_site(actor, sitekey)
    return Response(status_code=204)


@router.post(
    "/sites/{sitekey}/rotate-secret",
    response_model=m.SiteWithSecret,
    responses=_WRITE,
    **_doc(S.SECRETS_ROTATE, "Issue a new secret (in this answer only)"),
)
def rotate_secret(
    request: Request, actor: SecretsRotate, sitekey: Sitekey, body: m.RotateSecret | None = None
) -> m.SiteWithSecret:
    overlap_s = body.overlap_s if body else 0
    rotated = _admin(request).rotate_secret(actor, sitekey, overlap_s)
    return m.SiteWithSecret(site=m.SiteOut.of(rotated.site, _now(request)), secret=rotated.secret)


@router.get(
    "/sites/{sitekey}/snippets",
    response_model=m.SnippetList,
    responses=_ITEM,
    **_doc(S.SITES_READ, "Ready-to-paste snippets per flavor"),
)
def site_snippets(request: Request, actor: SitesRead, sitekey: Sitekey) -> m.SnippetList:
    site = _admin(request).get_site(actor, sitekey)
    return m.SnippetList(
        snippets=[
            m.SnippetOut(flavor=s.flavor, title=s.title, frontend=s.frontend, backend=s.backend)
            for s in snippets_for(site, _base_url(request))
        ]
    )


@router.get(
    "/sites/{sitekey}/analytics",
    response_model=m.AnalyticsOut,
    responses=_ITEM,
    **_doc(S.ANALYTICS_READ, "One site's traffic"),
)
def site_analytics(
    request: Request, actor: AnalyticsRead, sitekey: Sitekey, span: SpanQuery = Span.DAY
) -> m.AnalyticsOut:
    return m.AnalyticsOut.of(_admin(request).analytics(actor, sitekey, span))


@router.get(
    "/analytics",
    response_model=m.AnalyticsOut,
    responses=_answers(),
    **_doc(S.ANALYTICS_READ, "The organization's traffic, all sites together"),
)
def org_analytics(
    request: Request, actor: AnalyticsRead, span: SpanQuery = Span.DAY
) -> m.AnalyticsOut:
    return m.AnalyticsOut.of(_admin(request).analytics(actor, None, span))


# -- members ---------------------------------------------------------------------------


@router.get(
    "/members",
    response_model=m.MemberList,
    responses=_answers(),
    **_doc(S.MEMBERS_READ, "List members"),
)
def list_members(request: Request, actor: MembersRead) -> m.MemberList:
    return m.MemberList(members=[m.MemberOut.of(x) for x in _admin(request).members(actor)])


@router.post(
    "/members",
    status_code=201,
    response_model=m.MemberOut,
    responses=_answers(409, 413),
    **_doc(S.MEMBERS_WRITE, "Add a new account as a member (an existing one: invite it)"),
)
async def add_member(request: Request, actor: MembersWrite, body: m.MemberCreate) -> m.MemberOut:
    added = await _admin(request).add_member(actor, body.email, body.role, body.password)
    return m.MemberOut.of(added)


@router.patch(
    "/members/{user_id}",
    response_model=m.MemberOut,
    responses=_WRITE,
    **_doc(S.MEMBERS_WRITE, "Change a member's role"),
)
def set_role(
    request: Request, actor: MembersWrite, user_id: UserId, body: m.MemberPatch
) -> m.MemberOut:
    return m.MemberOut.of(_admin(request).set_role(actor, user_id, body.role))


@router.delete(
    "/members/{user_id}",
    status_code=204,
    response_class=Response,
    responses=_answers(404, 409),
    **_doc(S.MEMBERS_WRITE, "Remove a member"),
)
def remove_member(request: Request, actor: MembersWrite, user_id: UserId) -> Response:
    _admin(request).remove_member(actor, user_id)
    return Response(status_code=204)


@router.post(
    "/invitations",
    status_code=201,
    response_model=m.InvitationOut,
    responses=_answers(409, 413),
    **_doc(S.MEMBERS_WRITE, "Invite someone (the link is in this answer only)"),
)
def invite(request: Request, actor: MembersWrite, body: m.InvitationCreate) -> m.InvitationOut:
    invitation = _admin(request).invite(actor, body.email, body.role)
    return m.InvitationOut.of(invitation, _base_url(request))


@router.get(
    "/invitations",
    response_model=m.InvitationList,
    responses=_answers(),
    **_doc(S.MEMBERS_READ, "List pending invitations (never their links)"),
)
def list_invitations(request: Request, actor: MembersRead) -> m.InvitationList:
    pending = _admin(request).invitations(actor)
    return m.InvitationList(invitations=[m.PendingInvitationOut.of(i) for i in pending])


@router.delete(
    "/invitations/{invitation_id}",
    status_code=204,
    response_class=Response,
    responses=_ITEM,
    **_doc(S.MEMBERS_WRITE, "Revoke a pending invitation (its link stops working)"),
)
def revoke_invitation(
    request: Request, actor: MembersWrite, invitation_id: InvitationId
) -> Response:
    _admin(request).revoke_invitation(actor, invitation_id)
    return Response(status_code=204)


# -- API tokens and the audit log ------------------------------------------------------


@router.get(
    "/tokens",
    response_model=m.TokenList,
    responses=_answers(),
    **_doc(S.TOKENS_WRITE, "List API tokens (never their values)"),
)
def list_tokens(request: Request, actor: TokensWrite) -> m.TokenList:
    return m.TokenList(tokens=[m.TokenOut.of(t) for t in _admin(request).api_tokens(actor)])


@router.post(
    "/tokens",
    status_code=201,
    response_model=m.TokenWithValue,
    responses=_answers(409, 413),
    **_doc(S.TOKENS_WRITE, "Make an API token (its value is in this answer only)"),
)
def create_token(request: Request, actor: TokensWrite, body: m.TokenCreate) -> m.TokenWithValue:
    expires_ms = None
    if body.expires_in_s is not None:
        expires_ms = _now(request) + body.expires_in_s * 1000
    token, value = _admin(request).create_api_token(
        actor, body.name, frozenset(body.scopes), expires_ms
    )
    return m.TokenWithValue(token=m.TokenOut.of(token), value=value)


@router.delete(
    "/tokens/{token_id}",
    status_code=204,
    response_class=Response,
    responses=_ITEM,
    **_doc(S.TOKENS_WRITE, "Revoke an API token"),
)
def revoke_token(request: Request, actor: TokensWrite, token_id: TokenId) -> Response:
    _admin(request).revoke_api_token(actor, token_id)
    return Response(status_code=204)


@router.get(
    "/audit",
    response_model=m.AuditPage,
    responses=_answers(),
    **_doc(S.AUDIT_READ, "The audit log, newest first"),
)
def audit(
    request: Request,
    actor: AuditRead,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> m.AuditPage:
    entries = _admin(request).audit_log(actor, limit=limit, before_id=before_id)
    last = entries[-1].id if len(entries) == limit else None
    return m.AuditPage(entries=[m.AuditEntryOut.of(e) for e in entries], next_before_id=last)


# -- the application -------------------------------------------------------------------


class _Guard:
    """In front of the API: caps request bodies and adds headers every answer needs.

    The body is read whole before the app sees it (admin requests are small), so an
    oversized one is refused before any parsing, declared length or not.
    """

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_headers(send)
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            await _too_large(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away mid-body: nobody to answer, nothing to act on
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await _too_large(scope, receive, send)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body, replayed = b"".join(chunks), False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _with_headers(send: Send) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            # Answers may carry a secret once: no cache may keep them.
            headers["Cache-Control"] = "no-store"
            headers["X-Content-Type-Options"] = "nosniff"
        await send(message)

    return send_with_headers


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    reply = _api_error(PAYLOAD_TOO_LARGE, headers={"Connection": "close"})
    await reply(scope, receive, send)


def create_api(svc: Services) -> FastAPI:
    """The FastAPI application itself (tests read its OpenAPI document from it)."""
    api = FastAPI(
        title="AuthKong admin API",
        version=__version__,
        description="Sites, secrets, members, API tokens, analytics and the audit log of "
        'one organization. Every failure answers `{"error_code", "message"}`; the codes '
        "are listed in docs/admin-api.md.",
        openapi_url="/openapi.json",
        docs_url=None,  # the interactive pages load scripts from a CDN; the JSON suffices
        redoc_url=None,
        # Operation ids are the Python names (create_site, rotate_secret): stable and short
        # for generated clients, unlike FastAPI's default path-and-method mangling.
        generate_unique_id_function=lambda route: route.name,
        exception_handlers={
            AdminError: _on_admin_error,
            RequestValidationError: _on_invalid,
            HTTPException: _on_http_error,
            **dict.fromkeys(STORE_UNAVAILABLE, _on_database_busy),
            Exception: _on_bug,
        },
    )
    api.include_router(router)
    api.state.services = svc
    return api


def admin_api(svc: Services) -> ASGIApp:
    """What app.py mounts at PREFIX."""
    return _Guard(create_api(svc))


__all__ = ["ERRORS", "MAX_BODY_BYTES", "PREFIX", "admin_api", "create_api"]
