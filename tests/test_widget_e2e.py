"""The AuthKong flavor's widget end to end: /api.js on a host page of another origin.

Chromium clicks (or tabs to and presses) the checkbox inside AuthKong's iframe; the
frame solves, redeems and posts the token to the page, which lands in the hidden
`captcha-response` field; the token then verifies through siteverify with the secret.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.server import Server
from tests.widget_support import (
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
