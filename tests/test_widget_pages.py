"""Host pages that make life hard for the widget: a strict CSP, and plain http.

A strict page allows AuthKong in script-src and frame-src and nothing else (the frame's
workers and fetches are AuthKong's own), with a nonce only where the page has inline
script. A page on a plain-http hostname other than localhost or 127.0.0.1 is not a secure
context: neither it nor the frame has crypto.subtle, and the widget must not need it.
"""

from collections.abc import Iterator
from string import Template
from typing import Any

import pytest
from playwright.sync_api import Browser, Page

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.server import Server
from tests.widget_support import (
    SUBMITTED,
    frames,
    host,
    new_site,
    open_page,
    page_with,
    submitted_form,
    verified,
    wait_for_field,
)

pytestmark = pytest.mark.server

NONCE = "c3RyaWN0LXBhZ2Utbm9uY2U"

# The integration guide's snippet: markup only, no inline script; the visitor clicks.
AUTHKONG = """<form action="$submitted" method="post">
<input name="email" type="email">
<div class="authkong_captcha" data-sitekey="$sitekey"></div>
<button type="submit">Sign up</button>
</form>"""

# Cloudflare's explicit-render snippet; its inline script carries the page's nonce.
TURNSTILE = """<form action="/login" method="post">
<div id="turnstile-container"></div>
<button type="submit">Log in</button>
</form>
<script nonce="$nonce">
function onloadTurnstileCallback() {
  turnstile.render("#turnstile-container", {sitekey: "$sitekey"});
}
</script>"""


def strict_page(script: str, body: str) -> str:
    """page_with's page without its data: icon, which default-src 'none' would refuse."""
    page, icon = page_with(script, body), '<link rel="icon" href="data:,">'
    assert icon in page
    return page.replace(icon, "")


def click_and_submit(page: Page) -> str:
    """The visitor ticks the checkbox, then sends the form; the token the form carried."""
    frames(page).get_by_role("checkbox").click()
    token = wait_for_field(page, "captcha-response")
    fields = submitted_form(page, lambda: page.click("button"))
    assert fields == {"email": [""], "captcha-response": [token]}
    return token


@pytest.fixture(scope="module")
def site(widget_server: Server) -> dict[str, Any]:
    return new_site(widget_server)


@pytest.fixture(scope="module")
def strict_origin(widget_server: Server, site: dict[str, Any]) -> Iterator[str]:
    """Both strict pages, served with a CSP that allows AuthKong and nothing else."""
    authkong = widget_server.base_url
    csp = (
        f"default-src 'none'; script-src {authkong} 'nonce-{NONCE}'; frame-src {authkong}; "
        "form-action 'self'"
    )
    keys = {"sitekey": site["sitekey"], "nonce": NONCE, "submitted": SUBMITTED}
    pages = {
        "/authkong": strict_page(f"{authkong}/api.js", Template(AUTHKONG).substitute(keys)),
        "/turnstile": strict_page(
            f"{authkong}/turnstile/v0/api.js?render=explicit&onload=onloadTurnstileCallback",
            Template(TURNSTILE).substitute(keys),
        ),
    }
    with host(pages, {"Content-Security-Policy": csp}) as url:
        yield url


def test_strict_csp_page_with_markup_only(
    browser: Browser, widget_server: Server, site: dict[str, Any], strict_origin: str
) -> None:
    """script-src and frame-src for AuthKong are all the page needs; no CSP error anywhere."""
    with open_page(browser, f"{strict_origin}/authkong") as page:
        token = click_and_submit(page)
        verified(widget_server, "authkong", site["secret"], token)


def test_strict_csp_page_with_nonced_inline_script(
    browser: Browser, widget_server: Server, site: dict[str, Any], strict_origin: str
) -> None:
    """An explicit render from a nonced inline script works under the same policy."""
    with open_page(browser, f"{strict_origin}/turnstile") as page:
        token = wait_for_field(page, "cf-turnstile-response")
        verified(widget_server, "turnstile", site["secret"], token)


@pytest.fixture(scope="module")
def named_browser(browser: Browser) -> Iterator[Browser]:
    """A second Chromium, from the session's Playwright, in which *.test is 127.0.0.1."""
    args = [*CHROMIUM_ARGS, "--host-resolver-rules=MAP *.test 127.0.0.1"]
    second = browser.browser_type.launch(executable_path=CHROMIUM, args=args)
    try:
        yield second
    finally:
        second.close()


def test_plain_http_page_that_is_not_a_secure_context(
    named_browser: Browser, widget_server: Server
) -> None:
    """http://shop.test and http://authkong.test: no crypto.subtle; the widget still works."""
    site = new_site(widget_server, domain="shop.test")
    authkong = f"http://authkong.test:{widget_server.port}"
    body = Template(AUTHKONG).substitute(sitekey=site["sitekey"], submitted=SUBMITTED)
    with host({"/": page_with(f"{authkong}/api.js", body)}) as url:
        shop = url.replace("127.0.0.1", "shop.test")
        with open_page(named_browser, shop) as page:
            secure = "() => [location.origin, window.isSecureContext, typeof crypto.subtle]"
            assert page.evaluate(secure) == [shop, False, "undefined"]
            assert frames(page).locator("body").evaluate(secure) == [authkong, False, "undefined"]
            token = click_and_submit(page)
        assert verified(widget_server, "authkong", site["secret"], token)["hostname"] == "shop.test"
