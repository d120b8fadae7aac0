"""AuthKong's own error codes: permanent, documented in docs/errors.md, each with one message.

A test checks that this table and the document agree and that every code is reachable.
"""

from dataclasses import dataclass

from authkong.api.asgi import JsonReply, json_response
from authkong.api.http import BadInput
from authkong.domain.verdict import Failure


@dataclass(frozen=True, slots=True)
class ApiError:
    code: str
    status: int
    message: str


def _table(*errors: ApiError) -> dict[str, ApiError]:
    return {e.code: e for e in errors}


# siteverify answers 200 even for malformed requests: some integrations treat any other
# status as "captcha service down" and let the visitor through, and a visitor controls the
# size and bytes of the token field that the backend forwards.
SITEVERIFY_ERRORS = _table(
    ApiError("missing_secret", 200, "The secret parameter is missing."),
    ApiError("invalid_secret", 200, "The secret does not belong to any site."),
    ApiError("missing_response", 200, "The response parameter is missing."),
    ApiError(
        "invalid_response", 200, "The response token is malformed or was not issued by this server."
    ),
    ApiError(
        "expired_response",
        200,
        "The response token has expired; the visitor must solve a new captcha.",
    ),
    ApiError("already_spent", 200, "The response token has already been verified once."),
    ApiError("sitekey_mismatch", 200, "The response token was issued for a different sitekey."),
    ApiError(
        "bad_request", 200, "The request body could not be read (size, encoding or content type)."
    ),
    ApiError("internal_error", 200, "The server could not check the token right now; try again."),
)

WIDGET_ERRORS = _table(
    ApiError("missing_sitekey", 400, "The sitekey parameter is missing."),
    ApiError("invalid_sitekey", 400, "The sitekey is not registered on this server."),
    ApiError("missing_hostname", 400, "The hostname of the page could not be determined."),
    ApiError("hostname_not_allowed", 403, "This hostname is not allowed for the sitekey."),
    ApiError(
        "invalid_parameter", 400, "A parameter is too long or has characters that are not allowed."
    ),
    ApiError(
        "invalid_challenge", 400, "The challenge is malformed or was not issued by this server."
    ),
    ApiError("challenge_expired", 410, "The challenge has expired; request a new one."),
    ApiError("invalid_solution", 400, "The nonces do not solve the challenge."),
    ApiError("challenge_already_redeemed", 409, "The challenge has already been redeemed."),
    ApiError("payload_too_large", 413, "The request body is too large."),
    ApiError("unsupported_media_type", 415, "The content type is not supported."),
    ApiError("malformed_body", 400, "The request body could not be parsed."),
    ApiError("service_unavailable", 503, "The server cannot answer right now; try again shortly."),
    ApiError(
        "rate_limited",
        429,
        "Too many requests from this address or for this site; retry after Retry-After seconds.",
    ),
)

METHOD_NOT_ALLOWED = ApiError(
    "method_not_allowed", 405, "This endpoint does not accept that HTTP method."
)

ALL_ERRORS = {**SITEVERIFY_ERRORS, **WIDGET_ERRORS, METHOD_NOT_ALLOWED.code: METHOD_NOT_ALLOWED}

FAILURE_CODES = {failure: SITEVERIFY_ERRORS[failure.value] for failure in Failure}


def widget_error(code: str, headers: dict[str, str] | None = None) -> JsonReply:
    error = WIDGET_ERRORS[code]
    body: dict[str, object] = {"error_code": error.code, "message": error.message}
    return json_response(body, error.status, headers)


def bad_input_error(bad: BadInput) -> JsonReply:
    return widget_error(bad.value)


def widget_internal_error() -> JsonReply:
    return widget_error("service_unavailable")
