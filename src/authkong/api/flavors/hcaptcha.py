"""hCaptcha siteverify: POST /siteverify (form). Failures are HTTP 200, as hCaptcha answers.

The optional `sitekey` parameter must match the token's site (`sitekey-secret-mismatch`).
"""

import hmac

from authkong.api.asgi import HotRequest, JsonReply, json_response
from authkong.api.flavors._request import gather, iso_time
from authkong.api.http import BadInput
from authkong.api.services import services
from authkong.api.verify import verify
from authkong.domain.risk import MAX_FRAUDSCORE
from authkong.domain.verdict import Failure, Verdict

# hCaptcha's published test keys: one secret, three sitekey/token pairs.
TEST_SECRET = "0x0000000000000000000000000000000000000000"
TEST_HOSTNAME = "dummy-key-pass"
TEST_PAIRS: dict[str, dict[str, object]] = {
    # token -> extra fields the vendor returns for it
    "10000000-aaaa-bbbb-cccc-000000000001": {"credit": False},
    "20000000-aaaa-bbbb-cccc-000000000002": {
        "sitekey": "20000000-ffff-ffff-ffff-000000000002",
        "score": 0,
        "score_reason": ["safe"],
    },
    "30000000-aaaa-bbbb-cccc-000000000003": {
        "sitekey": "30000000-ffff-ffff-ffff-000000000003",
        "score": 1,
        "score_reason": ["bot"],
    },
}
TEST_SITEKEYS = {
    "10000000-ffff-ffff-ffff-000000000001",
    "20000000-ffff-ffff-ffff-000000000002",
    "30000000-ffff-ffff-ffff-000000000003",
}

CODES = {
    Failure.MISSING_SECRET: "missing-input-secret",
    Failure.INVALID_SECRET: "invalid-input-secret",
    Failure.MISSING_RESPONSE: "missing-input-response",
    Failure.INVALID_RESPONSE: "invalid-input-response",
    Failure.EXPIRED: "expired-input-response",
    Failure.ALREADY_SPENT: "already-seen-response",
    Failure.SITEKEY_MISMATCH: "sitekey-secret-mismatch",
    Failure.BAD_REQUEST: "bad-request",
    # Not in every vendor's table; Turnstile documents it. Any client reads it as a failure.
    Failure.INTERNAL_ERROR: "internal-error",
}


def failure(*codes: str) -> JsonReply:
    return json_response({"success": False, "error-codes": list(codes)})


def _test_key_answer(
    secret: str | None, response: str, sitekey: str | None, now_ms: int
) -> JsonReply | None:
    """The vendor's documented answer when a test key is involved, else None."""
    # Bytes, not str: compare_digest raises TypeError on a str with non-ASCII characters.
    given = (secret or "").encode("utf-8", "surrogatepass")
    is_test_secret = secret is not None and hmac.compare_digest(given, TEST_SECRET.encode())
    test_extra = TEST_PAIRS.get(response)
    if test_extra is not None and not is_test_secret:
        return failure("not-using-dummy-secret")
    if sitekey in TEST_SITEKEYS and not is_test_secret:
        return failure("not-using-dummy-passcode")
    if not is_test_secret:
        return None
    if test_extra is None:
        return failure(CODES[Failure.INVALID_RESPONSE])
    if sitekey and test_extra.get("sitekey", "10000000-ffff-ffff-ffff-000000000001") != sitekey:
        return failure(CODES[Failure.SITEKEY_MISMATCH])
    return json_response(
        {"success": True, "challenge_ts": iso_time(now_ms), "hostname": TEST_HOSTNAME, **test_extra}
    )


def answer(verdict: Verdict) -> dict[str, object]:
    """The siteverify JSON object for a verdict."""
    if verdict.failure is not None:
        return {"success": False, "error-codes": [CODES[verdict.failure]]}
    token, assessment = verdict.token, verdict.assessment
    assert token is not None and assessment is not None  # a success holds both
    return {
        "success": True,
        "challenge_ts": iso_time(token.issued_ms),
        "hostname": token.hostname,
        "credit": False,
        "sitekey": token.sitekey,
        # hCaptcha Enterprise's direction: 0.0 no risk ... 1.0 a threat.
        "score": round(assessment.fraudscore / MAX_FRAUDSCORE, 2),
        "score_reason": list(assessment.reasons),
    }


async def siteverify(request: HotRequest) -> JsonReply:
    params = await gather(request, allow_json=False)
    if isinstance(params, BadInput):
        return failure(CODES[Failure.BAD_REQUEST])
    secret, response = params.get("secret"), params.get("response")
    sitekey = params.get("sitekey") or None
    missing = [
        CODES[f]
        for f, v in ((Failure.MISSING_RESPONSE, response), (Failure.MISSING_SECRET, secret))
        if not v
    ]
    if missing:
        return failure(*missing)
    assert response is not None
    svc = services(request)
    test_answer = _test_key_answer(secret, response, sitekey, svc.clock.now_ms())
    if test_answer is not None:
        return test_answer
    verdict = await verify(
        svc,
        secret=secret,
        response=response,
        expected_sitekey=sitekey,
        remoteip=params.get("remoteip"),
    )
    return json_response(answer(verdict))


def internal_error() -> JsonReply:
    return failure(CODES[Failure.INTERNAL_ERROR])
