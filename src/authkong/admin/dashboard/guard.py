"""Who is asking, and whether their form is genuine: wrappers around every dashboard handler.

`member_page` serves logged-in members: it resolves the session cookie to an Actor,
sends everyone else to the login page, and refuses POSTs without the session's CSRF token.
`visitor_page` serves the pages before a session (setup, login, invitations) with a
pre-session cookie and its signed CSRF token. Both turn service errors into pages with
their status (Throttled with Retry-After) and refuse plain http except to localhost.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from authkong.admin.dashboard import render, security
from authkong.admin.model import Actor, AdminError, Organization, Role, User
from authkong.admin.service import AdminService
from authkong.api.services import Services, services

MAX_FORM_FIELDS = 200


@dataclass(frozen=True, slots=True)
class Viewer:
    """A logged-in member as the templates see them."""

    user: User
    actor: Actor
    org: Organization | None
    session_token: str
    csrf: str
    orgs: tuple[Organization, ...] = ()
    """Every organization the user belongs to (the header's switcher, when several)."""

    @property
    def role(self) -> Role | None:
        return self.actor.role

    def can(self, scope: str) -> bool:
        return scope in self.actor.scopes


@dataclass(frozen=True, slots=True)
class Visitor:
    """Someone without a session, on a page with a form."""

    csrf: str
    new_presession: str | None
    """Set when this answer must also set the pre-session cookie."""


MemberHandler = Callable[[Request, Viewer], Awaitable[Response]]
VisitorHandler = Callable[[Request, Visitor], Awaitable[Response]]


def admin(request: Request) -> AdminService:
    return services(request).admin


def csrf_key(request: Request) -> bytes:
    state = request.app.state
    key: bytes | None = getattr(state, "dashboard_csrf_key", None)
    if key is None:
        svc: Services = services(request)
        key = security.load_or_create_key(svc.settings.data_dir)
        state.dashboard_csrf_key = key
    return key


def client_ip(request: Request) -> str:
    svc = services(request)
    host = request.client.host if request.client else ""
    if svc.proxies is None:
        return host
    return svc.proxies.client_ip(host, request.scope["headers"])


async def form(request: Request) -> FormData:
    return await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)


async def _genuine(request: Request, expected: str, *, null_origin: bool = False) -> bool:
    if not security.same_origin(request, null_ok=null_origin):
        return False
    data = await form(request)
    return security.tokens_match(expected, data.get(security.CSRF_FIELD))


def member_page(handler: MemberHandler) -> Callable[[Request], Awaitable[Response]]:
    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        if not security.is_secure(request) and not security.is_local_http(request):
            return render.https_required(request)
        token = security.read_cookie(request, security.SESSION_COOKIE)
        found = None
        if token is not None:
            found = await run_in_threadpool(admin(request).session_actor, token, client_ip(request))
        if token is None or found is None:
            if request.method == "POST":
                return render.forbidden_csrf(request)
            response = render.redirect(request, "/admin/login")
            if token is not None:
                security.clear_cookie(request, response, security.SESSION_COOKIE)
            return response
        user, actor = found
        csrf = security.session_csrf(csrf_key(request), token)
        if request.method == "POST" and not await _genuine(request, csrf):
            return render.forbidden_csrf(request)
        orgs = await run_in_threadpool(admin(request).organizations_of, user.id)
        org = next((o for o, _ in orgs if o.id == actor.org_id), None)
        viewer = Viewer(
            user=user,
            actor=actor,
            org=org,
            session_token=token,
            csrf=csrf,
            orgs=tuple(o for o, _ in orgs),
        )
        try:
            return await handler(request, viewer)
        except AdminError as error:
            return render.error_page(request, error, viewer=viewer, csrf=csrf)

    return endpoint


def visitor_page(handler: VisitorHandler) -> Callable[[Request], Awaitable[Response]]:
    return _visitor_endpoint(handler, secret_path=False)


def secret_link_page(handler: VisitorHandler) -> Callable[[Request], Awaitable[Response]]:
    """visitor_page for a page whose path is a credential (/admin/invite/<token>): every
    answer says Referrer-Policy: no-referrer, so neither its own stylesheet request nor a
    followed link hands the path to a proxy's log. Browsers then send "Origin: null" with
    its forms, which is accepted here alone: the CSRF token, bound to the SameSite=Strict
    pre-session cookie, still has to match."""
    return _visitor_endpoint(handler, secret_path=True)


def _visitor_endpoint(
    handler: VisitorHandler, *, secret_path: bool
) -> Callable[[Request], Awaitable[Response]]:
    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        response = await answer(request)
        if secret_path:
            response.headers["Referrer-Policy"] = "no-referrer"
        return response

    async def answer(request: Request) -> Response:
        if not security.is_secure(request) and not security.is_local_http(request):
            return render.https_required(request)
        key = csrf_key(request)
        presession = security.read_cookie(request, security.PRESESSION_COOKIE)
        if request.method == "POST":
            if presession is None or not await _genuine(
                request, security.presession_csrf(key, presession), null_origin=secret_path
            ):
                return render.forbidden_csrf(request)
            visitor = Visitor(security.presession_csrf(key, presession), None)
        elif presession is None:
            fresh = security.new_presession()
            visitor = Visitor(security.presession_csrf(key, fresh), fresh)
        else:
            visitor = Visitor(security.presession_csrf(key, presession), None)
        try:
            response = await handler(request, visitor)
        except AdminError as error:
            response = render.error_page(request, error, csrf=visitor.csrf)
        if visitor.new_presession is not None:
            security.set_cookie(
                request, response, security.PRESESSION_COOKIE, visitor.new_presession
            )
        return response

    return endpoint
