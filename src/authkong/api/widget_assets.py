"""The browser widget's files, served by the app itself (cold path, not in HotPaths).

`GET /api.js` is the loader a host page includes; `/widget` is the page inside the iframe
it places, and `/widget/*.js` are that page's scripts. Every file is read once per
process from the `authkong.widget` package and kept with a gzip copy, so a request costs
one dictionary lookup. The iframe page carries a Content-Security-Policy without
'unsafe-inline': its one <style> block is allowed by hash, its scripts are files.
"""

import base64
import gzip
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.resources import files

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

JS = "text/javascript; charset=utf-8"
HTML = "text/html; charset=utf-8"
LOADER_MAX_AGE = 300  # host pages pick up a new loader within minutes
ASSET_MAX_AGE = 3600
CORP = "cross-origin"
NONE = "'none'"
_STYLE = re.compile(rb"<style>(.*?)</style>", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    headers: dict[str, str]


def _read(name: str) -> bytes:
    return files("authkong.widget").joinpath(name).read_bytes()


def _asset(
    name: str, content_type: str, max_age: int, extra: dict[str, str] | None = None
) -> Asset:
    body = _read(name)
    headers = {
        "Content-Type": content_type,
        "Cache-Control": f"public, max-age={max_age}",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
        **(extra or {}),
    }
    return Asset(body, gzip.compress(body, 9, mtime=0), headers)


def frame_csp(html: bytes) -> str:
    """The iframe page's policy: its own origin's scripts, workers and API, its one style."""
    styles = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in _STYLE.finditer(html)
    )
    return (
        "default-src 'none'; script-src 'self'; worker-src 'self'; connect-src 'self'; "
        f"style-src {styles or NONE}; base-uri 'none'; form-action 'none'"
    )


def load_assets() -> dict[str, Asset]:
    """Path -> file, for every path the widget is served from."""
    csp = frame_csp(_read("frame.html"))
    return {
        # Host pages on any origin load the loader, also under Cross-Origin-Embedder-Policy.
        "/api.js": _asset("loader.js", JS, LOADER_MAX_AGE, {"Cross-Origin-Resource-Policy": CORP}),
        "/widget": _asset("frame.html", HTML, ASSET_MAX_AGE, {"Content-Security-Policy": csp}),
        "/widget/frame.js": _asset("frame.js", JS, ASSET_MAX_AGE),
        "/widget/solver.js": _asset("solver.js", JS, ASSET_MAX_AGE),
        "/widget/worker.js": _asset("worker.js", JS, ASSET_MAX_AGE),
    }


def _accepts_gzip(request: Request) -> bool:
    codings = request.headers.get("accept-encoding", "").lower()
    return any(c.split(";")[0].strip() == "gzip" for c in codings.split(","))


def _endpoint(asset: Asset) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        if _accepts_gzip(request):
            headers = {**asset.headers, "Content-Encoding": "gzip"}
            return Response(asset.gzipped, headers=headers)
        return Response(asset.body, headers=asset.headers)

    return serve


def routes() -> list[Route]:
    return [Route(path, _endpoint(asset)) for path, asset in load_assets().items()]
