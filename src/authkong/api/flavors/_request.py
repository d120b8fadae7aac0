"""What every flavor does before and after the core: gather parameters, format times."""

from datetime import UTC, datetime

from starlette.requests import Request

from authkong.api.http import BadInput, parse_body, parse_query
from authkong.api.services import services


async def gather(request: Request, *, allow_json: bool = True) -> dict[str, str] | BadInput:
    """Query-string parameters overlaid with body parameters (the body wins).

    Several reCAPTCHA clients put everything in the query string, even on POST.
    """
    limit = services(request).settings.max_body_bytes
    query = parse_query(request, limit)
    if isinstance(query, BadInput):
        return query
    if request.method != "POST":
        return query
    body = await parse_body(request, limit, allow_json=allow_json)
    if isinstance(body, BadInput):
        return body
    return {**query, **body}


def iso_time(ms: int, *, millis: bool = True) -> str:
    """ISO 8601 UTC with a Z suffix, as every vendor prints challenge_ts."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
