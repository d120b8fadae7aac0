"""Site pages: the list, create, the site's keys and settings, rotation, deletion, analytics."""

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from authkong.admin.analytics import Analytics, Span
from authkong.admin.dashboard import charts, forms, render, security
from authkong.admin.dashboard.guard import Viewer, admin, csrf_key, form, member_page
from authkong.admin.model import Invalid
from authkong.admin.snippets import snippets_for
from authkong.domain.site import (
    DEFAULT_MAX_WAIT_S,
    DEFAULT_PRESET,
    DEFAULT_RATE_IP_BURST,
    DEFAULT_RATE_IP_PER_MIN,
    DEFAULT_TOKEN_LIFETIME,
    PRESETS,
    Site,
)
from authkong.storage.registry import NewSecret

DEFAULT_OVERLAP_HOURS = 24
NEW_SITE = {
    "name": "",
    "domains": "",
    "preset": DEFAULT_PRESET,
    "token_lifetime": str(DEFAULT_TOKEN_LIFETIME),
    "ip_per_min": str(DEFAULT_RATE_IP_PER_MIN),
    "ip_burst": str(DEFAULT_RATE_IP_BURST),
    "site_per_min": "0",
    "scoring": "on",
    "adaptive": "on",
    "max_wait_s": f"{DEFAULT_MAX_WAIT_S:g}",
}
NOTICES = {
    "saved": "Settings saved.",
    "deleted": "Site deleted.",
    # Seen instead of the secret once it has been shown (a reload) or if its cookie was lost.
    "created": "Site created. Its secret was shown once; if you missed it, rotate the secret.",
    "rotated": "Secret rotated. The new one was shown once; if you missed it, rotate again.",
}


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _ctx(viewer: Viewer, title: str, **more: Any) -> dict[str, Any]:
    return {"title": title, "viewer": viewer, "csrf": viewer.csrf, "section": "sites"} | more


@member_page
async def site_list(request: Request, viewer: Viewer) -> Response:
    sites = await run_in_threadpool(admin(request).list_sites, viewer.actor)
    notice = NOTICES.get(request.query_params.get("done", ""))
    return render.page(request, "sites.html", **_ctx(viewer, "Sites", sites=sites, notice=notice))


def _form_page(
    request: Request, viewer: Viewer, values: dict[str, str], error: Invalid | None = None
) -> Response:
    return render.page(
        request,
        "site_new.html",
        error.status if error else 200,
        **_ctx(viewer, "New site", values=values, presets=list(PRESETS)),
        error=error.message if error else None,
        error_field=error.field if error else "",
    )


@member_page
async def site_new(request: Request, viewer: Viewer) -> Response:
    if request.method == "GET":
        return _form_page(request, viewer, NEW_SITE)
    data = await form(request)
    try:
        changes = forms.site_changes(data)
        created: NewSecret = await run_in_threadpool(
            lambda: admin(request).create_site(
                viewer.actor,
                name=changes.name or "",
                domains=changes.domains or (),
                difficulty=changes.difficulty,
                token_lifetime=changes.token_lifetime,
                rate_limits=changes.rate_limits,
                risk=changes.risk,
            )
        )
    except Invalid as error:
        return _form_page(request, viewer, forms.submitted(data), error)
    return _show_once(request, viewer, created, created=True)


def _show_once(request: Request, viewer: Viewer, new: NewSecret, *, created: bool) -> Response:
    """Redirect to the site's page, which shows the new secret this once (a reload of it
    changes nothing and shows it no more)."""
    sitekey = new.site.sitekey
    response = render.redirect(
        request, f"/admin/sites/{sitekey}?done={'created' if created else 'rotated'}"
    )
    sealed = security.seal_secret(csrf_key(request), viewer.csrf, sitekey, new.secret, created)
    security.set_cookie(
        request, response, security.REVEAL_COOKIE, sealed, max_age=security.REVEAL_MAX_AGE_S
    )
    return response


async def _site_page(
    request: Request,
    viewer: Viewer,
    site: Site,
    *,
    secret: str | None = None,
    created: bool = False,
    values: dict[str, str] | None = None,
    error: Invalid | None = None,
    notice: str | None = None,
) -> Response:
    return render.page(
        request,
        "site.html",
        error.status if error else 200,
        **_ctx(
            viewer,
            site.name,
            site=site,
            secret=secret,
            created=created,
            values=values or forms.site_values(site),
            presets=list(PRESETS),
            snippets=snippets_for(site, _base_url(request)),
            default_overlap=DEFAULT_OVERLAP_HOURS,
            live_secrets=len(site.secrets),
        ),
        error=error.message if error else None,
        error_field=error.field if error else "",
        notice=notice,
    )


