"""hCaptcha's script API end to end: /1/api.js on host pages.

Each host page has the shape of a snippet in hCaptcha's docs (the developer guide,
configuration, invisible), with only the script URL and the sitekey changed. Forms post
to SUBMITTED, which the browser answers itself, so a test sees what a backend would
receive; every token then verifies through /siteverify. One host server serves every
page of the module.
"""

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.server import VERIFY_PATHS, Server
from tests.widget_support import (
    FRAME,
    SUBMITTED,
    frames,
    host_vendor_pages,
    new_site,
    submitted_form,
    visitor,
    wait_for_field,
)

pytestmark = pytest.mark.server

FIELD = "h-captcha-response"
COMPAT_FIELD = "g-recaptcha-response"

# docs.hcaptcha.com, "Add the hCaptcha Widget to your Webpage".
IMPLICIT = f"""<form action="{SUBMITTED}" method="POST">
  <input type="text" name="email" placeholder="Email" />
  <input type="password" name="password" placeholder="Password" />
  <div class="h-captcha" data-sitekey="$sitekey"></div>
  <br />
  <input type="submit" value="Submit" />
</form>"""

# docs.hcaptcha.com/configuration, "Explicitly Render hCaptcha": ?onload=fn&render=explicit.
EXPLICIT_HEAD = """<script type="text/javascript">
  function onVerify(token) { window.callbackToken = token; }
  var onloadCallback = function() {
    window.widgetId = hcaptcha.render('captcha-1', { sitekey: '$sitekey', callback: onVerify });
  };
</script>
<script src="$api?onload=onloadCallback&render=explicit" async defer></script>"""
EXPLICIT = f"""<form action="{SUBMITTED}" method="POST">
  <div id="captcha-1"></div>
  <input type="submit" value="Submit" />
</form>"""

# docs.hcaptcha.com/invisible with the configuration page's execute(id, {{async: true}}).
INVISIBLE_HEAD = """<script type="text/javascript">
  var onloadCallback = function() {
    window.widgetId = hcaptcha.render('captcha', { sitekey: '$sitekey', size: 'invisible' });
  };
  async function onSend(event) {
    event.preventDefault();
    const { response, key } = await hcaptcha.execute(window.widgetId, { async: true });
    window.result = { response, key };
  }
</script>
<script src="$api?onload=onloadCallback&render=explicit" async defer></script>"""
INVISIBLE = """<form>
  <div id="captcha"></div>
  <button type="submit" onclick="onSend(event)">Send</button>
</form>"""

# docs.hcaptcha.com/invisible, "Automatically bind the challenge to a button".
BUTTON_HEAD = """<script src="$api" async defer></script>
<script>
  function onSubmit(token) { document.getElementById('hcaptcha-demo-form').submit(); }
</script>"""
BUTTON = f"""<form id="hcaptcha-demo-form" action="{SUBMITTED}" method="POST">
  <button class="h-captcha" data-sitekey="$sitekey" data-callback="onSubmit">Submit</button>
</form>"""

SCRIPT = '<script src="$api" async defer></script>'
PAGES = {
    "/implicit": (SCRIPT, IMPLICIT),
    "/no-compat": (SCRIPT.replace("$api", "$api?recaptchacompat=off"), IMPLICIT),
    "/explicit": (EXPLICIT_HEAD, EXPLICIT),
    "/invisible": (INVISIBLE_HEAD, INVISIBLE),
    "/button": (BUTTON_HEAD, BUTTON),
}


@pytest.fixture(scope="module")
def site(widget_server: Server) -> dict[str, Any]:
    return new_site(widget_server)


@pytest.fixture(scope="module")
def origin(widget_server: Server, site: dict[str, Any]) -> Iterator[str]:
    """The host server of every page in PAGES, with this module's sitekey filled in."""
    values = {"api": f"{widget_server.base_url}/1/api.js", "sitekey": site["sitekey"]}
    with host_vendor_pages(PAGES, values) as url:
        yield url


@pytest.fixture
def visit(browser: Browser, origin: str) -> Iterator[Callable[[str], Page]]:
    """Opens a page of PAGES in a fresh browser context, closed after the test."""
    with visitor(browser, origin) as visit_path:
        yield visit_path


def siteverify(server: Server, secret: str, token: str, sitekey: str) -> dict[str, Any]:
    """hCaptcha's /siteverify answer, with the `sitekey` the backend expects."""
    got = httpx.post(
        server.base_url + VERIFY_PATHS["hcaptcha"],
        data={"secret": secret, "response": token, "sitekey": sitekey},
        timeout=10.0,
    )
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def assert_verifies(server: Server, site: dict[str, Any], token: str) -> None:
    body = siteverify(server, site["secret"], token, site["sitekey"])
    assert body["success"] is True, body
    assert (body["hostname"], body["sitekey"]) == ("127.0.0.1", site["sitekey"])


def solve_checkbox(page: Page, index: int = 0) -> str:
    """Click the index-th widget's checkbox; the token, once it is in h-captcha-response."""
    checkbox = frames(page).nth(index).get_by_role("checkbox")
    checkbox.click()
    token = wait_for_field(page, FIELD, index)
    expect(checkbox).to_have_attribute("aria-checked", "true")
    return token


