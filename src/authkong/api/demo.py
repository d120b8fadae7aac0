"""`GET /demo` and `POST /demo/verify`: the widget on a page, verified server-side.

The demo site is the first site allowed on localhost (`authkong serve` creates one on
first start). Its secret is stored only hashed, so /demo/verify cannot call siteverify
with it; it calls the same verification core through `verify_for_site`, which skips only
the secret check, and shows the JSON siteverify would answer.
"""

import html
import json

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from authkong.api.flavors.authkong import answer
from authkong.api.services import Services, services
from authkong.api.verify import verify_for_site
from authkong.domain.site import Site

DEMO_DOMAIN = "localhost"

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AuthKong demo</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main>
<h1>AuthKong demo</h1>
{body}
<p><a href="{base}/">AuthKong home</a></p>
</main></body></html>
"""

_NO_SITE = """<p>No site allows <code>localhost</code>, so there is no demo site. Create one with
<code>authkong site create --name Demo --domain localhost --domain 127.0.0.1</code>.</p>"""

_FORM = """<p>Site <strong>{name}</strong> (<code>{sitekey}</code>). The snippet:</p>
<pre><code>{snippet}</code></pre>
<form method="post" action="{base}/demo/verify">
{markup}
<p><button type="submit">Submit</button></p>
</form>
<script src="{base}/api.js" async defer></script>"""

_RESULT = """<p>The server verified the submitted <code>captcha-response</code> (once only:
submitting the same token again fails). Verify answer:</p>
<pre><code>{answer}</code></pre>
<p>Your backend does the same with the site's secret:</p>
<pre><code>curl -s {base}/api/siteverify -d secret=SECRET -d response=TOKEN</code></pre>
<p><a href="{base}/demo">Try again</a></p>"""


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


async def _demo_site(svc: Services) -> Site | None:
    sites = await run_in_threadpool(svc.registry.all_sites)
    return next((s for s in sites if DEMO_DOMAIN in s.domains), None)


def _page(request: Request, body: str) -> Response:
    return HTMLResponse(
        _PAGE.format(body=body, base=html.escape(_base(request))),
        headers={"Cache-Control": "no-store"},
    )


async def demo(request: Request) -> Response:
    site = await _demo_site(services(request))
    if site is None:
        return _page(request, _NO_SITE)
    raw_base = _base(request)
    base = html.escape(raw_base)
    markup = f'<div class="authkong_captcha" data-sitekey="{html.escape(site.sitekey)}"></div>'
    snippet = f'<script src="{raw_base}/api.js" async defer></script>\n{markup}'
    body = _FORM.format(
        name=html.escape(site.name),
        sitekey=html.escape(site.sitekey),
        snippet=html.escape(snippet),
        markup=markup,
        base=base,
    )
    return _page(request, body)


async def demo_verify(request: Request) -> Response:
    svc = services(request)
    site = await _demo_site(svc)
    if site is None:
        return _page(request, _NO_SITE)
    form = await request.form()
    response = form.get("captcha-response")
    verdict = await verify_for_site(svc, site, response if isinstance(response, str) else None)
    text = json.dumps(answer(verdict), indent=2)
    body = _RESULT.format(answer=html.escape(text), base=html.escape(_base(request)))
    return _page(request, body)
