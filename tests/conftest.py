"""Fixtures: an in-process app on a temporary data dir with a fake clock."""

from collections.abc import Iterator
from pathlib import Path

import dns.resolver
import email_validator
import pytest
from starlette.testclient import TestClient

from authkong.api.services import Services
from authkong.app import create_app
from authkong.config import Settings
from authkong.domain.clock import FakeClock
from authkong.lookup import email as email_module
from authkong.storage.registry import NewSecret
from tests.support import make_site
from tests.widget_support import browser, widget_server  # noqa: F401  (shared fixtures)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # A short lock wait lets tests reach internal_error by holding the database's lock.
    # Adaptive difficulty off: tests fetch hundreds of challenges from one address and
    # expect the site's own difficulty; tests/test_adaptive_difficulty.py turns it on.
    return Settings(data_dir=tmp_path / "data", lock_timeout_s=0.2, adaptive_difficulty=False)


@pytest.fixture
def client(settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    app = create_app(settings, clock=clock)
    with TestClient(app, client=("203.0.113.7", 50000)) as test_client:
        yield test_client


@pytest.fixture
def services(client: TestClient) -> Services:
    svc: Services = client.app.state.services  # type: ignore[attr-defined]
    return svc


@pytest.fixture
def site(services: Services, clock: FakeClock) -> NewSecret:
    """A site for example.com and *.example.org with cheap difficulty; `.secret` is its secret."""
    return make_site(services.registry, clock.now_ms())


class _NoSuchDomain:
    """dnspython's resolver answering NXDOMAIN for every name: tests have no network."""

    def resolve(self, *_args: object, **_kwargs: object) -> object:
        raise dns.resolver.NXDOMAIN


@pytest.fixture
def nxdomain_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Every email DNS check meets NXDOMAIN; yields the timeouts resolvers were built with."""
    timeouts: list[int] = []

    def resolver(*, timeout: int) -> _NoSuchDomain:
        timeouts.append(timeout)
        return _NoSuchDomain()

    monkeypatch.setattr(email_validator, "caching_resolver", resolver)
    email_module._resolver.cache_clear()
    yield timeouts
    email_module._resolver.cache_clear()
