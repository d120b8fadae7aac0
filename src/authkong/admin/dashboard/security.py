"""The dashboard's browser-facing protections: cookies, CSRF tokens and response headers.

Sessions live in a `__Host-` cookie (Secure, HttpOnly, SameSite=Strict, Path=/), so no
other host or path can set or read it. Plain http is refused except to localhost, where a
cookie without the prefix and without Secure lets operators try AuthKong without TLS.

CSRF: every form carries `csrf_token`. Behind a session it is an HMAC of the session's
current organization and its token's digest (a synchronizer token that needs no
server-side storage, and changes when the session switches organization); before there is
a session (setup, login, invitation) it is an HMAC of a random pre-session cookie's value
(a signed double submit). The HMAC key lives in the data dir, so every worker agrees.

A new secret is shown once, on the page a create or rotate redirects to (so a reload
never repeats the change): it travels there in a short-lived cookie of its own, sealed to
the session and the site, and that page clears it.
"""

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

KEY_FILE = "dashboard.key"
SESSION_COOKIE = "authkong_session"
PRESESSION_COOKIE = "authkong_presession"
REVEAL_COOKIE = "authkong_reveal"
REVEAL_MAX_AGE_S = 300
HOST_PREFIX = "__Host-"
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})
CSRF_FIELD = "csrf_token"

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def load_or_create_key(data_dir: Path) -> bytes:
    """The CSRF HMAC key: 32 random bytes in data_dir/dashboard.key (mode 0600)."""
    path = data_dir / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(key)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)  # atomic; another worker may have won the race
        except FileExistsError:
            return path.read_bytes()
    finally:
        tmp.unlink(missing_ok=True)
    return key


def is_secure(request: Request) -> bool:
    """https as the client sees it (uvicorn applies X-Forwarded-Proto from trusted proxies)."""
    return request.url.scheme == "https"


def is_local_http(request: Request) -> bool:
    return not is_secure(request) and (request.url.hostname or "").lower() in LOCAL_HOSTS


def cookie_name(request: Request, base: str) -> str:
    return HOST_PREFIX + base if is_secure(request) else base


def set_cookie(
    request: Request, response: Response, base: str, value: str, max_age: int | None = None
) -> None:
    response.set_cookie(
        cookie_name(request, base),
        value,
        max_age=max_age,
        path="/",
        secure=is_secure(request),
        httponly=True,
        samesite="strict",
    )


def clear_cookie(request: Request, response: Response, base: str) -> None:
    response.delete_cookie(
        cookie_name(request, base),
        path="/",
        secure=is_secure(request),
        httponly=True,
        samesite="strict",
    )


def read_cookie(request: Request, base: str) -> str | None:
    return request.cookies.get(cookie_name(request, base)) or None


def _mac(key: bytes, purpose: bytes, value: str) -> str:
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).digest()
    return hmac.new(key, purpose + b"\0" + digest, hashlib.sha256).hexdigest()


def session_csrf(key: bytes, session_token: str, org_id: int) -> str:
    """The synchronizer token for a session in its current organization: an HMAC of the
    organization's id and the session token's SHA-256. Switching organization changes it,
    so a form left open from the previous one cannot act on the new one (ids of users,
    members and tokens mean the same thing in every organization)."""
    return _mac(key, b"session", f"{org_id}.{session_token}")


def presession_csrf(key: bytes, presession: str) -> str:
    return _mac(key, b"presession", presession)


def seal_secret(key: bytes, csrf: str, sitekey: str, secret: str, created: bool) -> str:
    """A new secret for the page that shows it once: bound to this session (through its
    CSRF token) and this site, so no other page or session can be shown it or a forgery."""
    body = f"{sitekey}.{secret}.{int(created)}"  # sitekeys and secrets are URL-safe base64
    return f"{body}.{_mac(key, b'reveal', f'{csrf}.{body}')}"


def open_secret(key: bytes, csrf: str, sealed: str, sitekey: str) -> tuple[str, bool] | None:
    """The (secret, whether the site was just created) sealed for this session and site."""
    body, _, mac = sealed.rpartition(".")
    parts = body.split(".")
    if len(parts) != 3 or parts[0] != sitekey:
        return None
    if not tokens_match(_mac(key, b"reveal", f"{csrf}.{body}"), mac):
        return None
    return parts[1], parts[2] == "1"


def new_presession() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(expected: str, given: object) -> bool:
    return isinstance(given, str) and hmac.compare_digest(
        expected.encode("ascii"), given.encode("utf-8", "surrogatepass")
    )


def same_origin(request: Request, *, null_ok: bool = False) -> bool:
    """False only when an Origin header names another origin (or is "null", unless
    `null_ok`: browsers send "null" for every POST from a no-referrer page)."""
    origin = request.headers.get("origin")
    if origin is None or (null_ok and origin == "null"):
        return True
    own = f"{request.url.scheme}://{request.url.netloc}"
    return origin.lower() == own.lower()
