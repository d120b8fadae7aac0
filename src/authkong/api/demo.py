"""`/demo`: the widget on a page in each vendor flavor, verified server-side.

`GET /demo/{flavor}` shows that flavor's snippet and a form using it (`/demo` is the
AuthKong flavor); `POST /demo/{flavor}/verify` checks the submitted token and shows the
JSON that flavor's siteverify would answer.

The demo site is the first site allowed on localhost (`authkong serve` creates one on
first start). Its secret is stored only hashed, so the demo cannot call siteverify with
it; it calls the same verification core through `verify_for_site`, which skips only the
secret check.
"""

import html
import json
from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from authkong.api.flavors import authkong, hcaptcha, recaptcha, turnstile, zencaptcha
from authkong.api.services import Services, services
from authkong.api.verify import verify_for_site
from authkong.domain.site import Site
from authkong.domain.verdict import Verdict

DEMO_DOMAIN = "localhost"


@dataclass(frozen=True, slots=True)
class Flavor:
    title: str
    script: str  # the loader's path
    markup: str  # the snippet's HTML; {sitekey} is filled in
    field: str  # the form field the token arrives in
    verify_path: str
    answer: Callable[[Verdict], dict[str, object]]
    submit_button: bool = True  # False when the markup is the submit button itself


def _div(css_class: str) -> str:
    return f'<div class="{css_class}" data-sitekey="{{sitekey}}"></div>'


_V3_BUTTON = """<script>
function onSubmit(token) {{ document.getElementById("demo-form").submit(); }}
</script>
<button class="g-recaptcha" data-sitekey="{sitekey}" data-callback="onSubmit"
  data-action="submit">Submit</button>"""

FLAVORS = {
    "authkong": Flavor(
        "AuthKong", "/api.js", _div("authkong_captcha"),
        "captcha-response", "/api/siteverify", authkong.answer,
    ),
    "recaptcha": Flavor(
        "reCAPTCHA v2", "/recaptcha/api.js", _div("g-recaptcha"),
        "g-recaptcha-response", "/recaptcha/api/siteverify", recaptcha.answer,
    ),
    "recaptcha-v3": Flavor(
        "reCAPTCHA v3", "/recaptcha/api.js",
        _V3_BUTTON,
        "g-recaptcha-response", "/recaptcha/api/siteverify", recaptcha.answer, submit_button=False,
    ),
    "hcaptcha": Flavor(
        "hCaptcha", "/1/api.js", _div("h-captcha"),
        "h-captcha-response", "/siteverify", hcaptcha.answer,
    ),
    "turnstile": Flavor(
        "Turnstile", "/turnstile/v0/api.js", _div("cf-turnstile"),
        "cf-turnstile-response", "/turnstile/v0/siteverify", turnstile.answer,
    ),
    "zencaptcha": Flavor(
        "zencaptcha", "/captcha/widget.js", _div("zenc-captcha"),
        "zenc-captcha-solution", "/captcha/siteverify", zencaptcha.answer,
    ),
}  # fmt: skip

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>AuthKong demo: {title}</title>
<link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main>
<h1>AuthKong demo: {title}</h1>
<nav aria-label="Flavors"><ul>{nav}</ul></nav>
{body}
<p><a href="{base}/">AuthKong home</a></p>
</main></body></html>
"""

_NO_SITE = """<p>No site allows <code>localhost</code>, so there is no demo site. Create one with
<code>authkong site create --name Demo --domain localhost --domain 127.0.0.1</code>.</p>"""

_FORM = """<p>Site <strong>{name}</strong> (<code>{sitekey}</code>). The snippet, as on a page
that used {title} before, with only the script URL and the sitekey changed:</p>
<pre><code>{snippet}</code></pre>
<form id="demo-form" method="post" action="{action}">
{markup}
{submit}
</form>
<script src="{script}" async defer></script>"""

_RESULT = """<p>The server verified the submitted <code>{field}</code> (once only: submitting
the same token again fails). {title}'s siteverify answer:</p>
<pre><code>{answer}</code></pre>
<p>Your backend does the same with the site's secret:</p>
<pre><code>curl -s {base}{verify_path} -d secret=SECRET -d response=TOKEN</code></pre>
<p><a href="{again}">Try again</a></p>"""


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _flavor(request: Request) -> tuple[str, Flavor]:
    name = request.path_params.get("flavor", "authkong")
    if name not in FLAVORS:
        raise HTTPException(404)
    return name, FLAVORS[name]


async def _demo_site(svc: Services) -> Site | None:
    sites = await run_in_threadpool(svc.registry.all_sites)
    return next((s for s in sites if DEMO_DOMAIN in s.domains), None)


def _page(request: Request, current: str, body: str) -> Response:
    base = html.escape(_base(request))
    nav = "".join(
        f'<li><a href="{base}/demo/{name}"{" aria-current=page" if name == current else ""}>'
        f"{html.escape(flavor.title)}</a></li>"
        for name, flavor in FLAVORS.items()
    )
    page = _PAGE.format(title=FLAVORS[current].title, nav=nav, body=body, base=base)
    return HTMLResponse(page, headers={"Cache-Control": "no-store"})


async def demo(request: Request) -> Response:
    name, flavor = _flavor(request)
    site = await _demo_site(services(request))
    if site is None:
        return _page(request, name, _NO_SITE)
    raw_base = _base(request)
    markup = flavor.markup.format(sitekey=html.escape(site.sitekey))
    body = _FORM.format(
        name=html.escape(site.name),
        sitekey=html.escape(site.sitekey),
        title=flavor.title,
        snippet=html.escape(
            f'<script src="{raw_base}{flavor.script}" async defer></script>\n{markup}'
        ),
        action=html.escape(f"{raw_base}/demo/{name}/verify"),
        markup=markup,
        submit='<p><button type="submit">Submit</button></p>' if flavor.submit_button else "",
        script=html.escape(raw_base + flavor.script),
    )
    return _page(request, name, body)


async def demo_verify(request: Request) -> Response:
    name, flavor = _flavor(request)
    svc = services(request)
    site = await _demo_site(svc)
    if site is None:
        return _page(request, name, _NO_SITE)
    form = await request.form()
    response = form.get(flavor.field)
    verdict = await verify_for_site(svc, site, response if isinstance(response, str) else None)
    base = _base(request)
    body = _RESULT.format(
        field=flavor.field,
        title=flavor.title,
        answer=html.escape(json.dumps(flavor.answer(verdict), indent=2)),
        base=html.escape(base),
        verify_path=flavor.verify_path,
        again=html.escape(f"{base}/demo/{name}"),
    )
    return _page(request, name, body)
