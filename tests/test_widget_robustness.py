"""The widget on awkward pages and under awkward call orders (found in review).

Each test is a situation real pages create: a reset while a token is on its way, a
container moved in the DOM, a sandboxed or cross-origin-isolated page, an element whose
id shadows a vendor global, two vendors' loaders on one page.
"""

from typing import Any

import pytest
from playwright.sync_api import Browser, expect

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


@pytest.fixture(scope="module")
def site(widget_server: Server) -> dict[str, Any]:
    return new_site(widget_server)


def explicit(server: Server, body: str, head: str = "") -> str:
    """A page that renders AuthKong widgets itself, from its `go()` (the script's onload)."""
    return page_with(f"{server.base_url}/api.js?onload=go", body, head)


def test_token_sent_before_a_reset_never_lands(
    browser: Browser, widget_server: Server, site: dict[str, Any]
) -> None:
    """reset() while the first token is on its way: the next execute gets a fresh token."""
    # This listener runs before the loader's: reset() and execute() happen while the
    # first token's message is already queued for the loader.
    head = f"""<script>
addEventListener("message", (ev) => {{
  if (ev.data && ev.data.type === "authkong:token" && !window.raced) {{
    window.raced = true;
    H.reset();
    H.execute({{action: "second"}}).then((token) => {{
      window.second = token;
      window.fieldThen = document.getElementsByName("captcha-response")[0].value;
    }});
  }}
}});
function go() {{
  window.H = AuthKongCaptcha.render("c", {{sitekey: "{site["sitekey"]}", size: "invisible"}});
  H.execute({{action: "first"}}).catch(() => {{}});
}}</script>"""
    with (
        host({"/": explicit(widget_server, '<form><div id="c"></div></form>', head)}) as url,
        open_page(browser, url) as page,
    ):
        page.wait_for_function("window.second")
        token = page.evaluate("window.second")
        assert page.evaluate("window.fieldThen") == token
        assert verified(widget_server, "authkong", site["secret"], token)["action"] == "second"


def test_removing_twice_leaves_other_widgets_alone(
    browser: Browser, widget_server: Server, site: dict[str, Any]
) -> None:
    body = f"""<form><div id="a"></div><div id="b"></div></form>
<script>function go() {{
  window.A = AuthKongCaptcha.render("a", {{sitekey: "{site["sitekey"]}"}});
  window.B = AuthKongCaptcha.render("b", {{sitekey: "{site["sitekey"]}"}});
}}</script>"""
    with host({"/": explicit(widget_server, body)}) as url, open_page(browser, url) as page:
        page.wait_for_function("window.B")
        page.evaluate("A.remove(); A.remove();")
        frames(page).nth(0).get_by_role("checkbox").click()  # B's frame: A's is gone
        token = wait_for_field(page, "captcha-response")
        assert page.evaluate("B.getResponse()") == token


def test_sandboxed_page_hears_an_error(
    browser: Browser, widget_server: Server, site: dict[str, Any]
) -> None:
    """An opaque-origin page cannot receive a token: it is told at once, not left waiting."""
    head = "<script>window.got = []; function onErr(code) { got.push(code); }</script>"
    body = (
        f'<form><div class="authkong_captcha" data-sitekey="{site["sitekey"]}" '
        'data-error-callback="onErr"></div></form>'
    )
    headers = {"Content-Security-Policy": "sandbox allow-scripts allow-forms"}
    page_html = page_with(f"{widget_server.base_url}/api.js", body, head)
    with host({"/": page_html}, headers) as url, open_page(browser, url) as page:
        page.wait_for_function("window.got.length > 0")
        assert page.evaluate("window.got") == ["opaque_origin"]


