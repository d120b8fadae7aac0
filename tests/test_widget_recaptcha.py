"""reCAPTCHA's script API end to end: /recaptcha/api.js and /recaptcha/enterprise.js.

Each host page has the shape of a snippet in Google's guides (display, invisible, v3,
loading, Enterprise), with only the script URL and the sitekey changed. Forms post to
SUBMITTED, which the browser answers itself, so a test sees exactly what a backend would
receive; every token then verifies through /recaptcha/api/siteverify. One host server
serves every page of the module.
"""

from collections.abc import Callable, Iterator
from string import Template
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from authkong.api.languages import LANGUAGES
from tests.server import Server
from tests.widget_support import (
    FRAME,
    SUBMITTED,
    field_value,
    frames,
    host_vendor_pages,
    new_site,
    submitted_form,
    verified,
    visitor,
    wait_for_field,
)

pytestmark = pytest.mark.server

FIELD = "g-recaptcha-response"
SCRIPT = '<script src="$api" async defer></script>'

# developers.google.com/recaptcha/docs/display, "Automatically render".
IMPLICIT = f"""<form action="{SUBMITTED}" method="POST">
  <div class="g-recaptcha" data-sitekey="$sitekey"></div>
  <br/>
  <input type="submit" value="Submit">
</form>"""

# docs/display, "Explicitly render": ?onload=onloadCallback&render=explicit.
EXPLICIT_HEAD = """<script type="text/javascript">
  var verifyCallback = function(response) { window.callbackToken = response; };
  var onloadCallback = function() {
    window.widgetId = grecaptcha.render('html_element', {
      'sitekey' : '$sitekey',
      'callback' : verifyCallback
    });
  };
</script>"""
EXPLICIT = f"""<form action="{SUBMITTED}" method="POST">
  <div id="html_element"></div>
  <br>
  <input type="submit" value="Submit">
</form>
<script src="$api?onload=onloadCallback&render=explicit" async defer></script>"""

# docs/invisible, "Programmatically invoke the challenge" (its onSubmit shows an alert;
# here it keeps what the alert would show).
INVISIBLE_HEAD = """<script>
  function onSubmit(token) {
    window.thanks = 'thanks ' + document.getElementById('field').value;
    window.callbackToken = token;
  }
  function validate(event) {
    event.preventDefault();
    if (!document.getElementById('field').value) {
      alert("You must add text to the required field");
    } else {
      grecaptcha.execute();
    }
  }
  function onload() {
    var element = document.getElementById('submit');
    element.onclick = validate;
  }
</script>
<script src="$api" async defer></script>"""
INVISIBLE = """<form>
  Name: (required) <input id="field" name="field">
  <div id='recaptcha' class="g-recaptcha"
        data-sitekey="$sitekey"
        data-callback="onSubmit"
        data-size="invisible"></div>
  <button id='submit'>submit</button>
</form>
<script>onload();</script>"""

# docs/invisible and docs/v3, "Automatically bind the challenge to a button"; v3 adds
# data-action.
BUTTON_HEAD = """<script src="$api" async defer></script>
<script>
  function onSubmit(token) { document.getElementById("demo-form").submit(); }
</script>"""
BUTTON = f"""<form id="demo-form" action="{SUBMITTED}" method="POST">
  <button class="g-recaptcha" data-sitekey="$sitekey"
          data-callback='onSubmit'$action>Submit</button>
  <br/>
</form>"""

# docs/v3, "Programmatically invoke the challenge", and Enterprise's score-key snippet
# (grecaptcha.enterprise.ready/execute on enterprise.js); the page's own code puts the
# token in its form and submits it.
SCORE_HEAD = '<script src="$script?render=$sitekey"></script>'
SCORE = f"""<form id="demo-form" action="{SUBMITTED}" method="POST">
  <input type="hidden" name="g-recaptcha-response" id="g-recaptcha-response">
  <button id="send" onclick="onClick(event)">Submit</button>
</form>
<script>
  function onClick(e) {{
    e.preventDefault();
    $namespace.ready(async () => {{
      const token = await $namespace.execute('$sitekey', {{action: '$action'}});
      document.getElementById("g-recaptcha-response").value = token;
      document.getElementById("demo-form").submit();
    }});
  }}
</script>"""

