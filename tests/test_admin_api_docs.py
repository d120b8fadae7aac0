"""docs/admin-api.md and the admin API agree: error codes, endpoints and their scopes."""

import re
from pathlib import Path

from starlette.testclient import TestClient

from authkong.admin.api import ERRORS, PREFIX
from authkong.admin.model import Scope
from tests.test_docs import code_rows, table_rows

DOCS = Path(__file__).resolve().parent.parent / "docs"
ADMIN_API_MD = DOCS / "admin-api.md"
_HEADING = re.compile(r"^(#+)\s+(.*?)\s*$")
_ROUTE = re.compile(r"^`(GET|POST|PATCH|DELETE) /")


def section(title: str) -> str:
    """The text under `title` in admin-api.md, up to the next heading of its level or higher."""
    lines = ADMIN_API_MD.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        match = _HEADING.match(line)
        if match and match.group(2) == title:
            body: list[str] = []
            for rest in lines[i + 1 :]:
                heading = _HEADING.match(rest)
                if heading and len(heading.group(1)) <= len(match.group(1)):
                    break
                body.append(rest)
            return "\n".join(body)
    raise AssertionError(f"docs/admin-api.md has no heading {title!r}")


def test_error_table_matches_the_server() -> None:
    """Each code the API answers has a row with its exact status and default message."""
    rows = code_rows(section("Errors"))
    assert set(rows) == set(ERRORS)
    for code, error in ERRORS.items():
        cells = rows[code]
        assert cells[1] == str(error.status), code
        assert cells[2] == error.message, code
        assert cells[3], f"{code}: the 'when' column is empty"


def test_endpoint_table_matches_the_openapi_document(client: TestClient) -> None:
    """Every operation is in the endpoint table with the scope the server requires."""
    doc = client.get(f"{PREFIX}/openapi.json").json()
    served = {
        f"{method.upper()} {path}": operation["x-required-scopes"]
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
    }
    documented: dict[str, list[str]] = {}
    for cells in table_rows(section("Endpoints")):
        if not _ROUTE.match(cells[0]):
            continue  # the subsections' tables (analytics members)
        route = cells[0].strip("`").split("?")[0]
        documented[route] = [] if cells[1] == "any token" else [cells[1].strip("`")]
    assert documented == served


def test_scope_table_lists_every_scope() -> None:
    """The scopes table has one row per Scope."""
    rows = code_rows(section("Scopes"))
    assert set(rows) == {s.value for s in Scope}


def test_docs_index_links_the_admin_api() -> None:
    """docs/README.md points operators at admin-api.md."""
    assert "(admin-api.md)" in (DOCS / "README.md").read_text(encoding="utf-8")
