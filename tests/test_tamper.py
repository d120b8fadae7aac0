"""Tampering over HTTP: any altered challenge, solution or token is refused, never a 5xx."""

import hashlib
import json
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from authkong.storage.registry import NewSecret
from tests.support import get_challenge, get_token, solve_challenge

# Every example makes real requests (3 to 4 each), so example counts are sized to keep the
# whole file near 15 s.
THOROUGH = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
PER_FLAVOR = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

VERIFY_PATHS = [
    "/api/siteverify",
    "/recaptcha/api/siteverify",
    "/siteverify",
    "/turnstile/v0/siteverify",
    "/captcha/siteverify",
]

# A replacement or inserted character: anything JSON and form encoding can carry.
characters = st.characters(codec="utf-8")


def _position(draw: st.DrawFn, length: int) -> int:
    """A position below `length`, drawn the same way whatever the length: challenges and
    tokens vary in length with server state (reasons, difficulty), and Hypothesis needs
    the same draws to replay an example."""
    return min(length - 1, int(draw(st.floats(0, 1, exclude_max=True)) * length))


@st.composite
def text_edits(draw: st.DrawFn, original: str) -> str:
    """`original` with one character flipped, replaced, inserted or deleted."""
    at = _position(draw, len(original))
    kind = draw(st.sampled_from(["flip", "replace", "insert", "delete"]))
    if kind == "flip":
        bit = draw(st.integers(0, 7))
        new = chr(ord(original[at]) ^ (1 << bit))
        return original[:at] + new + original[at + 1 :]
    if kind == "replace":
        return original[:at] + draw(characters) + original[at + 1 :]
    if kind == "insert":
        at = _position(draw, len(original) + 1)
        return original[:at] + draw(characters) + original[at:]
    return original[:at] + original[at + 1 :]


@st.composite
def byte_edits(draw: st.DrawFn, original: bytes) -> bytes:
    """`original` with one byte flipped, replaced, inserted or deleted (may not be UTF-8)."""
    at = _position(draw, len(original))
    kind = draw(st.sampled_from(["flip", "replace", "insert", "delete"]))
    if kind == "flip":
        return (
            original[:at]
            + bytes([original[at] ^ (1 << draw(st.integers(0, 7)))])
            + original[at + 1 :]
        )
    if kind == "replace":
        other = (original[at] + draw(st.integers(1, 255))) % 256
        return original[:at] + bytes([other]) + original[at + 1 :]
    if kind == "insert":
        at = _position(draw, len(original) + 1)
        return original[:at] + bytes([draw(st.integers(0, 255))]) + original[at:]
    return original[:at] + original[at + 1 :]


def _redeem_raw(client: TestClient, challenge: bytes, nonces: list[int]) -> int:
    """POST a JSON body with the challenge bytes spliced in verbatim; returns the status."""
    body = b'{"challenge": "' + challenge + b'", "nonces": ' + json.dumps(nonces).encode() + b"}"
    return client.post(
        "/api/v1/redeem", content=body, headers={"content-type": "application/json"}
    ).status_code


def _redeem(client: TestClient, challenge: str, nonces: Any) -> int:
    return client.post(
        "/api/v1/redeem", json={"challenge": challenge, "nonces": nonces}
    ).status_code


@THOROUGH
@given(data=st.data(), as_bytes=st.booleans())
def test_tampered_challenge_never_redeems(
    client: TestClient, site: NewSecret, data: st.DataObject, as_bytes: bool
) -> None:
    """A challenge string with any one character or byte altered is refused with a 4xx."""
    issued = get_challenge(client, site.site.sitekey)
    original: str = issued["challenge"]
    nonces = solve_challenge(issued)
    if as_bytes:
        tampered_bytes = data.draw(byte_edits(original.encode()))
        assert tampered_bytes != original.encode()
        status = _redeem_raw(client, tampered_bytes, nonces)
    else:
        tampered = data.draw(text_edits(original))
        if tampered == original:
            return
        status = _redeem(client, tampered, nonces)
    assert 400 <= status < 500, status
    # Control: the untouched challenge still redeems, so the refusal came from the edit.
    assert _redeem(client, original, nonces) == 200


def _meets_target(seed: bytes, nonce: int, target: int) -> bool:
    """The v1 rule, restated here so the test does not trust the code under test."""
    if not 0 <= nonce < 2**53:
        return False
    digest = hashlib.sha256(seed + nonce.to_bytes(8, "big")).digest()
    return int.from_bytes(digest[:4], "big") < target


non_int_nonces = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=2),
)


