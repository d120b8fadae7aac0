"""Unambiguous binary framing for everything we authenticate.

Each field is written as a 2-byte big-endian length followed by its bytes, so no two
different field lists can ever encode to the same byte string (the flaw behind
CVE-2025-68113 was a MAC over plain concatenation).
"""

import base64
import binascii
import struct
from collections.abc import Sequence

MAX_FIELD = 0xFFFF


class CodecError(ValueError):
    """Bytes that are not a well-formed field list."""


def pack(fields: Sequence[bytes]) -> bytes:
    """Frame `fields` as length-prefixed byte strings."""
    out = bytearray()
    for field in fields:
        if len(field) > MAX_FIELD:
            raise CodecError("field too long")
        out += struct.pack(">H", len(field))
        out += field
    return bytes(out)


def unpack(data: bytes, count: int) -> list[bytes]:
    """Split `data` into exactly `count` framed fields, or raise CodecError."""
    fields: list[bytes] = []
    end = len(data)
    pos = 0
    for _ in range(count):
        start = pos + 2
        if start > end:
            raise CodecError("truncated length")
        pos = start + (data[start - 2] << 8 | data[start - 1])
        if pos > end:
            raise CodecError("truncated field")
        fields.append(data[start:pos])
    if pos != end:
        raise CodecError("trailing bytes")
    return fields


def u64(value: int) -> bytes:
    return value.to_bytes(8, "big")


def read_u64(field: bytes) -> int:
    if len(field) != 8:
        raise CodecError("expected 8 bytes")
    return int.from_bytes(field, "big")


def text(value: str) -> bytes:
    return value.encode("utf-8")


def read_text(field: bytes) -> str:
    try:
        return field.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CodecError("not utf-8") from exc


def b64encode(data: bytes) -> str:
    """URL-safe base64 without padding: safe in form fields, URLs and JSON."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


# Unpadded base64url ends in 2 or 3 characters whose last one carries 4 or 2 bits that
# belong to no byte. Canonical encoders leave them zero; other strings decode to the same
# bytes, so they are refused: an altered string never passes as the original.
_CANONICAL_LAST = {2: frozenset("AQgw"), 3: frozenset("AEIMQUYcgkosw048")}
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")


def b64decode(value: str) -> bytes:
    """Inverse of b64encode; raises CodecError on anything else."""
    tail = len(value) % 4
    if tail == 1 or (tail and value[-1] not in _CANONICAL_LAST[tail]):
        raise CodecError("not canonical base64url")
    if not value.isascii() or "+" in value or "/" in value or "=" in value:
        raise CodecError("not base64url")
    padded = value.encode("ascii").translate(_FROM_URLSAFE) + b"=" * (-tail % 4)
    try:
        return binascii.a2b_base64(padded, strict_mode=True)
    except binascii.Error as exc:
        raise CodecError("not base64url") from exc
