"""The one verification core behind every siteverify flavor.

Flavors parse their vendor's request, call `verify`, and render the `Verdict` with their
vendor's field names and codes. Single use is enforced here: the token id is claimed
atomically in the ephemeral store for as long as the token could still be valid.
"""

import functools
import hmac
import uuid
from collections.abc import Callable

from authkong.api import risk_signals
from authkong.api.services import Services
from authkong.domain import risk
from authkong.domain.site import Site
from authkong.domain.verdict import Failure, Verdict
from authkong.domain.verification import inspect
from authkong.storage.ephemeral import claim_key

MAX_IDEMPOTENCY_KEY = 64


def valid_idempotency_key(value: str) -> bool:
    # uuid.UUID also takes non-ASCII digits; only the ASCII spelling is a key we store.
    if len(value) > MAX_IDEMPOTENCY_KEY or not value.isascii():
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


async def verify(
    svc: Services,
    *,
    secret: str | None,
    response: str | None,
    expected_sitekey: str | None = None,
    idempotency_key: str | None = None,
    remoteip: str | None = None,
    disposable_email: bool = False,
) -> Verdict:
    """Check and spend a response token.

    With an `idempotency_key`, a retry that repeats the first call's key gets the first
    call's success again instead of "already spent" (Turnstile semantics). A success
    carries the risk assessment, with `remoteip` and the email check added.
    """
    verdict = await _check_and_claim(
        svc, secret, response, svc.sites.by_secret, expected_sitekey, idempotency_key
    )
    return _counted(svc, _assessed(verdict, remoteip, disposable_email))


def _counted(svc: Services, verdict: Verdict) -> Verdict:
    # Only once a secret named the site: a call without one belongs to no site's chart.
    if verdict.site is not None:
        svc.stats.verification(verdict.site.sitekey, verdict.failure, svc.clock.now_ms())
    return verdict


def _assessed(verdict: Verdict, remoteip: str | None, disposable_email: bool) -> Verdict:
    if verdict.token is None or verdict.site is None or not verdict.success:
        return verdict
    if verdict.site.risk.scoring:
        assessment = risk_signals.at_verification(verdict.token, remoteip, disposable_email)
    else:
        assessment = risk.CLEAN  # what its tokens carry too: nothing weighed
    # Built directly: dataclasses.replace costs microseconds on this hot path.
    return Verdict(verdict.failure, verdict.token, verdict.site, assessment)


# Stands in for the secret when the server itself vouches for the site (verify_for_site).
_TRUSTED_CALLER = "server-side caller"


async def verify_for_site(svc: Services, site: Site, response: str | None) -> Verdict:
    """Check and spend a token of `site` for a caller inside this server (the demo page).

    Only the secret check is skipped, because the caller names the site itself; the
    token must still authenticate, belong to `site`, be unexpired and unspent.
    """
    verdict = await _check_and_claim(
        svc, _TRUSTED_CALLER, response, lambda _digest, _now: site, None, None
    )
    return _counted(svc, _assessed(verdict, None, False))


async def _check_and_claim(
    svc: Services,
    secret: str | None,
    response: str | None,
    site_for_secret: Callable[[bytes, int], Site | None],
    expected_sitekey: str | None,
    idempotency_key: str | None,
) -> Verdict:
    now = svc.clock.now_ms()
    checks = functools.partial(
        inspect,
        secret=secret,
        response=response,
        now_ms=now,
        site_for_secret=site_for_secret,
        expected_sitekey=expected_sitekey,
    )
    verdict = checks(keys=svc.keys.current())
    if verdict.failure is Failure.INVALID_RESPONSE and (rotated := svc.keys.refreshed()):
        verdict = checks(keys=rotated)  # sealed by a worker that already uses a newer key
    if not verdict.success:
        return verdict
    token = verdict.token
    assert token is not None
    key = claim_key("t", token.expires_ms, token.id)
    ttl_s = (token.expires_ms - now) / 1000
    if await svc.store.claim(key, ttl_s, idempotency_key or ""):
        return verdict
    if idempotency_key:
        first_key = await svc.store.get(key)
        if first_key and hmac.compare_digest(first_key, idempotency_key):
            return verdict
    return Verdict.fail(Failure.ALREADY_SPENT, token, verdict.site)
