"""Pages about the organization: members and invitations, API tokens, the audit log."""

import re
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authkong.admin.dashboard import forms, render
from authkong.admin.dashboard.guard import Viewer, admin, form, member_page
from authkong.admin.model import (
    AdminError,
    ApiToken,
    Conflict,
    Invalid,
    Invitation,
    NotFound,
    Role,
    Scope,
)
from authkong.api.services import services

AUDIT_PAGE = 50
DAY_MS = 86_400_000
TOKEN_DAYS_MAX = 3650
NOTICES = {
    "added": "Member added.",
    "role": "Role changed.",
    "removed": "Member removed.",
    "revoked": "Token revoked.",
    "uninvited": "Invitation revoked; its link no longer works.",
}
_ID = re.compile(r"[0-9]{1,18}")
"""Ids as the dashboard accepts them: ASCII digits only (str.isdigit() passes "²", which
int() refuses; int() takes "1_0" and other scripts' digits), short enough for SQLite's
64-bit integers."""


def _ctx(viewer: Viewer, title: str, section: str, **more: Any) -> dict[str, Any]:
    return {"title": title, "viewer": viewer, "csrf": viewer.csrf, "section": section} | more


def _int_param(request: Request, name: str) -> int:
    value = request.path_params[name]
    if not _ID.fullmatch(value):
        raise NotFound("No such item.")  # as for an id that does not exist
    return int(value)


async def _members_page(
    request: Request,
    viewer: Viewer,
    *,
    invitation: Invitation | None = None,
    error: AdminError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    members = await run_in_threadpool(admin(request).members, viewer.actor)
    pending = await run_in_threadpool(admin(request).invitations, viewer.actor)
    link = None
    if invitation is not None:
        link = f"{str(request.base_url).rstrip('/')}/admin/invite/{invitation.token}"
    return render.page(
        request,
        "members.html",
        error.status if error else 200,
        **_ctx(
            viewer,
            "Members",
            "members",
            members=members,
            pending=pending,
            roles=list(Role),
            invitation=invitation,
            invite_link=link,
            values=values or {},
            notice=NOTICES.get(request.query_params.get("done", "")),
            error=error.message if error else None,
        ),
    )


@member_page
async def members(request: Request, viewer: Viewer) -> Response:
    return await _members_page(request, viewer)


@member_page
async def invite(request: Request, viewer: Viewer) -> Response:
    data = await form(request)
    try:
        invitation = await run_in_threadpool(
            admin(request).invite, viewer.actor, forms.text(data, "email"), forms.role(data)
        )
    except (Invalid, Conflict) as error:
        return await _members_page(request, viewer, error=error, values=forms.submitted(data))
    return await _members_page(request, viewer, invitation=invitation)


@member_page
async def add_member(request: Request, viewer: Viewer) -> Response:
    data = await form(request)
    try:
        password = forms.raw(data, "password") or None
        if password is not None:
            password = forms.new_password(data)
        await admin(request).add_member(
            viewer.actor, forms.text(data, "email"), forms.role(data), password
        )
    except (Invalid, Conflict) as error:  # an existing account: the page says to invite
        return await _members_page(request, viewer, error=error, values=forms.submitted(data))
    return render.redirect(request, "/admin/members?done=added")


@member_page
async def revoke_invitation(request: Request, viewer: Viewer) -> Response:
    invitation_id = _int_param(request, "invitation_id")
    await run_in_threadpool(admin(request).revoke_invitation, viewer.actor, invitation_id)
    return render.redirect(request, "/admin/members?done=uninvited")


@member_page
async def set_role(request: Request, viewer: Viewer) -> Response:
    user_id = _int_param(request, "user_id")
    data = await form(request)
    await run_in_threadpool(admin(request).set_role, viewer.actor, user_id, forms.role(data))
    return render.redirect(request, "/admin/members?done=role")


@member_page
async def remove_member(request: Request, viewer: Viewer) -> Response:
    user_id = _int_param(request, "user_id")
    await run_in_threadpool(admin(request).remove_member, viewer.actor, user_id)
    return render.redirect(request, "/admin/members?done=removed")


async def _tokens_page(
    request: Request,
    viewer: Viewer,
    *,
    created: tuple[ApiToken, str] | None = None,
    error: Invalid | None = None,
) -> Response:
    tokens = await run_in_threadpool(admin(request).api_tokens, viewer.actor)
    return render.page(
        request,
        "tokens.html",
        error.status if error else 200,
        **_ctx(
            viewer,
            "API tokens",
            "tokens",
            tokens=tokens,
            scopes=[s for s in Scope if viewer.can(s)],
            created=created[0] if created else None,
            created_value=created[1] if created else None,
            notice=NOTICES.get(request.query_params.get("done", "")),
            error=error.message if error else None,
        ),
    )


@member_page
async def tokens(request: Request, viewer: Viewer) -> Response:
    if request.method == "GET":
        return await _tokens_page(request, viewer)
    data = await form(request)
    try:
        days = forms.text(data, "expires_days")
        expires_ms = None
        if days:
            count = forms.integer(data, "expires_days", "Expiry", 1, TOKEN_DAYS_MAX)
            expires_ms = services(request).clock.now_ms() + count * DAY_MS
        created = await run_in_threadpool(
            admin(request).create_api_token,
            viewer.actor,
            forms.text(data, "name"),
            forms.scopes(data),
            expires_ms,
        )
    except Invalid as error:
        return await _tokens_page(request, viewer, error=error)
    return await _tokens_page(request, viewer, created=created)


@member_page
async def revoke_token(request: Request, viewer: Viewer) -> Response:
    token_id = _int_param(request, "token_id")
    await run_in_threadpool(admin(request).revoke_api_token, viewer.actor, token_id)
    return render.redirect(request, "/admin/tokens?done=revoked")


@member_page
async def audit(request: Request, viewer: Viewer) -> Response:
    before = request.query_params.get("before")
    before_id = None
    if before is not None:
        if not _ID.fullmatch(before):
            raise NotFound("No such page of the audit log.")
        before_id = int(before)
    entries = await run_in_threadpool(
        lambda: admin(request).audit_log(viewer.actor, limit=AUDIT_PAGE, before_id=before_id)
    )
    older = entries[-1].id if len(entries) == AUDIT_PAGE else None
    return render.page(
        request, "audit.html", **_ctx(viewer, "Audit log", "audit", entries=entries, older=older)
    )
