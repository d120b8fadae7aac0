"""What the HTTP layer reads from a request for the risk model (api/risk_signals.py)."""

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from authkong.api import risk_signals
from authkong.api.asgi import HotRequest
from authkong.api.client_ip import TrustedProxies
from authkong.app import create_app
from authkong.config import Settings
from authkong.domain.clock import FakeClock
from tests.support import get_challenge, make_site, solve_challenge

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


PROXY = "10.0.0.2"
PROXIES = TrustedProxies(["10.0.0.0/8"])
FRAME = "https://captcha.example.net"  # AuthKong's public origin, where the widget frame runs


def peer_request(peer: str, **headers: str) -> HotRequest:
    scope = request(**headers).scope | {"client": (peer, 40000)}
    return HotRequest(scope, None, None)  # type: ignore[arg-type]


def frame_call(peer: str, proxies: TrustedProxies | None = PROXIES, **headers: str) -> bool:
    """origin_mismatch for the widget frame's call through a proxy that set Host to its
    upstream (nginx's default `proxy_set_header Host $proxy_host`)."""
    got = risk_signals.request_hints(
        peer_request(peer, host="127.0.0.1:8000", origin=FRAME, **headers),
        "shop.example",
        proxies,
    )
    return got["origin_mismatch"]


@pytest.mark.parametrize(
    "forwarding",
    [
        {"x_forwarded_host": "captcha.example.net"},
        {"x_forwarded_host": "CAPTCHA.example.net:443, 127.0.0.1:8000"},  # the first value
        {"forwarded": 'for=198.51.100.7;host="captcha.example.net";proto=https'},
        {"forwarded": "host=captcha.example.net, for=10.0.0.3;host=127.0.0.1"},
    ],
)
def test_a_trusted_proxy_names_authkongs_own_host(forwarding: dict[str, str]) -> None:
    """Host rewritten by a trusted proxy: its X-Forwarded-Host or Forwarded host= is ours."""
    assert not frame_call(PROXY, **forwarding)


@pytest.mark.parametrize(
    ("peer", "proxies"), [("198.51.100.7", PROXIES), (PROXY, None), ("", PROXIES)]
)
def test_forwarded_host_from_an_untrusted_peer_changes_nothing(
    peer: str, proxies: TrustedProxies | None
) -> None:
    """Anyone can send X-Forwarded-Host or Forwarded: from a peer that is not a trusted
    proxy (or with no proxies trusted) the mismatch stands."""
    forged = {"x_forwarded_host": "captcha.example.net", "forwarded": "host=captcha.example.net"}
    assert frame_call(peer, proxies, **forged)


def test_a_trusted_proxy_naming_another_host_is_still_a_mismatch() -> None:
    """The forwarded host counts as ours only when it is the Origin's host."""
    assert frame_call(PROXY, x_forwarded_host="other.example", forwarded="host=other.example")


@pytest.mark.parametrize(("peer", "reasons"), [(PROXY, []), ("198.51.100.7", ["origin_mismatch"])])
def test_redemption_asks_the_trusted_proxies(
    settings: Settings, clock: FakeClock, peer: str, reasons: list[str]
) -> None:
    """Through the app: a redemption via a trusted proxy that rewrote Host is clean; the
    same headers straight from a visitor still count against the token."""
    trusting = replace(settings, trusted_proxies=("10.0.0.0/8",))
    with TestClient(create_app(trusting, clock=clock), client=(peer, 5000)) as client:
        site = make_site(client.app.state.services.registry, clock.now_ms())  # type: ignore[attr-defined]
        challenge = get_challenge(client, site.site.sitekey)
        clock.advance(1.0)  # a plausible solve time
        redeemed = client.post(
            "/api/v1/redeem",
            json={"challenge": challenge["challenge"], "nonces": solve_challenge(challenge)},
            headers={
                "host": "127.0.0.1:8000",
                "origin": FRAME,
                "x-forwarded-host": "captcha.example.net",
                "user-agent": BROWSER_UA,
                "accept-language": "en",
            },
        )
        form = {"secret": site.secret, "response": redeemed.json()["token"]}
        assert client.post("/api/siteverify", data=form).json()["reasons"] == reasons


@pytest.mark.parametrize(
    ("host", "origin"),
    [
        ("[2001:db8::5]", "http://[2001:db8::5]"),
        ("[2001:db8::5]:8080", "http://[2001:db8::5]:8080"),
        ("[2001:DB8::5]", "http://[2001:db8::5]"),
        ("captcha.example", "https://captcha.example"),
        ("Captcha.Example:8443", "https://captcha.example:8443"),
    ],
)
def test_own_host_literal_is_no_mismatch(host: str, origin: str) -> None:
    """Host is parsed as host[:port]: an IPv6 literal with or without a port is ours."""
    got = risk_signals.request_hints(request(host=host, origin=origin), "shop.example")
    assert not got["origin_mismatch"]


@pytest.mark.parametrize(
    ("host", "origin"), [("[2001:db8::5", "http://[2001:db8::5]"), ("", "https://shop.test")]
)
def test_unparsable_host_is_not_ours(host: str, origin: str) -> None:
    """A Host that does not parse matches no Origin (and raises nothing)."""
    got = risk_signals.request_hints(request(host=host, origin=origin), "shop.example")
    assert got["origin_mismatch"]


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
