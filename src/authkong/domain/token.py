"""Response tokens: opaque, sealed with AES-256-GCM, single use, at most 2048 characters.

Format: `<key id>.<base64url(nonce || ciphertext || tag)>`. The key id and a version tag
are bound as associated data, so swapping the key id or replaying an older format fails
authentication instead of being reinterpreted.
"""

import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from authkong.domain import codec
from authkong.domain.keys import Keyring

VERSION = b"ak-token-1"
FIELD_COUNT = 12
NONCE_BYTES = 12
TOKEN_ID_BYTES = 16
MAX_TOKEN_CHARS = 2048


@dataclass(frozen=True, slots=True)
class ResponseToken:
    token_id: bytes
    sitekey: str
    issued_ms: int
    """When the challenge was solved (reported as challenge_ts)."""
    expires_ms: int
    hostname: str
    action: str
    cdata: str
    mode: str
    """Copied from the challenge; reCAPTCHA verify reports score and action only for "score"."""
    client_ip: str
    score: float
    """0.0 (bot) to 1.0 (human), reCAPTCHA v3 semantics."""
    reasons: tuple[str, ...]
    solve_ms: int
    """Time between challenge issue and redemption."""

    @property
    def id(self) -> str:
        return self.token_id.hex()


def new_token_id() -> bytes:
    return os.urandom(TOKEN_ID_BYTES)


@lru_cache(maxsize=16)
def _cipher(key: bytes) -> AESGCM:
    """One AESGCM object per key: building it costs more than decrypting a token."""
    return AESGCM(key)


def _aad(kid: str) -> bytes:
    return VERSION + b"\x00" + kid.encode()


def seal(token: ResponseToken, keys: Keyring) -> str:
    plaintext = codec.pack(
        [
            token.token_id,
            codec.text(token.sitekey),
            codec.u64(token.issued_ms),
            codec.u64(token.expires_ms),
            codec.text(token.hostname),
            codec.text(token.action),
            codec.text(token.cdata),
            codec.text(token.mode),
            codec.text(token.client_ip),
            codec.u64(round(token.score * 1000)),
            codec.text(",".join(token.reasons)),
            codec.u64(token.solve_ms),
        ]
    )
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(keys.signing.seal).encrypt(nonce, plaintext, _aad(keys.current))
    return f"{keys.current}.{codec.b64encode(nonce + sealed)}"


def unseal(value: str, keys: Keyring) -> ResponseToken | None:
    """The token inside `value` if it authenticates under a known key, else None."""
    if len(value) > MAX_TOKEN_CHARS:
        return None
    kid, dot, body_text = value.partition(".")
    pair = keys.get(kid) if dot else None
    if pair is None:
        return None
    try:
        body = codec.b64decode(body_text)
        if len(body) < NONCE_BYTES + 16:
            return None
        plaintext = _cipher(pair.seal).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], _aad(kid))
        fields = codec.unpack(plaintext, FIELD_COUNT)
        reasons = codec.read_text(fields[10])
        return ResponseToken(
            token_id=fields[0],
            sitekey=codec.read_text(fields[1]),
            issued_ms=codec.read_u64(fields[2]),
            expires_ms=codec.read_u64(fields[3]),
            hostname=codec.read_text(fields[4]),
            action=codec.read_text(fields[5]),
            cdata=codec.read_text(fields[6]),
            mode=codec.read_text(fields[7]),
            client_ip=codec.read_text(fields[8]),
            score=codec.read_u64(fields[9]) / 1000,
            reasons=tuple(reasons.split(",")) if reasons else (),
            solve_ms=codec.read_u64(fields[11]),
        )
    except (InvalidTag, ValueError, codec.CodecError):
        return None
