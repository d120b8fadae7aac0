"""The dashboard in Debian's Chromium against a real `authkong serve`: the main journeys.

Each page is checked for console errors as it is used (a CSP violation shows up there),
screenshots go to test-artifacts/dashboard/, and axe-core checks the main pages. The
server runs on plain http to 127.0.0.1, the documented development exception, so the
session cookie is `authkong_session`.
"""

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Dialog, Page, expect

from tests.server import Server, create_site, fetch_token, running_server, verify

pytestmark = pytest.mark.server

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "dashboard"
TIMEOUT_MS = 15_000
CHART_WAIT_S = 20.0  # workers flush analytics counts every 5 s
OWNER = ("owner@example.com", "owner password 1")
XSS = "<img src=x onerror=alert(1)>"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
AXE = Axe()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


class Tab:
    """A browser context and page that fail the test on any console error or page error."""

    def __init__(self, browser: Browser, base_url: str, *, refused: tuple[int, ...] = ()) -> None:
        self.context: BrowserContext = browser.new_context(base_url=base_url)
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        expected = tuple(f"status of {status} " for status in refused)

        def on_console(msg: ConsoleMessage) -> None:
            if msg.type == "error" and not any(e in msg.text for e in expected):
                self.errors.append(f"{msg.text} {msg.location}")

        def on_dialog(dialog: Dialog) -> None:
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.accept()  # the dashboard's own confirmations

        self.page.on("console", on_console)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", on_dialog)

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors


@pytest.fixture
def tabs(browser: Browser) -> Iterator[list[Tab]]:
    """Tabs opened by a test; each is closed (and checked for errors) afterwards."""
    opened: list[Tab] = []
    yield opened
    for tab in opened:
        tab.close()


def open_tab(tabs: list[Tab], browser: Browser, server: Server, **kw: Any) -> Page:
    tab = Tab(browser, server.base_url, **kw)
    tabs.append(tab)
    expect.set_options(timeout=TIMEOUT_MS)
    return tab.page


def assert_axe_clean(page: Page) -> None:
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    assert results.violations_count == 0, results.generate_report()


def log_in(page: Page, email: str, password: str) -> None:
    page.goto("/admin/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def setup_code_of(server: Server) -> str:
    """The setup code, as the operator finds it: in the data dir and in serve's output."""
    code = (server.data_dir / "setup-code").read_text().strip()
    assert f"enter the setup code {code}" in server.output()
    return code


def setup_over_http(server: Server) -> None:
    """The first-run form, filled by httpx (for modules whose journey is not setup)."""
    with httpx.Client(base_url=server.base_url, timeout=10, follow_redirects=True) as client:
        page = client.get("/admin")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None, page.text
        email, password = OWNER
        done = client.post(
            "/admin/setup",
            data={"csrf_token": token.group(1), "org": "Acme", "email": email,
                  "password": password, "password_repeat": password,
                  "setup_code": setup_code_of(server)},
        )  # fmt: skip
        assert done.status_code == 200, done.text


@pytest.fixture(scope="module")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, Any]]]:
    """A server with an owner, and a cheap CLI-made site (adopted at setup) with traffic."""
    root = tmp_path_factory.mktemp("dashboard-serve")
    with running_server(root / "data", root / "logs") as server:
        traffic = create_site(server.data_dir, "example.com", name="Traffic")
        setup_over_http(server)
        yield server, traffic


def make_traffic(server: Server, site: dict[str, Any], tokens: int = 4) -> None:
    """A few challenges and solves, most verified, one failed by a reused token."""
    with httpx.Client(timeout=30) as client:
        minted = [fetch_token(client, server.base_url, site["sitekey"]) for _ in range(tokens)]
        for token in minted:
            assert verify(client, server.base_url, "authkong", site["secret"], token)["success"]
        assert not verify(client, server.base_url, "authkong", site["secret"], minted[0])["success"]


def site_form(page: Page, name: str, domains: str) -> None:
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("Allowed domains").fill(domains)
    page.get_by_label("Difficulty", exact=True).select_option("easy")


