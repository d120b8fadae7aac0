"""The browser widget's files, served by the app itself (cold path, not in HotPaths).

Loaders: each vendor's script path serves the shared engine (`widget/loader/core.js`)
and that vendor's API on top of it, as one script. `/widget` is the page inside the
iframe a loader places, rendered once per language; `/widget/*` are that page's scripts
and any other file in `widget/frame/`. Every file is read once per process, scripts are
minified (rjsmin: comments and spaces go, names stay), and each is kept with a gzip copy,
so a request costs a dictionary lookup. The iframe page carries a
Content-Security-Policy without 'unsafe-inline': its one <style> block is allowed by
hash, its scripts are files.
"""

import base64
import functools
import gzip
import hashlib
import html
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib.resources import files

import rjsmin
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from authkong.api import languages

JS = "text/javascript; charset=utf-8"
HTML = "text/html; charset=utf-8"
CONTENT_TYPES = {".js": JS, ".wasm": "application/wasm"}
LOADER_MAX_AGE = 300  # host pages pick up a new loader within minutes
ASSET_MAX_AGE = 3600
# Host pages on any origin load the loader, also under Cross-Origin-Embedder-Policy
# (require-corp): everything the widget serves may be embedded cross-origin, and the
# frame's own documents and workers declare require-corp so such a page can nest them.
CORP = {"Cross-Origin-Resource-Policy": "cross-origin"}
EMBEDDABLE = {**CORP, "Cross-Origin-Embedder-Policy": "require-corp"}
NONE = "'none'"
_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)
_SLOT = re.compile(r"\{\{(\w+)\}\}")

# Script path -> the vendor API file that goes on top of the engine.
LOADERS = {
    "/api.js": "authkong.js",
    "/recaptcha/api.js": "recaptcha.js",
    "/recaptcha/enterprise.js": "recaptcha.js",
    "/1/api.js": "hcaptcha.js",
    "/turnstile/v0/api.js": "turnstile.js",
    "/captcha/widget.js": "zencaptcha.js",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes
    headers: dict[str, str]


def _read(path: str) -> bytes:
    return files("authkong.widget").joinpath(path).read_bytes()


def _asset(
    body: bytes, content_type: str, max_age: int, extra: dict[str, str] | None = None
) -> Asset:
    headers = {
        "Content-Type": content_type,
        "Cache-Control": f"public, max-age={max_age}",
        "X-Content-Type-Options": "nosniff",
        "Vary": "Accept-Encoding",
        **(extra or {}),
    }
    return Asset(body, gzip.compress(body, 9, mtime=0), headers)


def _minified(source: bytes) -> bytes:
    minified: str = rjsmin.jsmin(source.decode())
    return minified.encode()


@functools.cache
def frame_version() -> str:
    """A digest of the frame's files: loaders ask for /widget?v=... and the frame for its
    scripts with ?v=..., so a visitor never mixes cached files of two releases."""
    digest = hashlib.sha256(_read("messages.json"))
    for entry in sorted(files("authkong.widget").joinpath("frame").iterdir(), key=lambda e: e.name):
        digest.update(entry.name.encode() + b"\0" + entry.read_bytes())
    return digest.hexdigest()[:12]


def loader_source(api_file: str) -> bytes:
    """The engine and one vendor API in one function scope: they share names, not globals."""
    core = _read("loader/core.js").replace(b"__FRAME_VERSION__", frame_version().encode())
    api = _read(f"loader/{api_file}")
    return _minified(b'(() => {\n"use strict";\n' + core + b"\n" + api + b"\n})();\n")


def frame_csp(page: str) -> str:
    """The iframe page's policy: its own origin's scripts, workers and API, its one style."""
    styles = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1).encode()).digest()).decode()}'"
        for m in _STYLE.finditer(page)
    )
    # 'wasm-unsafe-eval' lets the workers compile sha256.wasm (not JS eval) in browsers that
    # give a dedicated worker its creator's policy, as CSP drafts said until 2021; Chromium
    # and Firefox apply the worker response's own policy, where it is not needed.
    return (
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
        f"connect-src 'self'; style-src {styles or NONE}; base-uri 'none'; form-action 'none'"
    )


def render_frame(template: str, language: languages.Language) -> str:
    """The frame page in one language: visible texts filled in, all texts as JSON data.

    The JSON block is data, not script (type application/json), so the CSP is unaffected;
    "<" is escaped so no text can close it.
    """
    texts = json.dumps(language.texts, ensure_ascii=False).replace("<", "\\u003c")
    slots = {
        "lang": language.tag,
        "dir": language.direction,
        "texts": texts,
        "version": frame_version(),
    }

    def fill(slot: re.Match[str]) -> str:
        name = slot.group(1)
        return slots[name] if name in slots else html.escape(language.texts[name])

    return _SLOT.sub(fill, template)


def frame_pages() -> dict[str, Asset]:
    """Language tag -> the frame page in that language."""
    template = _read("frame/frame.html").decode()
    pages = {}
    for tag, language in languages.LANGUAGES.items():
        page = render_frame(template, language)
        extra = {
            "Content-Security-Policy": frame_csp(page),
            "Content-Language": tag,
            **EMBEDDABLE,
        }
        asset = _asset(page.encode(), HTML, ASSET_MAX_AGE, extra)
        asset.headers["Vary"] = "Accept-Encoding, Accept-Language"
        pages[tag] = asset
    return pages


def load_assets() -> dict[str, Asset]:
    """Path -> file, for every path the widget is served from except the frame page."""
    assets = {
        path: _asset(loader_source(api), JS, LOADER_MAX_AGE, CORP) for path, api in LOADERS.items()
    }
    for entry in files("authkong.widget").joinpath("frame").iterdir():
        suffix = "." + entry.name.rsplit(".", 1)[-1]
        if suffix in CONTENT_TYPES:
            body = entry.read_bytes()
            if suffix == ".js":
                body = _minified(body)
            assets[f"/widget/{entry.name}"] = _asset(
                body, CONTENT_TYPES[suffix], ASSET_MAX_AGE, EMBEDDABLE
            )
    return assets


def _accepts_gzip(request: Request) -> bool:
    codings = request.headers.get("accept-encoding", "").lower()
    return any(c.split(";")[0].strip() == "gzip" for c in codings.split(","))


def _send(request: Request, asset: Asset) -> Response:
    if _accepts_gzip(request):
        return Response(asset.gzipped, headers={**asset.headers, "Content-Encoding": "gzip"})
    return Response(asset.body, headers=asset.headers)


def _endpoint(asset: Asset) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        return _send(request, asset)

    return serve


def _frame_endpoint(pages: dict[str, Asset]) -> Callable[[Request], Awaitable[Response]]:
    async def serve(request: Request) -> Response:
        tag = languages.choose(
            request.query_params.get("hl", ""), request.headers.get("accept-language", "")
        )
        return _send(request, pages[tag])

    return serve


def routes() -> list[Route]:
    served = [Route(path, _endpoint(asset)) for path, asset in load_assets().items()]
    return [Route("/widget", _frame_endpoint(frame_pages())), *served]
