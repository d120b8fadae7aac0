"""The client IP: the peer by default, a forwarding header only through trusted proxies."""

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from authkong.api.client_ip import (
    TrustedProxies,
    forwarded_for,
    forwarded_parameter,
    parse_address,
)
from authkong.api.services import Services
from authkong.app import create_app
from authkong.cli import main
from authkong.config import TRUSTED_PROXIES_ENV, Settings
from authkong.domain import token as tokens
from authkong.domain.clock import FakeClock
from authkong.storage.registry import NewSecret
from tests.server import AUTHKONG, HOST, Server, create_site, fetch_token, free_port, wait_healthy
from tests.support import get_token, make_site

PEER = "10.0.0.2"  # the TestClient's peer: a proxy on the operator's network
PROXIES = TrustedProxies(["10.0.0.0/8", "fd00::/8", "192.0.2.10"])

# -- the walk, without HTTP ------------------------------------------------------------


def headers(*pairs: tuple[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode(), value.encode("latin-1")) for name, value in pairs]


@pytest.mark.parametrize(
    ("pairs", "client"),
    [
        ((), PEER),
        ((("X-Forwarded-For", "198.51.100.7"),), "198.51.100.7"),
        # A visitor's own forged entries stay to the left of what the proxy appended.
        ((("X-Forwarded-For", "1.2.3.4, 198.51.100.7"),), "198.51.100.7"),
        ((("X-Forwarded-For", "garbage, 198.51.100.7"),), "198.51.100.7"),
        # Trusted hops are skipped from the right.
        ((("X-Forwarded-For", "198.51.100.7, 10.1.1.1, 192.0.2.10"),), "198.51.100.7"),
        # Repeated header lines are one list.
        ((("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-For", "198.51.100.7")), "198.51.100.7"),
        ((("X-Forwarded-For", "198.51.100.7:4711"),), "198.51.100.7"),
        ((("X-Forwarded-For", "[2001:db8::7]:4711"),), "2001:db8::7"),
        ((("X-Forwarded-For", "2001:DB8:0::7"),), "2001:db8::7"),
        ((("X-Forwarded-For", "::ffff:198.51.100.7"),), "198.51.100.7"),
        # Every hop trusted: the request started at the leftmost.
        ((("X-Forwarded-For", "10.9.9.9, 10.1.1.1"),), "10.9.9.9"),
        # Malformed where it is read: the peer.
        ((("X-Forwarded-For", "198.51.100.7, garbage"),), PEER),
        ((("X-Forwarded-For", ""),), PEER),
        ((("X-Forwarded-For", "198.51.100.7,"),), PEER),
        ((("X-Forwarded-For", "[2001:db8::7"),), PEER),
        ((("X-Forwarded-For", "[2001:db8::7]x"),), PEER),
        # RFC 7239
        ((("Forwarded", "for=198.51.100.7"),), "198.51.100.7"),
        ((("Forwarded", 'For="[2001:db8:cafe::17]:4711";proto=https'),), "2001:db8:cafe::17"),
        ((("Forwarded", 'for="198.51.100.7:80"'),), "198.51.100.7"),
        ((("Forwarded", "for=1.2.3.4, for=198.51.100.7;by=10.0.0.2"),), "198.51.100.7"),
        ((("Forwarded", 'for="1.2.3.4, for=198.51.100.7'),), "198.51.100.7"),
        ((("Forwarded", "for=198.51.100.7, for=10.1.1.1"),), "198.51.100.7"),
        ((("Forwarded", "for=unknown"),), PEER),
        ((("Forwarded", "for=_hidden"),), PEER),
        ((("Forwarded", "proto=https;by=10.0.0.2"),), PEER),
        # Both: X-Forwarded-For wins, so a visitor's Forwarded through an XFF proxy is inert.
        ((("Forwarded", "for=1.2.3.4"), ("X-Forwarded-For", "198.51.100.7")), "198.51.100.7"),
    ],
)
def test_trusted_peer_walk(pairs: tuple[tuple[str, str], ...], client: str) -> None:
    """From a trusted peer, the rightmost untrusted address is the client."""
    assert PROXIES.client_ip(PEER, headers(*pairs)) == client


