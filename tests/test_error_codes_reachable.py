"""Every documented error code, AuthKong's and each flavor's, comes out of a real request.

A table of requests drives every verification failure through every siteverify flavor
and every widget failure through the widget API; the codes found in the answers must
cover every code the source declares, so a declared code that no request can produce
(dead, or unreachable because of a bug) fails this test.
"""

import sqlite3
from collections.abc import Callable
from typing import Any

from starlette.testclient import TestClient

from authkong.api.errors import ALL_ERRORS
from authkong.api.flavors import hcaptcha, recaptcha, turnstile, zencaptcha
from authkong.api.services import Services
from authkong.domain.clock import FakeClock
from authkong.domain.site import RateLimits
from authkong.storage.registry import NewSecret
from tests.support import get_challenge, get_token, make_site, solve_challenge

FLAVORS = {
    "/api/siteverify": "authkong",
    "/recaptcha/api/siteverify": "recaptcha",
    "/siteverify": "hcaptcha",
    "/turnstile/v0/siteverify": "turnstile",
    "/captcha/siteverify": "zencaptcha",
}
DECLARED = {
    "authkong": set(ALL_ERRORS),
    "recaptcha": set(recaptcha.CODES.values()),
    "hcaptcha": set(hcaptcha.CODES.values())
    | {"not-using-dummy-secret", "not-using-dummy-passcode"},
    "turnstile": set(turnstile.CODES.values()),
    "zencaptcha": set(zencaptcha.MESSAGES.values()) | {"valid"},
}

Verify = Callable[[dict[str, str]], Any]


def codes_in(flavor: str, body: dict[str, Any]) -> set[str]:
    """The error codes (zencaptcha: the message) an answer carries."""
    if body.get("error_code"):
        return {body["error_code"]}
    if "error-codes" in body:
        return set(body["error-codes"])
    if flavor == "zencaptcha":
        return {body["message"]}
    return set()


def verification_failures(
    client: TestClient, site: NewSecret, other: NewSecret, clock: FakeClock, send: Verify
) -> None:
    """Drive every verification outcome through one flavor's siteverify."""

    def fresh() -> str:
        return get_token(client, site.site.sitekey)

    send({"response": fresh()})  # missing secret
    send({"secret": "wrong-secret", "response": fresh()})  # invalid secret
    send({"secret": site.secret})  # missing response
    send({"secret": site.secret, "response": "forged.token"})  # invalid response
    send({"secret": site.secret, "response": get_token(client, other.site.sitekey)})  # other site
    spent = fresh()
    send({"secret": site.secret, "response": spent})  # success
    send({"secret": site.secret, "response": spent})  # already spent
    expired = fresh()
    clock.advance(site.site.token_lifetime)
    send({"secret": site.secret, "response": expired})  # expired


