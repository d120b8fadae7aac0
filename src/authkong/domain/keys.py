"""Server keys: one MAC key for challenges and one AES-256 key for tokens per key id."""

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class KeyPair:
    mac: bytes
    """HMAC-SHA256 key that authenticates challenges."""
    seal: bytes
    """AES-256-GCM key that seals response tokens."""


@dataclass(frozen=True, slots=True)
class Keyring:
    """All key pairs still accepted, and the id of the one that signs new material.

    Rotation adds a pair and makes it current; older pairs stay so that challenges and
    tokens issued just before the rotation still verify until they expire.

    Key ids are 1 to 16 bytes without ".": a response token is `<kid>.<body>` and is split
    at its first dot, so a dotted key id would seal tokens that never unseal.
    """

    current: str
    pairs: dict[str, KeyPair] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.current not in self.pairs:
            raise ValueError("current key id must be in the keyring")
        for kid in self.pairs:
            if not 1 <= len(kid.encode()) <= 16:
                raise ValueError("key ids are 1 to 16 bytes")
            if "." in kid:
                raise ValueError("key ids cannot contain '.'")

    @property
    def signing(self) -> KeyPair:
        return self.pairs[self.current]

    def get(self, kid: str) -> KeyPair | None:
        return self.pairs.get(kid)
