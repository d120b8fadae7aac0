"""What every flavor does before and after the core: gather parameters, format times."""

import time

from authkong.api.asgi import HotRequest
from authkong.api.http import BadInput, parse_body, parse_query
from authkong.api.services import services


async def gather(request: HotRequest, *, allow_json: bool = True) -> dict[str, str] | BadInput:
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
    t = time.gmtime(ms // 1000)
    date = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
    stamp = f"{date}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    return f"{stamp}.{ms % 1000:03d}Z" if millis else f"{stamp}Z"
