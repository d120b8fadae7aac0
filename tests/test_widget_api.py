"""The widget's API: POST /api/v1/challenge and /api/v1/redeem, every WIDGET_ERRORS code."""

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from authkong.api.errors import WIDGET_ERRORS
from authkong.api.services import Services
from authkong.app import create_app
from authkong.config import Settings
from authkong.domain.clock import FakeClock
from authkong.domain.pow import check_solution
from authkong.storage.registry import NewSecret
from tests.support import CHEAP, get_challenge, get_token, make_site, solve_challenge

CHALLENGE = "/api/v1/challenge"
REDEEM = "/api/v1/redeem"


# Starting an app per table-driven case would dominate the suite's run time; the cases
# on the shared app neither move its clock nor change its sites.
@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, NewSecret]]:
    """One app and one site shared by this module's table-driven cases."""
    clock = FakeClock()
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("widget")), clock=clock)
    with TestClient(app, client=("203.0.113.7", 50000)) as test_client:
        yield test_client, make_site(app.state.services.registry, clock.now_ms())


def assert_error(got: Any, code: str) -> None:
    error = WIDGET_ERRORS[code]
    assert (got.status_code, got.json()) == (
        error.status,
        {"error_code": code, "message": error.message},
    )


def redeem(client: TestClient, challenge: dict[str, Any], nonces: list[int] | None = None) -> Any:
    nonces = solve_challenge(challenge) if nonces is None else nonces
    return client.post(REDEEM, json={"challenge": challenge["challenge"], "nonces": nonces})


def verified_hostname(client: TestClient, site: NewSecret, token: str) -> str:
    body = client.post("/api/siteverify", data={"secret": site.secret, "response": token}).json()
    assert body["success"] is True, body
    hostname: str = body["hostname"]
    return hostname


def test_challenge_shape(client: TestClient, site: NewSecret, clock: FakeClock) -> None:
    """A challenge carries its seed, k, target, cost and expiry, and is not cached."""
    got = client.post(CHALLENGE, json={"sitekey": site.site.sitekey, "hostname": "example.com"})
    assert got.status_code == 200
    assert got.headers["cache-control"] == "no-store"
    body = got.json()
    assert set(body) == {
        "challenge",
        "seed",
        "k",
        "target",
        "expected_hashes",
        "expires_at",
        "reason",
    }
    assert len(bytes.fromhex(body["seed"])) == 32
    assert (body["k"], body["target"]) == (CHEAP.k, CHEAP.target)
    assert body["expected_hashes"] == CHEAP.expected_hashes
    assert body["expires_at"] == clock.now_ms() + 300_000
    assert body["reason"] == "base"


def test_challenge_accepts_form_and_multipart(client: TestClient, site: NewSecret) -> None:
    """The challenge endpoint reads urlencoded and multipart bodies as well as JSON."""
    form = {"sitekey": site.site.sitekey, "hostname": "example.com"}
    assert client.post(CHALLENGE, data=form).status_code == 200
    assert client.post(CHALLENGE, files={k: (None, v) for k, v in form.items()}).status_code == 200


def test_redeem_success(client: TestClient, site: NewSecret) -> None:
    """A correct solution yields a token and its lifetime, not cached."""
    got = redeem(client, get_challenge(client, site.site.sitekey))
    assert got.status_code == 200
    assert got.headers["cache-control"] == "no-store"
    body = got.json()
    assert set(body) == {"token", "expires_in"}
    assert body["expires_in"] == 300
    assert 0 < len(body["token"]) <= 2048


def test_missing_sitekey(client: TestClient) -> None:
    """No sitekey (absent or empty): missing_sitekey, 400."""
    assert_error(client.post(CHALLENGE, json={"hostname": "example.com"}), "missing_sitekey")
    assert_error(
        client.post(CHALLENGE, json={"sitekey": "", "hostname": "example.com"}), "missing_sitekey"
    )


def test_invalid_sitekey(client: TestClient) -> None:
    """A sitekey that is not registered: invalid_sitekey, 400."""
    got = client.post(CHALLENGE, json={"sitekey": "ak_unknown", "hostname": "example.com"})
    assert_error(got, "invalid_sitekey")


def test_missing_hostname(client: TestClient, site: NewSecret) -> None:
    """No hostname field, no Origin, no Referer: missing_hostname, 400."""
    assert_error(client.post(CHALLENGE, json={"sitekey": site.site.sitekey}), "missing_hostname")


