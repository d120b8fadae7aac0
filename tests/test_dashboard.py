"""The /admin dashboard in process: cookies, CSRF, headers, escaping, roles and pages."""

import asyncio
import logging
import re
import sqlite3
from collections.abc import Iterator
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from starlette.testclient import TestClient

from authkong.admin import setup_code
from authkong.admin.analytics import Analytics, Point, Span
from authkong.admin.dashboard import charts, security
from authkong.admin.model import Actor, Invalid, Role
from authkong.admin.service import cli_actor
from authkong.admin.snippets import FLAVORS, SECRET_PLACEHOLDER, snippets_for
from authkong.api.demo import FLAVORS as DEMO_FLAVORS
from authkong.api.services import Services
from authkong.app import create_app
from authkong.config import Settings
from authkong.domain.clock import FakeClock
from authkong.domain.site import PRESETS, Site, hash_secret
from tests.server import VERIFY_PATHS

HTTPS = "https://authkong.example"
OWNER = ("owner@example.com", "owner password 1")
XSS = "<img src=x onerror=alert(1)>"
XSS_ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"
)
SITE_FORM = {
    "preset": "easy",
    "token_lifetime": "300",
    "ip_per_min": "60",
    "ip_burst": "30",
    "site_per_min": "0",
    "scoring": "on",
    "adaptive": "on",
    "max_wait_s": "10",
}


def _client(settings: Settings, clock: FakeClock, base_url: str) -> TestClient:
    return TestClient(create_app(settings, clock=clock), base_url=base_url)