@pytest.mark.parametrize("peer", ["198.51.100.99", "", "not-an-address", "11.0.0.1"])
def test_untrusted_peer_headers_are_ignored(peer: str) -> None:
    """From a peer outside the trusted networks the headers change nothing."""
    forged = headers(("X-Forwarded-For", "8.8.8.8"), ("Forwarded", "for=8.8.8.8"))
    assert PROXIES.client_ip(peer, forged) == peer


def test_ipv4_mapped_peer_is_trusted() -> None:
    """A trusted IPv4 proxy seen through a dual-stack socket is still trusted."""
    got = PROXIES.client_ip("::ffff:10.0.0.2", headers(("X-Forwarded-For", "198.51.100.7")))
    assert got == "198.51.100.7"


def test_ipv6_trusted_network() -> None:
    """IPv6 proxy networks work like IPv4 ones."""
    got = PROXIES.client_ip("fd00::1", headers(("X-Forwarded-For", "2001:db8::7")))
    assert got == "2001:db8::7"


def test_forwarded_for_values() -> None:
    """Each element's for= value, unquoted; "" where an element has none."""
    value = 'for=a;proto=http, by=b, FOR = "[::1]:80" ;host=x'
    assert forwarded_for(value) == ["a", "", "[::1]:80"]


def test_forwarded_parameter_reads_any_parameter() -> None:
    """host= is read like for=: per element, unquoted, "" where missing."""
    value = 'for=a;host=public.example, for=b, HOST="[2001:db8::5]:8443"'
    assert forwarded_parameter(value, "host") == ["public.example", "", "[2001:db8::5]:8443"]


@pytest.mark.parametrize(
    ("peer", "trusted"),
    [
        (PEER, True),
        ("::ffff:10.0.0.2", True),
        ("fd00::1", True),
        ("192.0.2.10", True),
        ("192.0.2.11", False),
        ("198.51.100.99", False),
        ("", False),
        ("garbage", False),
    ],
)
def test_trusts_peer(peer: str, trusted: bool) -> None:
    """A peer is trusted when it lies in a trusted network; anything unparsable is not."""
    assert PROXIES.trusts_peer(peer) is trusted


_header_values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80
) | st.lists(st.ip_addresses().map(str), max_size=4).map(", ".join)


@given(_header_values, _header_values, st.sampled_from([PEER, "198.51.100.99"]))
def test_never_raises_and_answers_an_address(xff: str, fwd: str, peer: str) -> None:
    """Any header values give the peer or a real address; an untrusted peer always itself."""
    got = PROXIES.client_ip(peer, headers(("X-Forwarded-For", xff), ("Forwarded", fwd)))
    if peer != PEER:
        assert got == peer
    assert parse_address(got) is not None


# -- settings and the command line -----------------------------------------------------


