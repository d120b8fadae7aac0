"""Turnstile siteverify: POST /turnstile/v0/siteverify, form or JSON, with idempotency_key.

GET is not part of Turnstile's API (405). Failures are HTTP 200 with `error-codes`: the
popular Python clients raise or return nothing on any other status.
"""

import hmac

from authkong.api.asgi import HotRequest, JsonReply, json_response
from authkong.api.flavors._request import gather, iso_time
from authkong.api.http import BadInput
from authkong.api.services import services
from authkong.api.verify import valid_idempotency_key, verify
from authkong.domain.verdict import Failure, Verdict

# Cloudflare's published test secrets; they accept only the dummy token.
DUMMY_TOKEN = "XXXX.DUMMY.TOKEN.XXXX"
TEST_PASS_SECRET = "1x0000000000000000000000000000000AA"
TEST_FAIL_SECRET = "2x0000000000000000000000000000000AA"
TEST_SPENT_SECRET = "3x0000000000000000000000000000000AA"
TEST_SECRETS = {TEST_PASS_SECRET, TEST_FAIL_SECRET, TEST_SPENT_SECRET}

CODES = {
    Failure.MISSING_SECRET: "missing-input-secret",
    Failure.INVALID_SECRET: "invalid-input-secret",
    Failure.MISSING_RESPONSE: "missing-input-response",
    Failure.INVALID_RESPONSE: "invalid-input-response",
    Failure.EXPIRED: "timeout-or-duplicate",
    Failure.ALREADY_SPENT: "timeout-or-duplicate",
    Failure.SITEKEY_MISMATCH: "invalid-input-response",
    Failure.BAD_REQUEST: "bad-request",
    # Not in every vendor's table; Turnstile documents it. Any client reads it as a failure.
    Failure.INTERNAL_ERROR: "internal-error",
}


def failure(*codes: str, status: int = 200) -> JsonReply:
    return json_response({"success": False, "error-codes": list(codes), "messages": []}, status)


def success(
    *,
    challenge_ts: str,
    hostname: str,
    action: str,
    cdata: str,
    metadata: dict[str, object] | None = None,
) -> dict[str, object]:
    return {
        "success": True,
        "challenge_ts": challenge_ts,
        "hostname": hostname,
        "error-codes": [],
        "action": action,
        "cdata": cdata,
        "metadata": metadata or {},
        "messages": [],
    }


def answer(verdict: Verdict) -> dict[str, object]:
    """The siteverify JSON object for a verdict."""
    if verdict.failure is not None:
        return {"success": False, "error-codes": [CODES[verdict.failure]], "messages": []}
    token, assessment = verdict.token, verdict.assessment
    assert token is not None and assessment is not None  # a success holds both
    return success(
        challenge_ts=iso_time(token.issued_ms),
        hostname=token.hostname,
        action=token.action,
        cdata=token.cdata,
        # Turnstile has no score; its clients read metadata as a free-form object.
        metadata={
            "score": assessment.score,
            "fraudscore": assessment.fraudscore,
            "reasons": list(assessment.reasons),
        },
    )


def _test_key_answer(secret: str, response: str, now_ms: int) -> JsonReply | None:
    # Bytes, not str: compare_digest raises TypeError on a str with non-ASCII characters.
    given = secret.encode("utf-8", "surrogatepass")
    test_secret = next((t for t in TEST_SECRETS if hmac.compare_digest(given, t.encode())), None)
    if test_secret is None:
        return failure(CODES[Failure.INVALID_RESPONSE]) if response == DUMMY_TOKEN else None
    if response != DUMMY_TOKEN:
        return failure(CODES[Failure.INVALID_SECRET])
    if test_secret == TEST_FAIL_SECRET:
        return failure(CODES[Failure.INVALID_RESPONSE])
    if test_secret == TEST_SPENT_SECRET:
        return failure(CODES[Failure.ALREADY_SPENT])
    return json_response(
        success(challenge_ts=iso_time(now_ms), hostname="example.com", action="", cdata="")
    )


async def siteverify(request: HotRequest) -> JsonReply:
    if request.method != "POST":
        return failure(CODES[Failure.BAD_REQUEST], status=405)
    params = await gather(request)
    if isinstance(params, BadInput):
        return failure(CODES[Failure.BAD_REQUEST])
    secret, response = params.get("secret"), params.get("response")
    missing = [
        CODES[f]
        for f, v in ((Failure.MISSING_SECRET, secret), (Failure.MISSING_RESPONSE, response))
        if not v
    ]
    if missing:
        return failure(*missing)
    assert secret is not None and response is not None
    idempotency_key = params.get("idempotency_key") or None
    if idempotency_key is not None and not valid_idempotency_key(idempotency_key):
        return failure(CODES[Failure.BAD_REQUEST])
    svc = services(request)
    test_answer = _test_key_answer(secret, response, svc.clock.now_ms())
    if test_answer is not None:
        return test_answer
    verdict = await verify(
        svc,
        secret=secret,
        response=response,
        idempotency_key=idempotency_key,
        remoteip=params.get("remoteip"),
    )
    return json_response(answer(verdict))


def internal_error() -> JsonReply:
    return failure(CODES[Failure.INTERNAL_ERROR])
