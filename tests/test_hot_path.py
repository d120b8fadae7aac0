"""The ASGI hot path: truncated bodies, foreign encodings, mount points, odd keys."""

import asyncio
import json
from typing import Any
from urllib.parse import urlencode

from starlette.testclient import TestClient

from authkong.storage.registry import NewSecret
from tests.support import get_token

Message = dict[str, Any]


def call_raw(
    client: TestClient,
    path: str,
    chunks: list[Message],
    headers: list[tuple[bytes, bytes]],
    root_path: str = "",
) -> list[Message]:
    """Drive the app directly with the given receive messages; return what it sent."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": root_path + path,
        "raw_path": (root_path + path).encode(),
        "query_string": b"",
        "root_path": root_path,
        "headers": headers,
        "client": ("203.0.113.9", 1234),
        "server": ("127.0.0.1", 80),
    }
    incoming = list(chunks)
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(client.app(scope, receive, send))  # type: ignore[arg-type]
    return sent


def test_disconnect_mid_body_spends_nothing(client: TestClient, site: NewSecret) -> None:
    """A body cut short by a disconnect is refused, and the token stays unspent."""
    token = get_token(client, site.site.sitekey)
    body = urlencode({"secret": site.secret, "response": token}).encode()
    form = [(b"content-type", b"application/x-www-form-urlencoded")]
    sent = call_raw(
        client,
        "/turnstile/v0/siteverify",
        [{"type": "http.request", "body": body, "more_body": True}, {"type": "http.disconnect"}],
        form,
    )
    assert b'"bad-request"' in sent[-1]["body"]
    later = client.post("/turnstile/v0/siteverify", data={"secret": site.secret, "response": token})
    assert later.json()["success"] is True


def test_body_shorter_than_declared_is_refused(client: TestClient, site: NewSecret) -> None:
    """A body that ends before its Content-Length is a malformed request, not a verify."""
    token = get_token(client, site.site.sitekey)
    body = urlencode({"secret": site.secret, "response": token}).encode()
    headers = [
        (b"content-type", b"application/x-www-form-urlencoded"),
        (b"content-length", str(len(body) + 10).encode()),
    ]
    sent = call_raw(client, "/api/siteverify", [{"type": "http.request", "body": body}], headers)
    assert b'"error_code":"bad_request"' in sent[-1]["body"]
    assert client.post("/api/siteverify", data={"secret": site.secret, "response": token}).json()[
        "success"
    ]


def test_utf16_json_is_malformed(client: TestClient, site: NewSecret) -> None:
    """JSON must be UTF-8: a UTF-16 body is bad_request even though it would parse."""
    token = get_token(client, site.site.sitekey)
    raw = json.dumps({"secret": site.secret, "response": token}).encode("utf-16")
    got = client.post("/api/siteverify", content=raw, headers={"content-type": "application/json"})
    assert got.status_code == 200
    assert got.json()["error_code"] == "bad_request"


def test_non_ascii_idempotency_key_is_bad_request(client: TestClient, site: NewSecret) -> None:
    """A UUID spelled with non-ASCII digits is refused before any token is spent."""
    token = get_token(client, site.site.sitekey)
    key = "\u0660" * 32
    form = {"secret": site.secret, "response": token, "idempotency_key": key}
    got = client.post("/turnstile/v0/siteverify", data=form)
    assert got.json()["error-codes"] == ["bad-request"]
    again = client.post("/turnstile/v0/siteverify", data={"secret": site.secret, "response": token})
    assert again.json()["success"] is True


def test_hot_paths_work_below_a_root_path(client: TestClient, site: NewSecret) -> None:
    """Mounted under a root path (uvicorn --root-path), the hot endpoints still answer."""
    token = get_token(client, site.site.sitekey)
    body = urlencode({"secret": site.secret, "response": token}).encode()
    sent = call_raw(
        client,
        "/api/siteverify",
        [{"type": "http.request", "body": body}],
        [(b"content-type", b"application/x-www-form-urlencoded")],
        root_path="/captcha-service",
    )
    assert sent[0]["status"] == 200
    assert b'"success":true' in sent[-1]["body"]