@pytest.fixture
def web(settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    """A browser-like client on https, before anyone has an account."""
    with _client(settings, clock, HTTPS) as client:
        yield client


def svc_of(client: TestClient) -> Services:
    svc: Services = client.app.state.services  # type: ignore[attr-defined]
    return svc


def other(client: TestClient) -> TestClient:
    """A second browser (its own cookies) on the same app."""
    return TestClient(client.app, base_url=str(client.base_url))


def csrf_of(response: httpx.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', response.text)
    assert found is not None, response.text
    return found.group(1)


def code_of(client: TestClient) -> str:
    """The setup code the app wrote to its data dir, as an operator would read it."""
    code = setup_code.read(svc_of(client).settings.data_dir)
    assert code is not None
    return code


def setup_owner(client: TestClient) -> None:
    email, password = OWNER
    token = csrf_of(client.get("/admin"))
    got = client.post(
        "/admin/setup",
        data={"csrf_token": token, "org": "Acme", "email": email, "password": password,
              "password_repeat": password, "setup_code": code_of(client)},
        follow_redirects=False,
    )  # fmt: skip
    assert got.status_code == 303, got.text
    assert got.headers["location"] == "/admin/sites"


def log_in(client: TestClient, email: str, password: str) -> httpx.Response:
    token = csrf_of(client.get("/admin/login"))
    return client.post(
        "/admin/login",
        data={"csrf_token": token, "email": email, "password": password},
        follow_redirects=False,
    )


def session_csrf(client: TestClient) -> str:
    return csrf_of(client.get("/admin/account"))


def create_site(client: TestClient, name: str = "Shop", domains: str = "example.com") -> str:
    """Create a site through the form; the sitekey."""
    got = client.post(
        "/admin/sites/new",
        data={"csrf_token": session_csrf(client), "name": name, "domains": domains, **SITE_FORM},
    )
    assert got.status_code == 200, got.text
    found = re.search(r'id="sitekey-value">([^<]+)<', got.text)
    assert found is not None
    return found.group(1)


def add_user(client: TestClient, email: str, password: str, org: str, role: Role) -> None:
    admin = svc_of(client).admin
    asyncio.run(admin.create_user(email, password, org, role))


@pytest.fixture
def owner(web: TestClient) -> TestClient:
    """The https client, logged in as the owner of organization Acme."""
    setup_owner(web)
    return web


def test_first_run_setup_then_login(web: TestClient) -> None:
    """/admin shows the setup form until an owner exists, then sends visitors to log in."""
    first = web.get("/admin")
    assert first.status_code == 200
    assert 'action="/admin/setup"' in first.text
    setup_owner(web)
    assert web.get("/admin", follow_redirects=False).headers["location"] == "/admin/sites"
    with other(web) as stranger:
        got = stranger.get("/admin", follow_redirects=False)
        assert got.headers["location"] == "/admin/login"
        token = csrf_of(stranger.get("/admin/login"))
        again = stranger.post(
            "/admin/setup",
            data={"csrf_token": token, "org": "X", "email": "x@example.com",
                  "password": "another password", "password_repeat": "another password"},
        )  # fmt: skip
        assert again.status_code == 409


def _set_cookies(response: httpx.Response) -> dict[str, str]:
    """Each Set-Cookie header by cookie name."""
    return {header.split("=", 1)[0]: header for header in response.headers.get_list("set-cookie")}


def test_session_cookie_is_host_prefixed_secure_httponly_strict_on_https(web: TestClient) -> None:
    """On https the session lives in __Host-authkong_session: Secure, HttpOnly, Strict, Path=/."""
    email, password = OWNER
    token = csrf_of(web.get("/admin"))
    got = web.post(
        "/admin/setup",
        data={"csrf_token": token, "org": "Acme", "email": email, "password": password,
              "password_repeat": password, "setup_code": code_of(web)},
        follow_redirects=False,
    )  # fmt: skip
    header = _set_cookies(got)["__Host-authkong_session"]
    parsed = SimpleCookie(header)["__Host-authkong_session"]
    assert parsed["secure"] is True
    assert parsed["httponly"] is True
    assert parsed["samesite"].lower() == "strict"
    assert parsed["path"] == "/"
    assert not parsed["domain"]  # __Host- forbids Domain
    pre = SimpleCookie(_set_cookies(web.get("/admin/login"))["__Host-authkong_presession"])
    assert pre["__Host-authkong_presession"]["secure"] is True


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]"])
def test_plain_http_to_localhost_uses_unprefixed_cookie_without_secure(
    settings: Settings, clock: FakeClock, host: str
) -> None:
    """The documented exception: plain http to localhost gets authkong_session, not Secure."""
    with _client(settings, clock, f"http://{host}:8000") as client:
        email, password = OWNER
        token = csrf_of(client.get("/admin"))
        got = client.post(
            "/admin/setup",
            data={"csrf_token": token, "org": "Acme", "email": email, "password": password,
                  "password_repeat": password, "setup_code": code_of(client)},
            follow_redirects=False,
        )  # fmt: skip
        assert got.status_code == 303, got.text
        cookies = _set_cookies(got)
        assert "__Host-authkong_session" not in cookies
        parsed = SimpleCookie(cookies["authkong_session"])["authkong_session"]
        assert not parsed["secure"]
        assert parsed["httponly"] is True
        assert parsed["samesite"].lower() == "strict"
        assert client.get("/admin/sites").status_code == 200


def test_plain_http_to_another_host_is_refused(settings: Settings, clock: FakeClock) -> None:
    """Plain http to a non-local host gets a page asking for https, and no cookie."""
    with _client(settings, clock, "http://authkong.example") as client:
        for path in ("/admin", "/admin/login", "/admin/sites"):
            got = client.get(path, follow_redirects=False)
            assert got.status_code == 400
            assert "https" in got.text
            assert "set-cookie" not in got.headers


def test_every_page_sends_csp_and_security_headers(owner: TestClient) -> None:
    """CSP, X-Frame-Options DENY, Referrer-Policy same-origin and no-store on every page."""
    sitekey = create_site(owner)
    pages = [
        "/admin/sites", "/admin/sites/new", f"/admin/sites/{sitekey}",
        f"/admin/sites/{sitekey}/analytics", f"/admin/sites/{sitekey}/delete",
        "/admin/analytics?span=hour", "/admin/members", "/admin/tokens", "/admin/audit",
        "/admin/account", "/admin/sites/ak_nosuchsite", "/admin/analytics?span=year",
    ]  # fmt: skip
    with other(owner) as anonymous:
        answers = [owner.get(p) for p in pages] + [anonymous.get("/admin/login")]
        answers.append(anonymous.post("/admin/login", data={}))  # the 403 page too
    for got in answers:
        assert got.headers["content-security-policy"] == CSP, got.url
        assert got.headers["x-frame-options"] == "DENY"
        assert got.headers["referrer-policy"] == "same-origin"
        assert got.headers["cache-control"] == "no-store"
        assert "<script>" not in got.text and " style=" not in got.text, got.url
    assert [a.status_code for a in answers][-4:] == [404, 422, 200, 403]


def test_post_without_valid_csrf_token_is_403_and_changes_nothing(owner: TestClient) -> None:
    """Every state-changing form refuses a missing, wrong or foreign CSRF token with 403."""
    sitekey = create_site(owner)
    targets = {
        "/admin/sites/new": {"name": "Sneaky", "domains": "evil.example", **SITE_FORM},
        f"/admin/sites/{sitekey}": {"name": "Renamed", "domains": "example.com", **SITE_FORM},
        f"/admin/sites/{sitekey}/rotate": {"overlap_hours": "0"},
        f"/admin/sites/{sitekey}/delete": {"confirm": "Shop"},
        "/admin/members/invite": {"email": "x@example.com", "role": "owner"},
        "/admin/tokens": {"name": "t", "scopes": "sites:read"},
        "/admin/account": {"current": OWNER[1], "password": "x" * 12, "password_repeat": "x" * 12},
        "/admin/logout": {},
    }
    with other(owner) as second:
        add_user(owner, "second@example.com", "second password", "Acme", Role.ADMIN)
        assert log_in(second, "second@example.com", "second password").status_code == 303
        foreign = session_csrf(second)
    for path, data in targets.items():
        for token in (None, "", "0" * 64, foreign):
            fields = dict(data) if token is None else {**data, "csrf_token": token}
            got = owner.post(path, data=fields)
            assert got.status_code == 403, (path, token)
            assert "CSRF" in got.text
    audit = owner.get("/admin/audit").text
    assert "site.create" in audit
    for action in ("site.update", "secret.rotate", "site.delete", "member.invite", "token."):
        assert action not in audit
    assert owner.get(f"/admin/sites/{sitekey}").status_code == 200  # still logged in, still there


def test_login_and_setup_forms_need_the_presession_token(web: TestClient) -> None:
    """Before a session, setup and login need the token bound to the pre-session cookie."""
    good = csrf_of(web.get("/admin"))
    form = {"org": "Acme", "email": OWNER[0], "password": OWNER[1], "password_repeat": OWNER[1]}
    assert web.post("/admin/setup", data=form).status_code == 403
    assert web.post("/admin/setup", data={**form, "csrf_token": good[:-1] + "0"}).status_code == 403
    with other(web) as cookieless:  # the token without its cookie is worthless
        assert cookieless.post("/admin/setup", data={**form, "csrf_token": good}).status_code == 403
    assert svc_of(web).admin.needs_setup()


def test_cross_origin_post_is_refused_even_with_a_token(owner: TestClient) -> None:
    """An Origin header naming another origin gets 403 even with a valid CSRF token."""
    token = session_csrf(owner)
    data = {"csrf_token": token, "name": "X", "domains": "x.example", **SITE_FORM}
    for origin in ("https://evil.example", "null", "http://authkong.example"):
        got = owner.post("/admin/sites/new", data=data, headers={"Origin": origin})
        assert got.status_code == 403
    same = owner.post("/admin/sites/new", data=data, headers={"Origin": HTTPS})
    assert same.status_code == 200


def test_xss_site_name_is_escaped_on_every_page_showing_it(owner: TestClient) -> None:
    """A site named <img src=x onerror=alert(1)> appears only escaped, wherever it is shown."""
    created = owner.post(
        "/admin/sites/new",
        data={"csrf_token": session_csrf(owner), "name": XSS, "domains": "example.com",
              **SITE_FORM},
    )  # fmt: skip
    assert created.status_code == 200
    sitekey = re.search(r'id="sitekey-value">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    showing = [
        created,
        owner.get("/admin/sites"),
        owner.get(f"/admin/sites/{sitekey}"),
        owner.get(f"/admin/sites/{sitekey}/analytics"),
        owner.get(f"/admin/sites/{sitekey}/delete"),
    ]
    for got in showing:
        assert got.status_code == 200
        assert XSS_ESCAPED in got.text, got.url
    everywhere = [*showing, owner.get("/admin/audit"), owner.get("/admin/analytics")]
    # A wrong confirmation and a bad edit show the submitted values again.
    everywhere.append(
        owner.post(f"/admin/sites/{sitekey}/delete",
                   data={"csrf_token": session_csrf(owner), "confirm": XSS + "x"})
    )  # fmt: skip
    everywhere.append(
        owner.post(f"/admin/sites/{sitekey}",
                   data={"csrf_token": session_csrf(owner), "name": XSS, "domains": XSS,
                         **SITE_FORM})
    )  # fmt: skip
    assert [g.status_code for g in everywhere[-2:]] == [422, 422]
    for got in everywhere:
        assert XSS not in got.text, got.url
        assert "<img" not in got.text


def test_viewer_sees_no_write_controls_and_cannot_write(owner: TestClient) -> None:
    """A viewer's pages have no write forms or links, and writes by hand answer 403."""
    sitekey = create_site(owner)
    add_user(owner, "viewer@example.com", "viewer password", "Acme", Role.VIEWER)
    with other(owner) as viewer:
        assert log_in(viewer, "viewer@example.com", "viewer password").status_code == 303
        site_pages = [f"/admin/sites/{sitekey}", f"/admin/sites/{sitekey}/analytics"]
        for path in [
            "/admin/sites",
            "/admin/members",
            "/admin/audit",
            "/admin/analytics",
            *site_pages,
        ]:
            page = viewer.get(path)
            assert page.status_code == 200, path
            actions = re.findall(r'<form method="post" action="([^"]+)"', page.text)
            assert actions == ["/admin/logout"], (path, actions)
            assert "/admin/sites/new" not in page.text
            assert "/delete" not in page.text
            assert "API tokens" not in page.text
        token = session_csrf(viewer)
        writes = {
            "/admin/sites/new": {"name": "V", "domains": "v.example", **SITE_FORM},
            f"/admin/sites/{sitekey}/rotate": {"overlap_hours": "0"},
            f"/admin/sites/{sitekey}/delete": {"confirm": "Shop"},
            "/admin/members/invite": {"email": "y@example.com", "role": "admin"},
            "/admin/tokens": {"name": "t", "scopes": "sites:read"},
        }
        for path, data in writes.items():
            got = viewer.post(path, data={**data, "csrf_token": token})
            assert got.status_code == 403, path
            assert "Not allowed" in got.text


def test_another_organizations_sitekey_answers_404(owner: TestClient) -> None:
    """Org B's site is not found from org A: read, analytics, edit, rotate and delete."""
    add_user(owner, "b@example.com", "b password 123", "Beta", Role.OWNER)
    with other(owner) as beta:
        assert log_in(beta, "b@example.com", "b password 123").status_code == 303
        theirs = create_site(beta, name="Beta shop", domains="beta.example")
    token = session_csrf(owner)
    reads = [f"/admin/sites/{theirs}", f"/admin/sites/{theirs}/analytics",
             f"/admin/sites/{theirs}/delete"]  # fmt: skip
    for path in reads:
        got = owner.get(path)
        assert got.status_code == 404, path
        assert "Beta shop" not in got.text
    writes = {
        f"/admin/sites/{theirs}": {"name": "Mine now", "domains": "beta.example", **SITE_FORM},
        f"/admin/sites/{theirs}/rotate": {"overlap_hours": "0"},
        f"/admin/sites/{theirs}/delete": {"confirm": "Beta shop"},
    }
    for path, data in writes.items():
        assert owner.post(path, data={**data, "csrf_token": token}).status_code == 404, path
    assert theirs not in owner.get("/admin/sites").text
    site = svc_of(owner).registry.get_site(theirs)
    assert site is not None
    assert site.name == "Beta shop"
    assert len(site.secrets) == 1


def test_login_throttle_engages_with_retry_after_and_releases(
    owner: TestClient, clock: FakeClock
) -> None:
    """Wrong passwords soon answer 429 with Retry-After; after that wait, login works."""
    with other(owner) as guesser:
        statuses = [log_in(guesser, OWNER[0], "wrong guess").status_code for _ in range(7)]
        assert statuses[0] == 401
        assert statuses[-1] == 429
        throttled = log_in(guesser, OWNER[0], OWNER[1])
        assert throttled.status_code == 429
        assert "Too many attempts" in throttled.text
        wait = int(throttled.headers["retry-after"])
        assert wait >= 1
        clock.advance(wait)
        assert log_in(guesser, OWNER[0], OWNER[1]).status_code == 303


def test_unknown_email_and_wrong_password_answer_alike(owner: TestClient) -> None:
    """No enumeration: the same status and message for an unknown email and a wrong password."""
    with other(owner) as a, other(owner) as b:
        wrong = log_in(a, OWNER[0], "not the password")
        unknown = log_in(b, "nobody@example.com", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    strip = re.compile(r'value="[^"]*"')
    assert strip.sub("", wrong.text).replace(OWNER[0], "E") == strip.sub("", unknown.text).replace(
        "nobody@example.com", "E"
    )


def test_secret_is_shown_once_and_rotation_keeps_the_old_one_for_the_overlap(
    owner: TestClient, clock: FakeClock
) -> None:
    """The secret appears only in the create and rotate answers; the old one lives on a while."""
    created = owner.post(
        "/admin/sites/new",
        data={"csrf_token": session_csrf(owner), "name": "Shop", "domains": "example.com",
              **SITE_FORM},
    )  # fmt: skip
    secret = re.search(r'id="secret-value">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    sitekey = re.search(r'id="sitekey-value">([^<]+)<', created.text).group(1)  # type: ignore[union-attr]
    assert "only time the secret is shown" in created.text
    page = owner.get(f"/admin/sites/{sitekey}")
    assert secret not in page.text
    assert "secret-value" not in page.text
    rotated = owner.post(
        f"/admin/sites/{sitekey}/rotate",
        data={"csrf_token": session_csrf(owner), "overlap_hours": "1"},
    )
    new = re.search(r'id="secret-value">([^<]+)<', rotated.text).group(1)  # type: ignore[union-attr]
    assert new != secret
    assert new not in owner.get(f"/admin/sites/{sitekey}").text
    site = svc_of(owner).registry.get_site(sitekey)
    assert site is not None
    now = clock.now_ms()
    assert site.accepts_secret(hash_secret(secret), now)
    assert site.accepts_secret(hash_secret(new), now)
    assert not site.accepts_secret(hash_secret(secret), now + 3_600_001)


def test_a_new_secret_is_shown_after_a_redirect_so_a_reload_repeats_nothing(
    owner: TestClient,
) -> None:
    """Create and rotate answer 303 without the secret; the page they lead to shows it
    once, from a short-lived cookie sealed to the session and the site. Reloading shows a
    notice instead, and makes no second site or rotation."""
    before = create_site(owner, "Before")
    form = {"csrf_token": session_csrf(owner), "name": "Shop", "domains": "example.com"}
    posted = owner.post("/admin/sites/new", data=form | SITE_FORM, follow_redirects=False)
    assert posted.status_code == 303
    assert "aks_" not in posted.text
    location = posted.headers["location"]
    sitekey = location.removeprefix("/admin/sites/").removesuffix("?done=created")
    assert location == f"/admin/sites/{sitekey}?done=created"
    cookie = posted.headers["set-cookie"].lower()
    assert cookie.startswith("__host-authkong_reveal=")
    for attribute in ("httponly", "max-age=300", "path=/", "samesite=strict", "secure"):
        assert attribute in cookie
    sealed = owner.cookies["__Host-authkong_reveal"]

    # Another session of the same owner, another site's page and a changed seal show nothing.
    second = other(owner)
    assert log_in(second, *OWNER).status_code == 303
    second.cookies.set("__Host-authkong_reveal", sealed, domain="authkong.example")
    assert "secret-value" not in second.get(location).text
    assert "secret-value" not in owner.get(f"/admin/sites/{before}").text
    tampered = sealed.replace(".1.", ".0.")
    assert tampered != sealed
    owner.cookies.set("__Host-authkong_reveal", tampered, domain="authkong.example")
    assert "secret-value" not in owner.get(location).text
    owner.cookies.set("__Host-authkong_reveal", sealed, domain="authkong.example")

    shown = owner.get(location)
    assert "Site created: its secret" in shown.text
    secret = re.search(r'id="secret-value">([^<]+)<', shown.text).group(1)  # type: ignore[union-attr]
    assert "__Host-authkong_reveal" not in owner.cookies
    reloaded = owner.get(location)
    assert secret not in reloaded.text
    assert "Its secret was shown once" in reloaded.text
    assert len(svc_of(owner).registry.all_sites()) == 2

    rotate = {"csrf_token": session_csrf(owner), "overlap_hours": "1"}
    posted = owner.post(f"/admin/sites/{sitekey}/rotate", data=rotate, follow_redirects=False)
    assert posted.status_code == 303
    assert posted.headers["location"] == f"/admin/sites/{sitekey}?done=rotated"
    new = re.search(r'id="secret-value">([^<]+)<', owner.get(posted.headers["location"]).text)
    assert new is not None and new.group(1) != secret
    reloaded = owner.get(posted.headers["location"])
    assert new.group(1) not in reloaded.text
    assert "Secret rotated" in reloaded.text
    site = svc_of(owner).registry.get_site(sitekey)
    assert site is not None and len(site.secrets) == 2


def test_site_form_errors_show_the_message_and_keep_the_input(owner: TestClient) -> None:
    """A bad domain answers 422 with the service's message and the form filled in again."""
    got = owner.post(
        "/admin/sites/new",
        data={"csrf_token": session_csrf(owner), "name": "Keep me", "domains": "not a domain!",
              **SITE_FORM},
    )  # fmt: skip
    assert got.status_code == 422
    assert 'role="alert"' in got.text
    assert 'value="Keep me"' in got.text
    assert 'aria-invalid="true"' in got.text


def test_edit_and_delete_a_site(owner: TestClient) -> None:
    """Saving settings changes the site; deleting needs its name typed and removes it."""
    sitekey = create_site(owner)
    saved = owner.post(
        f"/admin/sites/{sitekey}",
        data={**SITE_FORM, "csrf_token": session_csrf(owner), "name": "Shop 2",
              "domains": "example.com\n*.example.org", "preset": "hard", "scoring": "on",
              "adaptive": "", "max_wait_s": "4.5"},
        follow_redirects=False,
    )  # fmt: skip
    assert saved.status_code == 303
    site = svc_of(owner).registry.get_site(sitekey)
    assert site is not None
    assert site.name == "Shop 2"
    assert site.domains == ("example.com", "*.example.org")
    assert site.difficulty == PRESETS["hard"]
    assert site.risk.max_wait_s == 4.5
    assert "Settings saved." in owner.get(f"/admin/sites/{sitekey}?done=saved").text
    token = session_csrf(owner)
    wrong = owner.post(f"/admin/sites/{sitekey}/delete", data={"csrf_token": token, "confirm": "x"})
    assert wrong.status_code == 422
    gone = owner.post(
        f"/admin/sites/{sitekey}/delete", data={"csrf_token": token, "confirm": "Shop 2"}
    )
    assert gone.status_code == 200
    assert "Site deleted." in gone.text
    assert owner.get(f"/admin/sites/{sitekey}").status_code == 404


def test_invitation_link_lets_a_new_member_in_once(owner: TestClient) -> None:
    """An invitation's link, opened in another browser, sets a password and logs them in."""
    got = owner.post(
        "/admin/members/invite",
        data={"csrf_token": session_csrf(owner), "email": "new@example.com", "role": "viewer"},
    )
    link = re.search(r'id="invite-link">([^<]+)<', got.text).group(1)  # type: ignore[union-attr]
    assert link.startswith(HTTPS + "/admin/invite/")
    assert "shown only now" in got.text
    assert link not in owner.get("/admin/members").text
    path = link.removeprefix(HTTPS)
    with other(owner) as invited:
        token = csrf_of(invited.get(path))
        form = {
            "csrf_token": token,
            "password": "invited pass 1",
            "password_repeat": "invited pass 1",
        }
        joined = invited.post(path, data=form, follow_redirects=False)
        assert joined.status_code == 303
        members = invited.get("/admin/members").text
        assert "new@example.com" in members and OWNER[0] in members
    with other(owner) as again:
        assert again.get(path).status_code == 404  # used: the page says so, offers nothing
        token = csrf_of(again.get("/admin/login"))
        assert again.post(path, data={**form, "csrf_token": token}).status_code == 404


def test_members_roles_can_change_and_members_be_removed(owner: TestClient) -> None:
    """An owner adds a member, makes them admin, then removes them; the audit log shows it."""
    token = session_csrf(owner)
    added = owner.post(
        "/admin/members/add",
        data={"csrf_token": token, "email": "m@example.com", "role": "viewer",
              "password": "member pass 1", "password_repeat": "member pass 1"},
        follow_redirects=False,
    )  # fmt: skip
    assert added.status_code == 303
    page = owner.get("/admin/members").text
    user_id = re.search(r"/admin/members/(\d+)/remove", page).group(1)  # type: ignore[union-attr]
    role = owner.post(f"/admin/members/{user_id}/role", data={"csrf_token": token, "role": "admin"})
    assert role.status_code == 200
    assert "Role changed." in role.text
    assert [m.role for m in svc_of(owner).admin.members(_owner_actor(owner))
            if m.email == "m@example.com"] == [Role.ADMIN]  # fmt: skip
    removed = owner.post(f"/admin/members/{user_id}/remove", data={"csrf_token": token})
    assert "Member removed." in removed.text
    assert "m@example.com" not in removed.text.split("<h2>")[0].split("</table>")[0]


def _owner_actor(client: TestClient) -> Actor:
    cookie = client.cookies.get("__Host-authkong_session")
    assert cookie is not None
    found = svc_of(client).admin.session_actor(cookie, "203.0.113.1")
    assert found is not None
    return found[1]


def test_api_token_is_shown_once_and_can_be_revoked(owner: TestClient) -> None:
    """A new API token appears once; the list shows its name and scopes; revoking marks it."""
    got = owner.post(
        "/admin/tokens",
        data={"csrf_token": session_csrf(owner), "name": "deploy bot",
              "scopes": ["sites:read", "secrets:rotate"], "expires_days": "30"},
    )  # fmt: skip
    assert got.status_code == 200
    value = re.search(r'id="token-value">([^<]+)<', got.text).group(1)  # type: ignore[union-attr]
    listing = owner.get("/admin/tokens").text
    assert value not in listing
    assert "deploy bot" in listing and "secrets:rotate, sites:read" in listing
    assert f"<td>secrets:rotate, sites:read</td>\n      <td>{OWNER[0]}</td>" in listing
    assert svc_of(owner).admin.token_actor(value, "203.0.113.1") is not None
    token_id = re.search(r"/admin/tokens/(\d+)/revoke", listing).group(1)  # type: ignore[union-attr]
    revoked = owner.post(
        f"/admin/tokens/{token_id}/revoke", data={"csrf_token": session_csrf(owner)}
    )
    assert "Token revoked." in revoked.text
    assert svc_of(owner).admin.token_actor(value, "203.0.113.1") is None


def test_logout_ends_the_session_and_password_change_keeps_this_one(owner: TestClient) -> None:
    """Changing the password keeps this session; logging out ends it for good."""
    token = session_csrf(owner)
    changed = owner.post(
        "/admin/account",
        data={"csrf_token": token, "current": OWNER[1], "password": "brand new pass",
              "password_repeat": "brand new pass"},
    )  # fmt: skip
    assert changed.status_code == 200
    assert "Password changed." in changed.text
    cookie = owner.cookies.get("__Host-authkong_session")
    out = owner.post("/admin/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303
    assert out.headers["location"] == "/admin/login"
    assert svc_of(owner).admin.session_actor(cookie or "", "203.0.113.1") is None
    assert owner.get("/admin/sites", follow_redirects=False).headers["location"] == "/admin/login"
    assert log_in(owner, OWNER[0], "brand new pass").status_code == 303


def test_snippets_cover_every_flavor_with_its_loader_and_verify_url() -> None:
    """Each flavor's snippet has its vendor markup, our loader and siteverify, and no secret."""
    site = Site("ak_testsitekey", "S", ("example.com",), PRESETS["easy"], 300, ())
    snippets = snippets_for(site, "https://captcha.example/")
    assert [s.flavor for s in snippets] == list(FLAVORS)
    assert list(FLAVORS) == ["authkong", "recaptcha", "hcaptcha", "turnstile", "zencaptcha"]
    for s in snippets:
        demo = DEMO_FLAVORS[s.flavor]
        assert f'<script src="https://captcha.example{demo.script}" async defer>' in s.frontend
        assert demo.markup.format(sitekey="ak_testsitekey") in s.frontend
        assert f"https://captcha.example{VERIFY_PATHS[s.flavor]}" in s.backend
        assert f"secret={SECRET_PLACEHOLDER}" in s.backend
        assert "import httpx" in s.backend
        assert demo.field in s.backend
        assert "//" not in s.frontend.replace("https://", "")
    assert "sitekey=ak_testsitekey" in snippets[2].backend  # hCaptcha checks the sitekey too


def test_charts_draw_every_point_and_escape_labels() -> None:
    """The traffic chart has one vertex per bucket per series; bar labels are escaped."""
    points = [Point(start_ms=i * 60_000, challenges=i, solves=i // 2) for i in range(60)]
    analytics = Analytics(Span.HOUR, 60_000, points)
    svg = str(charts.traffic_chart(analytics, "t"))
    lines = re.findall(r'<polyline class="line line-(\w+)" fill="none" points="([^"]*)"', svg)
    assert [name for name, _ in lines] == ["challenges", "solves", "verified", "rejected"]
    assert all(len(coords.split()) == 60 for _, coords in lines)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    bars = str(charts.bar_chart([(XSS, 3), ("", 1)], "b", "By <reason>"))
    assert XSS not in bars and XSS_ESCAPED in bars
    assert "By &lt;reason&gt;" in bars
    assert bars.count('<rect class="bar"') == 2
    assert "No data yet" in str(charts.bar_chart([], "e", "Empty"))


def test_analytics_pages_show_spans_charts_and_tables(owner: TestClient, clock: FakeClock) -> None:
    """Per site and per organization, each span renders its chart and data table."""
    sitekey = create_site(owner)
    stats = svc_of(owner).stats
    now = clock.now_ms()
    stats.challenge(sitekey, "198.51.100.7", now)
    stats.solve(sitekey, 250, 0.95, now)
    stats.verification(sitekey, None, now)
    stats.flush()
    for path in (f"/admin/sites/{sitekey}/analytics", "/admin/analytics"):
        for span in Span:
            got = owner.get(f"{path}?span={span.value}")
            assert got.status_code == 200
            assert got.text.count('<svg class="chart') == 4
            assert "Traffic as a table" in got.text
    day = owner.get(f"/admin/sites/{sitekey}/analytics?span=day").text
    assert re.search(r"<dt>Challenges</dt><dd>1</dd>", day)
    assert re.search(r"Median solve time</dt><dd>\d+ ms</dd>", day)
    assert owner.get("/admin/analytics?span=week").status_code == 422


def test_anonymous_pages_redirect_to_login_and_posts_are_refused(web: TestClient) -> None:
    """Without a session every member page redirects to login and every POST answers 403."""
    setup_owner(web)
    with other(web) as anonymous:
        for path in ("/admin/sites", "/admin/members", "/admin/audit", "/admin/tokens"):
            got = anonymous.get(path, follow_redirects=False)
            assert got.status_code == 303
            assert got.headers["location"] == "/admin/login"
        assert anonymous.post("/admin/sites/new", data={}).status_code == 403
        anonymous.cookies.set("__Host-authkong_session", "forged")
        got = anonymous.get("/admin/sites", follow_redirects=False)
        assert got.headers["location"] == "/admin/login"


def test_csrf_key_is_shared_through_the_data_dir(settings: Settings) -> None:
    """Workers agree on the CSRF key: it is created once in the data dir with mode 0600."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    first = security.load_or_create_key(settings.data_dir)
    assert security.load_or_create_key(settings.data_dir) == first
    assert len(first) == 32
    assert (settings.data_dir / security.KEY_FILE).stat().st_mode & 0o777 == 0o600


def test_xss_organization_name_is_escaped_in_every_page_header(web: TestClient) -> None:
    """An organization named like markup shows escaped in the header of every member page."""
    email, password = OWNER
    token = csrf_of(web.get("/admin"))
    web.post(
        "/admin/setup",
        data={"csrf_token": token, "org": XSS, "email": email, "password": password,
              "password_repeat": password, "setup_code": code_of(web)},
    )  # fmt: skip
    for path in ("/admin/sites", "/admin/members", "/admin/account", "/admin/audit"):
        got = web.get(path)
        assert got.status_code == 200
        assert XSS_ESCAPED in got.text and XSS not in got.text, path


def test_static_assets_are_served_and_pages_load_only_them(owner: TestClient) -> None:
    """The stylesheet and script come from /admin/static; pages reference nothing else."""
    page = owner.get("/admin/sites").text
    assert re.findall(r'(?:src|href)="([^"]+\.(?:css|js))"', page) == [
        "/admin/static/dashboard.css",
        "/admin/static/dashboard.js",
    ]
    css = owner.get("/admin/static/dashboard.css")
    js = owner.get("/admin/static/dashboard.js")
    assert css.status_code == js.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "javascript" in js.headers["content-type"]
    assert "http" not in css.text and "http" not in js.text  # nothing from elsewhere


# -- the security review's findings ----------------------------------------------------


def _setup_form(client: TestClient, code: str) -> dict[str, str]:
    email, password = OWNER
    return {"csrf_token": csrf_of(client.get("/admin")), "org": "Acme", "email": email,
            "password": password, "password_repeat": password, "setup_code": code}  # fmt: skip


def test_setup_needs_the_one_time_code_from_the_data_dir(web: TestClient) -> None:
    """Setup asks for the code in data_dir/setup-code (0600); it is deleted once used."""
    data_dir = svc_of(web).settings.data_dir
    path = setup_code.path(data_dir)
    assert path.stat().st_mode & 0o777 == 0o600
    assert 'name="setup_code"' in web.get("/admin").text
    for wrong in (
        "guess",
        code_of(web)[:-1],
        code_of(web) + "x",
        "x" * 5000,
    ):  # a fifth would be throttled
        got = web.post("/admin/setup", data=_setup_form(web, wrong))
        assert got.status_code == 403 and "setup code" in got.text
    assert svc_of(web).admin.needs_setup()
    got = web.post("/admin/setup", data=_setup_form(web, code_of(web)), follow_redirects=False)
    assert got.status_code == 303
    assert not path.exists()
    assert not svc_of(web).admin.needs_setup()


def test_setup_code_attempts_are_throttled_per_client(web: TestClient) -> None:
    """After five wrong codes one client waits (429 with Retry-After); the right one too."""
    for _ in range(5):
        assert web.post("/admin/setup", data=_setup_form(web, "guess")).status_code == 403
    got = web.post("/admin/setup", data=_setup_form(web, code_of(web)))
    assert got.status_code == 429 and int(got.headers["retry-after"]) >= 1
    assert svc_of(web).admin.needs_setup()


def test_remote_visitor_cannot_claim_an_upgraded_server(web: TestClient) -> None:
    """Without the setup code nobody adopts the sites made before any account existed."""
    svc = svc_of(web)
    prod = svc.admin.create_site(cli_actor(), name="prod shop", domains=("shop.example",))
    with TestClient(web.app, base_url=HTTPS, client=("198.51.100.66", 4444)) as remote:
        got = remote.post("/admin/setup", data=_setup_form(remote, ""), follow_redirects=False)
        assert got.status_code == 403
        assert (
            remote.get(f"/admin/sites/{prod.site.sitekey}", follow_redirects=False).headers[
                "location"
            ]
            == "/admin/login"
        )
    assert svc.registry.get_site(prod.site.sitekey).org_id is None


@pytest.mark.parametrize(
    "path", ["/admin/members/99999999999999999999/role", "/admin/members/%C2%B2/remove",
             "/admin/tokens/99999999999999999999/revoke", "/admin/invitations/1_0/revoke"],
)  # fmt: skip
def test_huge_or_non_ascii_ids_are_not_found(owner: TestClient, path: str) -> None:
    """An id that is not 1 to 18 ASCII digits answers 404, never a 500."""
    got = owner.post(path, data={"csrf_token": session_csrf(owner), "role": "viewer"})
    assert got.status_code == 404


@pytest.mark.parametrize("before", ["99999999999999999999", "%C2%B2", "-1", "1e3"])
def test_audit_page_refuses_a_malformed_before(owner: TestClient, before: str) -> None:
    """?before= takes 1 to 18 ASCII digits; anything else is 404, never a 500."""
    assert owner.get(f"/admin/audit?before={before}").status_code == 404
    assert owner.get("/admin/audit?before=999999999999999999").status_code == 200


def test_logout_is_audited_with_the_client_ip(owner: TestClient) -> None:
    """The audit log's logout entry names the address it came from."""
    actor = _owner_actor(owner)
    got = owner.post(
        "/admin/logout", data={"csrf_token": session_csrf(owner)}, follow_redirects=False
    )
    assert got.status_code == 303
    entries = svc_of(owner).admin.audit_log(actor)
    assert [(e.action, e.ip) for e in entries if e.action == "logout"] == [("logout", "testclient")]


def test_adding_an_existing_account_says_to_invite_instead(owner: TestClient) -> None:
    """ "Add a new account" with an email that has one answers 409 on the members page."""
    add_user(owner, "taken@example.com", "taken pass 12", "Elsewhere", Role.OWNER)
    got = owner.post(
        "/admin/members/add",
        data={"csrf_token": session_csrf(owner), "email": "taken@example.com", "role": "viewer",
              "password": "pass word 12", "password_repeat": "pass word 12"},
    )  # fmt: skip
    assert got.status_code == 409 and "invitation" in got.text
    assert "taken@example.com" not in got.text.split("</table>")[0]


def _invite_link(client: TestClient, email: str) -> str:
    got = client.post(
        "/admin/members/invite",
        data={"csrf_token": session_csrf(client), "email": email, "role": "viewer"},
    )
    found = re.search(r'id="invite-link">([^<]+)<', got.text)
    assert found is not None, got.text
    return found.group(1).removeprefix(HTTPS)


def test_existing_account_joins_only_while_logged_in_then_switches_orgs(owner: TestClient) -> None:
    """The link asks an existing account to log in; logged in, it joins and gets a switcher."""
    add_user(owner, "b@example.com", "b password 12", "Beta", Role.OWNER)
    path = _invite_link(owner, "b@example.com")
    with other(owner) as browser:
        page = browser.get(path)
        assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"
        assert "log in" in page.text.lower() and "Join Acme</button>" not in page.text
        form = {"csrf_token": csrf_of(page), "password": "b password 12",
                "password_repeat": "b password 12"}  # fmt: skip
        refused = browser.post(path, data=form)
        assert refused.status_code == 409 and "log in first" in refused.text
        assert log_in(browser, "b@example.com", "b password 12").status_code == 303
        offer = browser.get(path)
        assert "Join Acme</button>" in offer.text and 'name="password"' not in offer.text
        joined = browser.post(path, data={"csrf_token": csrf_of(offer)}, follow_redirects=False)
        assert joined.status_code == 303 and joined.headers["referrer-policy"] == "no-referrer"
        sites = browser.get("/admin/sites").text
        assert "b@example.com · Acme · viewer" in sites
        assert 'action="/admin/org"' in sites and ">Beta</option>" in sites
        beta = re.search(r'<option value="(\d+)">Beta</option>', sites)
        assert beta is not None
        assert browser.post("/admin/org", data={"org_id": beta.group(1)}).status_code == 403
        switched = browser.post(
            "/admin/org",
            data={"csrf_token": session_csrf(browser), "org_id": beta.group(1)},
            follow_redirects=False,
        )
        assert switched.status_code == 303
        assert "b@example.com · Beta · owner" in browser.get("/admin/sites").text
        bad = browser.post("/admin/org", data={"csrf_token": session_csrf(browser), "org_id": "1²"})
        assert bad.status_code == 404
    assert 'action="/admin/org"' not in owner.get("/admin/sites").text  # one org: no switcher


def test_pending_invitations_are_listed_and_revoked_on_the_members_page(owner: TestClient) -> None:
    """The members page lists a pending invitation with a revoke button that kills its link."""
    path = _invite_link(owner, "later@example.com")
    page = owner.get("/admin/members").text
    assert "Pending invitations" in page and "later@example.com" in page
    assert path.rsplit("/", 1)[1] not in page
    found = re.search(r'action="(/admin/invitations/\d+/revoke)"', page)
    assert found is not None
    assert owner.post(found.group(1), data={}).status_code == 403  # CSRF-checked
    got = owner.post(found.group(1), data={"csrf_token": session_csrf(owner)})
    assert got.status_code == 200 and "Invitation revoked" in got.text
    assert "later@example.com" not in got.text
    with other(owner) as browser:
        assert browser.get(path).status_code == 404


def test_invitation_form_posts_from_a_no_referrer_page(owner: TestClient) -> None:
    """Browsers send "Origin: null" from the no-referrer invite page: accepted there alone."""
    path = _invite_link(owner, "fresh@example.com")
    with other(owner) as browser:
        form = {"csrf_token": csrf_of(browser.get(path)), "password": "fresh pass 12",
                "password_repeat": "fresh pass 12"}  # fmt: skip
        evil = browser.post(path, data=form, headers={"Origin": "https://evil.example"})
        assert evil.status_code == 403 and evil.headers["referrer-policy"] == "no-referrer"
        login = browser.post("/admin/login", data=form, headers={"Origin": "null"})
        assert login.status_code == 403  # elsewhere "null" stays foreign
        joined = browser.post(path, data=form, headers={"Origin": "null"}, follow_redirects=False)
        assert joined.status_code == 303


def at(client: TestClient, address: str) -> TestClient:
    """Another browser on the same app, at its own client address. Not for a `with`:
    leaving one would run the app's shutdown under the test's own client."""
    return TestClient(client.app, base_url=str(client.base_url), client=(address, 50000))


def test_a_throttled_address_does_not_keep_the_owner_out(owner: TestClient) -> None:
    """A guesser's address answers 429 for the account while its owner, elsewhere, logs in."""
    guesser, owners_laptop = at(owner, "198.51.100.66"), at(owner, "203.0.113.10")
    statuses = [log_in(guesser, OWNER[0], "wrong guess").status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    assert log_in(owners_laptop, OWNER[0], OWNER[1]).status_code == 303
    assert log_in(guesser, OWNER[0], OWNER[1]).status_code == 429


def test_many_addresses_at_one_account_meet_the_looser_limit(owner: TestClient) -> None:
    """Fifty attempts at one account from as many addresses, then 429 from anywhere."""
    for i in range(50):
        assert log_in(at(owner, f"198.51.100.{i}"), OWNER[0], "wrong guess").status_code == 401
    refused = log_in(at(owner, "203.0.113.10"), OWNER[0], OWNER[1])
    assert refused.status_code == 429 and refused.headers["retry-after"] == "6"


def _short_busy_timeout(svc: Services) -> None:
    """The registry waits 0.2 s, not 10, for a lock (so a held one fails fast)."""
    engine = svc.registry.engine

    @event.listens_for(engine, "connect")
    def _wait_less(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute("PRAGMA busy_timeout=200")

    engine.dispose()


def test_locked_registry_answers_a_503_page_with_retry_after(owner: TestClient) -> None:
    """A form posted while another process holds the registry answers the dashboard's 503
    page, with Retry-After and the security headers, and changes nothing."""
    svc = svc_of(owner)
    token = session_csrf(owner)
    _short_busy_timeout(svc)
    locker = sqlite3.connect(svc.settings.registry_path, isolation_level=None)
    locker.execute("BEGIN EXCLUSIVE")
    try:
        got = owner.post(
            "/admin/sites/new",
            data={"csrf_token": token, "name": "Shop", "domains": "example.com", **SITE_FORM},
        )
    finally:
        locker.execute("ROLLBACK")
        locker.close()
    assert got.status_code == 503
    assert got.headers["retry-after"] == "1"
    assert got.headers["content-security-policy"] == CSP
    assert got.headers["content-type"].startswith("text/html")
    assert "database is busy" in got.text and "owner@example.com" in got.text  # the header
    assert "Shop" not in owner.get("/admin/sites").text


def test_an_unexpected_failure_answers_a_500_page_and_logs_no_form_values(
    owner: TestClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug answers the dashboard's 500 page with its headers; the log names the page and
    the exception's type with its frames, never the exception's message or the form."""
    svc = svc_of(owner)
    token = session_csrf(owner)

    def broken(_actor: Actor, *, name: str, **_more: object) -> None:
        raise RuntimeError(f"could not store {name}")

    monkeypatch.setattr(svc.admin, "create_site", broken)
    with caplog.at_level(logging.ERROR, logger="authkong.dashboard"):
        got = owner.post(
            "/admin/sites/new",
            data={"csrf_token": token, "name": "hunter2 site", "domains": "example.com",
                  **SITE_FORM},
        )  # fmt: skip
    assert got.status_code == 500
    assert got.headers["content-security-policy"] == CSP
    assert "failure was logged" in got.text and "hunter2" not in got.text
    assert "site_new" in caplog.text and "RuntimeError" in caplog.text and "broken" in caplog.text
    assert "hunter2" not in caplog.text and token not in caplog.text


def test_forms_from_before_an_organization_switch_have_expired(owner: TestClient) -> None:
    """A form left open in one organization answers 403 after the session switched to
    another, where the same member id would mean someone else's membership there."""
    svc = svc_of(owner)
    add_user(owner, "shared@example.com", "shared password", "Acme", Role.ADMIN)
    add_user(owner, "boss@example.com", "boss password 1", "Beta", Role.OWNER)
    admin = svc.admin
    me = admin.accounts.user_by_email(OWNER[0])
    shared = admin.accounts.user_by_email("shared@example.com")
    boss = admin.accounts.user_by_email("boss@example.com")
    assert me is not None and shared is not None and boss is not None
    beta = admin.organizations_of(boss[0].id)[0][0]
    with svc.registry.engine.begin() as conn:
        for user in (me[0], shared[0]):
            admin.accounts.insert_membership(conn, user.id, beta.id, Role.ADMIN, 0)
    acme_token = session_csrf(owner)
    switched = owner.post(
        "/admin/org", data={"csrf_token": acme_token, "org_id": str(beta.id)},
        follow_redirects=False,
    )  # fmt: skip
    assert switched.status_code == 303
    stale = owner.post(f"/admin/members/{shared[0].id}/remove", data={"csrf_token": acme_token})
    assert stale.status_code == 403 and "Form expired" in stale.text
    assert sorted(o.name for o, _ in admin.organizations_of(shared[0].id)) == ["Acme", "Beta"]
    assert session_csrf(owner) != acme_token  # the Beta pages carry their own


@pytest.mark.parametrize(
    ("fields", "files", "status", "message"),
    [
        ({f"f{i}": "x" for i in range(250)}, None, 400, "at most 200 fields"),
        ({}, {"upload": ("a.txt", b"x")}, 400, "no file uploads"),
        ({"current": "a" * (2 * 1024 * 1024)}, None, 413, "at most 64 KiB"),
    ],
)
def test_unreadable_forms_answer_a_dashboard_page(
    owner: TestClient,
    fields: dict[str, str],
    files: dict[str, tuple[str, bytes]] | None,
    status: int,
    message: str,
) -> None:
    """Too many fields, a file or a field too large answer 400 or 413 with a page saying
    so and the security headers, not the public API's JSON not_found."""
    data = {"csrf_token": session_csrf(owner), **fields}
    got = owner.post("/admin/account", data=data, files=files)
    assert got.status_code == status
    assert got.headers["content-type"].startswith("text/html")
    assert got.headers["content-security-policy"] == CSP
    assert message in got.text


def test_unreadable_form_before_a_session_answers_a_page_too(web: TestClient) -> None:
    """The login form (a visitor page) answers an oversized field with the 413 page."""
    token = csrf_of(web.get("/admin/login"))
    got = web.post("/admin/login", data={"csrf_token": token, "email": "a" * 100_000})
    assert got.status_code == 413 and "Form too large" in got.text
    assert got.headers["content-security-policy"] == CSP


@pytest.mark.parametrize("name", ["Shop\x00", "Red\x1b[31m shop", "Shop\u202egnp.exe", "A\u200bB"])
def test_site_names_with_control_characters_are_refused(owner: TestClient, name: str) -> None:
    """NUL, ESC, a bidi override or a zero-width space in a site name: 422 beside the field,
    in the dashboard and through the service (as the API and the CLI call it)."""
    got = owner.post(
        "/admin/sites/new",
        data={"csrf_token": session_csrf(owner), "name": name, "domains": "example.com",
              **SITE_FORM},
    )  # fmt: skip
    assert got.status_code == 422
    assert "must not contain control characters" in got.text
    with pytest.raises(Invalid, match="control characters") as raised:
        svc_of(owner).admin.create_site(cli_actor(), name=name, domains=("example.com",))
    assert raised.value.field == "name"
    assert svc_of(owner).registry.all_sites() == []
