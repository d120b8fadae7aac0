"""The docs and the code agree: every error code, message, status and flavor mapping in
docs/errors.md, and every siteverify answer field in the flavors' integration guides."""

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from authkong.api.errors import (
    ALL_ERRORS,
    FAILURE_CODES,
    METHOD_NOT_ALLOWED,
    SITEVERIFY_ERRORS,
    WIDGET_ERRORS,
)
from authkong.api.flavors import hcaptcha, recaptcha, turnstile, zencaptcha
from authkong.domain.verdict import Failure
from authkong.storage.registry import NewSecret
from tests.support import get_token

DOCS = Path(__file__).resolve().parent.parent / "docs"
ERRORS_MD = DOCS / "errors.md"
_HEADING = re.compile(r"^(#+)\s+(.*?)\s*$")

# Each flavor's section heading in docs/errors.md and its failure -> vendor code map.
FLAVOR_SECTIONS: dict[str, dict[Failure, str]] = {
    "AuthKong flavor": {failure: error.code for failure, error in FAILURE_CODES.items()},
    "reCAPTCHA flavor": dict(recaptcha.CODES),
    "hCaptcha flavor": dict(hcaptcha.CODES),
    "Turnstile flavor": dict(turnstile.CODES),
    "zencaptcha flavor": dict(zencaptcha.MESSAGES),
}

FLAVOR_TEST_KEYS: dict[str, set[str]] = {
    "reCAPTCHA flavor": {recaptcha.TEST_SECRET, recaptcha.TEST_SITEKEY, recaptcha.TEST_HOSTNAME},
    "hCaptcha flavor": {
        hcaptcha.TEST_SECRET,
        hcaptcha.TEST_HOSTNAME,
        *hcaptcha.TEST_PAIRS,
        *hcaptcha.TEST_SITEKEYS,
    },
    "Turnstile flavor": {turnstile.DUMMY_TOKEN, *turnstile.TEST_SECRETS},
}

# Each flavor's siteverify path and its guide in docs/integration/.
FLAVOR_GUIDES = {
    "/api/siteverify": "authkong.md",
    "/recaptcha/api/siteverify": "recaptcha.md",
    "/siteverify": "hcaptcha.md",
    "/turnstile/v0/siteverify": "turnstile.md",
    "/captcha/siteverify": "zencaptcha.md",
}
# Claims that went stale when the risk scores arrived.
STALE_CLAIMS = ("accepted and ignored", "always 1.0")


def section(title: str) -> str:
    """The text under the heading `title`, up to the next heading of the same or a higher level."""
    lines = ERRORS_MD.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        match = _HEADING.match(line)
        if match and match.group(2) == title:
            level = len(match.group(1))
            body: list[str] = []
            for rest in lines[i + 1 :]:
                heading = _HEADING.match(rest)
                if heading and len(heading.group(1)) <= level:
                    break
                body.append(rest)
            return "\n".join(body)
    raise AssertionError(f"docs/errors.md has no heading {title!r}")


def table_rows(text: str) -> list[list[str]]:
    """Cells of every Markdown table row in `text`, without the header separators."""
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("|") or set(line) <= set("|-: "):
            continue
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def code_rows(text: str) -> dict[str, list[str]]:
    """Table rows keyed by their first cell, a `code` in backticks."""
    rows: dict[str, list[str]] = {}
    for cells in table_rows(text):
        first = cells[0]
        if first.startswith("`") and first.endswith("`"):
            rows[first.strip("`")] = cells
    return rows


@pytest.mark.parametrize(
    ("title", "errors"),
    [
        ("Siteverify", SITEVERIFY_ERRORS),
        ("Widget API", {**WIDGET_ERRORS, METHOD_NOT_ALLOWED.code: METHOD_NOT_ALLOWED}),
    ],
)
def test_error_tables_match_code(title: str, errors: dict[str, object]) -> None:
    """Each code's row in its table carries the exact HTTP status and message from errors.py."""
    rows = code_rows(section(title))
    for code in errors:
        error = ALL_ERRORS[code]
        assert code in rows, f"{code} missing from the {title} table"
        cells = rows[code]
        assert cells[1] == str(error.status), (
            f"{code}: documented status {cells[1]}, code says {error.status}"
        )
        assert cells[2] == error.message, f"{code}: documented message differs from errors.py"
        assert len(cells) >= 4 and cells[3], f"{code}: the 'when' column is empty"


def test_every_error_code_is_documented() -> None:
    """ALL_ERRORS is exactly the union of the two documented tables, no more, no less."""
    documented = set(code_rows(section("Siteverify"))) | set(code_rows(section("Widget API")))
    assert documented == set(ALL_ERRORS)


@pytest.mark.parametrize("title", sorted(FLAVOR_SECTIONS))
def test_flavor_tables_match_code(title: str) -> None:
    """Each failure reason's row in a flavor's table names the code that flavor answers."""
    rows = code_rows(section(title))
    for failure, code in FLAVOR_SECTIONS[title].items():
        assert failure.value in rows, f"{title}: no row for {failure.value}"
        assert rows[failure.value][1] == f"`{code}`", (
            f"{title}: {failure.value} should map to {code}"
        )


@pytest.mark.parametrize("title", sorted(FLAVOR_TEST_KEYS))
def test_flavor_test_keys_are_documented(title: str) -> None:
    """Every vendor test key a flavor honours appears in that flavor's section."""
    text = section(title)
    for value in FLAVOR_TEST_KEYS[title]:
        assert value in text, f"{title}: test key {value} not documented"


def answer_fields(answer: dict[str, object]) -> set[str]:
    """The answer's field names, with those of nested objects (Turnstile's `metadata`)."""
    fields = set(answer)
    for value in answer.values():
        if isinstance(value, dict):
            fields |= set(value)
    return fields


@pytest.mark.parametrize(("path", "guide"), sorted(FLAVOR_GUIDES.items()))
def test_integration_guides_name_every_answer_field(
    client: TestClient, site: NewSecret, path: str, guide: str
) -> None:
    """A real success (score mode, so reCAPTCHA's v3 fields appear) and the failure of the
    same token spent again name only fields the guide documents; if a `remoteip` in another
    subnet than the solver's changes the answer, the guide documents it and its signal."""
    text = (DOCS / "integration" / guide).read_text(encoding="utf-8")
    tokens = [get_token(client, site.site.sitekey, mode="score") for _ in range(2)]
    plain = client.post(path, data={"secret": site.secret, "response": tokens[0]}).json()
    params = {"secret": site.secret, "response": tokens[1], "remoteip": "198.51.100.9"}
    passed = client.post(path, data=params).json()
    spent = client.post(path, data=params).json()
    assert plain["success"] is passed["success"] is True and spent["success"] is False
    fields = answer_fields(passed) | answer_fields(spent)
    missing = sorted(field for field in fields if f"`{field}`" not in text)
    assert not missing, f"{guide} does not document {missing}"
    if plain != passed:  # the same site, clock and client: only remoteip differs
        assert "`remoteip`" in text and "`remoteip_mismatch`" in text, guide


@pytest.mark.parametrize("guide", sorted(FLAVOR_GUIDES.values()))
def test_integration_guides_make_no_stale_claims(guide: str) -> None:
    """No guide says `remoteip` is ignored or that the score is fixed at 1.0."""
    text = " ".join((DOCS / "integration" / guide).read_text(encoding="utf-8").split())
    for claim in STALE_CLAIMS:
        assert claim not in text, f"{guide} still says {claim!r}"
