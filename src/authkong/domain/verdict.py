"""The outcome of checking a response token: a value, never an exception."""

from dataclasses import dataclass
from enum import StrEnum

from authkong.domain.risk import Assessment
from authkong.domain.site import Site
from authkong.domain.token import ResponseToken


class Failure(StrEnum):
    """Why a verification failed. Each flavor maps these to its vendor's own codes."""

    MISSING_SECRET = "missing_secret"
    INVALID_SECRET = "invalid_secret"
    MISSING_RESPONSE = "missing_response"
    INVALID_RESPONSE = "invalid_response"
    EXPIRED = "expired_response"
    ALREADY_SPENT = "already_spent"
    SITEKEY_MISMATCH = "sitekey_mismatch"
    BAD_REQUEST = "bad_request"
    INTERNAL_ERROR = "internal_error"
    """The server could not decide (e.g. its database stayed locked); never a success."""


@dataclass(frozen=True, slots=True)
class Verdict:
    failure: Failure | None
    token: ResponseToken | None = None
    site: Site | None = None
    assessment: Assessment | None = None
    """On success: the token's risk assessment with what siteverify added (remoteip,
    email); see domain/risk.py."""

    @property
    def success(self) -> bool:
        return self.failure is None

    @staticmethod
    def fail(
        failure: Failure, token: ResponseToken | None = None, site: Site | None = None
    ) -> "Verdict":
        return Verdict(failure=failure, token=token, site=site)
