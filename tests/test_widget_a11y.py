"""The widget's accessibility in Chromium: axe-core, keyboard, live region, motion, RTL.

axe-core (bundled by axe-playwright-python) runs in the host page and in every widget
iframe, which is cross-origin by design; axe then reports the frames' nodes as part of
the page (targets like ["iframe", "#check"]), and each test checks that every widget was
really analysed from inside. Widgets are held in the working state by leaving their
challenge request unanswered, and put in the error state by an unknown sitekey or a
dropped request; Chromium logs those failed loads as console errors, so this module opens
its pages itself and lets through exactly the challenge's (open_page's `refused` covers
answered statuses, not dropped connections).
"""

import contextlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe, AxeResults
from playwright.sync_api import Browser, ConsoleMessage, FrameLocator, Page, Route, expect

from authkong.api import languages
from tests.server import Server
from tests.widget_support import FRAME, TIMEOUT_MS, frames, host, new_site, page_with

pytestmark = pytest.mark.server

EN = languages.LANGUAGES["en"].texts
CHALLENGE = "/api/v1/challenge"
UNKNOWN = "ak_" + "x" * 24  # no such site: the challenge is refused
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# The host page is a whole page, so axe's page-structure rules apply to it as well; the
# frame page alone is a fragment (no heading, no landmarks of its own), so WCAG only.
IN_PAGE = {"runOnly": {"type": "tag", "values": [*WCAG, "best-practice"]}}
ALONE = {"runOnly": {"type": "tag", "values": WCAG}}
AXE = Axe()

# Runs in a widget frame: every change of the live region, with what a screen reader
# would hear with it (the checkbox's state) and where focus is at that moment.
LISTEN = """() => {
  window.heard = [];
  const status = document.getElementById("status"), check = document.getElementById("check");
  const focused = () => document.activeElement.id || document.activeElement.localName;
  new MutationObserver(() => heard.push([status.textContent, check.ariaChecked, focused()]))
    .observe(status, {childList: true, characterData: true, subtree: true});
}"""

# Runs in a widget frame: the shown parts that are cut off, sideways or by the frame's edge.
# (The spinning mark overflows its button while turning; the button only needs to be seen.)
CLIPPED = """() => [...document.querySelectorAll("#check, #label, #status, #bar, #retry, .brand")]
  .filter((el) => el.getClientRects().length)
  .filter((el) => {
    const r = el.getBoundingClientRect();
    return el.id !== "check" && el.scrollWidth > el.clientWidth || r.left < -0.5 || r.top < -0.5
      || r.right > innerWidth + 0.5 || r.bottom > innerHeight + 0.5;
  })
  .map((el) => el.id || el.className)"""


@pytest.fixture(scope="module")
def site(widget_server: Server) -> dict[str, Any]:
    return new_site(widget_server)


@pytest.fixture(scope="module")
def held(widget_server: Server) -> dict[str, Any]:
    """A site whose widgets tests keep working (see `hold`)."""
    return new_site(widget_server)


def widget(sitekey: str, **data: str) -> str:
    """An AuthKong widget's markup; `data` become data-* attributes (size, theme, lang)."""
    attrs = "".join(f' data-{name}="{value}"' for name, value in data.items())
    return f'<div class="authkong_captcha" data-sitekey="{sitekey}"{attrs}></div>'


def _provoked(msg: ConsoleMessage) -> bool:
    """Chromium's log line for a refused or dropped challenge request, which tests cause."""
    path = urlsplit(msg.location.get("url", "")).path
    return msg.text.startswith("Failed to load resource") and path == CHALLENGE


@contextlib.contextmanager
def widget_page(
    browser: Browser, server: Server, body: str, script: str = "/api.js", **context_options: Any
) -> Iterator[Page]:
    """`body` in a form on a host page of its own origin with the loader at `script`.

    Fails the test on any console or page error but the challenge loads tests provoke.
    """
    page_html = page_with(
        server.base_url + script, f"<main><h1>Sign up</h1><form>{body}</form></main>"
    )
    with host({"/": page_html}) as url:
        context = browser.new_context(**context_options)
        try:
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            expect.set_options(timeout=TIMEOUT_MS)
            errors: list[str] = []
            page.on(
                "console",
                lambda msg: (
                    errors.append(f"{msg.text} {msg.location}")
                    if msg.type == "error" and not _provoked(msg)
                    else None
                ),
            )
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(url)
            expect(frames(page).last.get_by_role("checkbox")).to_be_visible()
            yield page
            assert errors == []
        finally:
            context.close()


