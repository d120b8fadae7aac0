"""zencaptcha's script API end to end: /captcha/widget.js on host pages.

Each page is the markup zencaptcha's own plugins emit (a .zenc-captcha div with
data-sitekey and data-start in a form) with only the script URL and the sitekey changed;
every solution verifies through POST /captcha/siteverify.
"""

from collections.abc import Iterator
from string import Template
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.server import Server
from tests.widget_support import (
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

FIELD = "zenc-captcha-solution"

# zencaptchaLoaded fires once the widgets exist: the solution is still "none" then.
AUTO = """<script>
window.loadedWith = [];
document.addEventListener("zencaptchaLoaded", function () {
  window.loadedWith.push(zencap.getResponse());
});
function done(solution) { window.callbackSolution = solution; }
</script>
<form action="$submitted" method="post">
<input type="email" name="email">
<div class="zenc-captcha" data-sitekey="$sitekey" data-start="auto" data-callback="done"></div>
<button type="submit">Send</button>
</form>"""

# A widget made by the page's own script, with the vendor's option names.
INSTANCE = """<script>
window.calls = [];
document.addEventListener("zencaptchaLoaded", function () {
  window.widget = new zenCaptchaWidget.WidgetInstance(document.getElementById("captcha"), {
    sitekey: "$sitekey",
    startMode: "none",
    startedCallback: function () { window.calls.push("started"); },
    doneCallback: function (solution) { window.calls.push(solution); },
  });
});
</script>
<form action="/contact" method="post">
<div id="captcha"></div>
</form>"""

# A witness widget (data-start="auto") in a form of its own: once it is done, the other
# widget, loaded alongside, would have started too if it were going to by itself.
WITNESS = """<form action="/newsletter" method="post">
<div class="zenc-captcha" data-sitekey="$sitekey" data-start="auto"></div>
</form>"""


def waiting(start: str) -> str:
    """The witness, then a widget that starts on `start`: the latter is the global `zencap`."""
    return (
        WITNESS
        + f"""<form action="/contact" method="post">
<input type="email" name="email" id="email">
<div class="zenc-captcha" data-sitekey="$sitekey" data-start="{start}"></div>
<button type="submit">Send</button>
</form>"""
    )


@pytest.fixture(scope="module")
def site(widget_server: Server) -> dict[str, Any]:
    return new_site(widget_server)


@pytest.fixture(scope="module")
def origin(widget_server: Server, site: dict[str, Any]) -> Iterator[str]:
    """The module's host server: one path per page."""
    script = f"{widget_server.base_url}/captcha/widget.js"
    pages = {
        "/auto": AUTO,
        "/focus": waiting("focus"),
        "/none": waiting("none"),
        "/instance": INSTANCE,
    }
    html = {
        path: page_with(
            script, Template(body).substitute(sitekey=site["sitekey"], submitted=SUBMITTED)
        )
        for path, body in pages.items()
    }
    with host(html) as url:
        yield url


def zencaptcha_verified(server: Server, site: dict[str, Any], solution: str) -> None:
    assert verified(server, "zencaptcha", site["secret"], solution)["message"] == "valid"


def test_start_auto_solves_at_once(
    browser: Browser, widget_server: Server, site: dict[str, Any], origin: str
) -> None:
    """data-start="auto": a solution with no interaction; zencaptchaLoaded came before it."""
    with open_page(browser, f"{origin}/auto") as page:
        solution = wait_for_field(page, FIELD)
        assert page.evaluate("window.loadedWith") == ["none"]
        assert page.evaluate("[zencap.getResponse(), window.callbackSolution]") == [solution] * 2
        assert page.locator(f"input.{FIELD}").count() == 1
        page.fill("[name=email]", "visitor@example.com")
        fields = submitted_form(page, lambda: page.click("button"))
        assert fields == {"email": ["visitor@example.com"], FIELD: [solution]}
        zencaptcha_verified(widget_server, site, solution)


def test_reset_clears_and_solves_anew(
    browser: Browser, widget_server: Server, site: dict[str, Any], origin: str
) -> None:
    """zencap.reset() empties the field at once; the new solution differs from the old one."""
    with open_page(browser, f"{origin}/auto") as page:
        first = wait_for_field(page, FIELD)
        cleared = page.evaluate(
            "() => { zencap.reset(); return [zencap.getResponse(), document.getElementsByName("
            f"'{FIELD}')[0].value]; }}"
        )
        assert cleared == ["none", ""]
        second = wait_for_field(page, FIELD)
        assert second != first
        zencaptcha_verified(widget_server, site, second)


def test_start_focus_waits_for_the_form(
    browser: Browser, widget_server: Server, site: dict[str, Any], origin: str
) -> None:
    """data-start="focus": nothing until a field of its form gets focus; again after reset()."""
    with open_page(browser, f"{origin}/focus") as page:
        wait_for_field(page, FIELD, 0)  # the witness
        assert field_value(page, FIELD, 1) == ""
        expect(frames(page).nth(1).locator("#box")).to_have_attribute("data-state", "ready")
        page.focus("#email")
        first = wait_for_field(page, FIELD, 1)
        zencaptcha_verified(widget_server, site, first)

        page.evaluate("zencap.reset()")
        expect(frames(page).nth(1).locator("#box")).to_have_attribute("data-state", "ready")
        assert field_value(page, FIELD, 1) == ""
        page.focus("form[action='/contact'] button")  # focus moves within the form: it starts
        second = wait_for_field(page, FIELD, 1)
        assert second != first
        zencaptcha_verified(widget_server, site, second)


@pytest.mark.parametrize("trigger", ["click", "start()"])
def test_start_none_waits_for_click_or_start(
    browser: Browser, widget_server: Server, site: dict[str, Any], origin: str, trigger: str
) -> None:
    """data-start="none": nothing until the checkbox is clicked or zencap.start() is called."""
    with open_page(browser, f"{origin}/none") as page:
        wait_for_field(page, FIELD, 0)  # the witness
        assert field_value(page, FIELD, 1) == ""
        assert page.evaluate("zencap.getResponse()") == "none"
        waiting = frames(page).nth(1)
        expect(waiting.locator("#box")).to_have_attribute("data-state", "ready")
        if trigger == "click":
            waiting.get_by_role("checkbox").click()
        else:
            page.evaluate("zencap.start()")
        solution = wait_for_field(page, FIELD, 1)
        assert page.evaluate("zencap.getResponse()") == solution
        zencaptcha_verified(widget_server, site, solution)


def test_widget_instance_made_by_the_page(
    browser: Browser, widget_server: Server, site: dict[str, Any], origin: str
) -> None:
    """new WidgetInstance(el, {startMode, startedCallback, doneCallback}) and its start()."""
    with open_page(browser, f"{origin}/instance") as page:
        page.wait_for_function("!!window.widget")
        expect(frames(page).locator("#box")).to_have_attribute("data-state", "ready")
        assert page.evaluate("[window.widget.getResponse(), window.calls]") == ["none", []]
        page.evaluate("window.widget.start()")
        solution = wait_for_field(page, FIELD)
        assert page.evaluate("window.calls") == ["started", solution]
        zencaptcha_verified(widget_server, site, solution)