def test_cross_origin_isolated_page_gets_a_token(
    browser: Browser, widget_server: Server, site: dict[str, Any]
) -> None:
    """A host page with COEP require-corp can embed the frame, its scripts and workers."""
    headers = {
        "Cross-Origin-Embedder-Policy": "require-corp",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    body = f'<form><div class="authkong_captcha" data-sitekey="{site["sitekey"]}"></div></form>'
    page_html = page_with(f"{widget_server.base_url}/api.js", body)
    with host({"/": page_html}, headers) as url, open_page(browser, url) as page:
        assert page.evaluate("crossOriginIsolated") is True
        frames(page).get_by_role("checkbox").click()
        verified(
            widget_server, "authkong", site["secret"], wait_for_field(page, "captcha-response")
        )


def test_a_moved_container_starts_over(browser: Browser, widget_server: Server) -> None:
    """Moving the form reloads the iframe: the old token is dropped and a new one follows."""
    site = new_site(widget_server)
    head = "<script>window.tokens = []; function onToken(t) { tokens.push(t); }</script>"
    body = (
        f'<div id="wrap"><form><div class="cf-turnstile" data-sitekey="{site["sitekey"]}" '
        'data-callback="onToken"></div></form></div>'
    )
    page_html = page_with(f"{widget_server.base_url}/turnstile/v0/api.js", body, head)
    with host({"/": page_html}) as url, open_page(browser, url) as page:
        first = wait_for_field(page, "cf-turnstile-response")
        page.evaluate("document.body.prepend(document.querySelector('form'))")
        page.wait_for_function("window.tokens.length === 2")
        second = field_value(page, "cf-turnstile-response")
        assert second == page.evaluate("window.tokens[1]") != first
        verified(widget_server, "turnstile", site["secret"], second)


@pytest.mark.parametrize(
    ("script", "css_class"),
    [("/turnstile/v0/api.js", "cf-turnstile"), ("/1/api.js", "h-captcha")],
)
def test_an_element_id_like_the_global_does_not_stop_the_loader(
    browser: Browser, widget_server: Server, site: dict[str, Any], script: str, css_class: str
) -> None:
    """<div id="turnstile"> is also window.turnstile; the loader must still run."""
    name = script.split("/")[1] if css_class == "cf-turnstile" else "hcaptcha"
    body = (
        f'<form><div id="{name}" class="{css_class}" data-sitekey="{site["sitekey"]}"></div></form>'
    )
    with (
        host({"/": page_with(widget_server.base_url + script, body)}) as url,
        open_page(browser, url) as page,
    ):
        expect(page.locator(FRAME)).to_have_count(1)
        assert page.evaluate(f"typeof window.{name}.render") == "function"


def test_hcaptcha_and_recaptcha_loaders_on_one_page(
    browser: Browser, widget_server: Server, site: dict[str, Any]
) -> None:
    """hCaptcha's grecaptcha alias does not stop reCAPTCHA's own loader from rendering."""
    key, base = site["sitekey"], widget_server.base_url
    head = f'<script src="{base}/1/api.js"></script><script src="{base}/recaptcha/api.js"></script>'
    body = (
        f'<form><div class="h-captcha" data-sitekey="{key}"></div>'
        f'<div class="g-recaptcha" data-sitekey="{key}"></div></form>'
    )
    page_html = page_with(f"{base}/api.js?render=explicit", body, head)
    with host({"/": page_html}) as url, open_page(browser, url) as page:
        expect(page.locator(".h-captcha iframe")).to_have_count(1)
        expect(page.locator(".g-recaptcha iframe")).to_have_count(1)


def test_removed_button_binding_lets_the_button_submit(
    browser: Browser, widget_server: Server, site: dict[str, Any]
) -> None:
    body = (
        f'<form action="/"><button class="h-captcha" data-sitekey="{site["sitekey"]}">Send'
        "</button></form>"
        "<script>addEventListener('click', (e) => { window.prevented = e.defaultPrevented; });"
        "</script>"
    )
    with (
        host({"/": page_with(f"{widget_server.base_url}/1/api.js", body)}) as url,
        open_page(browser, url) as page,
    ):
        expect(page.locator(FRAME)).to_have_count(1)
        page.evaluate("hcaptcha.remove(document.querySelector('iframe').dataset.hcaptchaWidgetId)")
        expect(page.locator(FRAME)).to_have_count(0)
        assert page.locator("form div").count() == 0  # the holder went with the widget
        page.evaluate(
            "document.querySelector('form').addEventListener('submit', (e) => e.preventDefault())"
        )
        page.get_by_role("button", name="Send").click()
        assert page.evaluate("window.prevented") is False


def test_each_v3_execute_carries_only_its_own_action(
    browser: Browser, widget_server: Server, site: dict[str, Any]
) -> None:
    key = site["sitekey"]
    head = f"""<script>function go() {{
  grecaptcha.execute("{key}", {{action: "login"}})
    .then(() => grecaptcha.execute("{key}", {{}}))
    .then((token) => {{ window.plain = token; }});
}}</script>"""
    page_html = page_with(f"{widget_server.base_url}/recaptcha/api.js?onload=go", "", head)
    with host({"/": page_html}) as url, open_page(browser, url) as page:
        page.wait_for_function("window.plain")
        answer = verified(widget_server, "recaptcha", site["secret"], page.evaluate("window.plain"))
        assert answer["action"] == ""


def test_an_id_that_is_no_selector_gets_the_vendor_error(
    browser: Browser, widget_server: Server
) -> None:
    with (
        host(
            {"/": page_with(f"{widget_server.base_url}/recaptcha/api.js?render=explicit", "")}
        ) as url,
        open_page(browser, url) as page,
    ):
        page.wait_for_function("typeof window.grecaptcha?.render === 'function'")
        message = page.evaluate(
            "() => { try { grecaptcha.render('1abc', {sitekey: 'k'}); }"
            " catch (e) { return e.message; } }"
        )
        assert message.startswith("reCAPTCHA placeholder element")
