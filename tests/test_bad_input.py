"""Hostile or broken requests to every siteverify endpoint: a documented answer, never a 500.

Every siteverify flavor answers a request it cannot read with its own bad-request body and
HTTP 200, because some vendor plugins let the visitor through on any other status. Each
request below also carries a valid secret and token where it can, so a parser that let the
broken part through would answer success instead.
"""

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from authkong.api.errors import SITEVERIFY_ERRORS
from authkong.app import create_app
from authkong.config import Settings
from authkong.domain.clock import FakeClock
from authkong.storage.registry import NewSecret
from tests.support import get_token, make_site

BAD_REQUEST: dict[str, dict[str, object]] = {
    "/api/siteverify": {
        "success": False,
        "message": SITEVERIFY_ERRORS["bad_request"].message,
        "error_code": "bad_request",
    },
    "/recaptcha/api/siteverify": {"success": False, "error-codes": ["bad-request"]},
    "/siteverify": {"success": False, "error-codes": ["bad-request"]},
    "/turnstile/v0/siteverify": {"success": False, "error-codes": ["bad-request"], "messages": []},
    "/captcha/siteverify": {"success": False, "message": "bad_request"},
}
ENDPOINTS = sorted(BAD_REQUEST)
GET_ENDPOINTS = ["/api/siteverify", "/recaptcha/api/siteverify"]
FORM = "application/x-www-form-urlencoded"
LIMIT = 16 * 1024


def form(body: bytes, content_type: str = FORM) -> Callable[[TestClient, str], Any]:
    def send(client: TestClient, url: str) -> Any:
        return client.post(url, content=body, headers={"content-type": content_type})

    return send


def raw_json(client: TestClient, url: str, body: bytes) -> Any:
    return client.post(url, content=body, headers={"content-type": "application/json"})


def chunked(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), 1000):
        yield body[start : start + 1000]


def assert_bad_request(got: Any, url: str) -> None:
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/json"
    assert "Traceback" not in got.text
    assert got.json() == BAD_REQUEST[url]


def pair(client: TestClient, site: NewSecret) -> tuple[str, str]:
    return site.secret, get_token(client, site.site.sitekey)


def urlencoded(**fields: str) -> bytes:
    return "&".join(f"{k}={v}" for k, v in fields.items()).encode()


