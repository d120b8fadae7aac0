"""Response tokens: sealing, authentication, key rotation and the 2048-character limit."""

import dataclasses
import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from authkong.domain import codec
from authkong.domain.keys import KeyPair, Keyring
from authkong.domain.token import (
    MAX_TOKEN_CHARS,
    NONCE_BYTES,
    TOKEN_ID_BYTES,
    ResponseToken,
    new_token_id,
    seal,
    unseal,
)


def _pair() -> KeyPair:
    return KeyPair(mac=os.urandom(32), seal=os.urandom(32))


PAIR_1, PAIR_2, PAIR_3 = _pair(), _pair(), _pair()
OLD = Keyring(current="1", pairs={"1": PAIR_1})
ROTATED = Keyring(current="2", pairs={"1": PAIR_1, "2": PAIR_2})
STRANGER = Keyring(current="3", pairs={"3": PAIR_3})

BASE = ResponseToken(
    token_id=bytes(range(16)),
    sitekey="ak_test",
    issued_ms=1_767_225_600_000,
    expires_ms=1_767_225_900_000,
    hostname="www.example.com",
    action="login",
    cdata="abc",
    mode="score",
    client_ip="203.0.113.7",
    score=0.9,
    reasons=("fast", "datacenter"),
    solve_ms=850,
)

texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=100)
reason = st.text(
    alphabet=st.characters(codec="utf-8", exclude_characters=","), min_size=1, max_size=20
)
tokens = st.builds(
    ResponseToken,
    token_id=st.binary(min_size=TOKEN_ID_BYTES, max_size=TOKEN_ID_BYTES),
    sitekey=texts,
    issued_ms=st.integers(0, 2**64 - 1),
    expires_ms=st.integers(0, 2**64 - 1),
    hostname=texts,
    action=texts,
    cdata=texts,
    mode=st.sampled_from(["", "checkbox", "invisible", "score"]),
    client_ip=texts,
    score=st.integers(0, 1000).map(lambda n: n / 1000),
    reasons=st.lists(reason, max_size=5).map(tuple),
    solve_ms=st.integers(0, 2**64 - 1),
)


@given(tokens)
def test_round_trip(token: ResponseToken) -> None:
    """unseal(seal(t)) == t for any token with a score in thousandths."""
    assert unseal(seal(token, OLD), OLD) == token


def test_score_is_kept_to_thousandths() -> None:
    """A score with more precision comes back rounded to 3 decimals."""
    got = unseal(seal(dataclasses.replace(BASE, score=0.12345), OLD), OLD)
    assert got is not None
    assert got.score == 0.123


def test_new_token_id_is_random_16_bytes() -> None:
    """Token ids are 16 bytes and differ between calls."""
    ids = {new_token_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == TOKEN_ID_BYTES for i in ids)


def test_id_is_hex_of_token_id() -> None:
    """The id claimed at siteverify is the token id in hex."""
    assert BASE.id == bytes(range(16)).hex()


def test_format_is_kid_dot_base64url() -> None:
    """A token is `<kid>.<base64url(nonce || ciphertext || tag)>`."""
    kid, body = seal(BASE, ROTATED).split(".")
    assert kid == "2"
    assert len(codec.b64decode(body)) > NONCE_BYTES + 16


def test_sealing_twice_differs() -> None:
    """Each seal uses a fresh nonce, so equal tokens give different strings."""
    assert seal(BASE, OLD) != seal(BASE, OLD)


def test_visitor_cannot_read_contents() -> None:
    """No field of the token appears in clear in the token string or its decoded bytes."""
    value = seal(BASE, OLD)
    raw = codec.b64decode(value.split(".")[1])
    for secret in (b"www.example.com", b"203.0.113.7", b"login", b"datacenter", bytes(range(16))):
        assert secret not in raw
        assert secret.decode("latin-1") not in value


def test_old_key_still_accepted_after_rotation() -> None:
    """A token sealed before a rotation unseals under the rotated keyring."""
    assert unseal(seal(BASE, OLD), ROTATED) == BASE


def test_new_tokens_use_the_current_key() -> None:
    """After rotation, tokens are sealed under the new key and the old ring rejects them."""
    value = seal(BASE, ROTATED)
    assert unseal(value, ROTATED) == BASE
    assert unseal(value, OLD) is None


def test_unknown_key_id_rejected() -> None:
    """A token whose key id the keyring does not hold is rejected."""
    assert unseal(seal(BASE, OLD), STRANGER) is None


def test_same_key_id_different_key_rejected() -> None:
    """Same key id but another AES key fails authentication."""
    impostor = Keyring(current="1", pairs={"1": PAIR_3})
    assert unseal(seal(BASE, impostor), OLD) is None


def test_key_id_is_authenticated() -> None:
    """Relabelling a token with another key id that maps to the same key fails (kid is AAD)."""
    shared = Keyring(current="1", pairs={"1": PAIR_1, "2": PAIR_1})
    value = seal(BASE, shared)
    assert unseal(value, shared) == BASE
    assert unseal("2" + value[1:], shared) is None


