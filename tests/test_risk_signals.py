"""What the HTTP layer reads from a request for the risk model (api/risk_signals.py)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authkong.api import risk_signals
from authkong.api.asgi import HotRequest

BROWSER_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36"


def request(**headers: str) -> HotRequest:
    raw = [(name.replace("_", "-").encode(), value.encode()) for name, value in headers.items()]
    return HotRequest({"type": "http", "method": "POST", "headers": raw}, None, None)  # type: ignore[arg-type]


def test_a_browser_calling_from_the_widget_frame_shows_no_hint() -> None:
    got = risk_signals.request_hints(
        request(
            host="captcha.example:8080",
            origin="http://captcha.example:8080",
            accept_language="de",
            user_agent=BROWSER_UA,
        ),
        "shop.example",
    )
    assert got == {
        "missing_accept_language": False,
        "library_client": False,
        "origin_mismatch": False,
    }


@pytest.mark.parametrize(
    ("headers", "hint"),
    [
        ({"user_agent": BROWSER_UA}, "missing_accept_language"),
        ({"user_agent": "curl/8.5.0", "accept_language": "en"}, "library_client"),
        ({"user_agent": "python-httpx/0.28", "accept_language": "en"}, "library_client"),
        ({"accept_language": "en"}, "library_client"),  # no User-Agent at all
        (
            {"user_agent": BROWSER_UA, "accept_language": "en", "origin": "https://evil.test"},
            "origin_mismatch",
        ),
        (
            {"user_agent": BROWSER_UA, "accept_language": "en", "referer": "https://evil.test/x"},
            "origin_mismatch",
        ),
    ],
)
def test_each_request_hint(headers: dict[str, str], hint: str) -> None:
    got = risk_signals.request_hints(request(host="captcha.example", **headers), "shop.example")
    assert [name for name, present in got.items() if present] == [hint]


def test_the_page_host_itself_as_origin_is_no_mismatch() -> None:
    got = risk_signals.request_hints(
        request(origin="https://shop.example", user_agent=BROWSER_UA, accept_language="en"),
        "shop.example",
    )
    assert not got["origin_mismatch"]


@pytest.mark.parametrize(
    ("raw", "hints"),
    [
        ("webdriver,headless_ua", ("headless_ua", "webdriver")),
        ("webdriver,webdriver", ("webdriver",)),
        ("", ()),
        ("no spaces allowed,<b>", ()),
        (["webdriver"], ()),  # not a string
        ("x," * 200, ()),  # too long
    ],
)
def test_automation_hints_are_codes_or_nothing(raw: object, hints: tuple[str, ...]) -> None:
    assert risk_signals.automation_hints(raw) == hints


@pytest.mark.parametrize(
    ("remoteip", "solved_from", "mismatch"),
    [
        ("203.0.113.9", "203.0.113.7", False),  # same /24
        ("198.51.100.7", "203.0.113.7", True),
        ("2001:db8:1:2::1", "2001:db8:1:2::99", False),  # same /56
        ("2001:db8:9::1", "2001:db8:1::1", True),
        ("::ffff:203.0.113.9", "203.0.113.7", False),  # IPv4 written as IPv6
        ("2001:db8::1", "203.0.113.7", False),  # other family: not comparable
        ("None", "203.0.113.7", False),  # what some clients send
        ("203.0.113.9, 10.0.0.1", "203.0.113.7", False),  # a whole forwarding list
        (None, "203.0.113.7", False),
    ],
)
def test_remoteip_mismatch(remoteip: str | None, solved_from: str, mismatch: bool) -> None:
    assert risk_signals.remoteip_mismatch(remoteip, solved_from) is mismatch


@given(st.text(max_size=300), st.text(max_size=60))
def test_remoteip_mismatch_never_raises(remoteip: str, solved_from: str) -> None:
    assert risk_signals.remoteip_mismatch(remoteip, solved_from) in (True, False)


@given(st.text(max_size=300))
def test_automation_hints_never_raise(raw: str) -> None:
    assert all(h.isidentifier() for h in risk_signals.automation_hints(raw))
