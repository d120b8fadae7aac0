"""docs/errors.md and the code agree: every error code, message, status and flavor mapping."""

import re
from pathlib import Path

import pytest

from authkong.api.errors import (
    ALL_ERRORS,
    FAILURE_CODES,
    METHOD_NOT_ALLOWED,
    SITEVERIFY_ERRORS,
    WIDGET_ERRORS,
)
from authkong.api.flavors import hcaptcha, recaptcha, turnstile, zencaptcha
from authkong.domain.verdict import Failure

ERRORS_MD = Path(__file__).resolve().parent.parent / "docs" / "errors.md"
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