@member_page
async def site_page(request: Request, viewer: Viewer) -> Response:
    sitekey = request.path_params["sitekey"]
    site = await run_in_threadpool(admin(request).get_site, viewer.actor, sitekey)
    if request.method == "GET":
        sealed = security.read_cookie(request, security.REVEAL_COOKIE)
        shown = sealed and security.open_secret(csrf_key(request), viewer.csrf, sealed, sitekey)
        if shown:
            secret, created = shown
            response = await _site_page(request, viewer, site, secret=secret, created=created)
            security.clear_cookie(request, response, security.REVEAL_COOKIE)
            return response
        notice = NOTICES.get(request.query_params.get("done", ""))
        return await _site_page(request, viewer, site, notice=notice)
    data = await form(request)
    try:
        changes = forms.site_changes(data)
        await run_in_threadpool(admin(request).update_site, viewer.actor, sitekey, changes)
    except Invalid as error:
        return await _site_page(request, viewer, site, values=forms.submitted(data), error=error)
    return render.redirect(request, f"/admin/sites/{sitekey}?done=saved")


@member_page
async def site_rotate(request: Request, viewer: Viewer) -> Response:
    sitekey = request.path_params["sitekey"]
    data = await form(request)
    hours = forms.integer(data, "overlap_hours", "Overlap", 0, forms.OVERLAP_HOURS_MAX)
    rotated = await run_in_threadpool(
        admin(request).rotate_secret, viewer.actor, sitekey, hours * 3600
    )
    return _show_once(request, viewer, rotated, created=False)


@member_page
async def site_delete(request: Request, viewer: Viewer) -> Response:
    sitekey = request.path_params["sitekey"]
    site = await run_in_threadpool(admin(request).get_site, viewer.actor, sitekey)
    if request.method == "GET":
        return render.page(request, "site_delete.html", **_ctx(viewer, "Delete site", site=site))
    data = await form(request)
    if forms.text(data, "confirm") != site.name:
        return render.page(
            request, "site_delete.html", 422, **_ctx(viewer, "Delete site", site=site),
            error="Type the site's name exactly to confirm.",
        )  # fmt: skip
    await run_in_threadpool(admin(request).delete_site, viewer.actor, sitekey)
    return render.redirect(request, "/admin/sites?done=deleted")


def _span(request: Request) -> Span:
    try:
        return Span(request.query_params.get("span", Span.DAY.value))
    except ValueError:
        raise Invalid("Choose hour, day or month.", field="span") from None


def _analytics_page(
    request: Request, viewer: Viewer, analytics: Analytics, site: Site | None
) -> Response:
    title = f"Analytics: {site.name}" if site else "Analytics: all sites"
    rejected = sorted(analytics.rejected_by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
    return render.page(
        request,
        "analytics.html",
        **_ctx(
            viewer,
            title,
            site=site,
            analytics=analytics,
            totals=analytics.totals,
            spans=list(Span),
            series=charts.SERIES,
            rows=charts.traffic_rows(analytics),
            rejected=rejected,
            traffic_svg=charts.traffic_chart(analytics, "traffic"),
            rejected_svg=charts.bar_chart(rejected, "rejected", "Failed verifications by reason"),
            score_svg=charts.bar_chart(analytics.score_histogram, "scores", "Tokens by score"),
            country_svg=charts.bar_chart(
                analytics.top_countries, "countries", "Challenges by country"
            ),
            section="sites" if site else "analytics",
        ),
    )


@member_page
async def site_analytics(request: Request, viewer: Viewer) -> Response:
    sitekey = request.path_params["sitekey"]
    site = await run_in_threadpool(admin(request).get_site, viewer.actor, sitekey)
    analytics = await run_in_threadpool(
        admin(request).analytics, viewer.actor, sitekey, _span(request)
    )
    return _analytics_page(request, viewer, analytics, site)


@member_page
async def org_analytics(request: Request, viewer: Viewer) -> Response:
    analytics = await run_in_threadpool(
        admin(request).analytics, viewer.actor, None, _span(request)
    )
    return _analytics_page(request, viewer, analytics, None)
