"""Expiry over HTTP with a fake clock: challenges, tokens and spent tokens age out on time."""

from starlette.testclient import TestClient

from authkong.api.services import Services
from authkong.domain.clock import FakeClock
from authkong.storage.registry import NewSecret
from tests.support import get_challenge, get_token, make_site, solve_challenge

CHALLENGE_TTL_S = 300  # Settings().challenge_ttl_s, used by the conftest app


def _redeem(client: TestClient, challenge: dict[str, object]) -> tuple[int, dict[str, object]]:
    got = client.post(
        "/api/v1/redeem",
        json={"challenge": challenge["challenge"], "nonces": solve_challenge(challenge)},
    )
    return got.status_code, got.json()


def _verify(client: TestClient, secret: str, token: str) -> dict[str, object]:
    body: dict[str, object] = client.post(
        "/api/siteverify", data={"secret": secret, "response": token}
    ).json()
    return body


def test_challenge_ttl_comes_from_settings(services: Services) -> None:
    """The conftest app uses the 300 s challenge TTL these tests assume."""
    assert services.settings.challenge_ttl_s == CHALLENGE_TTL_S


def test_challenge_redeems_until_the_last_millisecond(
    client: TestClient, site: NewSecret, clock: FakeClock
) -> None:
    """A challenge solved 1 ms before its expiry still redeems."""
    challenge = get_challenge(client, site.site.sitekey)
    assert challenge["expires_at"] == clock.now_ms() + CHALLENGE_TTL_S * 1000
    clock.advance(CHALLENGE_TTL_S - 0.001)
    status, body = _redeem(client, challenge)
    assert status == 200, body


def test_expired_challenge_is_gone(client: TestClient, site: NewSecret, clock: FakeClock) -> None:
    """A challenge redeemed at or after its expiry gets 410 challenge_expired."""
    challenge = get_challenge(client, site.site.sitekey)
    clock.advance(CHALLENGE_TTL_S)
    status, body = _redeem(client, challenge)
    assert (status, body["error_code"]) == (410, "challenge_expired")
    clock.advance(3600)
    status, body = _redeem(client, challenge)
    assert (status, body["error_code"]) == (410, "challenge_expired")


def test_redeemed_challenge_stays_redeemed_then_expires(
    client: TestClient, site: NewSecret, clock: FakeClock
) -> None:
    """A redeemed challenge is refused as already redeemed until its expiry, then as expired."""
    challenge = get_challenge(client, site.site.sitekey)
    assert _redeem(client, challenge)[0] == 200
    clock.advance(CHALLENGE_TTL_S - 0.001)
    status, body = _redeem(client, challenge)
    assert (status, body["error_code"]) == (409, "challenge_already_redeemed")
    clock.advance(0.001)
    status, body = _redeem(client, challenge)
    assert (status, body["error_code"]) == (410, "challenge_expired")


def test_token_valid_until_site_lifetime(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    """A token verifies 1 ms before the site's token_lifetime is over."""
    short = make_site(services.registry, clock.now_ms(), token_lifetime=60, name="Short")
    token = get_token(client, short.site.sitekey)
    clock.advance(59.999)
    assert _verify(client, short.secret, token)["success"] is True


def test_token_expires_after_site_lifetime(
    client: TestClient, services: Services, clock: FakeClock
) -> None:
    """A token checked at or after the site's token_lifetime is expired on every flavor."""
    short = make_site(services.registry, clock.now_ms(), token_lifetime=60, name="Short")
    token = get_token(client, short.site.sitekey)
    clock.advance(60)
    assert _verify(client, short.secret, token)["error_code"] == "expired_response"
    for path in ("/recaptcha/api/siteverify", "/turnstile/v0/siteverify", "/siteverify"):
        got = client.post(path, data={"secret": short.secret, "response": token}).json()
        assert got["success"] is False, path
        assert got["error-codes"] in (["timeout-or-duplicate"], ["expired-input-response"]), path
    zen = client.post(
        "/captcha/siteverify", data={"secret": short.secret, "response": token}
    ).json()
    assert zen == {"success": False, "message": "timeout_or_duplicate"}


def test_lifetime_is_per_site(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """After 60 s a 60 s site's token has expired while a 300 s site's token still verifies."""
    short = make_site(services.registry, clock.now_ms(), token_lifetime=60, name="Short")
    short_token = get_token(client, short.site.sitekey)
    long_token = get_token(client, site.site.sitekey)
    clock.advance(60)
    assert _verify(client, short.secret, short_token)["error_code"] == "expired_response"
    assert _verify(client, site.secret, long_token)["success"] is True


def test_spent_token_stays_spent_until_expiry(
    client: TestClient, site: NewSecret, clock: FakeClock
) -> None:
    """A verified token is already_spent for its whole lifetime, then expired; never valid again."""
    token = get_token(client, site.site.sitekey)
    assert _verify(client, site.secret, token)["success"] is True
    clock.advance(150)
    assert _verify(client, site.secret, token)["error_code"] == "already_spent"
    clock.advance(149.999)
    assert _verify(client, site.secret, token)["error_code"] == "already_spent"
    clock.advance(0.001)
    assert _verify(client, site.secret, token)["error_code"] == "expired_response"
    clock.advance(86_400)
    assert _verify(client, site.secret, token)["error_code"] == "expired_response"


def test_spent_token_stays_spent_after_purge(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """Purging the ephemeral store before a token's expiry does not forget that it was spent."""
    token = get_token(client, site.site.sitekey)
    assert _verify(client, site.secret, token)["success"] is True
    clock.advance(299)
    assert client.portal is not None
    client.portal.call(services.store.purge)
    assert _verify(client, site.secret, token)["error_code"] == "already_spent"


def test_token_expiry_counts_from_redemption(
    client: TestClient, site: NewSecret, clock: FakeClock
) -> None:
    """The token lifetime starts when the challenge is redeemed, not when it was issued."""
    challenge = get_challenge(client, site.site.sitekey)
    clock.advance(200)
    got = client.post(
        "/api/v1/redeem",
        json={"challenge": challenge["challenge"], "nonces": solve_challenge(challenge)},
    )
    assert got.status_code == 200
    assert got.json()["expires_in"] == 300
    clock.advance(299)
    assert _verify(client, site.secret, got.json()["token"])["success"] is True
