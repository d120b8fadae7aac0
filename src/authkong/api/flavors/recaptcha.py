"""reCAPTCHA siteverify: /recaptcha/api/siteverify, GET or POST (form, query or JSON).

v2 answers carry no `score`/`action` and v3 answers always do: clients such as
drf-recaptcha reject either mix-up. A token is v3 when the widget ran in "score" mode.
Failures are HTTP 200 with `error-codes`, as Google answers.
"""

from authkong.api.asgi import HotRequest, JsonReply, json_response
from authkong.api.flavors._request import gather, iso_time
from authkong.api.http import BadInput
from authkong.api.services import services
from authkong.api.verify import verify
from authkong.domain.verdict import Failure, Verdict

# Google's published v2 test keys: every response passes, reported for this hostname.
TEST_SECRET = "6LeIxAcTAAAAAGG-vFI1TnRWxMZNFuojJ4WifJWe"
TEST_SITEKEY = "6LeIxAcTAAAAAJcZVRqyHh71UMIEGNQ_MXjiZKhI"
TEST_HOSTNAME = "testkey.google.com"

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


def failure(*codes: str) -> JsonReply:
    return json_response({"success": False, "error-codes": list(codes)})


def answer(verdict: Verdict) -> dict[str, object]:
    """The siteverify JSON object for a verdict."""
    if verdict.failure is not None:
        return {"success": False, "error-codes": [CODES[verdict.failure]]}
    token = verdict.token
    assert token is not None
    body: dict[str, object] = {
        "success": True,
        "challenge_ts": iso_time(token.issued_ms, millis=False),
        "hostname": token.hostname,
    }
    if token.mode == "score":
        assert verdict.assessment is not None  # a success holds it
        body["score"] = verdict.assessment.score
        body["action"] = token.action
    return body


async def siteverify(request: HotRequest) -> JsonReply:
    params = await gather(request)
    if isinstance(params, BadInput):
        return failure(CODES[Failure.BAD_REQUEST])
    secret, response = params.get("secret"), params.get("response")
    if not secret and not response:
        return failure(CODES[Failure.MISSING_SECRET], CODES[Failure.MISSING_RESPONSE])
    svc = services(request)
    if secret == TEST_SECRET and response:
        return json_response(
            {
                "success": True,
                "challenge_ts": iso_time(svc.clock.now_ms(), millis=False),
                "hostname": TEST_HOSTNAME,
            }
        )
    verdict = await verify(svc, secret=secret, response=response, remoteip=params.get("remoteip"))
    return json_response(answer(verdict))


def internal_error() -> JsonReply:
    return failure(CODES[Failure.INTERNAL_ERROR])
