"""Stateless, authenticated proof-of-work challenges (protocol v1).

The server keeps nothing when it issues a challenge: every field travels inside the
challenge string, authenticated with HMAC-SHA256 over its length-prefixed encoding. At
redemption the seed doubles as the challenge id that is claimed once.
"""

import hashlib
import hmac
from dataclasses import dataclass

from authkong.domain import codec
from authkong.domain.keys import Keyring
from authkong.domain.pow import MAX_K, SEED_BYTES

VERSION = b"ak-challenge-1"
FIELD_COUNT = 13
MAC_BYTES = 32


@dataclass(frozen=True, slots=True)
class Challenge:
    seed: bytes
    k: int
    target: int
    issued_ms: int
    expires_ms: int
    sitekey: str
    hostname: str
    action: str
    cdata: str
    mode: str
    """How the widget runs: "checkbox", "invisible" or "score" (reCAPTCHA v3); "" if unsaid."""
    reason: str
    """Why this difficulty was chosen (e.g. "base"); shown to the client as-is."""

    @property
    def id(self) -> str:
        return self.seed.hex()


def encode(challenge: Challenge, keys: Keyring) -> str:
    """Serialize and authenticate a challenge as `<fields>.<mac>` in base64url."""
    kid = keys.current
    body = codec.pack(
        [
            VERSION,
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
    )
    mac = hmac.new(keys.signing.mac, body, hashlib.sha256).digest()
    return f"{codec.b64encode(body)}.{codec.b64encode(mac)}"


def decode(value: str, keys: Keyring) -> Challenge | None:
    """The challenge inside `value` if its MAC verifies under a known key, else None.

    Expiry is not checked here; the caller compares `expires_ms` with its clock.
    """
    try:
        body_text, mac_text = value.split(".")
        body = codec.b64decode(body_text)
        mac = codec.b64decode(mac_text)
        fields = codec.unpack(body, FIELD_COUNT)
        if fields[0] != VERSION or len(mac) != MAC_BYTES:
            return None
        pair = keys.get(codec.read_text(fields[1]))
        if pair is None:
            return None
        expected = hmac.new(pair.mac, body, hashlib.sha256).digest()
        if not hmac.compare_digest(mac, expected):
            return None
        # Only authenticated bytes are interpreted past this point.
        challenge = Challenge(
            seed=fields[2],
            k=codec.read_u64(fields[3]),
            target=codec.read_u64(fields[4]),
            issued_ms=codec.read_u64(fields[5]),
            expires_ms=codec.read_u64(fields[6]),
            sitekey=codec.read_text(fields[7]),
            hostname=codec.read_text(fields[8]),
            action=codec.read_text(fields[9]),
            cdata=codec.read_text(fields[10]),
            mode=codec.read_text(fields[11]),
            reason=codec.read_text(fields[12]),
        )
    except (ValueError, codec.CodecError):
        return None
    if len(challenge.seed) != SEED_BYTES or not 1 <= challenge.k <= MAX_K:
        return None
    return challenge
