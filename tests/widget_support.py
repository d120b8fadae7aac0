"""Shared pieces of the widget's browser tests: one real server, one Chromium, host pages.

Not a test module. tests/conftest.py re-exports the fixtures: starting `authkong serve`
once per session, and Chromium once per module, keeps the browser suites fast. Each test
makes its own site (the CLI writes while the server runs; the server sees it at once)
and its own host page, served from a static server on another origin.
"""

import contextlib
import uuid
from collections.abc import Callable, Iterator, Mapping
from string import Template
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, FrameLocator, Page, expect

from tests.browser import HTML, chromium, static_server
from tests.server import Server, run_cli_json, running_server, verify

TIMEOUT_MS = 30_000  # every wait ends; a widget that takes this long has failed
FRAME = 'iframe[title="AuthKong CAPTCHA"]'


@pytest.fixture(scope="session")
def widget_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("widget-serve")
    with running_server(root / "data", root / "logs") as running:
        yield running


# Per module, not per session: sync Playwright keeps an asyncio loop running in this
# thread while it is open, and the asyncio tests of other modules need the thread free.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def new_site(server: Server, *options: str, domain: str = "127.0.0.1") -> dict[str, Any]:
    """A cheap site (k=4 x 4096 hashes) for `domain`; `sitekey` and `secret` in the answer."""
    return run_cli_json(
        "site", "create", "--name", f"w-{uuid.uuid4().hex[:8]}", "--domain", domain,
        "--k", "4", "--solution-difficulty", "4096", *options, data_dir=server.data_dir,
    )  # fmt: skip


@contextlib.contextmanager
def host(pages: Mapping[str, str], headers: Mapping[str, str] | None = None) -> Iterator[str]:
    """Serve HTML pages (path -> text) on an origin of their own; yields its base URL."""
    routes = {path: (HTML, text.encode()) for path, text in pages.items()}
    with static_server(routes, headers or {}) as url:
        yield url


@contextlib.contextmanager
def open_page(
    browser: Browser, url: str, *, refused: tuple[int, ...] = (), **context_options: Any
) -> Iterator[Page]:
    """`url` in a fresh browser context; fails the test if any script or CSP error shows.

    `refused`: HTTP statuses the test expects AuthKong to answer (an unknown sitekey is a
    400); Chromium logs each as an error, and only those are let through.
    """
    expected = tuple(f"the server responded with a status of {status} " for status in refused)
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)
    errors: list[str] = []  # the iframe's messages too: a CSP violation shows up here

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error" and not any(e in msg.text for e in expected):
            errors.append(f"{msg.text} {msg.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    try:
        yield page
        assert errors == [], errors
    finally:
        context.close()


def frames(page: Page) -> FrameLocator:
    """Every AuthKong widget iframe of the page; `.nth(i)` picks one."""
    return page.frame_locator(FRAME)


def field_value(page: Page, name: str, index: int = 0) -> str:
    """The value of the `index`-th form field called `name` ("" while empty)."""
    value: str = page.evaluate(
        "([name, i]) => (document.getElementsByName(name)[i] || {}).value || ''", [name, index]
    )
    return value


def wait_for_field(page: Page, name: str, index: int = 0) -> str:
    """Wait until the `index`-th field called `name` holds a token; returns it."""
    page.wait_for_function(
        "([name, i]) => !!(document.getElementsByName(name)[i] || {}).value", arg=[name, index]
    )
    return field_value(page, name, index)


def verified(server: Server, flavor: str, secret: str, token: str) -> dict[str, Any]:
    """The flavor's siteverify answer for `token`, which must be a success."""
    with httpx.Client(timeout=10.0) as client:
        body = verify(client, server.base_url, flavor, secret, token)
    assert body["success"] is True, body
    return body


def page_with(script: str, body: str, head: str = "") -> str:
    """A host page: `head` markup, then `body` (usually a form), then the loader script."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title>'
        f'<link rel="icon" href="data:,">{head}</head><body>{body}'
        f'<script src="{script}" async defer></script></body></html>'
    )


SUBMITTED = "/submitted"  # where host forms post; submitted_form() answers it in the browser


def vendor_page(head: str, body: str) -> str:
    """A host page laid out as a vendor's snippet: `head` markup (scripts), then `body`."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host</title>'
        f'<link rel="icon" href="data:,">{head}</head><body>{body}</body></html>'
    )


def submitted_form(page: Page, submit: Callable[[], object]) -> dict[str, list[str]]:
    """Run `submit` (a click, say) and return the fields of the form it POSTs to SUBMITTED.

    The browser answers that POST itself, so host servers need no form handler.
    """
    done = vendor_page("", "Received")
    page.route(f"**{SUBMITTED}", lambda route: route.fulfill(content_type=HTML, body=done))
    with page.expect_request(
        lambda r: r.method == "POST" and urlsplit(r.url).path == SUBMITTED
    ) as sent:
        submit()
    return parse_qs(sent.value.post_data or "", keep_blank_values=True)


@contextlib.contextmanager
def host_vendor_pages(
    pages: Mapping[str, tuple[str, str]], values: Mapping[str, str]
) -> Iterator[str]:
    """Serve path -> vendor_page(head, body), `$name`s in both filled from `values`."""
    filled = {
        path: vendor_page(Template(head).substitute(values), Template(body).substitute(values))
        for path, (head, body) in pages.items()
    }
    with host(filled) as url:
        yield url


@contextlib.contextmanager
def visitor(browser: Browser, origin: str) -> Iterator[Callable[[str], Page]]:
    """A function that opens `origin` + path with open_page; all close on exit."""
    with contextlib.ExitStack() as stack:
        yield lambda path: stack.enter_context(open_page(browser, origin + path))