def test_unusable_origin_and_referer(client: TestClient, site: NewSecret) -> None:
    """An opaque Origin ("null") and a Referer without a host give missing_hostname."""
    headers = {"origin": "null", "referer": "about:blank"}
    got = client.post(CHALLENGE, json={"sitekey": site.site.sitekey}, headers=headers)
    assert_error(got, "missing_hostname")


def test_hostname_from_origin(client: TestClient, site: NewSecret) -> None:
    """Without a hostname field the Origin header's host is used, and lands in the token."""
    headers = {"origin": "https://Shop.Example.org:8443", "referer": "https://evil.test/"}
    token = get_token_with_headers(client, site, headers)
    assert verified_hostname(client, site, token) == "shop.example.org"


def test_hostname_from_referer(client: TestClient, site: NewSecret) -> None:
    """Without a hostname field or Origin, the Referer header's host is used."""
    token = get_token_with_headers(client, site, {"referer": "https://example.com/contact?x=1"})
    assert verified_hostname(client, site, token) == "example.com"


def test_hostname_from_referer_when_origin_is_null(client: TestClient, site: NewSecret) -> None:
    """An opaque Origin ("null") falls through to the Referer."""
    token = get_token_with_headers(
        client, site, {"origin": "null", "referer": "http://a.example.org/"}
    )
    assert verified_hostname(client, site, token) == "a.example.org"


def test_hostname_field_beats_headers(client: TestClient, site: NewSecret) -> None:
    """The widget's explicit hostname wins over the Origin header."""
    got = client.post(
        CHALLENGE,
        json={"sitekey": site.site.sitekey, "hostname": "other.test"},
        headers={"origin": "https://example.com"},
    )
    assert_error(got, "hostname_not_allowed")


def test_origin_not_allowed(client: TestClient, site: NewSecret) -> None:
    """An Origin outside the site's domains: hostname_not_allowed, 403."""
    got = client.post(
        CHALLENGE, json={"sitekey": site.site.sitekey}, headers={"origin": "https://evil.test"}
    )
    assert_error(got, "hostname_not_allowed")


def get_token_with_headers(client: TestClient, site: NewSecret, headers: dict[str, str]) -> str:
    got = client.post(CHALLENGE, json={"sitekey": site.site.sitekey}, headers=headers)
    assert got.status_code == 200, got.text
    redeemed = redeem(client, got.json())
    assert redeemed.status_code == 200, redeemed.text
    token: str = redeemed.json()["token"]
    return token


@pytest.mark.parametrize(
    "hostname",
    ["example.com", "EXAMPLE.com.", " example.com ", "a.example.org", "a.b.example.org"],
)
def test_hostname_allowed(shared: tuple[TestClient, NewSecret], hostname: str) -> None:
    """Exact domains (any case, trailing dot) and any depth under a wildcard are allowed."""
    client, site = shared
    got = client.post(CHALLENGE, json={"sitekey": site.site.sitekey, "hostname": hostname})
    assert got.status_code == 200, got.text


@pytest.mark.parametrize(
    "hostname",
    [
        "example.org",  # a wildcard does not cover its apex
        "badexample.org",
        "example.org.evil.test",
        "www.example.com",  # an exact domain does not cover subdomains
        "example.com.evil.test",
        "evil.test",
        "a." * 125 + "example.org",  # longer than 253 characters
    ],
)
def test_hostname_not_allowed(shared: tuple[TestClient, NewSecret], hostname: str) -> None:
    """Hostnames outside the rules, or too long: hostname_not_allowed, 403."""
    client, site = shared
    got = client.post(CHALLENGE, json={"sitekey": site.site.sitekey, "hostname": hostname})
    assert_error(got, "hostname_not_allowed")


@pytest.mark.parametrize(
    "extra",
    [
        {"action": "a" * 33},
        {"action": "log in"},
        {"action": "login\n"},
        {"action": "caf\u00e9"},
        {"action": "a.b"},
        {"cdata": "c" * 256},
        {"cdata": "x/y"},
        {"cdata": "ok\n"},
        {"mode": "bogus"},
        {"mode": "Score"},
    ],
    ids=lambda extra: repr(extra)[:30],
)
def test_invalid_parameter(shared: tuple[TestClient, NewSecret], extra: dict[str, str]) -> None:
    """An action, cdata or mode that is too long or has odd characters: invalid_parameter, 400."""
    client, site = shared
    got = client.post(
        CHALLENGE, json={"sitekey": site.site.sitekey, "hostname": "example.com", **extra}
    )
    assert_error(got, "invalid_parameter")