def test_first_run_owner_journey(browser: Browser, tmp_path: Path, tabs: list[Tab]) -> None:
    """Set up, log out and in, create a site, copy its keys, rotate, invite, see charts."""
    with running_server(tmp_path / "data", tmp_path / "logs") as server:
        traffic = create_site(server.data_dir, "example.com", name="Traffic")
        page = open_tab(tabs, browser, server)
        context = page.context
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.base_url)

        # First run: /admin offers the owner account.
        page.goto("/admin")
        expect(page.get_by_role("heading", name="Set up AuthKong")).to_be_visible()
        assert_axe_clean(page)
        shot(page, "01-setup")
        page.get_by_label("Setup code").fill(setup_code_of(server))
        page.get_by_label("Organization name").fill("Acme")
        page.get_by_label("Your email").fill(OWNER[0])
        page.get_by_label("Password", exact=True).fill(OWNER[1])
        page.get_by_label("Password again").fill(OWNER[1])
        page.get_by_role("button", name="Create owner account").click()
        expect(page.get_by_role("heading", name="Sites")).to_be_visible()
        # The CLI-made site joined the new organization at setup.
        expect(page.get_by_role("link", name="Traffic", exact=True)).to_be_visible()
        assert not (server.data_dir / "setup-code").exists()  # used up with the owner made
        cookies = {c["name"]: c for c in context.cookies()}
        assert cookies["authkong_session"]["httpOnly"] is True
        assert cookies["authkong_session"]["sameSite"] == "Strict"

        # Log out, then log in again.
        page.get_by_role("button", name="Log out").click()
        expect(page.get_by_role("heading", name="Log in")).to_be_visible()
        shot(page, "02-login")
        log_in(page, *OWNER)
        expect(page.get_by_role("heading", name="Sites")).to_be_visible()
        shot(page, "03-sites")

        # Create a site: the secret shows once, with copy buttons for it and the sitekey.
        page.get_by_role("link", name="New site").click()
        site_form(page, "Shop", "127.0.0.1\nshop.example")
        page.get_by_role("button", name="Create site").click()
        expect(page.get_by_role("heading", name="Site created: its secret")).to_be_visible()
        secret = page.locator("#secret-value").inner_text()
        sitekey = page.locator("#sitekey-value").inner_text()
        assert secret.startswith("aks_") and sitekey.startswith("ak_")
        page.get_by_role("button", name="Copy secret").click()
        expect(page.get_by_role("button", name="Copy secret")).to_have_attribute(
            "data-state", "copied"
        )
        assert page.evaluate("navigator.clipboard.readText()") == secret
        page.get_by_role("button", name="Copy sitekey").click()
        assert page.evaluate("navigator.clipboard.readText()") == sitekey
        page.locator("summary", has_text="reCAPTCHA").click()  # each flavor's in a <details>
        page.get_by_role("button", name="Copy reCAPTCHA page snippet").click()
        copied = page.evaluate("navigator.clipboard.readText()")
        assert f'data-sitekey="{sitekey}"' in copied and "/recaptcha/api.js" in copied
        shot(page, "04-site-created")
        page.goto(f"/admin/sites/{sitekey}")  # the site's page later: the secret is gone
        expect(page.locator("#secret-value")).to_have_count(0)

        # Rotate with an overlap: a new secret, once; the old one still verifies for now.
        page.goto(f"/admin/sites/{sitekey}")
        page.get_by_label("Old secret keeps working for").fill("2")
        page.get_by_role("button", name="Rotate secret").click()
        expect(page.get_by_role("heading", name="New secret")).to_be_visible()
        rotated = page.locator("#secret-value").inner_text()
        assert rotated != secret
        assert any(d.startswith("confirm:") for d in tabs[0].dialogs)
        shot(page, "05-rotated")
        with httpx.Client(timeout=10) as client:
            for key in (secret, rotated):  # both are live: the answer is about the token
                body = verify(client, server.base_url, "authkong", key, "not-a-token")
                assert body["error_code"] != "invalid_secret", body
            unknown = verify(client, server.base_url, "authkong", "aks_" + "x" * 43, "not-a-token")
            assert unknown["error_code"] == "invalid_secret"  # the check above means something

        # Invite a viewer; the link works in another browser, once.
        page.get_by_role("link", name="Members").click()
        page.get_by_label("Email", exact=True).first.fill("viewer@example.com")
        page.locator("#invite-role").select_option("viewer")
        page.get_by_role("button", name="Create invitation link").click()
        link = page.locator("#invite-link").inner_text()
        page.get_by_role("button", name="Copy invitation link").click()
        assert page.evaluate("navigator.clipboard.readText()") == link
        shot(page, "06-invited")
        guest = open_tab(tabs, browser, server)
        guest.goto(link)
        guest.get_by_label("Password", exact=True).fill("viewer password 1")
        guest.get_by_label("Password again").fill("viewer password 1")
        guest.get_by_role("button", name="Create account and join").click()
        expect(guest.get_by_role("heading", name="Sites")).to_be_visible()
        expect(guest.get_by_text("viewer@example.com · Acme · viewer")).to_be_visible()
        expect(guest.get_by_role("link", name="New site")).to_have_count(0)
        shot(guest, "07-viewer-sites")

        # Charts: traffic on the CLI-made site shows up once the worker flushes its counts.
        make_traffic(server, traffic)
        page.goto("/admin/sites")
        page.get_by_role("link", name="Analytics for Traffic").click()
        deadline = time.monotonic() + CHART_WAIT_S
        challenges = page.locator(".totals dt:text-is('Challenges') + dd")
        while challenges.inner_text() == "0" and time.monotonic() < deadline:
            time.sleep(1)
            page.reload()
        assert int(challenges.inner_text()) >= 4
        assert int(page.locator(".totals dt:text-is('Verified') + dd").inner_text()) >= 4
        expect(page.locator("svg.chart")).to_have_count(4)
        for chart in page.locator("svg.chart").all():
            box = chart.bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 40
        polyline = page.locator("polyline.line-challenges")
        assert polyline.evaluate("(el) => getComputedStyle(el).stroke") != "none"
        expect(page.get_by_role("row", name=re.compile("already_spent"))).to_be_visible()
        shot(page, "08-analytics")


