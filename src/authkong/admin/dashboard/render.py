"""Jinja2 templates (autoescaped) and the dashboard's page, redirect and error responses."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from authkong.admin.dashboard import security
from authkong.admin.model import AdminError, Throttled

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    # Every template is HTML: escape everything, whatever the file name.
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def _iso_short(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _plain(value: object) -> str:
    """An audit detail as text: lists as comma-separated items, not Python's repr."""
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value)
    return str(value)


_env.filters["iso"] = _iso
_env.filters["plain"] = _plain
_env.filters["iso_short"] = _iso_short


def root(request: Request) -> str:
    """The app's mount point (uvicorn --root-path), prefixed to every dashboard link."""
    prefix: str = request.scope.get("root_path", "")
    return prefix.rstrip("/")


def page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    context.setdefault("viewer", None)
    context.setdefault("csrf", "")
    context.setdefault("error", None)
    context.setdefault("notice", None)
    context.setdefault("section", "")
    html = _env.get_template(template).render(root=root(request), **context)
    return HTMLResponse(html, status_code=status, headers=security.HEADERS)


def redirect(request: Request, path: str) -> Response:
    """303 See Other to a dashboard path, so the browser follows with a GET."""
    return RedirectResponse(root(request) + path, status_code=303, headers=security.HEADERS)


def error_page(request: Request, error: AdminError, **context: Any) -> Response:
    """A service error's message in a page of its own, with its status."""
    response = page(
        request, "error.html", error.status, title=_TITLES.get(error.status, "Error"),
        error=error.message, **context,
    )  # fmt: skip
    if isinstance(error, Throttled):
        response.headers["Retry-After"] = str(error.retry_after_s)
    return response


def forbidden_csrf(request: Request) -> Response:
    return page(
        request,
        "error.html",
        403,
        title="Form expired",
        error="This form was not sent from this dashboard, or it has expired "
        "(missing or wrong CSRF token). Go back, reload the page and try again.",
    )


def unreadable_form(request: Request, status: int, message: str, **context: Any) -> Response:
    """400 or 413: the body is not a form the dashboard reads (guard.UnreadableForm)."""
    return page(request, "error.html", status, title=_TITLES[status], error=message, **context)


def unavailable(request: Request, **context: Any) -> Response:
    """503: the database stayed locked (another process, a long backup); retrying soon
    usually works. Nothing was changed: SQLite rolled the transaction back."""
    response = page(
        request, "error.html", 503, title=_TITLES[503],
        error="The database is busy, so nothing was changed. Try again in a moment.",
        **context,
    )  # fmt: skip
    response.headers["Retry-After"] = "1"
    return response


def internal_error(request: Request) -> Response:
    """500, without the member's context: whatever failed may fail again in the header."""
    return page(
        request, "error.html", 500, title=_TITLES[500],
        error="The server failed to answer; the failure was logged. Try again, and if it "
        "keeps failing, tell the operator.",
    )  # fmt: skip


def https_required(request: Request) -> Response:
    return page(request, "https_required.html", 400, title="Use https")


_TITLES = {
    400: "Bad request",
    401: "Not logged in",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict",
    422: "Check the form",
    413: "Form too large",
    429: "Too many attempts",
    500: "Server error",
    503: "Try again",
}