@THOROUGH
@given(data=st.data())
def test_altered_nonce_never_redeems(
    client: TestClient, site: NewSecret, data: st.DataObject
) -> None:
    """Changing any nonce of a valid solution is refused unless the result is itself valid."""
    issued = get_challenge(client, site.site.sitekey)
    seed, k, target = bytes.fromhex(issued["seed"]), issued["k"], issued["target"]
    nonces: list[Any] = solve_challenge(issued)
    at = data.draw(st.integers(0, k - 1), label="position")
    replacement = data.draw(
        st.one_of(
            st.integers(-(2**70), 2**70),
            st.integers(0, 200),  # near the real solutions: often a duplicate or a miss
            st.sampled_from([-1, 2**53 - 1, 2**53, 2**64]),
            st.sampled_from(nonces),
            non_int_nonces,
        ),
        label="replacement",
    )
    if replacement == nonces[at] and type(replacement) is int:
        return
    altered = [*nonces]
    altered[at] = replacement
    genuinely_valid = (
        all(type(n) is int for n in altered)
        and len(set(altered)) == k
        and all(_meets_target(seed, n, target) for n in altered)
    )
    status = _redeem(client, issued["challenge"], altered)
    if genuinely_valid:
        assert status == 200  # another correct solution is still a correct solution
        return
    assert 400 <= status < 500, status
    assert _redeem(client, issued["challenge"], nonces) == 200


@PER_FLAVOR
@given(data=st.data())
def test_reshaped_solution_never_redeems(
    client: TestClient, site: NewSecret, data: st.DataObject
) -> None:
    """Dropping, repeating or adding nonces, or sending another JSON type, is refused with a 4xx."""
    issued = get_challenge(client, site.site.sitekey)
    nonces = solve_challenge(issued)
    extra = data.draw(st.integers(0, 2**53 - 1))
    shaped = data.draw(
        st.sampled_from(
            [
                nonces[:-1],
                [],
                [*nonces, extra],
                [*nonces[:-1], nonces[0]],
                nonces * 17,  # more than MAX_K
                {"0": nonces[0]},
                ",".join(map(str, nonces)),
                None,
            ]
        )
    )
    assert 400 <= _redeem(client, issued["challenge"], shaped) < 500
    assert _redeem(client, issued["challenge"], nonces) == 200


@pytest.mark.parametrize(
    "literal", [b"1" + b"0" * 5000, b"1e400", b"-1", b"NaN", b"Infinity", b"1.0"]
)
def test_number_edge_literal_nonce_is_refused(
    client: TestClient, site: NewSecret, literal: bytes
) -> None:
    """A nonce written as a huge, float, NaN or infinite JSON literal is refused with a 4xx."""
    issued = get_challenge(client, site.site.sitekey)
    nonces = solve_challenge(issued)
    listed = b",".join([literal, *(str(n).encode() for n in nonces[1:])])
    body = b'{"challenge": "' + issued["challenge"].encode() + b'", "nonces": [' + listed + b"]}"
    got = client.post("/api/v1/redeem", content=body, headers={"content-type": "application/json"})
    assert 400 <= got.status_code < 500, got.text
    assert _redeem(client, issued["challenge"], nonces) == 200


def _verify(client: TestClient, path: str, secret: str, response: str | bytes) -> tuple[int, Any]:
    if isinstance(response, bytes):
        body = f"secret={quote(secret)}&response={quote(response)}".encode()
        got = client.post(
            path, content=body, headers={"content-type": "application/x-www-form-urlencoded"}
        )
    else:
        got = client.post(path, data={"secret": secret, "response": response})
    return got.status_code, got.json()


@pytest.mark.parametrize("path", VERIFY_PATHS)
@PER_FLAVOR
@given(data=st.data(), as_bytes=st.booleans())
def test_tampered_token_never_verifies(
    client: TestClient, site: NewSecret, path: str, data: st.DataObject, as_bytes: bool
) -> None:
    """A response token with any one character or byte altered never verifies, on every flavor."""
    token = get_token(client, site.site.sitekey)
    tampered: str | bytes
    if as_bytes:
        tampered = data.draw(byte_edits(token.encode()))
    else:
        tampered = data.draw(text_edits(token))
        if tampered == token:
            return
    status, body = _verify(client, path, site.secret, tampered)
    assert status < 500, status
    assert body["success"] is False, body
    # Control: the untouched token verifies, so the refusal came from the edit.
    status, body = _verify(client, path, site.secret, token)
    assert (status, body["success"]) == (200, True), body