@pytest.mark.parametrize("path", ["/implicit", "/no-compat"])
def test_implicit_render_posts_the_token(
    widget_server: Server, site: dict[str, Any], visit: Callable[[str], Page], path: str
) -> None:
    """.h-captcha renders; the form posts the token as h-captcha-response and, unless
    ?recaptchacompat=off, as g-recaptcha-response with window.grecaptcha set too."""
    page = visit(path)
    compat = path == "/implicit"
    page.get_by_placeholder("Email").fill("ada@example.com")
    token = solve_checkbox(page)
    assert page.evaluate("hcaptcha.getResponse()") == token
    assert page.evaluate("window.grecaptcha === window.hcaptcha") is compat
    if not compat:
        assert page.evaluate("typeof window.grecaptcha") == "undefined"
    form = submitted_form(page, page.get_by_role("button", name="Submit").click)
    assert form["email"] == ["ada@example.com"]
    assert form[FIELD] == [token]
    assert form.get(COMPAT_FIELD) == ([token] if compat else None)
    assert_verifies(widget_server, site, token)


def test_explicit_render_with_onload(
    widget_server: Server, site: dict[str, Any], visit: Callable[[str], Page]
) -> None:
    """?onload=fn&render=explicit: render() returns the widget id the iframe carries; the
    callback and getResponse(id) give the token the form posts."""
    page = visit("/explicit")
    page.wait_for_function("window.widgetId !== undefined")
    widget_id = page.evaluate("window.widgetId")
    assert isinstance(widget_id, str) and widget_id
    expect(page.locator(FRAME)).to_have_attribute("data-hcaptcha-widget-id", widget_id)
    token = solve_checkbox(page)
    got = page.evaluate("[window.callbackToken, hcaptcha.getResponse(window.widgetId)]")
    assert got == [token, token]
    form = submitted_form(page, page.get_by_role("button", name="Submit").click)
    assert (form[FIELD], form[COMPAT_FIELD]) == ([token], [token])
    assert_verifies(widget_server, site, token)


def test_invisible_execute_async_resolves_response(
    widget_server: Server, site: dict[str, Any], visit: Callable[[str], Page]
) -> None:
    """size=invisible: execute(id, {async: true}) resolves to {response, key}, the response
    being the token in h-captcha-response; reset before the answer rejects the promise with
    hCaptcha's code "challenge-closed"."""
    page = visit("/invisible")
    page.wait_for_function("window.widgetId !== undefined")
    box = page.locator(FRAME).bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1
    page.get_by_role("button", name="Send").click()
    page.wait_for_function("window.result !== undefined")
    result = page.evaluate("window.result")
    assert isinstance(result["key"], str)
    assert result["response"] == page.evaluate(f"document.getElementsByName('{FIELD}')[0].value")
    assert_verifies(widget_server, site, result["response"])
    closed = """async () => {
      const pending = hcaptcha.execute(window.widgetId, {async: true});
      hcaptcha.reset(window.widgetId);
      try { await pending; } catch (err) { return err; }
    }"""
    assert page.evaluate(closed) == "challenge-closed"


def test_button_binding_submits_the_form_with_the_token(
    widget_server: Server, site: dict[str, Any], visit: Callable[[str], Page]
) -> None:
    """<button class="h-captcha" data-callback="onSubmit">: the click gets a token and
    onSubmit's form.submit() posts it in both fields."""
    page = visit("/button")
    page.locator(FRAME).wait_for(state="attached")  # bound: a click no longer submits at once
    form = submitted_form(page, page.get_by_role("button", name="Submit").click)
    (token,) = form[FIELD]
    assert form[COMPAT_FIELD] == [token]
    assert_verifies(widget_server, site, token)


def test_remove_then_render_again_on_the_same_container(
    widget_server: Server, site: dict[str, Any], visit: Callable[[str], Page]
) -> None:
    """remove(id) takes away the iframe and both fields; render() on the same container
    then makes a new widget that works."""
    page = visit("/explicit")
    page.wait_for_function("window.widgetId !== undefined")
    first = solve_checkbox(page)
    page.evaluate("hcaptcha.remove(window.widgetId)")
    expect(page.locator(FRAME)).to_have_count(0)
    expect(page.locator(f"[name={FIELD}], [name={COMPAT_FIELD}]")).to_have_count(0)
    assert page.evaluate("document.getElementById('captcha-1').children.length") == 0

    new_id = page.evaluate("key => hcaptcha.render('captcha-1', {sitekey: key})", site["sitekey"])
    assert new_id != page.evaluate("window.widgetId")
    expect(page.locator(FRAME)).to_have_count(1)
    second = solve_checkbox(page)
    assert second != first
    assert page.evaluate("id => hcaptcha.getResponse(id)", new_id) == second
    assert_verifies(widget_server, site, second)


def test_siteverify_rejects_the_sitekey_of_another_site(
    widget_server: Server, site: dict[str, Any], visit: Callable[[str], Page]
) -> None:
    """/siteverify with the `sitekey` of another site answers sitekey-secret-mismatch and
    leaves the token unspent; with the token's own sitekey it then succeeds."""
    other = new_site(widget_server)
    page = visit("/implicit")
    token = solve_checkbox(page)
    body = siteverify(widget_server, site["secret"], token, other["sitekey"])
    assert body == {"success": False, "error-codes": ["sitekey-secret-mismatch"]}
    assert_verifies(widget_server, site, token)
