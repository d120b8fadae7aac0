"""The hot path: challenge, redeem and siteverify served straight from ASGI.

These endpoints run on every visitor and every verification, and measured against a raw
ASGI floor (bench/http_bench.py) a framework request/response round trip cost more than
their own work. `HotRequest` exposes only what they read; `JsonReply` writes a JSON body
with precomputed headers. Everything else (pages, 404s) goes to Starlette.
"""

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.types import Receive, Scope, Send


class ClientDisconnected(Exception):
    """The client went away before its request body was complete."""


class HotRequest:
    __slots__ = ("app", "receive", "scope")

    def __init__(self, scope: Scope, receive: Receive, app: Any) -> None:
        self.scope = scope
        self.receive = receive
        self.app = app
        """The Starlette app, whose `state.services` every endpoint uses."""

    @property
    def method(self) -> str:
        method: str = self.scope["method"]
        return method

    @property
    def query_string(self) -> bytes:
        query: bytes = self.scope.get("query_string", b"")
        return query

    @property
    def client_host(self) -> str:
        client = self.scope.get("client")
        return str(client[0]) if client else ""

    @property
    def content_type(self) -> str:
        """The media type alone, in lower case, without parameters such as charset."""
        return (self.header(b"content-type") or "").split(";")[0].strip().lower()

    def header(self, name: bytes) -> str | None:
        """The first value of a header; `name` in lower case, as ASGI servers send names."""
        for key, value in self.scope["headers"]:
            if key == name:
                return str(value.decode("latin-1"))
        return None

    async def body(self, limit: int) -> bytes | None:
        """The whole body, or None as soon as it grows past `limit` bytes."""
        body = b""
        more = True
        while more:
            message = await self.receive()
            if message["type"] != "http.request":
                raise ClientDisconnected
            body += message.get("body", b"")
            if len(body) > limit:
                return None
            more = message.get("more_body", False)
        return body

    def framework_request(self) -> Request:
        """A Starlette request on the same connection, for multipart parsing only."""
        return Request(self.scope, self.receive)


class JsonReply:
    """A JSON answer, itself an ASGI app so Starlette routes can return it too."""

    __slots__ = ("body", "headers", "status")

    def __init__(
        self, body: bytes, status: int = 200, headers: dict[str, str] | None = None
    ) -> None:
        self.body = body
        self.status = status
        self.headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *(
                (k.lower().encode("latin-1"), v.encode("latin-1"))
                for k, v in (headers or {}).items()
            ),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status, "headers": self.headers})
        await send({"type": "http.response.body", "body": self.body})


Endpoint = Callable[[HotRequest], Awaitable[JsonReply]]


def json_response(
    body: dict[str, object], status: int = 200, headers: dict[str, str] | None = None
) -> JsonReply:
    """Compact JSON; bodies here are small dicts of strings, numbers and booleans."""
    return JsonReply(
        json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), status, headers
    )
