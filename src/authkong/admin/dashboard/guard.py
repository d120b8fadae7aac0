"""Who is asking, and whether their form is genuine: wrappers around every dashboard handler.

`member_page` serves logged-in members: it resolves the session cookie to an Actor,
sends everyone else to the login page, and refuses POSTs without the session's CSRF token.
`visitor_page` serves the pages before a session (setup, login, invitations) with a
pre-session cookie and its signed CSRF token. Both refuse plain http except to localhost,
and answer every failure with a dashboard page and its headers: a service error with its
status (Throttled with Retry-After), an unreadable form 400 or 413, a locked database 503
with Retry-After, anything else a logged 500.
"""

import logging
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response

from authkong.admin.dashboard import render, security
from authkong.admin.model import (
    STORE_UNAVAILABLE,
    Actor,
    AdminError,
    Organization,
    Role,
    User,
)
from authkong.admin.service import AdminService
from authkong.api.services import Services, services

MAX_FORM_FIELDS = 200
MAX_FIELD_BYTES = 64 * 1024
"""Per field; the largest real one, a site's domains, stays under 30 KiB."""

_log = logging.getLogger("authkong.dashboard")


class UnreadableForm(Exception):
    """The request body is not a form the dashboard reads."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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
    """The POSTed form, or UnreadableForm (the page wrappers answer it)."""
    try:
        return await request.form(
            max_files=0, max_fields=MAX_FORM_FIELDS, max_part_size=MAX_FIELD_BYTES
        )
    except (HTTPException, MultiPartException) as exc:
        # Starlette raises HTTPException(400) inside an app, MultiPartException outside.
        detail = exc.detail if isinstance(exc, HTTPException) else exc.message
        raise _unreadable(detail) from None


def _unreadable(detail: str) -> UnreadableForm:
    """Our own words for Starlette's reasons, which it gives only as text."""
    if "maximum size" in detail:
        return UnreadableForm(
            413, f"The form is too large: a field may hold at most {MAX_FIELD_BYTES // 1024} KiB."
        )
    if "Too many files" in detail:
        return UnreadableForm(400, "Dashboard forms take no file uploads.")
    if "Too many fields" in detail:
        return UnreadableForm(400, f"A dashboard form has at most {MAX_FORM_FIELDS} fields.")
    return UnreadableForm(400, "The form could not be read.")


async def _answer(
    request: Request, name: str, answer: Awaitable[Response], **context: Any
) -> Response:
    """`answer`, or the page for what it raised, with `context` (viewer, csrf) if any."""
    try:
        return await answer
    except AdminError as error:
        return render.error_page(request, error, **context)
    except UnreadableForm as error:
        return render.unreadable_form(request, error.status, error.message, **context)
    except STORE_UNAVAILABLE:
        return render.unavailable(request, **context)
    except Exception as exc:  # noqa: BLE001  # a page, not Starlette's bare text/plain 500
        # The type and the frames only: messages can hold what was typed or SQL
        # parameters (password hashes, emails), and the path of an invitation is its token.
        frames = "".join(traceback.format_tb(exc.__traceback__))
        _log.error(
            "dashboard: %s %s failed with %s\n%s",
            request.method, name, type(exc).__qualname__, frames,
        )  # fmt: skip
        return render.internal_error(request)


async def _genuine(request: Request, expected: str, *, null_origin: bool = False) -> bool:
    if not security.same_origin(request, null_ok=null_origin):
        return False
    data = await form(request)
    return security.tokens_match(expected, data.get(security.CSRF_FIELD))


def member_page(handler: MemberHandler) -> Callable[[Request], Awaitable[Response]]:
    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        return await _answer(request, handler.__name__, answer(request))

    async def answer(request: Request) -> Response:
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
        csrf = security.session_csrf(csrf_key(request), token, actor.org_id)
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
        return await _answer(
            request, handler.__name__, handler(request, viewer), viewer=viewer, csrf=csrf
        )

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
        response = await _answer(request, handler.__name__, answer(request))
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
        response = await _answer(
            request, handler.__name__, handler(request, visitor), csrf=visitor.csrf
        )
        if visitor.new_presession is not None:
            security.set_cookie(
                request, response, security.PRESESSION_COOKIE, visitor.new_presession
            )
        return response

    return endpoint
