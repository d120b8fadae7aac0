"""Helpers for the admin API tests: organizations with tokens, requests, error checks.

Not a test module. Organizations and their owners are made through the service layer
(as the CLI and the dashboard's setup do); everything else goes through the API.
"""

import asyncio
import itertools
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from authkong.admin.api import PREFIX
from authkong.admin.model import ROLE_SCOPES, Actor, Role, Scope
from authkong.api.services import Services

XSS = "<img src=x onerror=alert(1)>"
PASSWORD = "correct horse battery"
# Cheap work and no per-IP limit, as tests/support.py's sites: tests fetch tokens for them.
CHEAP_SITE: dict[str, Any] = {
    "difficulty": {"k": 4, "solution_hashes": 16},
    "rate_limits": {"ip_per_min": 0},
}
_emails = itertools.count()


@dataclass(frozen=True, slots=True)
class Org:
    org_id: int
    owner: Actor
    token: str
    """An API token with every scope."""


def make_org(services: Services, name: str) -> Org:
    """An organization with an owner (through the service layer) and an all-scope token."""
    email = f"owner{next(_emails)}@example.com"
    user, org = asyncio.run(services.admin.create_user(email, PASSWORD, name, Role.OWNER))
    owner = Actor(
        org_id=org.id,
        label=f"user:{email}",
        scopes=ROLE_SCOPES[Role.OWNER],
        role=Role.OWNER,
        user_id=user.id,
    )
    _, value = services.admin.create_api_token(owner, "all", frozenset(Scope), None)
    return Org(org_id=org.id, owner=owner, token=value)


def token_for(services: Services, org: Org, *scopes: Scope, name: str = "scoped") -> str:
    _, value = services.admin.create_api_token(org.owner, name, frozenset(scopes), None)
    return value


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# Registered under their own names so that test modules import them without shadowing.
@pytest.fixture(name="org_a")
def org_a_fixture(services: Services) -> Org:
    return make_org(services, "Org A")


@pytest.fixture(name="org_b")
def org_b_fixture(services: Services) -> Org:
    return make_org(services, "Org B")


def create_site(client: TestClient, token: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "Shop", "domains": ["example.com"], **CHEAP_SITE, **fields}
    got = client.post(f"{PREFIX}/sites", json=body, headers=auth(token))
    assert got.status_code == 201, got.text
    created: dict[str, Any] = got.json()
    return created


def assert_error(got: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert got.status_code == status, got.text
    assert got.headers["content-type"] == "application/json"
    body: dict[str, Any] = got.json()
    assert body["error_code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body
