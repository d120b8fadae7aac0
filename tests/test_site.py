"""Sites: domain patterns, hostname matching and secrets with a rotation overlap."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authkong.admin.model import Invalid
from authkong.admin.sites import check_name
from authkong.domain.pow import Difficulty
from authkong.domain.site import (
    SecretHash,
    Site,
    domain_matches,
    hash_secret,
    new_secret,
    new_sitekey,
    normalize_domain,
)

NOW = 1_767_225_600_000


@pytest.mark.parametrize(
    ("hostname", "expected"),
    [
        ("example.com", True),
        ("EXAMPLE.com", True),
        ("example.com.", True),
        ("www.example.com", False),
        ("evil-example.com", False),
        ("example.com.evil.net", False),
        ("example.co", False),
        ("", False),
    ],
)
def test_exact_pattern(hostname: str, expected: bool) -> None:
    """A plain pattern matches only that hostname (case and a trailing dot aside)."""
    assert domain_matches("example.com", hostname) is expected


@pytest.mark.parametrize(
    ("hostname", "expected"),
    [
        ("www.example.com", True),
        ("a.b.c.example.com", True),
        ("WWW.Example.COM.", True),
        ("example.com", False),  # the apex is not a subdomain
        ("evil-example.com", False),
        ("evilexample.com", False),
        ("www.example.com.evil.net", False),
        ("www.example.co", False),
        (".example.com", False),  # empty label
        ("a..example.com", False),
        ("evil.net/.example.com", False),
        ("evil.net#.example.com", False),
        ("a b.example.com", False),
        ("\ud800.example.com", False),  # a lone surrogate could not even be encoded downstream
        ("-a.example.com", False),
        ("x" * 250 + ".example.com", False),  # over 253 characters
    ],
)
def test_wildcard_pattern(hostname: str, expected: bool) -> None:
    """`*.example.com` matches subdomains only: not the apex, look-alikes or malformed names."""
    assert domain_matches("*.example.com", hostname) is expected


@given(st.text(max_size=80))
def test_wildcard_matches_only_valid_subdomains(label: str) -> None:
    """Whatever precedes `.example.com`, a match means the whole name is a valid hostname."""
    hostname = label + ".example.com"
    if domain_matches("*.example.com", hostname):
        assert normalize_domain(hostname) == hostname.lower().rstrip(".")
        assert hostname.lower().rstrip(".") != "example.com"


def test_site_allows_any_listed_pattern() -> None:
    """Site.allows_hostname accepts a hostname matching any of its patterns and nothing else."""
    site = _site(domains=("example.com", "*.example.org"))
    assert site.allows_hostname("example.com")
    assert site.allows_hostname("a.example.org")
    assert not site.allows_hostname("example.org")
    assert not site.allows_hostname("a.example.com")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.com", "example.com"),
        ("  Example.COM.  ", "example.com"),
        ("*.Example.com", "*.example.com"),
        ("xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("localhost", "localhost"),
        ("127.0.0.1", "127.0.0.1"),
        ("a" * 63 + ".com", "a" * 63 + ".com"),
        ("*." + ("a" * 63 + ".") * 3 + "a" * 61, "*." + ("a" * 63 + ".") * 3 + "a" * 61),
    ],
)
def test_normalize_domain_accepts(value: str, expected: str) -> None:
    """Valid patterns are lower-cased and stripped of whitespace and a trailing dot."""
    assert normalize_domain(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        ".",
        "*",
        "*.",
        "**.example.com",
        "*example.com",
        "*.*.example.com",
        "www.*.example.com",
        "-example.com",
        "example-.com",
        "exa mple.com",
        "ex_ample.com",
        "example..com",
        ".example.com",
        "https://example.com",
        "example.com/path",
        "example.com:8080",
        "bücher.de",
        "a" * 64 + ".com",
        ("a" * 63 + ".") * 4 + "com",  # 259 characters
        "example.com\nevil.com",
    ],
)
def test_normalize_domain_rejects(value: str) -> None:
    """Malformed patterns raise ValueError with a message for the operator."""
    with pytest.raises(ValueError, match="not a valid domain"):
        normalize_domain(value)


def _site(
    secrets: tuple[SecretHash, ...] = (), domains: tuple[str, ...] = ("example.com",)
) -> Site:
    return Site(
        sitekey="ak_test",
        name="Test",
        domains=domains,
        difficulty=Difficulty(k=4, solution_hashes=16),
        token_lifetime=300,
        secrets=secrets,
    )


def test_current_secret_accepted_forever() -> None:
    """A secret with no expiry is accepted at any time."""
    site = _site((SecretHash(hash_secret("current"), None),))
    assert site.accepts_secret(hash_secret("current"), NOW)
    assert site.accepts_secret(hash_secret("current"), 2**62)
    assert not site.accepts_secret(hash_secret("other"), NOW)


def test_rotated_secret_accepted_until_its_expiry() -> None:
    """During the overlap both secrets work; from the old one's expiry on, only the new one."""
    site = _site(
        (
            SecretHash(hash_secret("old"), NOW + 60_000),
            SecretHash(hash_secret("new"), None),
        )
    )
    assert site.accepts_secret(hash_secret("old"), NOW)
    assert site.accepts_secret(hash_secret("old"), NOW + 59_999)
    assert not site.accepts_secret(hash_secret("old"), NOW + 60_000)
    assert not site.accepts_secret(hash_secret("old"), NOW + 3_600_000)
    assert site.accepts_secret(hash_secret("new"), NOW + 3_600_000)