# docs/loading: an async script, and a stub that queues ready() callbacks until it runs.
LOADING_HEAD = """<script async src="$api"></script>
<script>
  if(typeof grecaptcha === 'undefined') {
    grecaptcha = {
      ready: function(cb) {
        const c = '___grecaptcha_cfg';
        window[c] = window[c] || {};
        (window[c]['fns'] = window[c]['fns']||[]).push(cb);
      }
    };
  }
  grecaptcha.ready(function(){
    grecaptcha.render("container", {
      sitekey: "$sitekey"
    });
  });
</script>"""
LOADING = '<form><div id="container"></div></form>'

TWO_FORMS = f"""<form id="login" action="{SUBMITTED}" method="POST">
  <div class="g-recaptcha" data-sitekey="$sitekey"></div>
  <input type="submit" value="Log in">
</form>
<form id="signup" action="{SUBMITTED}" method="POST">
  <div class="g-recaptcha" data-sitekey="$sitekey"></div>
  <input type="submit" value="Sign up">
</form>"""

# docs/display's data-callback and data-expired-callback on a checkbox and an invisible
# widget, for a site whose tokens live 10 s.
EXPIRING = f"""<script>
  var seen = {{tokens: [], expired: [], invisibleTokens: [], invisibleExpired: []}};
  function now(id, field) {{
    return [grecaptcha.getResponse(id), document.getElementById(field).value];
  }}
  function onToken(token) {{ seen.tokens.push(token); }}
  function onExpired() {{ seen.expired.push(now(0, "g-recaptcha-response")); }}
  function onInvisibleToken(token) {{ seen.invisibleTokens.push(token); }}
  function onInvisibleExpired() {{ seen.invisibleExpired.push(now(1, "g-recaptcha-response-1")); }}
</script>
<form action="{SUBMITTED}" method="POST">
  <div class="g-recaptcha" data-sitekey="$short" data-callback="onToken"
       data-expired-callback="onExpired"></div>
  <div class="g-recaptcha" data-sitekey="$short" data-size="invisible"
       data-callback="onInvisibleToken" data-expired-callback="onInvisibleExpired"></div>
  <input type="submit" value="Submit">
</form>"""

V3 = {"script": "$api", "namespace": "grecaptcha", "action": "submit"}
ENTERPRISE = {"script": "$enterprise", "namespace": "grecaptcha.enterprise", "action": "LOGIN"}

PAGES = {
    "/implicit": (SCRIPT, IMPLICIT),
    "/german": (SCRIPT.replace("$api", "$api?hl=de"), IMPLICIT),
    "/explicit": (EXPLICIT_HEAD, EXPLICIT),
    "/invisible": (INVISIBLE_HEAD, INVISIBLE),
    "/button": (BUTTON_HEAD, BUTTON.replace("$action", "")),
    "/button-v3": (BUTTON_HEAD, BUTTON.replace("$action", " data-action='submit'")),
    "/v3": (Template(SCORE_HEAD).safe_substitute(V3), Template(SCORE).safe_substitute(V3)),
    "/enterprise": (
        Template(SCORE_HEAD).safe_substitute(ENTERPRISE),
        Template(SCORE).safe_substitute(ENTERPRISE),
    ),
    "/loading": (LOADING_HEAD, LOADING),
    "/two-forms": (SCRIPT, TWO_FORMS),
    "/expiring": (SCRIPT, EXPIRING),
}


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
    """The host server of every page in PAGES, with this module's sitekeys filled in."""
    values = {
        "api": f"{widget_server.base_url}/recaptcha/api.js",
        "enterprise": f"{widget_server.base_url}/recaptcha/enterprise.js",
        "sitekey": site["sitekey"],
        "short": short_site["sitekey"],
    }
    with host_vendor_pages(PAGES, values) as url:
        yield url


@pytest.fixture
def visit(browser: Browser, origin: str) -> Iterator[Callable[[str], Page]]:
    """Opens a page of PAGES in a fresh browser context, closed after the test."""
    with visitor(browser, origin) as visit_path:
        yield visit_path


def assert_v2(server: Server, site: dict[str, Any], token: str) -> None:
    """The token verifies as a v2 token: hostname, and neither score nor action."""
    body = verified(server, "recaptcha", site["secret"], token)
    assert body["hostname"] == "127.0.0.1"
    assert "score" not in body and "action" not in body, body


