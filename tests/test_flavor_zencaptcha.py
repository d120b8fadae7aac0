"""zencaptcha siteverify: POST /captcha/siteverify, `success` and `message` values."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import dns.resolver
import email_validator
import pytest
from starlette.testclient import TestClient

from authkong.api.services import Services
from authkong.app import create_app
from authkong.config import Settings
from authkong.domain import risk
from authkong.domain.clock import FakeClock
from authkong.lookup import email as email_module
from authkong.storage.registry import NewSecret
from tests.support import IN_PROCESS, get_token, make_site

URL = "/captcha/siteverify"
# The test client's address, 203.0.113.7, is a documentation address: no country.
VALID = {
    "success": True,
    "message": "valid",
    "fraudscore": IN_PROCESS.fraudscore,
    "countrycode": "XX",
    "emailvalid": "none",
}


def failure(message: str) -> dict[str, object]:
    return {"success": False, "message": message}


def test_form_success(client: TestClient, site: NewSecret) -> None:
    """A form POST (what the WordPress plugin sends) answers success, "valid" and the extras."""
    token = get_token(client, site.site.sitekey)
    got = client.post(
        URL, data={"secret": site.secret, "response": token, "email": "a@example.com"}
    )
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/json"
    assert got.json() == {**VALID, "emailvalid": "valid_email"}


@pytest.mark.parametrize(
    ("email", "emailvalid"),
    [
        ("someone@mailinator.com", "disposable_email"),
        ("mailinator.com", "disposable_email"),  # a bare domain, for privacy
        ("xxx@inbox.mailinator.com", "disposable_email"),
        ("example.com", "valid_email"),
        ("not an address", "invalid_email"),
        ("", "none"),
    ],
)
def test_emailvalid(client: TestClient, site: NewSecret, email: str, emailvalid: str) -> None:
    """The optional `email` (form or JSON) gives emailvalid, offline."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, json={"secret": site.secret, "response": token, "email": email})
    # A disposable address also counts against the visitor (docs/risk.md).
    disposable = risk.Signals(disposable_email=emailvalid == "disposable_email")
    fraudscore = risk.combine(IN_PROCESS, disposable).fraudscore
    assert got.json() == {**VALID, "emailvalid": emailvalid, "fraudscore": fraudscore}


def test_failure_has_no_extras(client: TestClient, site: NewSecret) -> None:
    """A rejection carries only success and message, whatever `email` says."""
    got = client.post(URL, data={"secret": site.secret, "response": "x", "email": "a@b.com"})
    assert got.json() == failure("invalid_solution")


def test_json_success(client: TestClient, site: NewSecret) -> None:
    """A JSON body verifies too."""
    token = get_token(client, site.site.sitekey)
    assert client.post(URL, json={"secret": site.secret, "response": token}).json() == VALID


def test_multipart_success(client: TestClient, site: NewSecret) -> None:
    """A multipart body verifies too."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, files={"secret": (None, site.secret), "response": (None, token)})
    assert got.json() == VALID


def test_get_not_allowed(client: TestClient, site: NewSecret) -> None:
    """GET fails with 405 and a JSON bad_request body, and does not spend the token."""
    token = get_token(client, site.site.sitekey)
    got = client.get(URL, params={"secret": site.secret, "response": token})
    assert got.status_code == 405
    assert got.headers["content-type"] == "application/json"
    assert got.json() == failure("bad_request")
    assert client.post(URL, data={"secret": site.secret, "response": token}).json() == VALID


def test_reused_is_timeout_or_duplicate(client: TestClient, site: NewSecret) -> None:
    """A second verification of one token: timeout_or_duplicate."""
    token = get_token(client, site.site.sitekey)
    assert client.post(URL, data={"secret": site.secret, "response": token}).json() == VALID
    got = client.post(URL, data={"secret": site.secret, "response": token})
    assert got.json() == failure("timeout_or_duplicate")


def test_expired_is_timeout_or_duplicate(
    client: TestClient, site: NewSecret, clock: FakeClock
) -> None:
    """A token past its lifetime: timeout_or_duplicate."""
    token = get_token(client, site.site.sitekey)
    clock.advance(300)
    got = client.post(URL, data={"secret": site.secret, "response": token})
    assert got.json() == failure("timeout_or_duplicate")


def test_invalid_solution(client: TestClient, site: NewSecret) -> None:
    """A forged solution: invalid_solution."""
    got = client.post(URL, data={"secret": site.secret, "response": "sig.Y2hhbGxlbmdl.x"})
    assert got.json() == failure("invalid_solution")


def test_solution_of_another_site(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """A solution issued for another site: invalid_solution."""
    other = make_site(services.registry, clock.now_ms(), name="Other")
    token = get_token(client, other.site.sitekey)
    got = client.post(URL, data={"secret": site.secret, "response": token})
    assert got.json() == failure("invalid_solution")


def test_invalid_secret(client: TestClient, site: NewSecret) -> None:
    """A secret no site holds: invalid_secret."""
    token = get_token(client, site.site.sitekey)
    got = client.post(URL, data={"secret": "not-a-secret", "response": token})
    assert got.json() == failure("invalid_secret")


def test_missing_secret(client: TestClient, site: NewSecret) -> None:
    """No secret: missing_secret (also when the solution is missing too)."""
    token = get_token(client, site.site.sitekey)
    assert client.post(URL, data={"response": token}).json() == failure("missing_secret")
    assert client.post(URL, data={}).json() == failure("missing_secret")


def test_missing_solution(client: TestClient, site: NewSecret) -> None:
    """No response: missing_solution."""
    got = client.post(URL, data={"secret": site.secret, "response": ""})
    assert got.json() == failure("missing_solution")


def test_bad_request(client: TestClient) -> None:
    """An unreadable body: bad_request with HTTP 200 (the plugins fail open on other statuses)."""
    got = client.post(
        URL, content=b"secret=%E9", headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert got.status_code == 200
    assert got.json() == failure("bad_request")


@contextmanager
def verifying_an_email(
    settings: Settings, clock: FakeClock, dns_timeout_s: int
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """An app with the email DNS check at `dns_timeout_s`, and a siteverify form for a
    fresh token with the address someone@example.com."""
    checked = replace(settings, email_dns_timeout_s=dns_timeout_s)
    with TestClient(create_app(checked, clock=clock)) as client:
        site = make_site(client.app.state.services.registry, clock.now_ms())  # type: ignore[attr-defined]
        token = get_token(client, site.site.sitekey)
        yield client, {"secret": site.secret, "response": token, "email": "someone@example.com"}


def test_email_dns_check_is_opt_in(
    settings: Settings, clock: FakeClock, nxdomain_dns: list[int]
) -> None:
    """AUTHKONG_EMAIL_DNS_TIMEOUT_S turns the domain check on: a domain without mail is
    invalid_email; the default asks no resolver at all."""
    for dns_timeout_s, expected in ((0, "valid_email"), (2, "invalid_email")):
        with verifying_an_email(settings, clock, dns_timeout_s) as (client, form):
            assert client.post(URL, data=form).json()["emailvalid"] == expected
    assert nxdomain_dns == [2]


class _CountingResolver:
    """Every name is NXDOMAIN; remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def resolve(self, name: str, *_args: object, **_kwargs: object) -> object:
        self.asked.append(str(name))
        raise dns.resolver.NXDOMAIN


