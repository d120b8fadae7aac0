"""The whole trip in process: challenge, solve, redeem, verify once."""

from starlette.testclient import TestClient

from authkong.storage.registry import NewSecret
from tests.support import get_token


def test_token_verifies_once(client: TestClient, site: NewSecret) -> None:
    """A fresh token passes AuthKong siteverify once, then reports already_spent."""
    token = get_token(client, site.site.sitekey)
    first = client.post("/api/siteverify", data={"secret": site.secret, "response": token}).json()
    assert first["success"] is True
    assert first["hostname"] == "example.com"
    second = client.post("/api/siteverify", data={"secret": site.secret, "response": token}).json()
    assert second == {
        "success": False,
        "message": "The response token has already been verified once.",
        "error_code": "already_spent",
    }