def test_implicit_render_posts_a_token_that_verifies(
    widget_server: Server, site: dict[str, Any], visit: Callable[[str], Page]
) -> None:
    """A .g-recaptcha div renders; the checkbox's token is in textarea#g-recaptcha-response
    and in the form's POST, and verifies as v2."""
    page = visit("/implicit")
    checkbox = frames(page).get_by_role("checkbox")
    expect(checkbox).to_have_attribute("aria-checked", "false")
    checkbox.click()
    token = wait_for_field(page, FIELD)
    expect(checkbox).to_have_attribute("aria-checked", "true")
    textarea = page.locator(f"form textarea#{FIELD}.{FIELD}")
    expect(textarea).to_have_attribute("name", FIELD)
    expect(textarea).to_be_hidden()
    assert page.evaluate("grecaptcha.getResponse()") == token
    form = submitted_form(page, page.get_by_role("button", name="Submit").click)
    assert form[FIELD] == [token]
    assert_v2(widget_server, site, token)


def test_explicit_render_returns_widget_id_and_calls_callback(
    widget_server: Server, site: dict[str, Any], visit: Callable[[str], Page]
) -> None:
    """?onload=fn&render=explicit: render() returns widget id 0 (a second render() there
    throws, as Google's does); the callback, getResponse(0) and the posted field carry the
    same token."""
    page = visit("/explicit")
    page.wait_for_function("window.widgetId !== undefined")
    assert page.evaluate("window.widgetId") == 0
    again = "() => { try { grecaptcha.render('html_element', {}) } catch (e) { return e.message } }"
    assert page.evaluate(again) == "reCAPTCHA has already been rendered in this element"
    expect(page.locator(FRAME)).to_have_count(1)
    frames(page).get_by_role("checkbox").click()
    token = wait_for_field(page, FIELD)
    assert page.evaluate("[window.callbackToken, grecaptcha.getResponse(0)]") == [token, token]
    form = submitted_form(page, page.get_by_role("button", name="Submit").click)
    assert form[FIELD] == [token]
    assert_v2(widget_server, site, token)


def test_invisible_widget_runs_on_execute(
    widget_server: Server, site: dict[str, Any], visit: Callable[[str], Page]
) -> None:
    """data-size=invisible: nothing shows; grecaptcha.execute() fills the form's field and
    calls data-callback with the token."""
    page = visit("/invisible")
    frame = page.locator(FRAME)
    frame.wait_for(state="attached")
    box = frame.bounding_box()
    assert box is not None and box["width"] <= 1 and box["height"] <= 1
    page.locator("#field").fill("Ada")
    page.locator("#submit").click()
    token = wait_for_field(page, FIELD)
    page.wait_for_function("window.callbackToken !== undefined")
    assert page.evaluate("[window.callbackToken, window.thanks]") == [token, "thanks Ada"]
    assert page.locator(f"form textarea[name={FIELD}]").count() == 1
    assert_v2(widget_server, site, token)


@pytest.mark.parametrize("path", ["/button", "/button-v3"])
def test_button_binding_submits_the_form_with_a_token(
    widget_server: Server, site: dict[str, Any], visit: Callable[[str], Page], path: str
) -> None:
    """<button class="g-recaptcha" data-callback="onSubmit">: the click gets a token and
    onSubmit's form.submit() posts it; with data-action it is a v3 token."""
    page = visit(path)
    page.locator(FRAME).wait_for(state="attached")  # bound: a click no longer submits at once
    form = submitted_form(page, page.get_by_role("button", name="Submit").click)
    (token,) = form[FIELD]
    if path == "/button":
        assert_v2(widget_server, site, token)
    else:
        body = verified(widget_server, "recaptcha", site["secret"], token)
        assert body["action"] == "submit"
        assert 0 <= body["score"] <= 1


@pytest.mark.parametrize("path", ["/v3", "/enterprise"])
def test_score_execute_resolves_a_v3_token(
    widget_server: Server, site: dict[str, Any], visit: Callable[[str], Page], path: str
) -> None:
    """?render=<sitekey>, ready() and execute(sitekey, {action}) (grecaptcha.enterprise.* on
    enterprise.js): the promised token verifies with a score in 0..1 and the action."""
    page = visit(path)
    # The v3 client loads at once, its field outside the form and numbered as Google's.
    expect(page.locator(f".grecaptcha-badge > textarea#{FIELD}-100000")).to_have_count(1)
    form = submitted_form(page, page.get_by_role("button", name="Submit").click)
    (token,) = form[FIELD]  # the page's own hidden input
    body = verified(widget_server, "recaptcha", site["secret"], token)
    assert body["action"] == ("LOGIN" if path == "/enterprise" else "submit")
    assert type(body["score"]) in (int, float) and 0 <= body["score"] <= 1


