"""Stateless challenges: encoding, authentication under a rotating keyring, sanity bounds."""

import dataclasses
import hashlib
import hmac
import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authkong.domain import codec
from authkong.domain.challenge import VERSION, Challenge, decode, encode
from authkong.domain.keys import KeyPair, Keyring
from authkong.domain.pow import MAX_K, SEED_BYTES


def _pair() -> KeyPair:
    return KeyPair(mac=os.urandom(32), seal=os.urandom(32))


PAIR_1, PAIR_2, PAIR_3 = _pair(), _pair(), _pair()
OLD = Keyring(current="1", pairs={"1": PAIR_1})
ROTATED = Keyring(current="2", pairs={"1": PAIR_1, "2": PAIR_2})
STRANGER = Keyring(current="3", pairs={"3": PAIR_3})

BASE = Challenge(
    seed=bytes(range(32)),
    k=16,
    target=2**14,
    issued_ms=1_767_225_600_000,
    expires_ms=1_767_225_900_000,
    sitekey="ak_test",
    hostname="www.example.com",
    action="login",
    cdata="abc-123",
    mode="checkbox",
    reason="base",
)

texts = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
challenges = st.builds(
    Challenge,
    seed=st.binary(min_size=SEED_BYTES, max_size=SEED_BYTES),
    k=st.integers(1, MAX_K),
    target=st.integers(1, 2**32),
    issued_ms=st.integers(0, 2**63),
    expires_ms=st.integers(0, 2**64 - 1),
    sitekey=texts,
    hostname=texts,
    action=texts,
    cdata=texts,
    mode=st.sampled_from(["", "checkbox", "invisible", "score"]),
    reason=texts,
)


@given(challenges)
def test_round_trip(challenge: Challenge) -> None:
    """decode(encode(c)) == c for any well-formed challenge."""
    assert decode(encode(challenge, OLD), OLD) == challenge


def test_id_is_seed_hex() -> None:
    """The challenge id claimed at redemption is the seed in hex."""
    assert BASE.id == bytes(range(32)).hex()


def test_encoding_is_url_safe() -> None:
    """The challenge string is `<base64url>.<base64url>` with no padding or other characters."""
    body, mac = encode(BASE, OLD).split(".")
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert set(body) <= allowed
    assert set(mac) <= allowed
    assert len(codec.b64decode(mac)) == 32


def test_old_key_still_accepted_after_rotation() -> None:
    """A challenge signed before a rotation decodes under the rotated keyring."""
    assert decode(encode(BASE, OLD), ROTATED) == BASE


def test_new_challenges_use_the_current_key() -> None:
    """After rotation, new challenges carry the new key id and the old ring rejects them."""
    value = encode(BASE, ROTATED)
    assert decode(value, ROTATED) == BASE
    assert decode(value, OLD) is None
    fields = codec.unpack(codec.b64decode(value.split(".")[0]), 13)
    assert fields[1] == b"2"


def test_unknown_key_id_rejected() -> None:
    """A challenge whose key id the keyring does not hold is rejected."""
    assert decode(encode(BASE, OLD), STRANGER) is None


def test_same_key_id_different_key_rejected() -> None:
    """Same key id but a different MAC key (e.g. another server's data dir) is rejected."""
    impostor = Keyring(current="1", pairs={"1": PAIR_3})
    assert decode(encode(BASE, impostor), OLD) is None


def test_mac_covers_every_field() -> None:
    """Re-encoding any changed field under the original MAC is rejected."""
    body, mac = encode(BASE, OLD).split(".")
    for name, value in [
        ("seed", bytes(32)),
        ("k", 1),
        ("target", 2**32),
        ("issued_ms", 0),
        ("expires_ms", 2**63),
        ("sitekey", "ak_other"),
        ("hostname", "evil.com"),
        ("action", "other"),
        ("cdata", "x"),
        ("mode", "score"),
        ("reason", "other"),
    ]:
        forged_body = encode(dataclasses.replace(BASE, **{name: value}), OLD).split(".")[0]
        assert forged_body != body, name
        assert decode(f"{forged_body}.{mac}", OLD) is None, name


