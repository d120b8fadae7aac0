"""POST /api/v1/challenge: issue a stateless, authenticated proof-of-work challenge."""

import os
import re
from urllib.parse import urlsplit

from authkong.api.asgi import HotRequest, JsonReply, json_response
from authkong.api.errors import bad_input_error, widget_error
from authkong.api.http import BadInput, parse_body
from authkong.api.rate_limit import refusal
from authkong.api.services import client_ip, services
from authkong.domain import challenge as challenges
from authkong.domain import risk
from authkong.domain.difficulty import BASE, adapt
from authkong.domain.pow import SEED_BYTES

MAX_HOSTNAME = 253
# Turnstile's documented limits for action and cData, shared by every flavor; action also
# takes "/", which reCAPTCHA v3 allows in action names.
ACTION_RE = re.compile(r"[A-Za-z0-9_/-]{0,32}")
CDATA_RE = re.compile(r"[A-Za-z0-9_-]{0,255}")
MODES = ("", "checkbox", "invisible", "score")


def page_hostname(explicit: str, request: HotRequest) -> str:
    """The host page's hostname: the widget sends it; else Origin, else Referer."""
    if explicit:
        return explicit.strip().lower().rstrip(".")
    for header in (b"origin", b"referer"):
        value = request.header(header)
        if value:
            try:
                host = urlsplit(value).hostname
            except ValueError:
                continue
            if host:
                return host.lower()
    return ""


async def issue(request: HotRequest) -> JsonReply:
    svc = services(request)
    params = await parse_body(request, svc.settings.max_body_bytes)
    if isinstance(params, BadInput):
        return bad_input_error(params)
    sitekey = params.get("sitekey", "")
    if not sitekey:
        return widget_error("missing_sitekey")
    site = svc.sites.by_sitekey(sitekey)
    if site is None:
        return widget_error("invalid_sitekey")
    hostname = page_hostname(params.get("hostname", ""), request)
    if not hostname:
        return widget_error("missing_hostname")
    if len(hostname) > MAX_HOSTNAME or not site.allows_hostname(hostname):
        return widget_error("hostname_not_allowed")
    action, cdata, mode = params.get("action", ""), params.get("cdata", ""), params.get("mode", "")
    # fullmatch: with match, "$" also accepts a trailing newline ("login\n").
    if not ACTION_RE.fullmatch(action) or not CDATA_RE.fullmatch(cdata) or mode not in MODES:
        return widget_error("invalid_parameter")
    ip = client_ip(request)
    if (refused := await refusal(svc.store, site, "c", ip)) is not None:
        return refused

    now = svc.clock.now_ms()
    difficulty, reason = site.difficulty, BASE
    if site.risk.scoring:
        ip_count, subnet_count, load = svc.velocity.challenge(site.sitekey, ip, now)
        if site.risk.adaptive and svc.settings.adaptive_difficulty:
            difficulty, reason = adapt(
                site.difficulty,
                site_rate=load.rate,
                site_baseline=load.baseline,
                client_fraudscore=risk.challenge_velocity_fraudscore(ip_count, subnet_count),
                max_expected_wait_s=site.risk.max_wait_s,
                assumed_hash_rate=svc.settings.assumed_hash_rate,
            )
    challenge = challenges.Challenge(
        seed=os.urandom(SEED_BYTES),
        k=difficulty.k,
        target=difficulty.target,
        issued_ms=now,
        expires_ms=now + svc.settings.challenge_ttl_s * 1000,
        sitekey=site.sitekey,
        hostname=hostname,
        action=action,
        cdata=cdata,
        mode=mode,
        reason=reason,
    )
    svc.stats.challenge(site.sitekey, ip, now)
    return json_response(
        {
            "challenge": challenges.encode(challenge, svc.keys.current()),
            "seed": challenge.seed.hex(),
            "k": challenge.k,
            "target": challenge.target,
            "expected_hashes": difficulty.expected_hashes,
            "expires_at": challenge.expires_ms,
            "reason": challenge.reason,
        },
        headers={"Cache-Control": "no-store"},
    )