def test_ready_callbacks_queued_before_load_run(
    widget_server: Server, site: dict[str, Any], visit: Callable[[str], Page]
) -> None:
    """Google's loading guide: ready() callbacks queued in ___grecaptcha_cfg.fns before the
    async script runs are called once it has loaded."""
    page = visit("/loading")
    frames(page).get_by_role("checkbox").click()
    assert_v2(widget_server, site, wait_for_field(page, FIELD))


def test_two_widgets_have_their_own_ids_fields_and_reset(
    widget_server: Server, site: dict[str, Any], visit: Callable[[str], Page]
) -> None:
    """Two widgets are ids 0 and 1 with fields g-recaptcha-response and
    g-recaptcha-response-1, each in its own form; reset(1) clears only the second."""
    page = visit("/two-forms")
    first, second = frames(page).nth(0), frames(page).nth(1)
    second.get_by_role("checkbox").click()
    token_1 = wait_for_field(page, FIELD, 1)
    assert page.evaluate("[grecaptcha.getResponse(0), grecaptcha.getResponse(1)]") == ["", token_1]
    assert page.evaluate(f"document.getElementById('{FIELD}-1').form.id") == "signup"
    first.get_by_role("checkbox").click()
    token_0 = wait_for_field(page, FIELD, 0)
    assert page.evaluate(f"document.getElementById('{FIELD}').form.id") == "login"
    assert token_0 != token_1

    page.evaluate("grecaptcha.reset(1)")
    expect(second.get_by_role("checkbox")).to_have_attribute("aria-checked", "false")
    assert field_value(page, FIELD, 1) == ""
    assert page.evaluate("grecaptcha.getResponse(1)") == ""
    assert page.evaluate("grecaptcha.getResponse(0)") == token_0
    expect(first.get_by_role("checkbox")).to_have_attribute("aria-checked", "true")

    second.get_by_role("checkbox").click()  # a reset widget works again
    token_again = wait_for_field(page, FIELD, 1)
    for token in (token_0, token_1, token_again):
        assert_v2(widget_server, site, token)


def test_expired_callback_clears_the_field(
    widget_server: Server, short_site: dict[str, Any], visit: Callable[[str], Page]
) -> None:
    """On expiry data-expired-callback runs with the field and getResponse() already empty.
    The checkbox then fetches a fresh token by itself; the invisible widget waits for the
    page's next execute(), since its callback usually submits the form."""
    page = visit("/expiring")
    frames(page).nth(0).get_by_role("checkbox").click()
    page.evaluate("grecaptcha.execute(1)")
    page.wait_for_function("seen.tokens.length === 1 && seen.invisibleTokens.length === 1")
    page.wait_for_function("seen.expired.length === 1 && seen.invisibleExpired.length === 1")
    assert page.evaluate("[seen.expired, seen.invisibleExpired]") == [[["", ""]], [["", ""]]]
    expired = LANGUAGES["en"].texts["expired"]
    expect(frames(page).nth(1).locator("#status")).to_have_text(expired)

    page.wait_for_function("seen.tokens.length === 2")
    fresh = page.evaluate("seen.tokens[1]")
    assert fresh != page.evaluate("seen.tokens[0]") and field_value(page, FIELD) == fresh
    assert page.evaluate("seen.invisibleTokens.length") == 1
    assert field_value(page, FIELD, 1) == ""
    page.evaluate("grecaptcha.execute(1)")
    page.wait_for_function("seen.invisibleTokens.length === 2")
    for token in (fresh, page.evaluate("seen.invisibleTokens[1]")):
        verified(widget_server, "recaptcha", short_site["secret"], token)


def test_hl_shows_the_frame_in_that_language(visit: Callable[[str], Page]) -> None:
    """?hl=de: the frame is German (<html lang="de" dir="ltr">, German label)."""
    page = visit("/german")
    html = frames(page).locator("html")
    expect(html).to_have_attribute("lang", "de")
    expect(html).to_have_attribute("dir", "ltr")
    german = LANGUAGES["de"].texts["label"]
    assert german != LANGUAGES["en"].texts["label"]
    expect(frames(page).get_by_role("checkbox")).to_have_accessible_name(german)