def _sign(fields: list[bytes], pair: KeyPair = PAIR_1) -> str:
    body = codec.pack(fields)
    mac = hmac.new(pair.mac, body, hashlib.sha256).digest()
    return f"{codec.b64encode(body)}.{codec.b64encode(mac)}"


def _fields(challenge: Challenge = BASE, version: bytes = VERSION, kid: str = "1") -> list[bytes]:
    return [
        version,
        codec.text(kid),
        challenge.seed,
        codec.u64(challenge.k),
        codec.u64(challenge.target),
        codec.u64(challenge.issued_ms),
        codec.u64(challenge.expires_ms),
        codec.text(challenge.sitekey),
        codec.text(challenge.hostname),
        codec.text(challenge.action),
        codec.text(challenge.cdata),
        codec.text(challenge.mode),
        codec.text(challenge.reason),
    ]


def test_hand_signed_reference_decodes() -> None:
    """The test's own signer matches encode, so the rejections below test decode, not the signer."""
    assert _sign(_fields()) == encode(BASE, OLD)
    assert decode(_sign(_fields()), OLD) == BASE


def test_other_version_rejected_even_if_signed() -> None:
    """A correctly signed body with another version tag is not interpreted."""
    assert decode(_sign(_fields(version=b"ak-challenge-2")), OLD) is None


def test_wrong_field_count_rejected_even_if_signed() -> None:
    """A signed body with a field missing or added is rejected."""
    assert decode(_sign(_fields()[:-1]), OLD) is None
    assert decode(_sign([*_fields(), b""]), OLD) is None


def test_bad_u64_rejected_even_if_signed() -> None:
    """A signed body whose integer field is not 8 bytes is rejected, not misread."""
    fields = _fields()
    fields[3] = b"\x10"
    assert decode(_sign(fields), OLD) is None


def test_bad_utf8_rejected_even_if_signed() -> None:
    """A signed body whose text field is not UTF-8 is rejected."""
    fields = _fields()
    fields[8] = b"\xff\xfe"
    assert decode(_sign(fields), OLD) is None


@pytest.mark.parametrize(
    "change",
    [
        {"seed": bytes(31)},
        {"seed": bytes(33)},
        {"seed": b""},
        {"k": 0},
        {"k": MAX_K + 1},
        {"k": 2**63},
    ],
)
def test_out_of_bounds_challenge_rejected(change: dict[str, object]) -> None:
    """Authentic challenges with a seed that is not 32 bytes or k outside 1..MAX_K are rejected."""
    assert decode(encode(dataclasses.replace(BASE, **change), OLD), OLD) is None


@pytest.mark.parametrize("k", [1, MAX_K])
def test_k_bounds_are_inclusive(k: int) -> None:
    """k = 1 and k = MAX_K are both accepted."""
    challenge = dataclasses.replace(BASE, k=k)
    assert decode(encode(challenge, OLD), OLD) == challenge


@pytest.mark.parametrize(
    "value",
    ["", ".", "..", "a.b.c", "abc", "abc.", ".abc", "AA.AA", "\u00e9.\u00e9"],
)
def test_garbage_rejected(value: str) -> None:
    """Strings that are not `<body>.<mac>` in base64url decode to None, never raise."""
    assert decode(value, OLD) is None


def test_truncated_mac_rejected() -> None:
    """A MAC shortened to a prefix is rejected (no truncated-MAC acceptance)."""
    body, mac = encode(BASE, OLD).split(".")
    short = codec.b64encode(codec.b64decode(mac)[:16])
    assert decode(f"{body}.{short}", OLD) is None
    assert decode(f"{body}.", OLD) is None


def test_extra_segment_rejected() -> None:
    """Appending a third dot-separated segment to a valid challenge is rejected."""
    assert decode(encode(BASE, OLD) + ".AA", OLD) is None


@given(st.text(max_size=200))
def test_decode_never_raises(value: str) -> None:
    """decode returns a Challenge or None for any string, never an exception."""
    assert decode(value, OLD) is None