def hold(page: Page, sitekey: str) -> list[Route]:
    """Leave `sitekey`'s challenge requests unanswered, so its widgets stay working.

    Returns the waiting requests; `route.fallback()` lets one go on to the server.
    """
    waiting: list[Route] = []

    def handle(route: Route) -> None:
        if sitekey in (route.request.post_data or ""):
            waiting.append(route)
        else:
            route.fallback()

    page.route(f"**{CHALLENGE}", handle)
    return waiting


def drop(page: Page, count: int) -> None:
    """The next `count` challenge requests fail as on a lost connection."""
    left = [count]

    def handle(route: Route) -> None:
        if left[0] > 0:
            left[0] -= 1
            route.abort()
        else:
            route.fallback()

    page.route(f"**{CHALLENGE}", handle)


def listen(frame: FrameLocator) -> None:
    frame.locator("html").evaluate(LISTEN)


def heard(frame: FrameLocator) -> list[list[str]]:
    """[live region text, aria-checked, focused element] at each live region change."""
    result: list[list[str]] = frame.locator("html").evaluate("() => window.heard")
    return result


def assert_axe_clean(page: Page) -> None:
    """axe-core finds nothing in the page nor, analysed in place, in any widget frame."""
    for frame in page.frames:
        frame.evaluate(AXE.axe_script)
        # axe answers only its own origin's frames unless told; the widget is cross-origin.
        frame.evaluate("axe.configure({allowedOrigins: ['<unsafe_all_origins>']})")
    results = page.evaluate("(options) => axe.run(document, options)", IN_PAGE)
    assert results["violations"] == [], AxeResults(results).generate_report()
    assert "frame-tested" not in {rule["id"] for rule in results["incomplete"]}
    # Every widget's checkbox was checked from inside its frame.
    analysed = {
        node["target"][0]
        for rule in results["passes"]
        if rule["id"] == "aria-required-attr"
        for node in rule["nodes"]
        if len(node["target"]) == 2
    }
    assert len(analysed) == page.locator(FRAME).count() > 0


def focus_ring(frame: FrameLocator, selector: str) -> list[str]:
    """The computed outline of `selector`, which must have the keyboard's focus."""
    ring: list[str] = frame.locator(selector).evaluate(
        "(el) => [el.matches(':focus-visible'), getComputedStyle(el).outlineStyle,"
        " getComputedStyle(el).outlineWidth].map(String)"
    )
    return ring


# (data-theme, the browser's color scheme, the frame's resulting background)
THEMES = [
    ("light", "light", "rgb(249, 249, 249)"),
    ("dark", "dark", "rgb(34, 34, 34)"),
    ("dark", "light", "rgb(34, 34, 34)"),
    ("auto", "light", "rgb(249, 249, 249)"),
    ("auto", "dark", "rgb(34, 34, 34)"),
]


STATUS = {"ready": "", "working": EN["working"], "done": EN["done"], "error": EN["error_config"]}


@pytest.mark.parametrize(("theme", "scheme", "background"), THEMES)
def test_axe_finds_nothing_in_any_state_theme_or_size(
    browser: Browser,
    widget_server: Server,
    site: dict[str, Any],
    held: dict[str, Any],
    theme: str,
    scheme: str,
    background: str,
) -> None:
    """Ready, working, done and error, normal and compact, in one page: axe-core is clean."""
    states = {"ready": site, "working": held, "done": site, "error": {"sitekey": UNKNOWN}}
    body = "".join(
        widget(s["sitekey"], theme=theme, size=size)
        for size in ("normal", "compact")
        for s in states.values()
    )
    with widget_page(browser, widget_server, body, color_scheme=scheme) as page:
        hold(page, held["sitekey"])
        for i, state in enumerate(list(states) * 2):
            frame = frames(page).nth(i)
            if state != "ready":
                frame.get_by_role("checkbox").click()
            expect(frame.get_by_role("status")).to_have_text(STATUS[state])
            expect(frame.locator("body")).to_have_css("background-color", background)
        assert_axe_clean(page)
        assert set(page.locator(FRAME).evaluate_all("(all) => all.map((f) => f.title)")) == {
            "AuthKong CAPTCHA"
        }
        assert frames(page).first.locator("html").evaluate("() => document.title") == EN["title"]


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_frame_page_alone_is_axe_clean(
    browser: Browser, widget_server: Server, site: dict[str, Any], theme: str
) -> None:
    """/widget opened as a page (no host, so a click fails): clean when ready and in error."""
    url = f"{widget_server.base_url}/widget?sitekey={site['sitekey']}&theme={theme}"
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        for state in ("ready", "error"):
            if state == "error":
                page.get_by_role("checkbox").click()
                expect(page.get_by_role("button", name=EN["retry"])).to_be_visible()
            results = AXE.run(page, options=ALONE)
            assert results.violations_count == 0, results.generate_report()
            assert results.response["url"] == url
    finally:
        context.close()


