"""Workers that load keys.json at different times keep accepting each other's output."""

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from authkong.app import create_app
from authkong.config import Settings
from authkong.domain.clock import FakeClock
from authkong.storage import keyfile
from authkong.storage.registry import NewSecret
from tests.support import get_challenge, get_token, make_site, solve_challenge


@pytest.fixture
def workers(settings: Settings, clock: FakeClock) -> Iterator[tuple[TestClient, TestClient]]:
    """Two apps on one data dir: the first started before a key rotation, the second after."""
    with TestClient(create_app(settings, clock=clock)) as before:
        keyfile.rotate(settings.data_dir)
        with TestClient(create_app(settings, clock=clock)) as after:
            yield before, after


@pytest.fixture
def shared_site(workers: tuple[TestClient, TestClient], clock: FakeClock) -> NewSecret:
    return make_site(workers[0].app.state.services.registry, clock.now_ms())  # type: ignore[attr-defined]


def test_old_worker_redeems_a_challenge_signed_with_the_new_key(
    workers: tuple[TestClient, TestClient], shared_site: NewSecret
) -> None:
    """A challenge from the restarted worker redeems at the one that still had the old keys."""
    before, after = workers
    issued = get_challenge(after, shared_site.site.sitekey)
    got = before.post(
        "/api/v1/redeem", json={"challenge": issued["challenge"], "nonces": solve_challenge(issued)}
    )
    assert got.status_code == 200, got.text
    assert got.json()["token"].startswith("2.")


def test_old_worker_verifies_a_token_sealed_with_the_new_key(
    workers: tuple[TestClient, TestClient], shared_site: NewSecret
) -> None:
    """A token sealed by the restarted worker verifies once at the old one."""
    before, after = workers
    token = get_token(after, shared_site.site.sitekey)
    assert token.startswith("2.")
    form = {"secret": shared_site.secret, "response": token}
    assert before.post("/api/siteverify", data=form).json()["success"] is True
    assert after.post("/api/siteverify", data=form).json()["error_code"] == "already_spent"


def test_old_worker_signs_with_the_new_key_once_it_checks(
    workers: tuple[TestClient, TestClient], shared_site: NewSecret
) -> None:
    """Once its keyring is re-read, the old worker signs with the rotated key too."""
    before, _after = workers
    assert get_token(before, shared_site.site.sitekey).startswith("1.")
    assert before.app.state.services.keys.refreshed() is not None  # type: ignore[attr-defined]
    assert get_token(before, shared_site.site.sitekey).startswith("2.")