def test_login_throttling_shows_a_429_page(
    browser: Browser, dash: tuple[Server, dict[str, Any]], tabs: list[Tab]
) -> None:
    """Repeated wrong passwords end in the 429 page with Retry-After, even the right one."""
    server, _ = dash
    page = open_tab(tabs, browser, server, refused=(401, 429))
    email = "throttled@example.com"
    statuses = []
    for _ in range(6):
        page.goto("/admin/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("wrong password")
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.get_by_role("button", name="Log in").click()
        statuses.append(answer.value.status)
    assert statuses[0] == 401
    assert statuses[-1] == 429
    assert int(answer.value.headers["retry-after"]) >= 1
    expect(page.get_by_role("alert")).to_have_text(re.compile("Too many attempts"))
    shot(page, "09-throttled")


def test_xss_site_name_stays_inert(
    browser: Browser, dash: tuple[Server, dict[str, Any]], tabs: list[Tab]
) -> None:
    """A site named <img src=x onerror=alert(1)> shows as text on every page; no dialog."""
    server, _ = dash
    page = open_tab(tabs, browser, server)
    log_in(page, *OWNER)
    page.get_by_role("link", name="New site").click()
    site_form(page, XSS, "xss.example")
    page.get_by_role("button", name="Create site").click()
    sitekey = page.locator("#sitekey-value").inner_text()
    for path in ("/admin/sites", f"/admin/sites/{sitekey}", f"/admin/sites/{sitekey}/analytics",
                 f"/admin/sites/{sitekey}/delete", "/admin/audit"):  # fmt: skip
        page.goto(path)
        expect(page.locator("img")).to_have_count(0)
        if "audit" not in path:
            expect(page.get_by_text(XSS).first).to_be_visible()
    shot(page, "10-xss-inert")
    assert tabs[0].dialogs == []


def test_axe_finds_no_violations_on_the_main_pages(
    browser: Browser, dash: tuple[Server, dict[str, Any]], tabs: list[Tab]
) -> None:
    """Login, sites, site, analytics (site and org), members, tokens and audit are axe-clean."""
    server, traffic = dash
    page = open_tab(tabs, browser, server)
    page.goto("/admin/login")
    assert_axe_clean(page)
    log_in(page, *OWNER)
    sitekey = traffic["sitekey"]
    for path in ("/admin/sites", f"/admin/sites/{sitekey}", f"/admin/sites/{sitekey}/analytics",
                 "/admin/analytics?span=hour", "/admin/members", "/admin/tokens", "/admin/audit",
                 "/admin/account", "/admin/sites/new"):  # fmt: skip
        page.goto(path)
        page.locator("details").evaluate_all("(all) => all.forEach((d) => { d.open = true; })")
        assert_axe_clean(page)
    shot(page, "11-site")
