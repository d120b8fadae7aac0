"""The AuthKong flavor's widget end to end: /api.js on a host page of another origin.

Chromium clicks (or tabs to and presses) the checkbox inside AuthKong's iframe; the
frame solves, redeems and posts the token to the page, which lands in the hidden
`captcha-response` field; the token then verifies through siteverify with the secret.
"""

from collections.abc import Iterator
from string import Template
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.server import Server
from tests.widget_support import (
    FRAME,
    field_value,
    frames,
    host,
    new_site,
    open_page,
    page_with,
    verified,
    wait_for_field,
)

pytestmark = pytest.mark.server

FORM = """<script>function onToken(token) {{ window.callbackToken = token; }}</script>
<form action="/" method="post">
<div class="authkong_captcha" data-sitekey="{sitekey}" data-callback="onToken"></div>
<button type="submit">Send</button>
</form>"""


@pytest.fixture(scope="module")
def site(widget_server: Server) -> dict[str, Any]:
    return new_site(widget_server)


@pytest.fixture
def page(browser: Browser, widget_server: Server, site: dict[str, Any]) -> Iterator[Page]:
    body = FORM.format(sitekey=site["sitekey"])
    with host({"/": page_with(f"{widget_server.base_url}/api.js", body)}) as url:
        assert url != widget_server.base_url
        with open_page(browser, url) as opened:
            yield opened


def assert_token_verifies(server: Server, site: dict[str, Any], page: Page) -> None:
    token = wait_for_field(page, "captcha-response")
    assert page.evaluate("window.callbackToken") == token
    expect(frames(page).get_by_role("checkbox")).to_have_attribute("aria-checked", "true")
    expect(frames(page).get_by_role("status")).to_have_text("Verified")
    body = verified(server, "authkong", site["secret"], token)
    assert body["hostname"] == "127.0.0.1"
    assert body["sitekey"] == site["sitekey"]


def test_click_fills_hidden_field_with_a_token_that_verifies(
    widget_server: Server, site: dict[str, Any], page: Page
) -> None:
    checkbox = frames(page).get_by_role("checkbox", name="I am human")
    expect(checkbox).to_have_attribute("aria-checked", "false")
    checkbox.click()
    assert_token_verifies(widget_server, site, page)


def test_keyboard_alone_completes(widget_server: Server, site: dict[str, Any], page: Page) -> None:
    checkbox = frames(page).get_by_role("checkbox", name="I am human")
    expect(checkbox).to_be_visible()
    page.keyboard.press("Tab")  # the first focusable element is the widget's checkbox
    expect(checkbox).to_be_focused()
    page.keyboard.press("Space")
    assert_token_verifies(widget_server, site, page)
    expect(checkbox).to_be_focused()  # focus stays put through working and done


# The page renders its widget itself: by ?onload=renderCaptcha, or from window.onload with
# ?render=explicit. The .authkong_captcha element must stay empty either way.
EXPLICIT = Template("""<form action="/" method="post">
<div class="authkong_captcha" data-sitekey="$sitekey"></div>
<div id="captcha"></div>
<button type="submit">Send</button>
</form>
<script>
function renderCaptcha() {
  window.captcha = AuthKongCaptcha.render(document.getElementById("captcha"), {
    sitekey: "$sitekey",
    theme: "dark",
    callback: function (token) { window.callbackToken = token; },
  });
}
$hook
</script>""")

FAILING = Template("""<script>
window.errorCodes = [];
function onError(code) { window.errorCodes.push(code); }
</script>
<form action="/" method="post">
<div class="authkong_captcha" data-sitekey="$sitekey" data-error-callback="onError"></div>
<button type="submit">Send</button>
</form>""")


@pytest.mark.parametrize(
    ("query", "hook"),
    [("onload=renderCaptcha", ""), ("render=explicit", "window.onload = renderCaptcha;")],
)
def test_explicit_render_returns_a_widget_object(
    browser: Browser, widget_server: Server, site: dict[str, Any], query: str, hook: str
) -> None:
    """Nothing renders by itself; render() returns an object whose getResponse and reset work."""
    body = EXPLICIT.substitute(sitekey=site["sitekey"], hook=hook)
    script = f"{widget_server.base_url}/api.js?{query}"
    with host({"/": page_with(script, body)}) as url, open_page(browser, url) as page:
        page.wait_for_function("!!window.captcha")
        expect(page.locator(FRAME)).to_have_count(1)
        expect(page.locator(f"#captcha {FRAME}")).to_have_count(1)
        expect(frames(page).locator("html")).to_have_class("dark")

        checkbox = frames(page).get_by_role("checkbox")
        checkbox.click()
        first = wait_for_field(page, "captcha-response")
        assert page.evaluate("[window.captcha.getResponse(), window.callbackToken]") == [first] * 2

        page.evaluate("window.captcha.reset()")
        assert page.evaluate("window.captcha.getResponse()") == ""
        assert field_value(page, "captcha-response") == ""
        expect(checkbox).to_have_attribute("aria-checked", "false")
        checkbox.click()
        second = wait_for_field(page, "captcha-response")
        assert second != first
        verified(widget_server, "authkong", site["secret"], second)


@pytest.mark.parametrize(
    ("allowed", "code", "status"),
    [(None, "invalid_sitekey", 400), ("example.com", "hostname_not_allowed", 403)],
    ids=["unknown-sitekey", "hostname-not-allowed"],
)
def test_refused_widget_shows_error_and_calls_error_callback(
    browser: Browser, widget_server: Server, allowed: str | None, code: str, status: int
) -> None:
    """Unknown sitekey, or a site for another domain: error-callback, "Try again", no token."""
    unknown = "ak_" + "x" * 24
    sitekey = unknown if allowed is None else new_site(widget_server, domain=allowed)["sitekey"]
    body = FAILING.substitute(sitekey=sitekey)
    with (
        host({"/": page_with(f"{widget_server.base_url}/api.js", body)}) as url,
        open_page(browser, url, refused=(status,)) as page,
    ):
        frames(page).get_by_role("checkbox").click()
        page.wait_for_function("window.errorCodes.length === 1")
        assert page.evaluate("window.errorCodes") == [code]
        expect(frames(page).get_by_role("status")).to_have_text(
            "This website's CAPTCHA is not set up correctly"
        )
        expect(frames(page).get_by_role("checkbox")).to_have_attribute("aria-checked", "false")
        retry = frames(page).get_by_role("button", name="Try again")
        expect(retry).to_be_visible()
        assert field_value(page, "captcha-response") == ""

        retry.click()  # the retry asks again, and is refused again
        page.wait_for_function("window.errorCodes.length === 2")
        assert field_value(page, "captcha-response") == ""