def test_version_is_authenticated() -> None:
    """A token sealed with the right key but another version tag in the AAD is rejected."""
    valid = codec.b64decode(seal(BASE, OLD).split(".")[1])
    plaintext = AESGCM(PAIR_1.seal).decrypt(
        valid[:NONCE_BYTES], valid[NONCE_BYTES:], b"ak-token-1\x001"
    )
    nonce = os.urandom(NONCE_BYTES)
    for aad in (b"ak-token-2\x001", b"ak-token-11", b""):
        forged = nonce + AESGCM(PAIR_1.seal).encrypt(nonce, plaintext, aad)
        assert unseal("1." + codec.b64encode(forged), OLD) is None
    same = nonce + AESGCM(PAIR_1.seal).encrypt(nonce, plaintext, b"ak-token-1\x001")
    assert unseal("1." + codec.b64encode(same), OLD) == BASE


def test_authentic_but_malformed_plaintext_rejected() -> None:
    """Correctly sealed bytes that are not 12 well-formed fields are rejected, not misread."""
    nonce = os.urandom(NONCE_BYTES)
    for plaintext in (
        b"",
        codec.pack([b"x"] * 11),
        codec.pack([b"x"] * 12),
        codec.pack([b""] * 13),
    ):
        sealed = nonce + AESGCM(PAIR_1.seal).encrypt(nonce, plaintext, b"ak-token-1\x001")
        assert unseal("1." + codec.b64encode(sealed), OLD) is None


def test_every_bit_of_the_sealed_body_is_authenticated() -> None:
    """Flipping any single bit of nonce, ciphertext or tag makes the token invalid."""
    value = seal(BASE, OLD)
    raw = bytearray(codec.b64decode(value.split(".")[1]))
    for bit in range(len(raw) * 8):
        raw[bit // 8] ^= 1 << (bit % 8)
        assert unseal("1." + codec.b64encode(bytes(raw)), OLD) is None, bit
        raw[bit // 8] ^= 1 << (bit % 8)
    assert unseal("1." + codec.b64encode(bytes(raw)), OLD) == BASE


@pytest.mark.parametrize("cut", [0, 1, NONCE_BYTES, NONCE_BYTES + 15, -1])
def test_truncated_body_rejected(cut: int) -> None:
    """Cutting the sealed bytes anywhere (including below nonce + tag) is rejected."""
    raw = codec.b64decode(seal(BASE, OLD).split(".")[1])
    assert unseal("1." + codec.b64encode(raw[:cut]), OLD) is None


@pytest.mark.parametrize(
    "value",
    ["", ".", "1", "1.", "1.A", "1.AAAA", ".AAAA", "1..AAAA", "1.AA==", "\u00e9.AAAA", "1.\u00e9"],
)
def test_garbage_rejected(value: str) -> None:
    """Strings that are not a sealed token unseal to None, never raise."""
    assert unseal(value, OLD) is None


@given(st.text(max_size=300))
def test_unseal_never_raises(value: str) -> None:
    """unseal returns a token or None for any string, never an exception."""
    assert unseal(value, OLD) is None
    assert unseal("1." + value, OLD) is None


@given(
    st.text(
        alphabet=st.characters(codec="utf-8", exclude_characters="."), min_size=1, max_size=16
    ).filter(lambda kid: len(kid.encode()) <= 16)
)
def test_round_trip_under_any_key_id(kid: str) -> None:
    """A token sealed under any valid key id unseals under the same keyring."""
    keys = Keyring(current=kid, pairs={kid: PAIR_1})
    assert unseal(seal(BASE, keys), keys) == BASE


@pytest.mark.parametrize("kid", ["a.b", ".", "", "k" * 17, "\u00e9" * 9])
def test_unusable_key_id_is_refused(kid: str) -> None:
    """A keyring refuses key ids that are empty, over 16 bytes, or contain the token's '.'."""
    with pytest.raises(ValueError, match="key id"):
        Keyring(current=kid, pairs={kid: PAIR_1})


def test_current_key_must_be_in_the_ring() -> None:
    """A keyring whose current id has no key pair is refused."""
    with pytest.raises(ValueError, match="current key id"):
        Keyring(current="2", pairs={"1": PAIR_1})


MAXIMAL = ResponseToken(
    token_id=b"\xff" * TOKEN_ID_BYTES,
    sitekey="s" * 64,
    issued_ms=2**64 - 1,
    expires_ms=2**64 - 1,
    hostname=("a" * 63 + ".") * 3 + "a" * 61,
    action="A" * 32,
    cdata="c" * 255,
    mode="invisible",
    client_ip="ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255",
    score=1.0,
    reasons=tuple(f"reason-{i:02d}" for i in range(16)),
    solve_ms=2**64 - 1,
)


def test_maximal_token_fits_2048_chars() -> None:
    """Every field at its limit (hostname 253, action 32, cdata 255, IPv6) stays <= 2048 chars."""
    assert len(MAXIMAL.hostname) == 253
    assert len(MAXIMAL.client_ip) == 45
    value = seal(MAXIMAL, Keyring(current="k" * 16, pairs={"k" * 16: PAIR_1}))
    assert len(value) <= MAX_TOKEN_CHARS
    assert unseal(value, Keyring(current="k" * 16, pairs={"k" * 16: PAIR_1})) == MAXIMAL


def test_overlong_token_rejected_before_decrypting() -> None:
    """A string over 2048 characters is rejected even if it would authenticate."""
    value = seal(dataclasses.replace(BASE, cdata="c" * 1600), OLD)
    assert len(value) > MAX_TOKEN_CHARS
    assert unseal(value, OLD) is None
