"""Popular, unmodified vendor client libraries against a real server: only the verify URL changes.

The libraries run inside small Flask apps as an integrator would use them; the apps are
driven by Flask's test client, and each library calls AuthKong's siteverify over HTTP.
"""

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from flask_hcaptcha import hCaptcha
from flask_turnstile import Turnstile
from flask_wtf import FlaskForm, RecaptchaField

from tests.server import Server, create_site, fetch_token, running_server

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("libs-serve")
    with running_server(root / "data", root / "logs") as running:
        yield running


@pytest.fixture(scope="module")
def site(server: Server) -> dict[str, Any]:
    return create_site(server.data_dir)


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as c:
        yield c


def flask_app(**config: object) -> Flask:
    app = Flask(__name__)
    # Not TESTING: Flask-WTF skips reCAPTCHA verification entirely in testing mode.
    app.config.update(SECRET_KEY="test", PROPAGATE_EXCEPTIONS=True, **config)
    return app


# -- hCaptcha: Flask-hCaptcha ----------------------------------------------------------


def test_flask_hcaptcha_accepts_a_token_once(
    server: Server, site: dict[str, Any], client: httpx.Client
) -> None:
    """Flask-hCaptcha with VERIFY_URL on /siteverify passes a real token, then refuses it."""
    app = flask_app(HCAPTCHA_SITE_KEY=site["sitekey"], HCAPTCHA_SECRET_KEY=site["secret"])
    captcha = hCaptcha(app)
    captcha.VERIFY_URL = f"{server.base_url}/siteverify"

    @app.post("/comment")
    def comment() -> ResponseReturnValue:
        return jsonify(passed=captcha.verify())

    web = app.test_client()
    token = fetch_token(client, server.base_url, site["sitekey"])
    form = {"h-captcha-response": token}
    assert web.post("/comment", data=form).json == {"passed": True}
    assert web.post("/comment", data=form).json == {"passed": False}
    fresh = {"h-captcha-response": fetch_token(client, server.base_url, site["sitekey"])}
    assert web.post("/comment", data=fresh).json == {"passed": True}


# -- reCAPTCHA: Flask-WTF's RecaptchaField ---------------------------------------------


class SignupForm(FlaskForm):
    recaptcha = RecaptchaField()


def recaptcha_app(server: Server, sitekey: str, secret: str) -> Flask:
    app = flask_app(
        WTF_CSRF_ENABLED=False,
        RECAPTCHA_PUBLIC_KEY=sitekey,
        RECAPTCHA_PRIVATE_KEY=secret,
        RECAPTCHA_VERIFY_SERVER=f"{server.base_url}/recaptcha/api/siteverify",
    )

    @app.post("/signup")
    def signup() -> ResponseReturnValue:
        form = SignupForm()
        if form.validate_on_submit():
            return jsonify(ok=True)
        return jsonify(ok=False, errors=form.errors)

    return app


def test_flask_wtf_recaptcha_accepts_a_token_once(
    server: Server, site: dict[str, Any], client: httpx.Client
) -> None:
    """Flask-WTF's RecaptchaField with RECAPTCHA_VERIFY_SERVER passes a real token once."""
    web = recaptcha_app(server, site["sitekey"], site["secret"]).test_client()
    token = fetch_token(client, server.base_url, site["sitekey"])
    assert web.post("/signup", data={"g-recaptcha-response": token}).json == {"ok": True}
    again = web.post("/signup", data={"g-recaptcha-response": token}).json
    assert again is not None
    assert again["ok"] is False
    assert list(again["errors"]) == ["recaptcha"]
    fresh = fetch_token(client, server.base_url, site["sitekey"])
    assert web.post("/signup", json={"g-recaptcha-response": fresh}).json == {"ok": True}


def test_flask_wtf_recaptcha_reports_a_wrong_secret(
    server: Server, site: dict[str, Any], client: httpx.Client
) -> None:
    """A wrong secret reaches Flask-WTF as invalid-input-secret, which it names to the form."""
    web = recaptcha_app(server, site["sitekey"], "aks_wrong").test_client()
    token = fetch_token(client, server.base_url, site["sitekey"])
    answer = web.post("/signup", data={"g-recaptcha-response": token}).json
    assert answer == {
        "ok": False,
        "errors": {"recaptcha": ["The secret parameter is invalid or malformed."]},
    }


# -- Turnstile: Flask-Turnstile --------------------------------------------------------


def test_flask_turnstile_accepts_a_token_once(
    server: Server, site: dict[str, Any], client: httpx.Client
) -> None:
    """Flask-Turnstile with VERIFY_URL passes a real token once and shows Turnstile's fields."""
    app = flask_app(TURNSTILE_SITE_KEY=site["sitekey"], TURNSTILE_SECRET_KEY=site["secret"])
    turnstile = Turnstile(app)
    turnstile.VERIFY_URL = f"{server.base_url}/turnstile/v0/siteverify"

    @app.post("/login")
    def login() -> ResponseReturnValue:
        return jsonify(passed=turnstile.verify())

    @app.post("/raw")
    def raw() -> ResponseReturnValue:
        return jsonify(turnstile.get_response())

    web = app.test_client()
    token = fetch_token(client, server.base_url, site["sitekey"])
    assert web.post("/login", data={"cf-turnstile-response": token}).json == {"passed": True}
    assert web.post("/login", data={"cf-turnstile-response": token}).json == {"passed": False}

    other = fetch_token(client, server.base_url, site["sitekey"], action="login", cdata="c1")
    first = web.post("/raw", data={"cf-turnstile-response": other}).json
    assert first is not None
    assert first["success"] is True, first
    assert (first["hostname"], first["action"], first["cdata"]) == ("example.com", "login", "c1")
    second = web.post("/raw", data={"cf-turnstile-response": other}).json
    assert second is not None
    assert second["success"] is False
    assert second["error-codes"] == ["timeout-or-duplicate"]