def test_every_declared_code_is_reachable(
    client: TestClient, site: NewSecret, services: Services, clock: FakeClock
) -> None:
    """Each code in ALL_ERRORS and in every flavor's CODES/MESSAGES map is produced by a request."""
    seen: dict[str, set[str]] = {flavor: set() for flavor in DECLARED}

    def record(flavor: str, got: Any) -> Any:
        assert got.headers["content-type"] == "application/json", got.text
        body = got.json()
        seen["authkong" if "error_code" in body else flavor] |= codes_in(flavor, body)
        return got

    other = make_site(services.registry, clock.now_ms(), name="Other")

    # Every verification failure, through every flavor.
    for path, flavor in FLAVORS.items():

        def send(form: dict[str, str], path: str = path, flavor: str = flavor) -> Any:
            return record(flavor, client.post(path, data=form))

        verification_failures(client, site, other, clock, send)
        record(
            flavor, client.post(path, content=b"<x/>", headers={"content-type": "application/xml"})
        )
        record(flavor, client.put(path))  # method_not_allowed

    # The optional sitekey parameter (AuthKong and hCaptcha).
    for path in ("/api/siteverify", "/siteverify"):
        form = {
            "secret": site.secret,
            "response": get_token(client, site.site.sitekey),
            "sitekey": "ak_other",
        }
        record(FLAVORS[path], client.post(path, data=form))

    # hCaptcha's test-key pairing errors.
    test_token = next(iter(hcaptcha.TEST_PAIRS))
    record(
        "hcaptcha", client.post("/siteverify", data={"secret": site.secret, "response": test_token})
    )
    form = {"secret": site.secret, "response": "x", "sitekey": next(iter(hcaptcha.TEST_SITEKEYS))}
    record("hcaptcha", client.post("/siteverify", data=form))

    # Turnstile's test secrets.
    for secret in sorted(turnstile.TEST_SECRETS):
        form = {"secret": secret, "response": turnstile.DUMMY_TOKEN}
        record("turnstile", client.post("/turnstile/v0/siteverify", data=form))

    # The widget API.
    sitekey = site.site.sitekey
    challenge = "/api/v1/challenge"
    redeem = "/api/v1/redeem"
    record("authkong", client.post(challenge, json={"hostname": "example.com"}))
    record(
        "authkong",
        client.post(challenge, json={"sitekey": "ak_unknown", "hostname": "example.com"}),
    )
    record("authkong", client.post(challenge, json={"sitekey": sitekey}))
    record("authkong", client.post(challenge, json={"sitekey": sitekey, "hostname": "evil.test"}))
    record(
        "authkong",
        client.post(challenge, json={"sitekey": sitekey, "hostname": "example.com", "mode": "x"}),
    )
    record("authkong", client.post(challenge, json={"sitekey": sitekey, "pad": "x" * 20_000}))
    record(
        "authkong",
        client.post(challenge, content=b"x", headers={"content-type": "application/xml"}),
    )
    record(
        "authkong",
        client.post(challenge, content=b"{", headers={"content-type": "application/json"}),
    )
    record("authkong", client.post(redeem, json={"challenge": "forged.mac", "nonces": [1]}))
    issued = get_challenge(client, sitekey)
    nonces = solve_challenge(issued)
    record(
        "authkong",
        client.post(redeem, json={"challenge": issued["challenge"], "nonces": nonces[:-1]}),
    )
    record(
        "authkong", client.post(redeem, json={"challenge": issued["challenge"], "nonces": nonces})
    )
    record(
        "authkong", client.post(redeem, json={"challenge": issued["challenge"], "nonces": nonces})
    )
    late = get_challenge(client, sitekey)
    clock.advance(services.settings.challenge_ttl_s)
    record(
        "authkong",
        client.post(redeem, json={"challenge": late["challenge"], "nonces": solve_challenge(late)}),
    )
    orphan = get_challenge(client, other.site.sitekey)
    services.registry.delete_site(other.site.sitekey)
    record(
        "authkong",
        client.post(
            redeem, json={"challenge": orphan["challenge"], "nonces": solve_challenge(orphan)}
        ),
    )

    # A client past its site's per-IP rate limit.
    limited = make_site(services.registry, clock.now_ms(), name="Limited").site.sitekey
    services.registry.update_site(
        limited, now_ms=clock.now_ms(), rate_limits=RateLimits(ip_per_min=1, ip_burst=1)
    )
    for _ in range(2):
        record(
            "authkong", client.post(challenge, json={"sitekey": limited, "hostname": "example.com"})
        )

    # A database lock held by another process past the lock timeout: internal_error.
    tokens = {path: get_token(client, sitekey) for path in FLAVORS}
    issued = get_challenge(client, sitekey)
    locker = sqlite3.connect(services.settings.ephemeral_path, isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    try:
        for path, flavor in FLAVORS.items():
            record(
                flavor, client.post(path, data={"secret": site.secret, "response": tokens[path]})
            )
        body = {"challenge": issued["challenge"], "nonces": solve_challenge(issued)}
        record("authkong", client.post(redeem, json=body))
    finally:
        locker.execute("ROLLBACK")
        locker.close()

    unreachable = {flavor: sorted(DECLARED[flavor] - seen[flavor]) for flavor in DECLARED}
    assert unreachable == {flavor: [] for flavor in DECLARED}
    undeclared = {flavor: sorted(seen[flavor] - DECLARED[flavor]) for flavor in DECLARED}
    assert undeclared == {flavor: [] for flavor in DECLARED}
