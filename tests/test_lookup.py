"""Offline look-ups: the country of an IP address and the kind of an email address."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import anyio
import dns.exception
import dns.resolver
import email_validator
import pytest
from hypothesis import given
from hypothesis import strategies as st

import authkong.lookup
from authkong.lookup import check_email, country_of
from authkong.lookup import email as email_module
from authkong.lookup.email import check_email_dns

# -- country ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip", "country"),
    [
        ("8.8.8.8", "US"),  # Google Public DNS
        ("1.1.1.1", "AU"),  # APNIC's research prefix, lent to Cloudflare: registered in AU
        ("81.2.69.160", "GB"),
        ("2001:4860:4860::8888", "US"),
        ("::ffff:8.8.8.8", "US"),  # an IPv4 peer as a dual-stack socket reports it
    ],
)
def test_public_addresses_have_their_registered_country(ip: str, country: str) -> None:
    """Public IPv4 and IPv6 addresses give the country the registries list for them."""
    assert country_of(ip) == country


@pytest.mark.parametrize(
    "ip",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "127.0.0.1",
        "::1",
        "0.0.0.0",  # noqa: S104  (an address under test, not a bind)
        "100.64.0.1",
        "169.254.1.1",
        "192.0.2.1",
        "203.0.113.7",
        "224.0.0.1",
        "255.255.255.255",
        "fe80::1",
        "fc00::1",
        "2001:db8::1",
        "::ffff:10.0.0.1",
    ],
)
def test_non_public_addresses_are_xx(ip: str) -> None:
    """Private, loopback, link-local, reserved and documentation addresses give XX."""
    assert country_of(ip) == "XX"


@pytest.mark.parametrize(
    "text",
    ["", "garbage", "8.8.8.8:53", " 8.8.8.8", "[2001:4860:4860::8888]", "8.8.8", "\ud800", "é"],
)
def test_unparsable_input_is_xx(text: str) -> None:
    """Anything that is not exactly an IP address gives XX, surrogates included."""
    assert country_of(text) == "XX"


def test_non_string_is_xx() -> None:
    """A value of the wrong type gives XX instead of raising."""
    assert country_of(None) == "XX"  # type: ignore[arg-type]


@given(st.one_of(st.text(max_size=60), st.ip_addresses().map(str)))
def test_country_is_always_two_upper_case_letters(text: str) -> None:
    """For any text or address, the answer is two ASCII upper-case letters, never an error."""
    code = country_of(text)
    assert len(code) == 2
    assert code.isascii()
    assert code.isupper()


def test_public_surface() -> None:
    """The package exports exactly its documented names."""
    assert set(authkong.lookup.__all__) == {
        "UNKNOWN_COUNTRY",
        "EmailStatus",
        "check_email",
        "country_of",
    }


# -- email -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   "])
def test_no_address_is_none(value: str | None) -> None:
    """A missing or blank `email` is "none"."""
    assert check_email(value) == "none"


@pytest.mark.parametrize(
    "value",
    ["someone@example.com", "First.Last+tag@Sub.Example.CO.UK", "x@bücher.example", "example.com"],
)
def test_valid_addresses(value: str) -> None:
    """Well-formed addresses, internationalized domains and a bare domain are valid."""
    assert check_email(value) == "valid_email"


@pytest.mark.parametrize(
    "value",
    [
        "someone",
        "a@b",
        "a@@example.com",
        "@example.com",
        "a@",
        "a b@example.com",
        "Someone <a@example.com>",
        "a@localhost",
        "a@[192.0.2.1]",
        "a@example..com",
        "a@-example.com",
        "a@" + "x" * 600 + ".com",
        "\ud800@example.com",
    ],
)
def test_invalid_addresses(value: str) -> None:
    """Malformed addresses, display names, special-use domains and IP literals are invalid."""
    assert check_email(value) == "invalid_email"


@pytest.mark.parametrize(
    "value",
    [
        "someone@mailinator.com",
        "Someone@MAILINATOR.COM",
        "someone@team.mailinator.com",  # a subdomain of a listed domain
        "someone@a.b.mailinator.com",
        "mailinator.com",  # a bare domain, as zencaptcha accepts
        "xxx@guerrillamail.com",
    ],
)
def test_disposable_addresses(value: str) -> None:
    """A listed domain, in any case, or any subdomain of one, is disposable."""
    assert check_email(value) == "disposable_email"


def test_lookalike_domain_is_not_disposable() -> None:
    """Only whole labels match: a domain that merely ends in a listed name's text is valid."""
    assert check_email("someone@xmailinator.com") == "valid_email"


def _no_network(*_args: Any, **_kwargs: Any) -> Any:
    raise AssertionError("the default email check must not resolve anything")