# One app for the whole module: these requests spend nothing (a test checks it), and
# starting an app per case would make this file alone take most of the suite's budget.
@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A module-wide app; shadows conftest's per-test client."""
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("bad-input")), clock=FakeClock())
    with TestClient(app, client=("203.0.113.7", 50000)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def site(client: TestClient) -> NewSecret:
    """A module-wide site for example.com; shadows conftest's per-test site."""
    registry = client.app.state.services.registry  # type: ignore[attr-defined]
    return make_site(registry, FakeClock().now_ms())


@pytest.fixture(params=ENDPOINTS)
def url(request: pytest.FixtureRequest) -> str:
    endpoint: str = request.param
    return endpoint


def test_body_over_limit_with_content_length(client: TestClient, site: NewSecret, url: str) -> None:
    """A form body over 16 kB with Content-Length is refused before reading."""
    secret, token = pair(client, site)
    got = client.post(url, data={"secret": secret, "response": token, "pad": "x" * LIMIT})
    assert int(got.request.headers["content-length"]) > LIMIT
    assert_bad_request(got, url)


def test_body_over_limit_without_content_length(
    client: TestClient, site: NewSecret, url: str
) -> None:
    """A body over 16 kB with neither Content-Length nor chunking is cut off while read."""
    secret, token = pair(client, site)
    request = client.build_request(
        "POST",
        url,
        content=urlencoded(secret=secret, response=token, pad="x" * LIMIT),
        headers={"content-type": FORM},
    )
    del request.headers["content-length"]
    got = client.send(request)
    assert_bad_request(got, url)


def test_body_over_limit_chunked(client: TestClient, site: NewSecret, url: str) -> None:
    """A chunked body over 16 kB is cut off while read."""
    secret, token = pair(client, site)
    body = urlencoded(secret=secret, response=token, pad="x" * LIMIT)
    got = client.post(url, content=chunked(body), headers={"content-type": FORM})
    assert got.request.headers["transfer-encoding"] == "chunked"
    assert_bad_request(got, url)


def test_body_just_under_limit_is_read(client: TestClient, site: NewSecret, url: str) -> None:
    """A chunked body just under the limit is read normally (the token verifies)."""
    secret, token = pair(client, site)
    head = urlencoded(secret=secret, response=token, pad="")
    body = head + b"x" * (LIMIT - len(head))
    got = client.post(url, content=chunked(body), headers={"content-type": FORM})
    assert got.status_code == 200
    assert got.json()["success"] is True


def test_bogus_content_length(client: TestClient, site: NewSecret, url: str) -> None:
    """A Content-Length that is not a number is a malformed request."""
    secret, token = pair(client, site)
    request = client.build_request(
        "POST",
        url,
        content=urlencoded(secret=secret, response=token),
        headers={"content-type": FORM},
    )
    request.headers["content-length"] = "12abc"
    assert_bad_request(client.send(request), url)


@pytest.mark.parametrize(
    "content_type", ["application/xml", "text/html", "application/octet-stream", "image/png"]
)
def test_unknown_content_type(
    client: TestClient, site: NewSecret, url: str, content_type: str
) -> None:
    """A body of a type no vendor accepts is refused, though it reads like a form."""
    secret, token = pair(client, site)
    assert_bad_request(
        form(urlencoded(secret=secret, response=token), content_type)(client, url), url
    )


@pytest.mark.parametrize(
    "junk", [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"%FF", b"%C3%28", b"%ED%A0%80"]
)
def test_invalid_utf8_form(client: TestClient, site: NewSecret, url: str, junk: bytes) -> None:
    """Invalid UTF-8 in a form field, raw or percent-encoded, is a bad request."""
    secret, token = pair(client, site)
    body = urlencoded(secret=secret, response=token).replace(b"&", b"&remoteip=" + junk + b"&", 1)
    assert_bad_request(form(body)(client, url), url)


def test_invalid_utf8_json(client: TestClient, site: NewSecret, url: str) -> None:
    """Invalid UTF-8 inside a JSON body is a bad request."""
    secret, token = pair(client, site)
    body = (
        json.dumps({"secret": secret, "response": token, "remoteip": "@"})
        .encode()
        .replace(b"@", b"\xff")
    )
    assert_bad_request(raw_json(client, url, body), url)


@pytest.mark.parametrize("broken", [b"%", b"%z", b"%zz", b"%4", b"abc%G1"])
def test_broken_percent_encoding(
    client: TestClient, site: NewSecret, url: str, broken: bytes
) -> None:
    """A "%" that does not start a two-digit hex escape is a bad request."""
    secret, token = pair(client, site)
    body = urlencoded(secret=secret, response=token) + b"&remoteip=" + broken
    assert_bad_request(form(body)(client, url), url)


@pytest.mark.parametrize("query", ["remoteip=%FF", "remoteip=%", "remoteip=%zz"])
def test_broken_query_string(client: TestClient, site: NewSecret, url: str, query: str) -> None:
    """A broken query string is a bad request on every endpoint, even alongside a good body."""
    secret, token = pair(client, site)
    got = client.post(f"{url}?{query}", data={"secret": secret, "response": token})
    assert_bad_request(got, url)


@pytest.mark.parametrize(
    "body", [b"[]", b'["secret", "response"]', b'"secret"', b"1", b"null", b"true", b"", b"{"]
)
def test_json_not_an_object(client: TestClient, url: str, body: bytes) -> None:
    """A JSON body that is not an object (or not JSON) is a bad request."""
    assert_bad_request(raw_json(client, url, body), url)


@pytest.mark.parametrize("depth", [100, 5000])
def test_deeply_nested_json(client: TestClient, site: NewSecret, url: str, depth: int) -> None:
    """Nested arrays, shallow or deep enough to overflow a recursive parser, are a bad request."""
    secret, token = pair(client, site)
    head = json.dumps({"secret": secret, "response": token})[:-1].encode()
    body = head + b', "x": ' + b"[" * depth + b"]" * depth + b"}"
    assert len(body) < LIMIT
    assert_bad_request(raw_json(client, url, body), url)


def test_100kb_response_field(client: TestClient, site: NewSecret, url: str) -> None:
    """A 100 kB response field (form and JSON) is a bad request."""
    huge = "A" * 100_000
    assert_bad_request(client.post(url, data={"secret": site.secret, "response": huge}), url)
    assert_bad_request(client.post(url, json={"secret": site.secret, "response": huge}), url)


@pytest.mark.parametrize("url_get", GET_ENDPOINTS)
def test_oversized_query_string(client: TestClient, site: NewSecret, url_get: str) -> None:
    """A query string longer than the body limit is a bad request on the GET endpoints."""
    secret, token = pair(client, site)
    got = client.get(url_get, params={"secret": secret, "response": token, "pad": "x" * LIMIT})
    assert_bad_request(got, url_get)


def test_too_many_fields(client: TestClient, site: NewSecret, url: str) -> None:
    """70 fields (form, JSON and query string) are a bad request."""
    secret, token = pair(client, site)
    extra = {f"f{i}": "1" for i in range(70)}
    assert_bad_request(client.post(url, data={"secret": secret, "response": token, **extra}), url)
    assert_bad_request(client.post(url, json={"secret": secret, "response": token, **extra}), url)
    assert_bad_request(
        client.post(url, params=extra, data={"secret": secret, "response": token}), url
    )


@pytest.mark.parametrize(
    "value",
    [5, 1.5, True, False, ["x"], {"a": "b"}],
    ids=["int", "float", "true", "false", "list", "object"],
)
def test_non_string_json_value(
    client: TestClient, site: NewSecret, url: str, value: object
) -> None:
    """A number, boolean, list or object as a JSON value is a bad request."""
    secret, token = pair(client, site)
    assert_bad_request(
        client.post(url, json={"secret": secret, "response": token, "remoteip": value}), url
    )
    assert_bad_request(client.post(url, json={"secret": secret, "response": [token]}), url)


def test_broken_multipart(client: TestClient, url: str) -> None:
    """Multipart without a boundary or not starting with one is a bad request."""
    assert_bad_request(form(b"--x\r\n", "multipart/form-data")(client, url), url)
    assert_bad_request(form(b"garbage", "multipart/form-data; boundary=b")(client, url), url)


def test_truncated_multipart(client: TestClient, site: NewSecret, url: str) -> None:
    """A multipart body cut off inside a part loses that part (python-multipart is lenient)."""
    body = b'--b\r\nContent-Disposition: form-data; name="secret"\r\n\r\n' + site.secret.encode()
    got = form(body, "multipart/form-data; boundary=b")(client, url)
    assert got.status_code == 200
    assert got.json()["success"] is False


def test_multipart_with_a_file(client: TestClient, site: NewSecret, url: str) -> None:
    """A multipart body carrying a file part is a bad request."""
    secret, token = pair(client, site)
    files = {
        "secret": (None, secret),
        "response": (None, token),
        "upload": ("a.txt", b"hello", "text/plain"),
    }
    assert_bad_request(client.post(url, files=files), url)


def test_multipart_chunked_or_too_large(client: TestClient, site: NewSecret, url: str) -> None:
    """Multipart over the limit, or chunked without a length, is a bad request."""
    secret, token = pair(client, site)
    big = client.post(
        url, files={"secret": (None, secret), "response": (None, token), "pad": (None, "x" * LIMIT)}
    )
    assert_bad_request(big, url)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="secret"\r\n\r\n'
        + secret.encode()
        + b"\r\n--b--\r\n"
    )
    got = client.post(
        url, content=chunked(body), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert_bad_request(got, url)


def test_multipart_invalid_utf8_is_not_a_crash(
    client: TestClient, site: NewSecret, url: str
) -> None:
    """Invalid UTF-8 in a multipart field is refused with HTTP 200 and success false."""
    got = client.post(url, files={"secret": (None, b"\xff\xfe"), "response": (None, b"\xc3\x28")})
    assert got.status_code == 200
    assert got.json()["success"] is False


def test_nul_and_control_characters(client: TestClient, site: NewSecret, url: str) -> None:
    """NUL and control characters in the fields fail verification without a crash."""
    got = client.post(url, data={"secret": site.secret + "\x00", "response": "\x00\x01\r\n"})
    assert got.status_code == 200
    assert got.json()["success"] is False


def test_lone_surrogates_in_json(client: TestClient, site: NewSecret, url: str) -> None:
    """JSON \\ud800 escapes (lone surrogates) in secret and response fail without a crash."""
    body = b'{"secret": "\\ud800x\\u00e9", "response": "\\udc00.\\ud800"}'
    got = raw_json(client, url, body)
    assert got.status_code == 200
    assert got.json()["success"] is False


def test_bad_input_spends_nothing(client: TestClient, site: NewSecret, url: str) -> None:
    """After a refused request the same token still verifies once."""
    secret, token = pair(client, site)
    assert_bad_request(
        client.post(url, data={"secret": secret, "response": token, "pad": "x" * LIMIT}), url
    )
    assert client.post(url, data={"secret": secret, "response": token}).json()["success"] is True


@pytest.mark.parametrize(
    "path", ["/nope", "/api/siteverify/extra", "/recaptcha/api/siteverify.php", "/api/v2/challenge"]
)
def test_unknown_path(client: TestClient, path: str) -> None:
    """Unknown paths answer 404 with a JSON body."""
    for method in ("GET", "POST"):
        got = client.request(method, path)
        assert got.status_code == 404
        assert got.json() == {
            "success": False,
            "error_code": "not_found",
            "message": "No such endpoint.",
        }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/api/siteverify"),
        ("DELETE", "/recaptcha/api/siteverify"),
        ("GET", "/siteverify"),
        ("PATCH", "/siteverify"),
        ("PUT", "/turnstile/v0/siteverify"),
        ("DELETE", "/captcha/siteverify"),
        ("GET", "/api/v1/challenge"),
        ("PUT", "/api/v1/redeem"),
    ],
)
def test_wrong_method(client: TestClient, method: str, path: str) -> None:
    """Methods a route does not take answer 405 with AuthKong's JSON body and an Allow header."""
    got = client.request(method, path)
    assert got.status_code == 405
    assert method not in got.headers["allow"]
    assert "POST" in got.headers["allow"]
    assert got.json() == {
        "success": False,
        "error_code": "method_not_allowed",
        "message": "This endpoint does not accept that HTTP method.",
    }


@pytest.mark.parametrize("path", ["/turnstile/v0/siteverify", "/captcha/siteverify"])
def test_get_on_post_only_flavors(client: TestClient, path: str) -> None:
    """GET on Turnstile and zencaptcha answers 405 with the flavor's own bad-request body."""
    got = client.get(path, params={"secret": "s", "response": "r"})
    assert got.status_code == 405
    assert got.json() == BAD_REQUEST[path]