@pytest.fixture
def dns_on(
    settings: Settings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, NewSecret, _CountingResolver]]:
    """An app with the email DNS check on (2 s), a site, and the resolver it asks."""
    resolver = _CountingResolver()
    monkeypatch.setattr(email_validator, "caching_resolver", lambda **_: resolver)
    email_module._resolver.cache_clear()
    checked = replace(settings, email_dns_timeout_s=2)
    with TestClient(create_app(checked, clock=clock)) as client:
        site = make_site(client.app.state.services.registry, clock.now_ms())  # type: ignore[attr-defined]
        yield client, site, resolver
    email_module._resolver.cache_clear()


def test_no_dns_lookup_for_a_failed_verification(
    dns_on: tuple[TestClient, NewSecret, _CountingResolver],
) -> None:
    """The domain is resolved only after the secret and the token check out: a caller
    without both cannot make AuthKong look up domains of its choosing. Failures answer
    as always, with success and message only."""
    client, site, resolver = dns_on
    token = get_token(client, site.site.sitekey)
    spent = get_token(client, site.site.sitekey)
    assert client.post(URL, data={"secret": site.secret, "response": spent}).json() == VALID
    for form, message in [
        ({"secret": "wrong", "response": token}, "invalid_secret"),
        ({"response": token}, "missing_secret"),
        ({"secret": site.secret, "response": "garbage"}, "invalid_solution"),
        ({"secret": site.secret, "response": spent}, "timeout_or_duplicate"),
    ]:
        got = client.post(URL, data={**form, "email": "x@attacker.example"})
        assert got.json() == failure(message)
    assert resolver.asked == []
    form = {"secret": site.secret, "response": token, "email": "x@attacker.example"}
    assert client.post(URL, data=form).json()["emailvalid"] == "invalid_email"
    assert resolver.asked  # the same address, verified, is looked up


def test_a_disposable_address_needs_no_dns_lookup(
    dns_on: tuple[TestClient, NewSecret, _CountingResolver],
) -> None:
    """The disposable list is offline and decides alone: no lookup, disposable_email."""
    client, site, resolver = dns_on
    token = get_token(client, site.site.sitekey)
    form = {"secret": site.secret, "response": token, "email": "x@mailinator.com"}
    assert client.post(URL, data=form).json()["emailvalid"] == "disposable_email"
    assert resolver.asked == []


def test_a_hanging_resolver_delays_siteverify_at_most_the_timeout(
    settings: Settings, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS that never answers: siteverify still answers after the timeout (1 s), the
    address valid, as when the resolver times out."""
    release = threading.Event()

    class Hanging:
        def resolve(self, *_args: object, **_kwargs: object) -> object:
            release.wait(10)
            raise dns.resolver.NXDOMAIN

    monkeypatch.setattr(email_validator, "caching_resolver", lambda **_: Hanging())
    email_module._resolver.cache_clear()
    try:
        with verifying_an_email(settings, clock, 1) as (client, form):
            started = time.monotonic()
            got = client.post(URL, data=form).json()
            assert time.monotonic() - started < 2
            assert got == {**VALID, "emailvalid": "valid_email"}
    finally:
        release.set()
        email_module._resolver.cache_clear()


def test_email_dns_timeout_is_bounded() -> None:
    """A timeout beyond 10 s (siteverify waits for it) is refused at start-up."""
    with pytest.raises(ValueError, match="email DNS timeout"):
        Settings(email_dns_timeout_s=11)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("AUTHKONG_EMAIL_DNS_TIMEOUT_S", "soon", "AUTHKONG_EMAIL_DNS_TIMEOUT_S must be a whole"),
        ("AUTHKONG_EMAIL_DNS_TIMEOUT_S", "60", r"\(AUTHKONG_EMAIL_DNS_TIMEOUT_S\) must be 0"),
        ("AUTHKONG_ASSUMED_HASH_RATE", "fast", "AUTHKONG_ASSUMED_HASH_RATE must be a number"),
    ],
)
def test_a_bad_environment_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    """`authkong serve` shows this message, so it must say which variable is wrong."""
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=message):
        Settings()
