"""Helpers shared by the tests: a cheap site and the full challenge -> solve -> redeem trip."""

from typing import Any

from starlette.testclient import TestClient

from authkong.domain import risk
from authkong.domain.pow import Difficulty, solve
from authkong.domain.site import RateLimits, RiskSettings
from authkong.storage.registry import NewSecret, Registry

# Tests solve in pure Python: 4 solutions of 16 hashes each keep a round trip near 1 ms.
CHEAP = Difficulty(k=4, solution_hashes=16)
# Tests fetch hundreds of tokens from one address; tests/test_rate_limit.py sets the limits
# it checks on its own sites.
NO_RATE_LIMITS = RateLimits(ip_per_min=0, site_per_min=0)


def make_site(
    registry: Registry,
    now_ms: int,
    *,
    domains: tuple[str, ...] = ("example.com", "*.example.org"),
    token_lifetime: int = 300,
    name: str = "Test site",
    rate_limits: RateLimits = NO_RATE_LIMITS,
    risk: RiskSettings | None = None,
) -> NewSecret:
    return registry.create_site(
        name=name,
        domains=domains,
        difficulty=CHEAP,
        token_lifetime=token_lifetime,
        now_ms=now_ms,
        rate_limits=rate_limits,
        risk=risk,
    )


def get_challenge(
    client: TestClient, sitekey: str, hostname: str = "example.com", **extra: str
) -> dict[str, Any]:
    got = client.post("/api/v1/challenge", json={"sitekey": sitekey, "hostname": hostname, **extra})
    assert got.status_code == 200, got.text
    body: dict[str, Any] = got.json()
    return body


def solve_challenge(challenge: dict[str, Any]) -> list[int]:
    return solve(bytes.fromhex(challenge["seed"]), challenge["k"], challenge["target"])


def get_token(client: TestClient, sitekey: str, hostname: str = "example.com", **extra: str) -> str:
    """A fresh response token from the real challenge and redeem endpoints."""
    challenge = get_challenge(client, sitekey, hostname, **extra)
    redeemed = client.post(
        "/api/v1/redeem",
        json={"challenge": challenge["challenge"], "nonces": solve_challenge(challenge)},
    )
    assert redeemed.status_code == 200, redeemed.text
    token: str = redeemed.json()["token"]
    return token


# What the risk model makes of a token from get_token: the test client solves at once
# (solve_ms 0) and sends no Accept-Language. Flavor tests expect exactly this assessment.
IN_PROCESS = risk.assess(
    risk.Signals(solve_ms=0, expected_hashes=CHEAP.expected_hashes, missing_accept_language=True)
)