def test_settings_default_trusts_nobody(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the environment variable no proxy is trusted."""
    monkeypatch.delenv(TRUSTED_PROXIES_ENV, raising=False)
    assert Settings().trusted_proxies == ()


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """AUTHKONG_TRUSTED_PROXIES is a comma-separated list of addresses and networks."""
    monkeypatch.setenv(TRUSTED_PROXIES_ENV, " 10.0.0.0/8, ,::1,192.0.2.10/24 ")
    assert Settings().trusted_proxies == ("10.0.0.0/8", "::1", "192.0.2.10/24")


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "proxy.example.com", "10.0.0.300", "*"])
def test_invalid_entry_fails_settings(monkeypatch: pytest.MonkeyPatch, entry: str) -> None:
    """An entry that is no address or network stops start-up and is named in the message."""
    with pytest.raises(ValueError, match="is not an IP address or network") as raised:
        Settings(trusted_proxies=("10.0.0.0/8", entry))
    assert repr(entry) in str(raised.value)
    monkeypatch.setenv(TRUSTED_PROXIES_ENV, f"10.0.0.1,{entry}")
    with pytest.raises(ValueError, match="is not an IP address or network"):
        Settings()


def test_serve_rejects_a_bad_trusted_proxy(tmp_path: Path) -> None:
    """`serve --trusted-proxy nonsense` is a usage error before anything starts."""
    args = ["serve", "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "nonsense"]
    result = CliRunner().invoke(main, [*args, "--data-dir", str(tmp_path)])
    assert result.exit_code == 2
    assert "--trusted-proxy" in result.output
    assert "'nonsense' is not an IP address or network" in result.output
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


def test_serve_rejects_a_bad_environment(tmp_path: Path) -> None:
    """A bad AUTHKONG_TRUSTED_PROXIES is a usage error naming the variable."""
    result = CliRunner().invoke(
        main, ["serve", "--data-dir", str(tmp_path)], env={TRUSTED_PROXIES_ENV: "10.0.0.0/99"}
    )
    assert result.exit_code == 2
    assert TRUSTED_PROXIES_ENV in result.output
    assert "'10.0.0.0/99'" in result.output


# -- through the app -------------------------------------------------------------------


@pytest.fixture
def proxied(settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    """The app trusting 10.0.0.0/8, reached from the proxy 10.0.0.2."""
    trusting = Settings(
        data_dir=settings.data_dir,
        lock_timeout_s=settings.lock_timeout_s,
        trusted_proxies=("10.0.0.0/8",),
    )
    with TestClient(create_app(trusting, clock=clock), client=(PEER, 5000)) as test_client:
        yield test_client


@pytest.fixture
def direct(settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    """The app with default settings (no trusted proxy), reached from 10.0.0.2."""
    with TestClient(create_app(settings, clock=clock), client=(PEER, 5000)) as test_client:
        yield test_client


def _services(client: TestClient) -> Services:
    svc: Services = client.app.state.services  # type: ignore[attr-defined]
    return svc


def _site(client: TestClient) -> NewSecret:
    svc = _services(client)
    return make_site(svc.registry, svc.clock.now_ms())


def token_ip(client: TestClient, forwarded: dict[str, str]) -> str:
    """The client IP sealed into a token redeemed with `forwarded` headers on every call."""
    site = _site(client)
    client.headers.update(forwarded)
    token = tokens.unseal(get_token(client, site.site.sitekey), _services(client).keys.current())
    assert token is not None
    return token.client_ip


def test_forged_header_from_untrusted_peer_changes_nothing(direct: TestClient) -> None:
    """By default a visitor's X-Forwarded-For and Forwarded are ignored: the peer is sealed."""
    forged = {"X-Forwarded-For": "8.8.8.8", "Forwarded": "for=8.8.8.8"}
    assert token_ip(direct, forged) == PEER


def test_trusted_proxy_header_names_the_client(proxied: TestClient) -> None:
    """Through a trusted proxy the header's rightmost untrusted address is sealed."""
    assert token_ip(proxied, {"X-Forwarded-For": "1.2.3.4, 198.51.100.7"}) == "198.51.100.7"


def test_trusted_proxy_forwarded_header(proxied: TestClient) -> None:
    """RFC 7239 Forwarded with a quoted IPv6 address and port works the same way."""
    assert token_ip(proxied, {"Forwarded": 'for="[2001:db8::7]:4711"'}) == "2001:db8::7"


def test_trusted_proxy_without_header_is_the_client(proxied: TestClient) -> None:
    """A trusted peer that sends no forwarding header is itself the client."""
    assert token_ip(proxied, {}) == PEER


def zencaptcha_country(client: TestClient, forwarded: dict[str, str]) -> object:
    site = _site(client)
    client.headers.update(forwarded)
    token = get_token(client, site.site.sitekey)
    got = client.post("/captcha/siteverify", data={"secret": site.secret, "response": token})
    assert got.json()["success"] is True, got.text
    return got.json()["countrycode"]


def test_known_public_ip_through_trusted_proxy_has_its_country(proxied: TestClient) -> None:
    """8.8.8.8 behind a trusted proxy gives zencaptcha's countrycode US."""
    assert zencaptcha_country(proxied, {"X-Forwarded-For": "8.8.8.8"}) == "US"


def test_forged_public_ip_from_untrusted_peer_has_no_country(direct: TestClient) -> None:
    """The same header from an untrusted peer leaves the private peer's XX."""
    assert zencaptcha_country(direct, {"X-Forwarded-For": "8.8.8.8"}) == "XX"


# -- a real server ---------------------------------------------------------------------


@contextmanager
def serving(tmp_path: Path, *args: str, **env: str) -> Iterator[tuple[Server, dict[str, Any]]]:
    """A real `authkong serve ARGS` with a cheap site, its environment without any trusted
    proxy but with `env`; the server and the site."""
    data_dir = tmp_path / "data"
    site = create_site(data_dir)
    port = free_port()
    environ = {k: v for k, v in os.environ.items() if k != TRUSTED_PROXIES_ENV} | env
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [*AUTHKONG, "serve", "--host", HOST, "--port", str(port), *args,
             "--data-dir", str(data_dir)],
            stdout=stdout, stderr=stderr, stdin=subprocess.DEVNULL, env=environ,
            start_new_session=True,
        )  # fmt: skip
    server = Server(process, f"http://{HOST}:{port}", port, data_dir, out, err)
    try:
        wait_healthy(server)
        yield server, site
    finally:
        server.stop()


