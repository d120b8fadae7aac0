"""Helpers for the admin service tests: call async service methods on the app's own loop,
and make organizations with members in a few lines."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from starlette.testclient import TestClient

from authkong.admin.model import Actor, Role
from authkong.admin.service import AdminService

PASSWORD = "correct horse battery"


@dataclass
class Org:
    """An organization's owner plus helpers to add members; actors come from real logins."""

    admin: AdminService
    call: Callable[..., Any]
    name: str
    owner: Actor

    def member(self, email: str, role: Role, ip: str = "198.51.100.9") -> Actor:
        self.call(self.admin.add_member, self.owner, email, role, PASSWORD)
        return login_actor(self.admin, self.call, email, ip=ip)


def login_actor(
    admin: AdminService,
    call: Callable[..., Any],
    email: str,
    password: str = PASSWORD,
    ip: str = "198.51.100.9",
) -> Actor:
    grant = call(admin.login, email, password, ip)
    found = admin.session_actor(grant.token, ip)
    assert found is not None
    return found[1]


@pytest.fixture
def call(client: TestClient) -> Iterator[Callable[..., Any]]:
    """Run an async service method on the app's event loop, as the dashboard would."""

    def run(func: Callable[..., Any], *args: Any) -> Any:
        assert client.portal is not None
        return client.portal.call(func, *args)

    yield run


@pytest.fixture
def admin(services: Any) -> AdminService:
    service: AdminService = services.admin
    return service


@pytest.fixture
def org_a(admin: AdminService, call: Callable[..., Any]) -> Org:
    """The first owner's organization, "Org A", owned by owner@a.test."""
    call(admin.create_first_owner, "owner@a.test", PASSWORD, "Org A", "192.0.2.1")
    return Org(admin, call, "Org A", login_actor(admin, call, "owner@a.test", ip="192.0.2.1"))


@pytest.fixture
def org_b(admin: AdminService, call: Callable[..., Any], org_a: Org) -> Org:
    """A second organization, "Org B", owned by owner@b.test."""
    call(admin.create_user, "owner@b.test", PASSWORD, "Org B", Role.OWNER)
    return Org(admin, call, "Org B", login_actor(admin, call, "owner@b.test", ip="192.0.2.2"))
