"""/demo in Chromium: each flavor's page completes and its verify answer is shown.

The demo runs on AuthKong's own origin with the demo site that `authkong serve` makes on
first start (cheapened here so the suite stays quick).
"""

import json
import re

import pytest
from playwright.sync_api import Browser, Page

from authkong.api.demo import FLAVORS
from tests.server import Server, run_cli_json
from tests.widget_support import frames, open_page, wait_for_field

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def demo_base(widget_server: Server) -> str:
    demo = widget_server.demo_site()
    assert demo is not None
    run_cli_json(
        "site", "update", demo.sitekey, "--k", "4", "--solution-difficulty", "4096",
        data_dir=widget_server.data_dir,
    )  # fmt: skip
    # localhost, not 127.0.0.1: the demo page is the site's own page on its allowed host.
    return f"http://localhost:{widget_server.port}"


def shown_answer(page: Page) -> dict[str, object]:
    text = page.locator("pre code").first.text_content() or ""
    answer: dict[str, object] = json.loads(text)
    return answer


def complete(page: Page, flavor: str) -> None:
    """Do what a visitor does on the flavor's demo form, then submit it."""
    if flavor == "recaptcha-v3":
        page.get_by_role("button", name="Submit").click()  # runs the check, then submits
        return
    if flavor != "turnstile":  # Turnstile solves on render; the others wait for a click
        frames(page).get_by_role("checkbox").click()
    wait_for_field(page, FLAVORS[flavor].field)
    page.get_by_role("button", name="Submit").click()


@pytest.mark.parametrize("flavor", sorted(FLAVORS))
def test_demo_form_verifies_in_its_flavor(browser: Browser, demo_base: str, flavor: str) -> None:
    with open_page(browser, f"{demo_base}/demo/{flavor}") as page:
        snippet = page.locator("pre code").first.text_content() or ""
        assert f'src="{demo_base}{FLAVORS[flavor].script}"' in snippet
        complete(page, flavor)
        page.wait_for_url(re.compile(rf"/demo/{flavor}/verify$"))
        answer = shown_answer(page)
        assert answer["success"] is True, answer
        if flavor == "recaptcha-v3":
            assert answer["action"] == "submit"
            assert isinstance(answer["score"], float)
        if flavor == "recaptcha":
            assert "score" not in answer