def test_default_makes_no_dns_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """By default a domain that cannot resolve is valid, and nothing is asked of DNS."""
    monkeypatch.setattr(dns.resolver.Resolver, "resolve", _no_network)
    monkeypatch.setattr(socket, "getaddrinfo", _no_network)
    assert check_email("someone@no-such-domain.authkong-test.example") == "valid_email"


def test_dns_check_has_a_short_timeout_and_rejects_missing_domains(
    nxdomain_dns: list[int],
) -> None:
    """check_dns asks a resolver built with the given timeout; NXDOMAIN is invalid_email."""
    assert check_email("someone@example.com", check_dns=True, dns_timeout_s=1) == "invalid_email"
    assert nxdomain_dns == [1]
    assert check_email("someone@example.com") == "valid_email"


@given(st.one_of(st.none(), st.text(max_size=80), st.emails().map(str)))
def test_email_check_never_raises(value: str | None) -> None:
    """Any input gives one of the four documented answers."""
    assert check_email(value) in {"none", "invalid_email", "disposable_email", "valid_email"}


# -- the DNS check's deadline ----------------------------------------------------------


class _SlowNoAnswer:
    """A resolver answering NoAnswer after `delay_s`, or timing out at a shorter lifetime;
    records the lifetime each query was given."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s
        self.lifetimes: list[float | None] = []

    def resolve(self, _name: str, _rdtype: str, lifetime: float | None = None) -> object:
        self.lifetimes.append(lifetime)
        if lifetime is not None and lifetime < self.delay_s:
            time.sleep(lifetime)
            raise dns.exception.Timeout
        time.sleep(self.delay_s)
        raise dns.resolver.NoAnswer


class _Hanging:
    """A resolver stuck until released, whatever lifetime it is given (a hung system call)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0
        self._lock = threading.Lock()

    def resolve(self, *_args: object, **_kwargs: object) -> object:
        with self._lock:
            self.calls += 1
        self.release.wait(10)
        raise dns.resolver.NXDOMAIN


@pytest.fixture
def use_resolver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[object], None]]:
    """Makes the email DNS check ask the given resolver."""

    def install(resolver: object) -> None:
        monkeypatch.setattr(email_validator, "caching_resolver", lambda **_: resolver)
        email_module._resolver.cache_clear()

    yield install
    email_module._resolver.cache_clear()


def test_queries_share_one_deadline(use_resolver: Callable[[object], None]) -> None:
    """email-validator asks MX, then A, then AAAA: together, not each, within the timeout.
    Out of time, the address stays valid, as with a resolver that times out."""
    slow = _SlowNoAnswer(delay_s=0.2)
    use_resolver(slow)
    started = time.monotonic()
    got = check_email("someone@example.com", check_dns=True, dns_timeout_s=0.3)
    assert time.monotonic() - started < 0.5  # each query given 0.3 s would take 0.6 s
    assert got == "valid_email"
    assert len(slow.lifetimes) == 2  # MX answered nothing; A ran out of time
    first, second = slow.lifetimes
    assert first is not None and second is not None
    assert 0.2 < first <= 0.3
    assert second < 0.15


def test_a_hanging_resolver_is_answered_within_the_timeout(
    use_resolver: Callable[[object], None],
) -> None:
    """check_email_dns answers valid_email at its deadline, however long DNS hangs."""
    hanging = _Hanging()
    use_resolver(hanging)
    try:
        started = time.monotonic()
        got = anyio.run(check_email_dns, "someone@example.com", 0.2)
        assert time.monotonic() - started < 1
        assert got == "valid_email"
        assert hanging.calls == 1
    finally:
        hanging.release.set()


def test_hanging_lookups_leave_the_shared_threads_alone(
    use_resolver: Callable[[object], None],
) -> None:
    """More hanging lookups than MAX_DNS_LOOKUPS: at most that many reach the resolver,
    every one is answered at its deadline, and the thread pool everything else uses
    (shrunk to one thread here) stays free meanwhile."""
    hanging = _Hanging()
    use_resolver(hanging)
    answers: list[str] = []

    async def lookup() -> None:
        answers.append(await check_email_dns("someone@example.com", 0.5))

    async def main() -> None:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1
        async with anyio.create_task_group() as tasks:
            for _ in range(email_module.MAX_DNS_LOOKUPS + 2):
                tasks.start_soon(lookup)
            await anyio.sleep(0.1)
            assert hanging.calls == email_module.MAX_DNS_LOOKUPS  # the others wait their turn
            with anyio.fail_after(0.2):
                assert await anyio.to_thread.run_sync(lambda: 42) == 42

    try:
        started = time.monotonic()
        anyio.run(main)
        assert time.monotonic() - started < 1.5
        assert answers == ["valid_email"] * (email_module.MAX_DNS_LOOKUPS + 2)
    finally:
        hanging.release.set()