def test_parameters_at_their_limits(client: TestClient, site: NewSecret) -> None:
    """A 32-character action (with reCAPTCHA's "/"), a 255-character cdata, each mode."""
    for mode in ("", "checkbox", "invisible", "score"):
        get_challenge(
            client, site.site.sitekey, action="A-z_9/" + "a" * 26, cdata="c" * 255, mode=mode
        )


@pytest.mark.parametrize("text", ["", "garbage", "a.b", "a.b.c", "\u00e9.x", "x" * 2049])
def test_invalid_challenge(shared: tuple[TestClient, NewSecret], text: str) -> None:
    """A challenge this server did not issue: invalid_challenge, 400 (too long: malformed_body)."""
    client, _ = shared
    got = client.post(REDEEM, json={"challenge": text, "nonces": [1, 2, 3, 4]})
    assert_error(got, "malformed_body" if len(text) > 2048 else "invalid_challenge")


def test_tampered_challenge(client: TestClient, site: NewSecret) -> None:
    """A challenge with one character changed does not authenticate: invalid_challenge."""
    challenge = get_challenge(client, site.site.sitekey)
    text = challenge["challenge"]
    head, _, mac = text.partition(".")
    flipped = head[:-6] + ("A" if head[-6] != "A" else "B") + head[-5:]
    got = client.post(
        REDEEM, json={"challenge": f"{flipped}.{mac}", "nonces": solve_challenge(challenge)}
    )
    assert_error(got, "invalid_challenge")


def test_challenge_expired(client: TestClient, site: NewSecret, clock: FakeClock) -> None:
    """Redeeming at the challenge's expiry: challenge_expired, 410; a ms earlier it works."""
    late, early = get_challenge(client, site.site.sitekey), get_challenge(client, site.site.sitekey)
    clock.advance(299.999)
    assert redeem(client, early).status_code == 200
    clock.advance(0.001)
    assert_error(redeem(client, late), "challenge_expired")


def wrong_nonces(challenge: dict[str, Any]) -> list[int]:
    seed = bytes.fromhex(challenge["seed"])
    nonces = solve_challenge(challenge)
    nonces[-1] = next(
        n for n in range(10**6) if not check_solution(seed, [n], 1, challenge["target"])
    )
    return nonces


@pytest.mark.parametrize("how", ["wrong", "too-few", "too-many", "repeated", "negative", "huge"])
def test_invalid_solution(shared: tuple[TestClient, NewSecret], how: str) -> None:
    """Nonces that do not solve it: invalid_solution, 400, and the challenge stays usable."""
    client, site = shared
    challenge = get_challenge(client, site.site.sitekey)
    good = solve_challenge(challenge)
    bad = {
        "wrong": wrong_nonces(challenge),
        "too-few": good[:-1],
        "too-many": [*good, max(good) + 1],
        "repeated": [good[0]] * len(good),
        "negative": [*good[:-1], -1],
        "huge": [*good[:-1], 2**64],
    }[how]
    assert_error(redeem(client, challenge, bad), "invalid_solution")
    assert redeem(client, challenge, good).status_code == 200


def test_challenge_already_redeemed(client: TestClient, site: NewSecret) -> None:
    """A second redemption of one challenge: challenge_already_redeemed, 409."""
    challenge = get_challenge(client, site.site.sitekey)
    assert redeem(client, challenge).status_code == 200
    assert_error(redeem(client, challenge), "challenge_already_redeemed")


def test_payload_too_large(client: TestClient, site: NewSecret) -> None:
    """Bodies over the 16 kB limit: payload_too_large, 413, on both endpoints."""
    big = {"sitekey": site.site.sitekey, "hostname": "example.com", "pad": "x" * 20_000}
    assert_error(client.post(CHALLENGE, json=big), "payload_too_large")
    assert_error(
        client.post(REDEEM, json={"challenge": "x" * 20_000, "nonces": []}), "payload_too_large"
    )