@pytest.mark.parametrize("key", ["Space", "Enter"])
def test_keyboard_alone_completes_and_each_state_is_announced(
    browser: Browser, widget_server: Server, site: dict[str, Any], key: str
) -> None:
    """Tab reaches the box with a visible ring; the key starts it; the status says each step."""
    with widget_page(browser, widget_server, widget(site["sitekey"])) as page:
        frame = frames(page).first
        checkbox = frame.get_by_role("checkbox", name=EN["label"])
        listen(frame)
        page.keyboard.press("Tab")
        expect(checkbox).to_be_focused()
        assert focus_ring(frame, "#check") == ["true", "solid", "2px"]
        page.keyboard.press(key)
        expect(checkbox).to_have_attribute("aria-checked", "true")
        assert heard(frame) == [[EN["working"], "false", "check"], [EN["done"], "true", "check"]]
        expect(checkbox).to_be_focused()


# The page renders its widget itself, to reset it as a page script would.
RENDERED = """<div id="captcha"></div><script>
function renderCaptcha() {
  window.captcha = AuthKongCaptcha.render("captcha", {sitekey: "%s"});
}
</script>"""


def test_retry_by_keyboard_and_focus_never_falls_to_body(
    browser: Browser, widget_server: Server, site: dict[str, Any]
) -> None:
    """After an error Tab reaches Retry and Enter works; hiding Retry moves focus to the box."""
    body = RENDERED % site["sitekey"]
    with widget_page(browser, widget_server, body, "/api.js?onload=renderCaptcha") as page:
        frame = frames(page).first
        checkbox = frame.get_by_role("checkbox")
        retry = frame.get_by_role("button", name=EN["retry"])
        drop(page, 2)
        listen(frame)
        page.keyboard.press("Tab")
        page.keyboard.press("Space")
        expect(retry).to_be_visible()
        page.keyboard.press("Tab")
        expect(retry).to_be_focused()
        assert focus_ring(frame, "#retry") == ["true", "solid", "2px"]

        page.evaluate("window.captcha.reset()")  # hides Retry while it has the focus
        expect(retry).to_be_hidden()
        expect(checkbox).to_be_focused()
        page.keyboard.press("Space")
        expect(retry).to_be_visible()
        page.keyboard.press("Tab")
        expect(retry).to_be_focused()
        page.keyboard.press("Enter")
        expect(checkbox).to_have_attribute("aria-checked", "true")
        expect(checkbox).to_be_focused()

        failed = [EN["error_network"], "false", "check"]
        working = [EN["working"], "false", "check"]
        assert heard(frame) == [
            working, failed, ["", "false", "check"], working, failed, working,
            [EN["done"], "true", "check"],
        ]  # fmt: skip
        assert page.evaluate("document.activeElement.localName") == "iframe"


@pytest.mark.parametrize(("motion", "animation"), [("reduce", "none"), ("no-preference", "spin")])
def test_working_state_names_its_progress_and_honours_reduced_motion(
    browser: Browser, widget_server: Server, held: dict[str, Any], motion: str, animation: str
) -> None:
    """While working: a named progress bar, a busy checkbox, and no spinning if asked."""
    body = widget(held["sitekey"])
    with widget_page(browser, widget_server, body, reduced_motion=motion) as page:
        hold(page, held["sitekey"])
        frame = frames(page).first
        frame.get_by_role("checkbox").click()
        expect(frame.get_by_role("progressbar", name=EN["progress"])).to_be_visible()
        expect(frame.get_by_role("status")).to_have_text(EN["working"])
        expect(frame.get_by_role("checkbox")).to_have_attribute("aria-disabled", "true")
        expect(frame.locator(".mark")).to_have_css("animation-name", animation)


