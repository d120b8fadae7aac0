"""Pages about who you are: first-run setup, log in and out, invitations, your password."""

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authkong.admin.dashboard import forms, render, security
from authkong.admin.dashboard.guard import (
    Viewer,
    Visitor,
    admin,
    client_ip,
    form,
    member_page,
    visitor_page,
)
from authkong.admin.model import AdminError, Invalid, SessionGrant, Throttled


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
        return render.page(request, "setup.html", title="Set up AuthKong", csrf=visitor.csrf)
    token = security.read_cookie(request, security.SESSION_COOKIE)
    found = None
    if token:
        found = await run_in_threadpool(admin(request).session_actor, token, client_ip(request))
    if found is not None:
        return render.redirect(request, "/admin/sites")
    return render.redirect(request, "/admin/login")


@visitor_page
async def setup(request: Request, visitor: Visitor) -> Response:
    data = await form(request)
    values = {"email": forms.text(data, "email"), "org": forms.text(data, "org")}
    try:
        grant = await admin(request).create_first_owner(
            values["email"], forms.new_password(data), values["org"], client_ip(request)
        )
    except Invalid as error:
        return render.page(
            request, "setup.html", error.status, title="Set up AuthKong", csrf=visitor.csrf,
            error=error.message, values=values,
        )  # fmt: skip
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
    await run_in_threadpool(admin(request).logout, viewer.session_token)
    response = render.redirect(request, "/admin/login")
    security.clear_cookie(request, response, security.SESSION_COOKIE)
    return response


@visitor_page
async def invitation(request: Request, visitor: Visitor) -> Response:
    """/admin/invite/<token>: the invited person chooses a password and joins."""
    token = request.path_params["token"]
    if request.method == "GET":
        return render.page(request, "invite.html", title="Join", csrf=visitor.csrf)
    data = await form(request)
    try:
        grant = await admin(request).accept_invitation(
            token, forms.new_password(data), client_ip(request)
        )
    except Invalid as error:
        return render.page(
            request, "invite.html", error.status, title="Join", csrf=visitor.csrf,
            error=error.message,
        )  # fmt: skip
    return _start_session(request, grant)


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
