"""Ready-to-paste snippets per flavor for one site: the page's markup and a verify call.

Each flavor keeps its vendor's markup, form field and answer shape; only the loader URL,
the verify URL and the keys point at this AuthKong (docs/integration/*.md). The secret is
never filled in: it is stored only as a digest, and shown once when created or rotated,
so the backend snippet reads it from an environment variable and says so.
"""

from dataclasses import dataclass

from authkong.domain.site import Site

SECRET_PLACEHOLDER = "YOUR_SECRET"  # noqa: S105 (a placeholder, not a secret)
"""What the backend snippets show in place of the secret."""


@dataclass(frozen=True, slots=True)
class Snippet:
    flavor: str
    title: str
    frontend: str
    """HTML for the page: the loader script and the widget in a form."""
    backend: str
    """A curl call and a Python httpx call to the flavor's siteverify."""


@dataclass(frozen=True, slots=True)
class _Flavor:
    name: str
    title: str
    loader: str
    css_class: str
    field: str
    """The hidden form field the token arrives in."""
    verify_path: str
    ok_expression: str
    """How the flavor's own backends read success from the decoded answer `reply`."""
    send_sitekey: bool = False
    """hCaptcha's siteverify takes the sitekey too (it checks it belongs to the secret)."""


_FLAVORS = (
    _Flavor(
        "authkong", "AuthKong", "/api.js", "authkong_captcha", "captcha-response",
        "/api/siteverify", 'reply.get("success") is True',
    ),
    _Flavor(
        "recaptcha", "reCAPTCHA", "/recaptcha/api.js", "g-recaptcha", "g-recaptcha-response",
        "/recaptcha/api/siteverify", 'reply.get("success") is True',
    ),
    _Flavor(
        "hcaptcha", "hCaptcha", "/1/api.js", "h-captcha", "h-captcha-response",
        "/siteverify", 'reply.get("success") is True', send_sitekey=True,
    ),
    _Flavor(
        "turnstile", "Turnstile", "/turnstile/v0/api.js", "cf-turnstile",
        "cf-turnstile-response", "/turnstile/v0/siteverify", 'reply.get("success") is True',
    ),
    _Flavor(
        "zencaptcha", "zencaptcha", "/captcha/widget.js", "zenc-captcha",
        "zenc-captcha-solution", "/captcha/siteverify",
        'reply.get("success") is True and reply.get("message") == "valid"',
    ),
)  # fmt: skip

FLAVORS: tuple[str, ...] = tuple(f.name for f in _FLAVORS)


def _frontend(flavor: _Flavor, sitekey: str, base_url: str) -> str:
    return (
        f'<script src="{base_url}{flavor.loader}" async defer></script>\n'
        "\n"
        '<form method="post" action="/your-form-handler">\n'
        f'  <div class="{flavor.css_class}" data-sitekey="{sitekey}"></div>\n'
        '  <button type="submit">Submit</button>\n'
        "</form>\n"
    )


def _backend(flavor: _Flavor, sitekey: str, base_url: str) -> str:
    url = f"{base_url}{flavor.verify_path}"
    curl_sitekey = f" \\\n    -d sitekey={sitekey}" if flavor.send_sitekey else ""
    py_sitekey = f', "sitekey": "{sitekey}"' if flavor.send_sitekey else ""
    return (
        f"# The token arrives in the form field {flavor.field}.\n"
        f"# {SECRET_PLACEHOLDER}: the site's secret, shown once when it was created or\n"
        "# rotated. Keep it on the server (an environment variable), never in a page.\n"
        "\n"
        "# curl\n"
        f"curl -s {url} \\\n"
        f'    -d secret={SECRET_PLACEHOLDER} -d response="$TOKEN"{curl_sitekey}\n'
        "\n"
        "# Python (httpx)\n"
        "import os\n"
        "\n"
        "import httpx\n"
        "\n"
        f'SECRET = os.environ["AUTHKONG_SECRET"]  # set to {SECRET_PLACEHOLDER}\n'
        "\n"
        "\n"
        "def captcha_ok(token: str) -> bool:\n"
        "    try:\n"
        "        reply = httpx.post(\n"
        f'            "{url}",\n'
        f'            data={{"secret": SECRET, "response": token{py_sitekey}}},\n'
        "            timeout=10,\n"
        "        ).json()\n"
        "    except (httpx.HTTPError, ValueError):\n"
        "        return False  # unreachable: fail closed, or choose your own policy\n"
        f"    return {flavor.ok_expression}\n"
    )


def snippets_for(site: Site, base_url: str) -> list[Snippet]:
    """One Snippet per flavor, filled with the site's sitekey and this server's URL.

    `base_url` is where browsers and backends reach AuthKong, e.g. "https://captcha.example";
    a trailing slash is dropped. The strings are plain text: escape them to show in HTML.
    """
    base = base_url.rstrip("/")
    return [
        Snippet(
            flavor=f.name,
            title=f.title,
            frontend=_frontend(f, site.sitekey, base),
            backend=_backend(f, site.sitekey, base),
        )
        for f in _FLAVORS
    ]
