"""Request parsing shared by every endpoint: bounded bodies, strict decoding, no 500s.

Parameters arrive as a query string, a form (urlencoded or multipart) or a JSON object,
depending on the vendor's API. Anything malformed becomes a `BadInput` with a reason the
endpoint maps to its own documented error code.
"""

import json
import re
from enum import StrEnum
from urllib.parse import parse_qsl

from starlette.datastructures import UploadFile

from authkong.api.asgi import ClientDisconnected, HotRequest

MAX_FIELDS = 64
# A "%" not followed by two hex digits: parse_qsl would keep it literally, but no client
# that encodes its form properly sends one, so it is a broken body, not a value.
_BROKEN_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


class BadInput(StrEnum):
    TOO_LARGE = "payload_too_large"
    UNSUPPORTED_TYPE = "unsupported_media_type"
    MALFORMED = "malformed_body"


def _declared_length(request: HotRequest, limit: int) -> int | BadInput | None:
    """Content-Length as a number (None when absent), or why it is unacceptable."""
    declared = request.header(b"content-length")
    if declared is None:
        return None
    if not (declared.isascii() and declared.isdigit()):
        return BadInput.MALFORMED
    length = int(declared)
    return BadInput.TOO_LARGE if length > limit else length


async def read_body(request: HotRequest, limit: int) -> bytes | BadInput:
    """The whole body, refusing it when it is too large or ended early.

    A body cut short by a disconnect is never acted on: a verify whose
    `idempotency_key` was lost on the way would otherwise spend the token without it.
    """
    declared = _declared_length(request, limit)
    if isinstance(declared, BadInput):
        return declared
    try:
        body = await request.body(limit)
    except ClientDisconnected:
        return BadInput.MALFORMED
    if body is None:
        return BadInput.TOO_LARGE
    if declared is not None and len(body) != declared:
        return BadInput.MALFORMED
    return body


def _text_params(pairs: list[tuple[str, str]]) -> dict[str, str] | BadInput:
    if len(pairs) > MAX_FIELDS:
        return BadInput.MALFORMED
    # The first value wins, as with PHP and most frameworks reading a repeated field.
    params: dict[str, str] = {}
    for key, value in pairs:
        params.setdefault(key, value)
    return params


def _urlencoded_params(text: str) -> dict[str, str] | BadInput:
    if not text:
        return {}
    if "%" in text and _BROKEN_PERCENT.search(text):
        return BadInput.MALFORMED
    try:
        return _text_params(parse_qsl(text, keep_blank_values=True, errors="strict"))
    except (UnicodeDecodeError, ValueError):
        return BadInput.MALFORMED


def parse_query(request: HotRequest, limit: int) -> dict[str, str] | BadInput:
    """Query-string parameters; a query longer than the body limit is as bad as such a body."""
    raw_bytes = request.query_string
    if len(raw_bytes) > limit:
        return BadInput.TOO_LARGE
    try:
        raw = raw_bytes.decode("ascii")
    except UnicodeDecodeError:
        return BadInput.MALFORMED
    return _urlencoded_params(raw)


def _json_params(data: dict[str, object]) -> dict[str, str] | BadInput:
    """String values kept, null read as absent (clients send `"remoteip": null`), others refused.

    A number, boolean, list or object never is a secret, token or key, so it is a malformed
    request rather than a value to stringify or silently drop.
    """
    if len(data) > MAX_FIELDS:
        return BadInput.MALFORMED
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        if value is None:
            continue
        if not isinstance(value, str):
            return BadInput.MALFORMED
        pairs.append((key, value))
    return _text_params(pairs)


async def parse_body(
    request: HotRequest, limit: int, *, allow_json: bool = True
) -> dict[str, str] | BadInput:
    """Parameters from a form or JSON body (JSON values must be strings or null)."""
    content_type = request.content_type
    if content_type == "multipart/form-data":
        return await _parse_multipart(request, limit)
    body = await read_body(request, limit)
    if isinstance(body, BadInput):
        return body
    if content_type == "application/json" and allow_json:
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return BadInput.MALFORMED
        if not isinstance(data, dict):
            return BadInput.MALFORMED
        return _json_params(data)
    if content_type in ("application/x-www-form-urlencoded", "", "text/plain"):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return BadInput.MALFORMED
        return _urlencoded_params(text)
    return BadInput.UNSUPPORTED_TYPE


async def _parse_multipart(request: HotRequest, limit: int) -> dict[str, str] | BadInput:
    declared = _declared_length(request, limit)
    if declared is None:
        return BadInput.MALFORMED  # python-multipart needs the length up front to stay bounded
    if isinstance(declared, BadInput):
        return declared
    try:
        form = await request.framework_request().form(max_files=0, max_fields=MAX_FIELDS)
    except Exception:  # python-multipart raises many types on broken input  # noqa: BLE001
        return BadInput.MALFORMED
    pairs = [(k, v) for k, v in form.multi_items() if not isinstance(v, UploadFile)]
    return _text_params([(k, str(v)) for k, v in pairs])
