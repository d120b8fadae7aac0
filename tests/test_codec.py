"""The framing and base64url codec that everything authenticated is built on."""

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from authkong.domain import codec

fields_lists = st.lists(st.binary(max_size=300), max_size=20)


@given(fields_lists)
def test_pack_unpack_round_trip(fields: list[bytes]) -> None:
    """unpack(pack(fields), len(fields)) gives the fields back unchanged."""
    assert codec.unpack(codec.pack(fields), len(fields)) == fields


@given(fields_lists, fields_lists)
def test_pack_is_injective(a: list[bytes], b: list[bytes]) -> None:
    """Two different field lists never pack to the same bytes (no concatenation ambiguity)."""
    if a != b:
        assert codec.pack(a) != codec.pack(b)


def test_pack_separates_shifted_boundaries() -> None:
    """Moving bytes from one field to the next changes the encoding (the CVE-2025-68113 flaw)."""
    assert codec.pack([b"ab", b"c"]) != codec.pack([b"a", b"bc"])
    assert codec.pack([b"abc"]) != codec.pack([b"abc", b""])


def test_pack_layout_is_two_byte_big_endian_length() -> None:
    """Each field is a 2-byte big-endian length followed by its bytes."""
    assert codec.pack([b"hi", b""]) == b"\x00\x02hi\x00\x00"


def test_pack_accepts_max_field_and_rejects_longer() -> None:
    """A field of MAX_FIELD bytes packs; one byte more raises CodecError."""
    assert len(codec.pack([b"x" * codec.MAX_FIELD])) == codec.MAX_FIELD + 2
    with pytest.raises(codec.CodecError):
        codec.pack([b"x" * (codec.MAX_FIELD + 1)])


@given(st.lists(st.binary(max_size=50), min_size=1, max_size=8), st.data())
def test_unpack_rejects_every_truncation(fields: list[bytes], data: st.DataObject) -> None:
    """Any strict prefix of a packed list fails to unpack with CodecError."""
    packed = codec.pack(fields)
    cut = data.draw(st.integers(0, len(packed) - 1))
    with pytest.raises(codec.CodecError):
        codec.unpack(packed[:cut], len(fields))


@given(fields_lists, st.binary(min_size=1, max_size=20))
def test_unpack_rejects_trailing_bytes(fields: list[bytes], extra: bytes) -> None:
    """Bytes after the last expected field are rejected, not ignored."""
    with pytest.raises(codec.CodecError):
        codec.unpack(codec.pack(fields) + extra, len(fields))


def test_unpack_rejects_wrong_field_count() -> None:
    """Asking for more or fewer fields than were packed raises CodecError."""
    packed = codec.pack([b"a", b"b", b"c"])
    with pytest.raises(codec.CodecError):
        codec.unpack(packed, 2)
    with pytest.raises(codec.CodecError):
        codec.unpack(packed, 4)


@given(st.binary(max_size=200), st.integers(0, 20))
def test_unpack_raises_only_codec_error(data: bytes, count: int) -> None:
    """On any bytes, unpack gives `count` fields that re-pack to the input, or raises CodecError."""
    try:
        fields = codec.unpack(data, count)
    except codec.CodecError:
        return
    assert len(fields) == count
    assert codec.pack(fields) == data


@given(st.integers(0, 2**64 - 1))
def test_u64_round_trip(value: int) -> None:
    """u64 writes 8 bytes that read_u64 turns back into the same integer."""
    raw = codec.u64(value)
    assert len(raw) == 8
    assert codec.read_u64(raw) == value


@pytest.mark.parametrize("size", [0, 7, 9])
def test_read_u64_rejects_wrong_length(size: int) -> None:
    """read_u64 accepts exactly 8 bytes."""
    with pytest.raises(codec.CodecError):
        codec.read_u64(b"\x01" * size)


@given(st.text(alphabet=st.characters(codec="utf-8")))
def test_text_round_trip(value: str) -> None:
    """text/read_text round-trip any encodable string."""
    assert codec.read_text(codec.text(value)) == value


@pytest.mark.parametrize("raw", [b"\xff", b"\xc3", b"\xed\xa0\x80", b"ok\x80"])
def test_read_text_rejects_invalid_utf8(raw: bytes) -> None:
    """Bytes that are not UTF-8 (including encoded surrogates) raise CodecError."""
    with pytest.raises(codec.CodecError):
        codec.read_text(raw)


@given(st.binary(max_size=200))
def test_base64url_round_trip(data: bytes) -> None:
    """b64decode(b64encode(x)) == x, and the text is unpadded URL-safe base64."""
    text = codec.b64encode(data)
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert codec.b64decode(text) == data


@given(st.text(max_size=40))
def test_base64url_accepts_only_canonical_text(value: str) -> None:
    """Any string either raises CodecError or is exactly the encoding of what it decodes to."""
    try:
        data = codec.b64decode(value)
    except codec.CodecError:
        return
    assert codec.b64encode(data) == value


@given(st.binary(min_size=1, max_size=60))
def test_base64url_rejects_padding(data: bytes) -> None:
    """The padded form of a valid string is refused when padding is needed at all."""
    padded = base64.urlsafe_b64encode(data).decode()
    if padded.endswith("="):
        with pytest.raises(codec.CodecError):
            codec.b64decode(padded)


@pytest.mark.parametrize(
    "value",
    [
        "QR",  # decodes to b"A" like "QQ", but the unused low bits are set
        "QUJ",  # b"AB" is "QUI"
        "QQ==",
        "QQ=",
        "Q",  # one character can never be whole bytes
        "QQ QQ",
        "QQ\n",
        " QQ",
        "+/8",  # standard alphabet: b"\xfb\xff" is "-_8" in base64url
        "-/8",
        "Q=Q",
        "QQ.",
        "QQ\u00e9",
        "\uff31\uff31",  # fullwidth letters
        "QQ\x00",
    ],
)
def test_base64url_rejects_non_canonical_and_foreign_text(value: str) -> None:
    """Non-canonical strings, padding, whitespace and non-alphabet characters are refused."""
    with pytest.raises(codec.CodecError):
        codec.b64decode(value)


def test_base64url_one_string_per_byte() -> None:
    """Of all 4096 two-character strings, exactly one per byte value (256) is accepted."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    accepted = [a + b for a in alphabet for b in alphabet if _decodes(a + b)]
    assert len(accepted) == 256
    assert sorted(codec.b64decode(s) for s in accepted) == [bytes([i]) for i in range(256)]


def _decodes(value: str) -> bool:
    try:
        codec.b64decode(value)
    except codec.CodecError:
        return False
    return True
