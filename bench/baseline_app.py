"""The floor for siteverify: a raw ASGI app that parses the same form and answers JSON.

No framework, no routing, no storage: read the body, `urllib.parse.parse_qsl` it, return
a small JSON object. `http_bench.py` serves it next to `authkong serve` and divides.

Run as a script it serves itself through `authkong serve`'s own command with
`uvicorn.run` swapped for one that loads this app instead, so host, port, workers,
loop/http implementation, log config (access log on, query strings redacted) and the
server header are the same as the real server's by construction, not by copy:

    .venv/bin/python bench/baseline_app.py --port 8081 --workers 1 --data-dir /tmp/x
"""

import json
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HERE = Path(__file__).resolve().parent
SERVE_TARGET = "authkong.app:app_from_env"
MAX_BODY = 16 * 1024  # the same bound as Settings.max_body_bytes


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    assert scope["type"] == "http"
    body = bytearray()
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > MAX_BODY:
            break
    try:
        params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict"))
        answer: dict[str, object] = {"success": True, "fields": len(params)}
    except (UnicodeDecodeError, ValueError):
        answer = {"success": False, "fields": 0}
    data = json.dumps(answer, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def create() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """Factory, because `authkong serve` passes `factory=True`."""
    return app


def main(argv: list[str]) -> None:
    """`authkong serve ARGV`, but serving this app."""
    import uvicorn

    from authkong import cli

    real_run = uvicorn.run

    def run_baseline(target: object, **options: Any) -> None:
        if target != SERVE_TARGET:
            raise SystemExit(f"authkong serve now runs {target!r}; update bench/baseline_app.py")
        print(f"baseline: uvicorn options {sorted(options)}", file=sys.stderr, flush=True)
        real_run("baseline_app:create", app_dir=str(HERE), **options)

    uvicorn.run = run_baseline
    cli.main(["serve", *argv], prog_name="authkong")


if __name__ == "__main__":
    main(sys.argv[1:])
