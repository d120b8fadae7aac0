"""Small non-API pages: health check and the landing page."""

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from authkong import __version__

LANDING = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AuthKong</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main>
<h1>AuthKong {version}</h1>
<p>A self-hosted proof-of-work CAPTCHA. This server answers:</p>
<ul>
<li><code>POST /api/v1/challenge</code>, <code>POST /api/v1/redeem</code> (widget protocol v1)</li>
<li><code>/api/siteverify</code> (AuthKong), <code>/recaptcha/api/siteverify</code>,
<code>/siteverify</code> (hCaptcha), <code>/turnstile/v0/siteverify</code>,
<code>/captcha/siteverify</code> (zencaptcha)</li>
</ul>
<p><a href="demo">Try the widget on the demo page</a>: the loader is <code>/api.js</code>.</p>
<p>Register a site with <code>authkong site create --name NAME --domain example.com</code>.</p>
</main></body></html>
"""


async def landing(_request: Request) -> Response:
    return HTMLResponse(LANDING.format(version=__version__))


async def health(_request: Request) -> Response:
    return PlainTextResponse("ok")