EXPIRING = '<div class="cf-turnstile" data-sitekey="%s" data-refresh-expired="manual"></div>'


def test_expired_token_is_announced_and_restarts_by_keyboard(
    browser: Browser, widget_server: Server
) -> None:
    """A token that expires (manual refresh) says so, unchecks the box and starts again by key."""
    short = new_site(widget_server, "--token-lifetime", "10")  # expires 5 s after it is made
    body = EXPIRING % short["sitekey"]
    with widget_page(browser, widget_server, body, "/turnstile/v0/api.js") as page:
        frame = frames(page).first
        checkbox = frame.get_by_role("checkbox")
        expect(checkbox).to_have_attribute("aria-checked", "true")  # Turnstile starts by itself
        listen(frame)
        page.keyboard.press("Tab")
        expect(checkbox).to_be_focused()
        expect(frame.get_by_role("status")).to_have_text(EN["expired"])
        assert heard(frame) == [[EN["expired"], "false", "check"]]
        assert_axe_clean(page)
        page.keyboard.press("Space")
        expect(checkbox).to_have_attribute("aria-checked", "true")
        assert heard(frame)[1:] == [
            [EN["working"], "false", "check"],
            [EN["done"], "true", "check"],
        ]


def _sides(frame: FrameLocator) -> tuple[float, float, float, float]:
    """The check mark's left and right edges, then its label's."""
    mark, label = frame.locator(".mark").bounding_box(), frame.locator("#label").bounding_box()
    assert mark and label
    return (mark["x"], mark["x"] + mark["width"], label["x"], label["x"] + label["width"])


@pytest.mark.parametrize(
    ("data", "locale"), [({"lang": "ar"}, "en-US"), ({}, "ar-EG")], ids=["hl", "accept-language"]
)
def test_right_to_left_language_mirrors_and_is_axe_clean(
    browser: Browser, widget_server: Server, site: dict[str, Any], data: dict[str, str], locale: str
) -> None:
    """Arabic, asked for by the page or by the browser: dir=rtl, the box on the right, clean."""
    body = widget(site["sitekey"], lang="en") + widget(site["sitekey"], **data)
    with widget_page(browser, widget_server, body, locale=locale) as page:
        english, arabic = frames(page).nth(0), frames(page).nth(1)
        expect(arabic.locator("html")).to_have_attribute("lang", "ar")
        expect(arabic.locator("html")).to_have_attribute("dir", "rtl")
        expect(english.locator("html")).to_have_attribute("dir", "ltr")
        mark_left, _, _, label_right = _sides(arabic)
        assert mark_left >= label_right
        _, mark_right, label_left, _ = _sides(english)
        assert mark_right <= label_left

        texts = languages.LANGUAGES["ar"].texts
        arabic.get_by_role("checkbox", name=texts["label"]).click()
        expect(arabic.get_by_role("status")).to_have_text(texts["done"])
        assert_axe_clean(page)


@pytest.mark.parametrize("size", ["normal", "compact"])
def test_every_language_fits_the_frame(browser: Browser, widget_server: Server, size: str) -> None:
    """Every language's texts, ready, working and failed, are cut off neither sideways nor below."""
    tags = sorted(languages.LANGUAGES)
    body = "".join(widget(UNKNOWN, size=size, lang=tag) for tag in tags)
    with widget_page(browser, widget_server, body) as page:
        waiting = hold(page, UNKNOWN)  # working until let go, then refused
        widgets = dict(zip(tags, (frames(page).nth(i) for i in range(len(tags))), strict=True))
        for tag, frame in widgets.items():
            expect(frame.locator("html")).to_have_attribute("lang", tag)
            expect(frame.locator("html")).to_have_attribute(
                "dir", languages.LANGUAGES[tag].direction
            )
        clipped: dict[str, list[str]] = {tag: [] for tag in tags}

        def measure(text: str) -> None:
            for tag, frame in widgets.items():
                shown = languages.LANGUAGES[tag].texts[text] if text else ""
                expect(frame.get_by_role("status")).to_have_text(shown)
                clipped[tag] += frame.locator("html").evaluate(CLIPPED)

        measure("")  # ready
        for frame in widgets.values():
            frame.get_by_role("checkbox").click()
        measure("working")
        for route in waiting:
            route.fallback()
        measure("error_config")
        assert {tag: cut for tag, cut in clipped.items() if cut} == {}
