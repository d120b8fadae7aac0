"""POST /api/v1/redeem: trade a solved challenge for a sealed, single-use response token.

Checks run cheapest first: MAC and expiry, then k hashes, and only then the writes (the
client's rate-limit bucket, then claiming the challenge id), so a bad solution costs the
server microseconds and never a write.
"""

import json

from authkong.api import risk_signals
from authkong.api.asgi import HotRequest, JsonReply, json_response
from authkong.api.errors import bad_input_error, widget_error
from authkong.api.http import BadInput, read_body
from authkong.api.rate_limit import refusal
from authkong.api.services import client_ip, services
from authkong.domain import challenge as challenges
from authkong.domain import risk
from authkong.domain import token as tokens
from authkong.domain.pow import MAX_K, check_solution
from authkong.storage.ephemeral import claim_key

MAX_CHALLENGE_CHARS = 2048


def _read_request(body: bytes) -> tuple[str, list[int], tuple[str, ...]] | None:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    challenge, nonces = data.get("challenge"), data.get("nonces")
    if not isinstance(challenge, str) or len(challenge) > MAX_CHALLENGE_CHARS:
        return None
    if not isinstance(nonces, list) or len(nonces) > MAX_K:
        return None
    if not all(type(n) is int for n in nonces):
        return None
    return challenge, nonces, risk_signals.automation_hints(data.get("hints"))


async def redeem(request: HotRequest) -> JsonReply:
    svc = services(request)
    if request.content_type != "application/json":
        return bad_input_error(BadInput.UNSUPPORTED_TYPE)
    body = await read_body(request, svc.settings.max_body_bytes)
    if isinstance(body, BadInput):
        return bad_input_error(body)
    parsed = _read_request(body)
    if parsed is None:
        return widget_error("malformed_body")
    challenge_text, nonces, hints = parsed

    challenge = challenges.decode(challenge_text, svc.keys.current())
    if challenge is None and (rotated := svc.keys.refreshed()) is not None:
        challenge = challenges.decode(challenge_text, rotated)  # signed by a newer key
    if challenge is None:
        return widget_error("invalid_challenge")
    now = svc.clock.now_ms()
    ip = client_ip(request)
    site = svc.sites.by_sitekey(challenge.sitekey)
    if now >= challenge.expires_ms:
        if site is None or site.risk.scoring:
            svc.velocity.failure(ip, now)
        return widget_error("challenge_expired")
    if site is None:
        return widget_error("invalid_sitekey")
    if not check_solution(challenge.seed, nonces, challenge.k, challenge.target):
        if site.risk.scoring:
            svc.velocity.failure(ip, now)
        return widget_error("invalid_solution")
    if (refused := await refusal(svc.store, site, "r", ip)) is not None:
        return refused
    ttl_s = (challenge.expires_ms - now) / 1000
    if not await svc.store.claim(claim_key("c", challenge.expires_ms, challenge.id), ttl_s):
        if site.risk.scoring:
            svc.velocity.failure(ip, now)
        return widget_error("challenge_already_redeemed")

    solve_ms = now - challenge.issued_ms
    assessment = risk.CLEAN
    if site.risk.scoring:
        expected = challenge.k * round(2**32 / challenge.target)
        counts = svc.velocity.redemption(ip, now)
        assessment = risk_signals.at_redemption(
            request, challenge.hostname, hints, solve_ms, expected, counts, svc.proxies
        )
    token = tokens.ResponseToken(
        token_id=tokens.new_token_id(),
        sitekey=site.sitekey,
        issued_ms=now,
        expires_ms=now + site.token_lifetime * 1000,
        hostname=challenge.hostname,
        action=challenge.action,
        cdata=challenge.cdata,
        mode=challenge.mode,
        client_ip=ip,
        score=assessment.score,
        reasons=assessment.reasons,
        solve_ms=solve_ms,
    )
    svc.stats.solve(site.sitekey, solve_ms, token.score, now)
    return json_response(
        {"token": tokens.seal(token, svc.keys.current()), "expires_in": site.token_lifetime},
        headers={"Cache-Control": "no-store"},
    )
