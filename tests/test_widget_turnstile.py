"""Cloudflare Turnstile's script API end to end: /turnstile/v0/api.js on host pages.

Each page is the shape Cloudflare's client-side rendering guide shows, with only the
script URL and the sitekey changed; every token verifies through /turnstile/v0/siteverify.
One host server per module serves every page (a page per path).
"""

from collections.abc import Iterator
from string import Template
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.server import Server
from tests.widget_support import (
    FRAME,
    SUBMITTED,
    field_value,
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

FIELD = "cf-turnstile-response"

IMPLICIT = """<script>function onToken(token) { window.callbackToken = token; }</script>
<form action="$submitted" method="POST">
<input type="text" name="username" placeholder="username">
<div class="cf-turnstile" data-sitekey="$sitekey" data-callback="onToken"></div>
<button type="submit">Log in</button>
</form>"""

# ?render=explicit&onload=renderWidget; the .cf-turnstile element must stay empty.
EXPLICIT = """<form action="/login" method="POST">
<div id="example-container"></div>
<div class="cf-turnstile" data-sitekey="$sitekey"></div>
<button type="submit">Log in</button>
</form>
<script>
function renderWidget() {
  window.widgetId = turnstile.render("#example-container", {
    sitekey: "$sitekey",
    action: "login",
    cData: "session-42",
    callback: function (token) { window.callbackToken = token; },
  });
}
</script>"""

# The first widget waits for turnstile.execute(); the second is a witness that runs at once.
EXECUTE = """<form action="/signup" method="POST">
<div id="later" class="cf-turnstile" data-sitekey="$sitekey" data-execution="execute"></div>
</form>
<form action="/login" method="POST">
<div class="cf-turnstile" data-sitekey="$sitekey"></div>
</form>"""

INTERACTION_ONLY = """<form action="/login" method="POST">
<div class="cf-turnstile" data-sitekey="$sitekey" data-appearance="interaction-only"></div>
<button type="submit">Log in</button>
</form>"""

FIELDS = """<script>function onToken(token) { window.callbackToken = token; }</script>
<form id="renamed" action="$submitted" method="POST">
<div class="cf-turnstile" data-sitekey="$sitekey" data-response-field-name="turnstile-token"></div>
<button type="submit">Log in</button>
</form>
<form id="fieldless" action="/login" method="POST">
<div class="cf-turnstile" data-sitekey="$sitekey" data-response-field="false"
     data-callback="onToken"></div>
</form>"""

TWO_WIDGETS = """<form action="/newsletter" method="POST">
<div class="cf-turnstile" data-sitekey="$sitekey" data-size="compact"
     data-action="newsletter"></div>
</form>
<form action="/contact" method="POST">
<div class="cf-turnstile" data-sitekey="$sitekey" data-action="contact" data-theme="dark"></div>
</form>"""

# For short_site: each widget's token expires 5 s after it arrives.
EXPIRY = """<script>
window.expired = {auto: 0, manual: 0};
function onAutoExpired() { window.expired.auto += 1; }
function onManualExpired() { window.expired.manual += 1; }
</script>
<form action="/login" method="POST">
<div id="auto" class="cf-turnstile" data-sitekey="$short"
     data-expired-callback="onAutoExpired"></div>
</form>
<form action="/login" method="POST">
<div id="manual" class="cf-turnstile" data-sitekey="$short" data-refresh-expired="manual"
     data-expired-callback="onManualExpired"></div>
</form>"""

# ?compat=recaptcha&onload=onloadCallback: reCAPTCHA markup, and grecaptcha.render.
COMPAT = """<script>
function onloadCallback() {
  window.second = grecaptcha.render("html_element", {
    sitekey: "$sitekey",
    callback: function (token) { window.callbackToken = token; },
  });
}
</script>
<form action="$submitted" method="POST">
<div class="g-recaptcha" data-sitekey="$sitekey"></div>
<button type="submit">Send</button>
</form>
<form action="/" method="POST">
<div id="html_element"></div>
</form>"""


@pytest.fixture(scope="module")
def site(widget_server: Server) -> dict[str, Any]:
    return new_site(widget_server)


@pytest.fixture(scope="module")
def short_site(widget_server: Server) -> dict[str, Any]:
    """A site whose tokens live 10 s; the frame expires them 5 s early."""
    return new_site(widget_server, "--token-lifetime", "10")


@pytest.fixture(scope="module")
def origin(
    widget_server: Server, site: dict[str, Any], short_site: dict[str, Any]
) -> Iterator[str]:
    """The module's host server: one path per page."""
    script = f"{widget_server.base_url}/turnstile/v0/api.js"
    pages = {
        "/implicit": (IMPLICIT, ""),
        "/explicit": (EXPLICIT, "?render=explicit&onload=renderWidget"),
        "/execute": (EXECUTE, ""),
        "/interaction-only": (INTERACTION_ONLY, ""),
        "/fields": (FIELDS, ""),
        "/two": (TWO_WIDGETS, ""),
        "/expiry": (EXPIRY, ""),
        "/compat": (COMPAT, "?compat=recaptcha&onload=onloadCallback"),
    }
    keys = {"sitekey": site["sitekey"], "short": short_site["sitekey"], "submitted": SUBMITTED}
    html = {
        path: page_with(script + query, Template(body).substitute(keys))
        for path, (body, query) in pages.items()
    }
    with host(html) as url:
        yield url


def turnstile_verified(server: Server, site: dict[str, Any], token: str) -> dict[str, Any]:
    return verified(server, "turnstile", site["secret"], token)


def test_implicit_render_solves_without_a_click(
    browser: Browser, widget_server: Server, site: dict[str, Any], origin: str
) -> None:
    """A .cf-turnstile div in a form: a token in cf-turnstile-response with no interaction."""
    with open_page(browser, f"{origin}/implicit") as page:
        token = wait_for_field(page, FIELD)
        assert page.evaluate("window.callbackToken") == token
        assert page.evaluate("turnstile.getResponse()") == token
        field_id = page.get_attribute(f'input[name="{FIELD}"]', "id") or ""
        assert field_id.startswith("cf-chl-widget-") and field_id.endswith("_response")
        expect(frames(page).get_by_role("status")).to_have_text("Verified")
        fields = submitted_form(page, lambda: page.click("button"))
        assert fields[FIELD] == [token]
        body = turnstile_verified(widget_server, site, token)
        assert (body["hostname"], body["action"], body["cdata"]) == ("127.0.0.1", "", "")


def test_explicit_render_returns_id_and_sends_action_and_cdata(
    browser: Browser, widget_server: Server, site: dict[str, Any], origin: str
) -> None:
    """render('#container', {action, cData}) from onload; siteverify answers both back."""
    with open_page(browser, f"{origin}/explicit") as page:
        token = wait_for_field(page, FIELD)
        expect(page.locator(FRAME)).to_have_count(1)  # render=explicit: .cf-turnstile stays empty
        expect(page.locator(f"#example-container {FRAME}")).to_have_count(1)
        assert page.evaluate("window.callbackToken") == token
        assert page.evaluate("turnstile.getResponse(window.widgetId)") == token
        assert page.evaluate("turnstile.isExpired(window.widgetId)") is False
        body = turnstile_verified(widget_server, site, token)
        assert (body["action"], body["cdata"]) == ("login", "session-42")


def test_reset_makes_a_new_token(
    browser: Browser, widget_server: Server, site: dict[str, Any], origin: str
) -> None:
    """turnstile.reset(id) empties the field, then the widget solves again: a new token."""
    with open_page(browser, f"{origin}/explicit") as page:
        first = wait_for_field(page, FIELD)
        cleared = page.evaluate(
            "() => { turnstile.reset(window.widgetId); return [turnstile.getResponse("
            f"window.widgetId), document.getElementsByName('{FIELD}')[0].value]; }}"
        )
        assert cleared == ["", ""]
        second = wait_for_field(page, FIELD)
        assert second != first
        assert page.evaluate("window.callbackToken") == second
        turnstile_verified(widget_server, site, second)


def test_remove_then_render_again_on_the_same_container(
    browser: Browser, widget_server: Server, site: dict[str, Any], origin: str
) -> None:
    """turnstile.remove(id) takes the frame and the field away; render() works again after."""
    with open_page(browser, f"{origin}/explicit") as page:
        first = wait_for_field(page, FIELD)
        page.evaluate("turnstile.remove(window.widgetId)")
        expect(page.locator(FRAME)).to_have_count(0)
        assert page.locator(f'[name="{FIELD}"]').count() == 0
        assert page.evaluate("turnstile.getResponse(window.widgetId)") is None

        page.evaluate("renderWidget()")
        second = wait_for_field(page, FIELD)
        assert second != first
        assert page.evaluate("turnstile.getResponse(window.widgetId)") == second
        turnstile_verified(widget_server, site, second)


def test_execution_execute_waits_for_execute(
    browser: Browser, widget_server: Server, site: dict[str, Any], origin: str
) -> None:
    """data-execution="execute" does nothing until turnstile.execute(container) is called."""
    with open_page(browser, f"{origin}/execute") as page:
        wait_for_field(page, FIELD, 1)  # the witness, loaded alongside, is done
        assert field_value(page, FIELD) == ""
        waiting = frames(page).nth(0)
        expect(waiting.locator("#box")).to_have_attribute("data-state", "ready")

        page.evaluate("turnstile.execute('#later')")
        token = wait_for_field(page, FIELD)
        turnstile_verified(widget_server, site, token)


def test_interaction_only_never_shows_the_frame(
    browser: Browser, widget_server: Server, site: dict[str, Any], origin: str
) -> None:
    """appearance "interaction-only": AuthKong never needs the visitor, so nothing shows."""
    with open_page(browser, f"{origin}/interaction-only") as page:
        token = wait_for_field(page, FIELD)
        frame = page.locator(FRAME)
        assert frame.evaluate("f => f.inert") is True
        assert frame.evaluate("f => getComputedStyle(f).opacity") == "0"
        box = frame.bounding_box()
        assert box is not None and box["width"] <= 1 and box["height"] <= 1
        turnstile_verified(widget_server, site, token)


def test_response_field_name_and_response_field_false(
    browser: Browser, widget_server: Server, site: dict[str, Any], origin: str
) -> None:
    """response-field-name renames the field; response-field="false" adds none."""
    with open_page(browser, f"{origin}/fields") as page:
        renamed = wait_for_field(page, "turnstile-token")
        page.wait_for_function("!!window.callbackToken")
        assert page.locator(f'[name="{FIELD}"]').count() == 0
        assert page.locator("#fieldless input").count() == 0
        unfielded = page.evaluate("window.callbackToken")
        assert page.evaluate("turnstile.getResponse('#fieldless .cf-turnstile')") == unfielded
        for token in (renamed, unfielded):
            turnstile_verified(widget_server, site, token)
        fields = submitted_form(page, lambda: page.click("#renamed button"))
        assert fields == {"turnstile-token": [renamed]}


def test_two_widgets_on_one_page(
    browser: Browser, widget_server: Server, site: dict[str, Any], origin: str
) -> None:
    """Two forms, two widgets: each form gets its own token, with its own action."""
    with open_page(browser, f"{origin}/two") as page:
        tokens = [wait_for_field(page, FIELD, i) for i in (0, 1)]
        assert tokens[0] != tokens[1]
        actions = [turnstile_verified(widget_server, site, t)["action"] for t in tokens]
        assert actions == ["newsletter", "contact"]


def test_expiry_auto_refreshes_and_manual_waits_for_a_click(
    browser: Browser, widget_server: Server, short_site: dict[str, Any], origin: str
) -> None:
    """expired-callback fires for both; "auto" brings a new token, "manual" only on a click."""
    with open_page(browser, f"{origin}/expiry") as page:
        first_auto, first_manual = (wait_for_field(page, FIELD, i) for i in (0, 1))
        page.wait_for_function("window.expired.auto >= 1 && window.expired.manual === 1")

        # auto: a new token arrives by itself
        fresh = wait_for_field(page, FIELD)
        assert fresh != first_auto
        assert page.evaluate("turnstile.isExpired('#auto')") is False
        turnstile_verified(widget_server, short_site, fresh)

        # manual: it stays expired (the frame starts nothing) until the visitor clicks
        manual = frames(page).nth(1)
        expect(manual.locator("#box")).to_have_attribute("data-state", "expired")
        expect(manual.get_by_role("status")).to_have_text("Verification expired")
        assert field_value(page, FIELD, 1) == ""
        assert page.evaluate("turnstile.isExpired('#manual')") is True
        manual.get_by_role("checkbox").click()
        clicked = wait_for_field(page, FIELD, 1)
        assert clicked != first_manual
        assert page.evaluate("turnstile.isExpired('#manual')") is False
        turnstile_verified(widget_server, short_site, clicked)


def test_recaptcha_compat_renders_recaptcha_markup(
    browser: Browser, widget_server: Server, site: dict[str, Any], origin: str
) -> None:
    """?compat=recaptcha: .g-recaptcha renders, g-recaptcha-response fills, grecaptcha works."""
    with open_page(browser, f"{origin}/compat") as page:
        implicit, explicit = (wait_for_field(page, "g-recaptcha-response", i) for i in (0, 1))
        assert page.locator(f'[name="{FIELD}"]').count() == 0
        assert page.evaluate("grecaptcha.getResponse()") == implicit
        assert page.evaluate("grecaptcha.getResponse(window.second)") == explicit
        assert page.evaluate("window.callbackToken") == explicit
        for token in (implicit, explicit):
            turnstile_verified(widget_server, site, token)
        assert submitted_form(page, lambda: page.click("button")) == {
            "g-recaptcha-response": [implicit]
        }
