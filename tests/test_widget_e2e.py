"""The widget end to end: a host page on another origin loads /api.js from a real server.

Chromium clicks (or tabs to and presses) the checkbox inside AuthKong's iframe; the
frame solves, redeems and posts the token to the page, which lands in the hidden
`captcha-response` field; the token then verifies through siteverify with the secret.
"""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, FrameLocator, Page, expect

from tests.browser import HTML, chromium, static_server
from tests.server import Server, run_cli_json, running_server, verify

TIMEOUT_MS = 30_000  # every wait ends; a widget that takes this long has failed

HOST_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title>
<link rel="icon" href="data:,">
<script>function onToken(token) {{ window.callbackToken = token; }}</script>
<script src="{authkong}/api.js" async defer></script></head>
<body><form action="/" method="post">
<div class="authkong_captcha" data-sitekey="{sitekey}" data-callback="onToken"></div>
<button type="submit">Send</button>
</form></body></html>
"""

FILLED = "document.querySelector('input[name=\"captcha-response\"]')?.value"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve")
    with running_server(root / "data", root / "logs") as running:
        yield running


@pytest.fixture(scope="module")
def site(server: Server) -> dict[str, Any]:
    return run_cli_json(
        "site", "create", "--name", "Widget", "--domain", "127.0.0.1",
        "--k", "4", "--solution-difficulty", "4096", data_dir=server.data_dir,
    )  # fmt: skip


@pytest.fixture(scope="module")
def host_origin(server: Server, site: dict[str, Any]) -> Iterator[str]:
    """The host page on a static server of its own: another origin than AuthKong's."""
    page = HOST_PAGE.format(authkong=server.base_url, sitekey=site["sitekey"]).encode()
    with static_server({"/": (HTML, page)}) as url:
        assert url != server.base_url
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture
def page(browser: Browser, host_origin: str) -> Iterator[Page]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    errors: list[str] = []  # the iframe's messages too: a CSP violation shows up here

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(f"{msg.text} {msg.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{host_origin}/")
    try:
        yield page
        assert errors == []
    finally:
        context.close()


def widget(page: Page) -> FrameLocator:
    return page.frame_locator('iframe[title="AuthKong CAPTCHA"]')


def assert_token_verifies(server: Server, site: dict[str, Any], page: Page) -> None:
    page.wait_for_function(f"!!{FILLED}")
    token = page.evaluate(FILLED)
    assert page.evaluate("window.callbackToken") == token
    assert page.evaluate("AuthKongCaptcha") is not None
    expect(widget(page).get_by_role("checkbox")).to_have_attribute("aria-checked", "true")
    expect(widget(page).get_by_role("status")).to_have_text("Verified")
    with httpx.Client(timeout=10.0) as client:
        body = verify(client, server.base_url, "authkong", site["secret"], token)
    assert body["success"] is True, body
    assert body["hostname"] == "127.0.0.1"
    assert body["sitekey"] == site["sitekey"]


@pytest.mark.server
def test_click_fills_hidden_field_with_a_token_that_verifies(
    server: Server, site: dict[str, Any], page: Page
) -> None:
    checkbox = widget(page).get_by_role("checkbox", name="I am human")
    expect(checkbox).to_have_attribute("aria-checked", "false")
    checkbox.click()
    assert_token_verifies(server, site, page)


@pytest.mark.server
def test_keyboard_alone_completes(server: Server, site: dict[str, Any], page: Page) -> None:
    checkbox = widget(page).get_by_role("checkbox", name="I am human")
    expect(checkbox).to_be_visible()
    page.keyboard.press("Tab")  # the first focusable element is the widget's checkbox
    expect(checkbox).to_be_focused()
    page.keyboard.press("Space")
    assert_token_verifies(server, site, page)
    expect(checkbox).to_be_focused()  # focus stays put through working and done
