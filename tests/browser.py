"""Headless Chromium through Playwright, and a throwaway static server for host pages.

Not a test module. `chromium()` launches Debian's /usr/bin/chromium (scripts/test installs
it; Playwright's own browser downloads are never used) with background networking off.
`static_server(routes)` serves fixed pages and the widget's JavaScript from 127.0.0.1 on a
port of its own, so host pages live on a different origin from `authkong serve`.
"""

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

import authkong.widget

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless=new",
    "--no-sandbox",  # the tests run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
FRAME_DIR = Path(authkong.widget.__file__).parent / "frame"
JS = "text/javascript; charset=utf-8"
HTML = "text/html; charset=utf-8"

# A route answers with (content type, body); a Path is read at each request.
Route = tuple[str, bytes | Path]


def widget_routes() -> dict[str, Route]:
    """Every script (and WebAssembly module) of the widget's frame, under /widget/."""
    types = {".js": JS, ".wasm": "application/wasm"}
    return {
        f"/widget/{p.name}": (types[p.suffix], p)
        for p in sorted(FRAME_DIR.iterdir())
        if p.suffix in types
    }


@contextlib.contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, closed afterwards."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"{CHROMIUM} is missing; scripts/test installs it with apt-get")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            yield browser
        finally:
            browser.close()


def _handler(
    routes: Mapping[str, Route], headers: Mapping[str, str]
) -> Callable[..., BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            route = routes.get(self.path.split("?", 1)[0])
            if route is None:
                self.send_error(404)
                return
            content_type, body = route
            data = body.read_bytes() if isinstance(body, Path) else body
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # base class's names
            pass  # quiet: pytest shows failures, not every request

    return Handler


@contextlib.contextmanager
def static_server(
    routes: Mapping[str, Route], headers: Mapping[str, str] | None = None
) -> Iterator[str]:
    """Serve `routes` on 127.0.0.1 (a free port) in a thread; yields the base URL.

    `headers` go on every answer (a Content-Security-Policy, for instance).
    """
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(routes, headers or {}))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