def test_payload_too_large_chunked(client: TestClient, site: NewSecret) -> None:
    """A chunked body without Content-Length is cut off at the limit too."""

    def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 1024

    got = client.post(REDEEM, content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in got.request.headers
    assert_error(got, "payload_too_large")


def test_unsupported_media_type(client: TestClient, site: NewSecret) -> None:
    """Redeem takes JSON only; the challenge endpoint refuses unknown types: 415."""
    challenge = get_challenge(client, site.site.sitekey)
    got = client.post(REDEEM, data={"challenge": challenge["challenge"], "nonces": "1"})
    assert_error(got, "unsupported_media_type")
    got = client.post(CHALLENGE, content=b"<sitekey/>", headers={"content-type": "application/xml"})
    assert_error(got, "unsupported_media_type")


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b'"challenge"',
        b"\xff\xfe",
        b'{"challenge": 5, "nonces": []}',
        b'{"challenge": "a.b"}',
        b'{"challenge": "a.b", "nonces": "1,2"}',
        b'{"challenge": "a.b", "nonces": [1.5]}',
        b'{"challenge": "a.b", "nonces": [true]}',
        b'{"challenge": "a.b", "nonces": ["1"]}',
        b'{"challenge": "a.b", "nonces": [' + b"1," * 64 + b"1]}",
        b"[" * 5000 + b"]" * 5000,
    ],
    ids=lambda body: body[:24].decode("latin-1"),
)
def test_malformed_redeem_body(shared: tuple[TestClient, NewSecret], body: bytes) -> None:
    """Redeem bodies that are not a well-typed JSON object: malformed_body, 400."""
    client, _ = shared
    got = client.post(REDEEM, content=body, headers={"content-type": "application/json"})
    assert_error(got, "malformed_body")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"sitekey": ', "application/json"),
        (b'["sitekey"]', "application/json"),
        (b'{"sitekey": ["ak_x"]}', "application/json"),
        (b"sitekey=%E9", "application/x-www-form-urlencoded"),
        (b"sitekey=a%zz", "application/x-www-form-urlencoded"),
        (b"sitekey=\xff", "application/x-www-form-urlencoded"),
        (b"--nope\r\n", "multipart/form-data; boundary=b"),
    ],
)
def test_malformed_challenge_body(
    shared: tuple[TestClient, NewSecret], body: bytes, content_type: str
) -> None:
    """Challenge bodies that cannot be parsed: malformed_body, 400."""
    client, _ = shared
    got = client.post(CHALLENGE, content=body, headers={"content-type": content_type})
    assert_error(got, "malformed_body")


def test_site_created_after_start(client: TestClient, services: Services, clock: FakeClock) -> None:
    """A site created while the app runs is usable at once, through to siteverify."""
    assert_error(
        client.post(CHALLENGE, json={"sitekey": "ak_x", "hostname": "example.com"}),
        "invalid_sitekey",
    )
    late = make_site(services.registry, clock.now_ms(), domains=("late.test",), name="Late")
    token = get_token(client, late.site.sitekey, "late.test")
    assert verified_hostname(client, late, token) == "late.test"


def test_domains_change_seen_at_once(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """Editing a site's domains takes effect on the next challenge."""
    get_challenge(client, site.site.sitekey, "example.com")
    services.registry.update_site(site.site.sitekey, now_ms=clock.now_ms(), domains=("new.test",))
    got = client.post(CHALLENGE, json={"sitekey": site.site.sitekey, "hostname": "example.com"})
    assert_error(got, "hostname_not_allowed")
    get_challenge(client, site.site.sitekey, "new.test")


def test_deleted_site_challenge_cannot_be_redeemed(
    client: TestClient, site: NewSecret, services: Services
) -> None:
    """A challenge issued before its site was deleted: invalid_sitekey on redeem."""
    challenge = get_challenge(client, site.site.sitekey)
    services.registry.delete_site(site.site.sitekey)
    assert_error(redeem(client, challenge), "invalid_sitekey")
    got = client.post(CHALLENGE, json={"sitekey": site.site.sitekey, "hostname": "example.com"})
    assert_error(got, "invalid_sitekey")


def test_wrong_methods(client: TestClient) -> None:
    """GET on the widget endpoints: 405 with a JSON body."""
    for path in (CHALLENGE, REDEEM):
        got = client.get(path)
        assert got.status_code == 405
        assert got.json()["error_code"] == "method_not_allowed"


def test_every_widget_code_has_a_client_error_status() -> None:
    """Every widget error but the server's own failure is a 4xx with a sentence for a message."""
    for error in WIDGET_ERRORS.values():
        expected_5xx = error.code == "service_unavailable"
        assert (error.status == 503) if expected_5xx else (400 <= error.status < 500), error
        assert error.message.endswith("."), error
