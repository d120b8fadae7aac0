"""zencaptcha siteverify: POST /captcha/siteverify (form or JSON), optional `email`.

zencaptcha answers with `success` and a `message`; "valid" and "timeout_or_duplicate"
are its documented values, the others are ours (docs/errors.md). Every rejection is
HTTP 200: zencaptcha's own plugins let the visitor through on any other status.
A success also carries `fraudscore` (0-99, docs/risk.md), `countrycode` (of the IP that
solved, offline) and `emailvalid` (of the optional `email` parameter, an address or a
bare domain; a disposable one also raises the fraudscore).
"""

from authkong.api.asgi import HotRequest, JsonReply, json_response
from authkong.api.flavors._request import gather
from authkong.api.http import BadInput
from authkong.api.services import services
from authkong.api.verify import verify
from authkong.domain.verdict import Failure, Verdict
from authkong.lookup import EmailStatus, check_email, country_of
from authkong.lookup.email import check_email_dns

MESSAGES = {
    Failure.MISSING_SECRET: "missing_secret",
    Failure.INVALID_SECRET: "invalid_secret",
    Failure.MISSING_RESPONSE: "missing_solution",
    Failure.INVALID_RESPONSE: "invalid_solution",
    Failure.EXPIRED: "timeout_or_duplicate",
    Failure.ALREADY_SPENT: "timeout_or_duplicate",
    Failure.SITEKEY_MISMATCH: "invalid_solution",
    Failure.BAD_REQUEST: "bad_request",
    Failure.INTERNAL_ERROR: "internal_error",
}


def failure(message: str, status: int = 200) -> JsonReply:
    return json_response({"success": False, "message": message}, status)


def answer(verdict: Verdict, *, emailvalid: EmailStatus = "none") -> dict[str, object]:
    """The siteverify JSON object for a verdict; `emailvalid` is check_email's answer."""
    if verdict.failure is not None:
        return {"success": False, "message": MESSAGES[verdict.failure]}
    token, assessment = verdict.token, verdict.assessment
    assert token is not None and assessment is not None  # a success holds both
    return {
        "success": True,
        "message": "valid",
        "fraudscore": assessment.fraudscore,
        "countrycode": country_of(token.client_ip),
        "emailvalid": emailvalid,
    }


async def siteverify(request: HotRequest) -> JsonReply:
    if request.method != "POST":
        return failure(MESSAGES[Failure.BAD_REQUEST], status=405)
    params = await gather(request)
    if isinstance(params, BadInput):
        return failure(MESSAGES[Failure.BAD_REQUEST])
    svc = services(request)
    email = params.get("email")
    emailvalid = check_email(email)  # offline: syntax and the disposable list
    verdict = await verify(
        svc,
        secret=params.get("secret"),
        response=params.get("response"),
        disposable_email=emailvalid == "disposable_email",
    )
    dns_timeout_s = svc.settings.email_dns_timeout_s
    if dns_timeout_s and verdict.success and emailvalid == "valid_email":
        # Only for a verified secret and token: DNS lookups of domains of the caller's
        # choosing must cost it a solved challenge. DNS can only find the domain takes no
        # mail (invalid_email); the disposable list, which raises the fraudscore, is offline.
        emailvalid = await check_email_dns(email, dns_timeout_s)
    return json_response(answer(verdict, emailvalid=emailvalid))


def internal_error() -> JsonReply:
    return failure(MESSAGES[Failure.INTERNAL_ERROR])
