"""AuthKong's own siteverify: GET or POST /api/siteverify.

Answer: `success`, `message`, `error_code` (null on success) from the table in
docs/errors.md, plus the token's facts on success.
"""

from authkong.api.asgi import HotRequest, JsonReply, json_response
from authkong.api.errors import FAILURE_CODES, SITEVERIFY_ERRORS
from authkong.api.flavors._request import gather, iso_time
from authkong.api.http import BadInput
from authkong.api.services import services
from authkong.api.verify import verify
from authkong.domain.verdict import Failure, Verdict
from authkong.lookup import country_of

SUCCESS_MESSAGE = "The response token is valid."


def answer(verdict: Verdict) -> dict[str, object]:
    """The siteverify JSON object for a verdict."""
    if verdict.failure is not None:
        error = FAILURE_CODES[verdict.failure]
        return {"success": False, "message": error.message, "error_code": error.code}
    token, assessment = verdict.token, verdict.assessment
    assert token is not None and assessment is not None  # a success holds both
    return {
        "success": True,
        "message": SUCCESS_MESSAGE,
        "error_code": None,
        "sitekey": token.sitekey,
        "hostname": token.hostname,
        "challenge_ts": iso_time(token.issued_ms),
        "action": token.action,
        "cdata": token.cdata,
        "score": assessment.score,
        "fraudscore": assessment.fraudscore,
        "reasons": list(assessment.reasons),
        "countrycode": country_of(token.client_ip),
    }


def render(verdict: Verdict) -> JsonReply:
    return json_response(answer(verdict))


async def siteverify(request: HotRequest) -> JsonReply:
    params = await gather(request)
    if isinstance(params, BadInput):
        error = SITEVERIFY_ERRORS["bad_request"]
        return json_response({"success": False, "message": error.message, "error_code": error.code})
    verdict = await verify(
        services(request),
        secret=params.get("secret"),
        response=params.get("response") or params.get("captcha-response"),
        expected_sitekey=params.get("sitekey") or None,
        remoteip=params.get("remoteip"),
    )
    return render(verdict)


def internal_error() -> JsonReply:
    return render(Verdict(failure=Failure.INTERNAL_ERROR))
