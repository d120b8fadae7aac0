"""Pages about who you are: first-run setup, log in and out, invitations, your password,
and which of your organizations you are working in."""

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authkong.admin import setup_code
from authkong.admin.dashboard import forms, render, security
from authkong.admin.dashboard.guard import (
    Viewer,
    Visitor,
    admin,
    client_ip,
    form,
    member_page,
    secret_link_page,
    visitor_page,
)
from authkong.admin.model import (
    AdminError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    SessionGrant,
    Throttled,
    User,
)
from authkong.api.rate_limit import client_key
from authkong.api.services import services

WRONG_SETUP_CODE = (
    "That is not the setup code. Find it in the server's start-up output or in the file "
    "setup-code in its data directory."
)


def _start_session(request: Request, grant: SessionGrant) -> Response:
    response = render.redirect(request, "/admin/sites")
    security.set_cookie(request, response, security.SESSION_COOKIE, grant.token)
    # The pre-session cookie served its one purpose; a session has its own CSRF token.
    security.clear_cookie(request, response, security.PRESESSION_COOKIE)
    return response


@visitor_page
async def home(request: Request, visitor: Visitor) -> Response:
    """/admin: the setup form on first run, else the sites (or the login page)."""
    if await run_in_threadpool(admin(request).needs_setup):
        return _setup_page(request, visitor)
    token = security.read_cookie(request, security.SESSION_COOKIE)
    found = None
    if token:
        found = await run_in_threadpool(admin(request).session_actor, token, client_ip(request))
    if found is not None:
        return render.redirect(request, "/admin/sites")
    return render.redirect(request, "/admin/login")


def _setup_page(
    request: Request,
    visitor: Visitor,
    error: AdminError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    response = render.page(
        request, "setup.html", error.status if error else 200, title="Set up AuthKong",
        csrf=visitor.csrf, error=error.message if error else None, values=values or {},
    )  # fmt: skip
    if isinstance(error, Throttled):
        response.headers["Retry-After"] = str(error.retry_after_s)
    return response


@visitor_page
async def setup(request: Request, visitor: Visitor) -> Response:
    """Make the owner; only with the setup code, so that whoever reaches /admin first
    cannot claim a fresh (or upgraded) server and every site it holds."""
    data = await form(request)
    values = {"email": forms.text(data, "email"), "org": forms.text(data, "org")}
    svc = services(request)
    ip = client_ip(request)
    try:
        # Per client, like login: the code is far too long to guess, this just keeps a
        # guesser from hammering the endpoint.
        if not await run_in_threadpool(svc.admin.needs_setup):
            raise Conflict("The owner account exists already; log in instead.")
        await svc.admin.throttle.check(f"setup:{client_key(ip)}", ip)
        if not setup_code.matches(svc.settings.data_dir, forms.raw(data, "setup_code")):
            raise Forbidden(WRONG_SETUP_CODE)
        grant = await svc.admin.create_first_owner(
            values["email"], forms.new_password(data), values["org"], ip
        )
    except (Invalid, Forbidden, Throttled) as error:  # Conflict: the error page
        return _setup_page(request, visitor, error, values)
    setup_code.remove(svc.settings.data_dir)
    return _start_session(request, grant)


@visitor_page
async def login(request: Request, visitor: Visitor) -> Response:
    if request.method == "GET":
        if await run_in_threadpool(admin(request).needs_setup):
            return render.redirect(request, "/admin")
        return render.page(request, "login.html", title="Log in", csrf=visitor.csrf)
    data = await form(request)
    email = forms.text(data, "email")
    try:
        grant = await admin(request).login(email, forms.raw(data, "password"), client_ip(request))
    except AdminError as error:
        response = render.page(
            request, "login.html", error.status, title="Log in", csrf=visitor.csrf,
            error=error.message, values={"email": email},
        )  # fmt: skip
        if isinstance(error, Throttled):
            response.headers["Retry-After"] = str(error.retry_after_s)
        return response
    return _start_session(request, grant)


@member_page
async def logout(request: Request, viewer: Viewer) -> Response:
    await run_in_threadpool(admin(request).logout, viewer.session_token, client_ip(request))
    response = render.redirect(request, "/admin/login")
    security.clear_cookie(request, response, security.SESSION_COOKIE)
    return response


def _logged_in_user(request: Request) -> User | None:
    token = security.read_cookie(request, security.SESSION_COOKIE)
    found = admin(request).session_actor(token, client_ip(request)) if token else None
    return found[0] if found else None


@secret_link_page
async def invitation(request: Request, visitor: Visitor) -> Response:
    """/admin/invite/<token>: someone new chooses a password and joins; someone with an
    account joins while logged in as the invited email (never with the link alone)."""
    token = request.path_params["token"]
    svc = admin(request)
    offer = await run_in_threadpool(svc.invitation_offer, token)
    if offer is None:
        raise NotFound("This invitation is not valid: it expired, was used, or never existed.")
    email, role, org = offer
    user = await run_in_threadpool(_logged_in_user, request)
    context: dict[str, Any] = {
        "title": f"Join {org.name}",
        "csrf": visitor.csrf,
        "email": email,
        "role": role,
        "org": org,
        "user": user,
    }
    response: Response
    if request.method == "GET":
        response = render.page(request, "invite.html", **context)
    elif user is not None and user.email == email:
        session = security.read_cookie(request, security.SESSION_COOKIE) or ""
        await run_in_threadpool(svc.join_invitation, token, session, client_ip(request))
        response = render.redirect(request, "/admin/sites")
    else:
        data = await form(request)
        try:
            grant = await svc.accept_invitation(token, forms.new_password(data), client_ip(request))
        except AdminError as error:
            response = render.page(
                request, "invite.html", error.status, error=error.message, **context
            )
        else:
            response = _start_session(request, grant)
    return response


@member_page
async def switch_org(request: Request, viewer: Viewer) -> Response:
    """The header's organization switcher: this session now works in another of the
    user's organizations (and the next login opens it)."""
    data = await form(request)
    value = forms.text(data, "org_id")
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise NotFound("You are not a member of that organization.")
    await run_in_threadpool(
        admin(request).switch_org, viewer.session_token, int(value), client_ip(request)
    )
    return render.redirect(request, "/admin/sites")


@member_page
async def account(request: Request, viewer: Viewer) -> Response:
    context: dict[str, Any] = {
        "title": "Your account",
        "viewer": viewer,
        "csrf": viewer.csrf,
        "section": "account",
    }
    if request.method == "GET":
        notice = "Password changed." if request.query_params.get("done") == "password" else None
        return render.page(request, "account.html", notice=notice, **context)
    data = await form(request)
    try:
        await admin(request).change_password(
            viewer.actor,
            forms.raw(data, "current"),
            forms.new_password(data),
            keep_session=viewer.session_token,
        )
    except AdminError as error:  # a wrong current password too: say so beside the form
        response = render.page(
            request, "account.html", error.status, error=error.message, **context
        )
        if isinstance(error, Throttled):
            response.headers["Retry-After"] = str(error.retry_after_s)
        return response
    return render.redirect(request, "/admin/account?done=password")