def test_expired_secret_alone_is_refused() -> None:
    """A site whose only secret has expired accepts nothing."""
    site = _site((SecretHash(hash_secret("old"), NOW - 1),))
    assert not site.accepts_secret(hash_secret("old"), NOW)


def test_site_without_secrets_accepts_nothing() -> None:
    """No secrets, no access (the empty digest included)."""
    assert not _site().accepts_secret(hash_secret(""), NOW)


def test_hash_secret_is_sha256_and_handles_surrogates() -> None:
    """hash_secret is SHA-256 of UTF-8 and does not raise on a lone surrogate from a form."""
    assert (
        hash_secret("abc").hex()
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )
    assert len(hash_secret("\ud800")) == 32
    assert hash_secret("\ud800") != hash_secret("\ud801")


def test_new_keys_are_unique_and_prefixed() -> None:
    """Sitekeys and secrets carry their prefixes and never repeat."""
    sitekeys = {new_sitekey() for _ in range(50)}
    secrets = {new_secret() for _ in range(50)}
    assert len(sitekeys) == 50
    assert len(secrets) == 50
    assert all(k.startswith("ak_") and len(k) == 27 for k in sitekeys)
    assert all(s.startswith("aks_") and len(s) >= 46 for s in secrets)


@pytest.mark.parametrize("value", ["*.com", "*.localhost", "*.COM."])
def test_normalize_domain_rejects_top_level_wildcards(value: str) -> None:
    """A wildcard over a whole top-level domain is refused, not silently allowed."""
    with pytest.raises(ValueError, match="top-level domain"):
        normalize_domain(value)


@pytest.mark.parametrize("name", ["Café", "東京ショップ", "Shop — EU", "Ünïcödé ✓", "a b"])
def test_site_names_in_any_script_are_accepted(name: str) -> None:
    """Letters, symbols and spaces of any script pass, trimmed at the ends."""
    assert check_name(f"  {name}\n") == name


@pytest.mark.parametrize(
    "name", ["a\tb", "a\nb", "a\x7fb", "a\x85b", "a\u2066b", "a\ufeffb", "a\u00adb", "\x00"]
)
def test_site_names_with_control_or_format_characters_are_refused(name: str) -> None:
    """Categories Cc and Cf inside a name (tab, newline, DEL, NEL, a bidi isolate, BOM, soft
    hyphen, NUL) are Invalid for the name field."""
    with pytest.raises(Invalid, match="must not contain control characters") as raised:
        check_name(name)
    assert raised.value.field == "name"
