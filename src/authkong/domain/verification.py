"""Every check of a response token that needs no storage; the single-use claim comes after."""

from collections.abc import Callable

from authkong.domain import token as tokens
from authkong.domain.keys import Keyring
from authkong.domain.site import Site, hash_secret
from authkong.domain.verdict import Failure, Verdict

MAX_SECRET_CHARS = 256


def inspect(
    *,
    secret: str | None,
    response: str | None,
    now_ms: int,
    keys: Keyring,
    site_for_secret: Callable[[bytes, int], Site | None],
    expected_sitekey: str | None = None,
) -> Verdict:
    """Authenticate the token and match it to the secret's site; success means "claim it".

    `site_for_secret(digest, now_ms)` returns the site that holds a live secret with
    that SHA-256 digest.
    """
    if not secret:
        return Verdict.fail(Failure.MISSING_SECRET)
    if not response:
        return Verdict.fail(Failure.MISSING_RESPONSE)
    site = site_for_secret(hash_secret(secret), now_ms) if len(secret) <= MAX_SECRET_CHARS else None
    if site is None:
        return Verdict.fail(Failure.INVALID_SECRET)
    token = tokens.unseal(response, keys)
    if token is None:
        return Verdict.fail(Failure.INVALID_RESPONSE, site=site)
    if token.sitekey != site.sitekey:
        return Verdict.fail(Failure.SITEKEY_MISMATCH, token, site)
    if expected_sitekey is not None and expected_sitekey != site.sitekey:
        return Verdict.fail(Failure.SITEKEY_MISMATCH, token, site)
    if now_ms >= token.expires_ms:
        return Verdict.fail(Failure.EXPIRED, token, site)
    return Verdict(failure=None, token=token, site=site)