def forged_visit(server: Server, site: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """A token fetched and verified (zencaptcha) with X-Forwarded-For 8.8.8.8 and
    X-Forwarded-Proto https; the answer, and the name of the dashboard's pre-session
    cookie (`__Host-` only when the request counts as https)."""
    forged = {"X-Forwarded-For": "8.8.8.8", "X-Forwarded-Proto": "https"}
    with httpx.Client(headers=forged, timeout=10) as client:
        token = fetch_token(client, server.base_url, site["sitekey"])
        got = client.post(
            f"{server.base_url}/captcha/siteverify",
            data={"secret": site["secret"], "response": token, "email": "mailinator.com"},
        ).json()
        client.get(f"{server.base_url}/admin/login", headers={"Host": "localhost"})
        cookies = list(client.cookies.keys())
    assert got["success"] is True, got
    assert len(cookies) == 1, cookies
    return got, cookies[0]


@pytest.mark.server
def test_serve_trusted_proxy_option_reaches_the_workers(tmp_path: Path) -> None:
    """`serve --trusted-proxy 127.0.0.0/8` makes a real worker read X-Forwarded-For (the
    client's country) and X-Forwarded-Proto (the dashboard's https cookies)."""
    with serving(tmp_path, "--trusted-proxy", "127.0.0.0/8") as (server, site):
        got, cookie = forged_visit(server, site)
    assert got["countrycode"] == "US"
    assert got["emailvalid"] == "disposable_email"
    assert cookie == "__Host-authkong_presession"


@pytest.mark.server
def test_serve_trusts_no_forwarded_header_by_default(tmp_path: Path) -> None:
    """Without --trusted-proxy a real server ignores X-Forwarded-For and X-Forwarded-Proto,
    even from loopback, where uvicorn trusts them by default, and even with uvicorn's own
    FORWARDED_ALLOW_IPS set: the forged address gets no country, the request stays http."""
    with serving(tmp_path, FORWARDED_ALLOW_IPS="*") as (server, site):
        got, cookie = forged_visit(server, site)
        warned = server.stderr_path.read_text()
    assert got["countrycode"] != "US"
    assert cookie == "authkong_presession"
    assert "FORWARDED_ALLOW_IPS is ignored" in warned
