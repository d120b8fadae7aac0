"""The ephemeral store: short-lived state that must be atomic across every worker.

Four things live here: claims (a spent challenge or token, remembered until it would have
expired anyway), windowed counters (velocity), token buckets (rate limits) and notices
(short messages every worker reads in order: which velocity keys became busy). Every
backend passes the same conformance suite in tests/test_ephemeral_conformance.py.
"""

from collections.abc import Mapping, Sequence
from typing import Protocol


def claim_key(kind: str, expires_ms: int, ident: str) -> str:
    """The key under which something is claimed until it expires.

    Leading with the expiry (fixed-width hex) makes keys arrive in nearly sorted order, so
    a B-tree store appends at its right edge instead of touching a random page per claim
    (a third less work per claim in SQLite). The same thing always gets the same key,
    because its expiry is part of it and never changes.
    """
    return f"{kind}:{expires_ms:013x}:{ident}"


class EphemeralStore(Protocol):
    async def claim(self, key: str, ttl_s: float, value: str = "") -> bool:
        """Atomically mark `key` as taken for `ttl_s` seconds, remembering `value`.

        True for exactly one caller while the claim lives; False for everyone else.
        An expired claim can be taken again.
        """
        ...

    async def get(self, key: str) -> str | None:
        """The value remembered by a live claim, or None."""
        ...

    async def incr(self, key: str, window_s: float, amount: int = 1) -> int:
        """Add `amount` to a counter that resets `window_s` seconds after its first add.

        Returns the count after adding.
        """
        ...

    async def add_counts(self, deltas: Mapping[str, tuple[int, int]]) -> dict[str, int]:
        """Add to many counters in one transaction; each key's total after its add.

        `deltas` maps a key to (what to add, when its counter expires, in ms): fixed
        windows know their end, so the expiry is absolute. A counter set by its first add
        lives until that expiry and then starts again from 0, like `incr`'s; a delta of 0
        only reads (an absent counter is 0 and stays absent). Workers share their velocity
        counts this way (api/velocity_sync.py); the call may take a while for many keys,
        so a backend with blocking I/O runs it off the event loop.
        """
        ...

    async def post_notices(self, notices: Sequence[str], expires_ms: int) -> None:
        """Append `notices` to the one shared, ordered list, each until `expires_ms`.

        Every worker reads the list with `read_notices`; velocity sync announces there
        the keys that other workers have not counted yet (api/velocity_sync.py).
        """
        ...

    async def read_notices(self, after: int, limit: int) -> tuple[list[str], int]:
        """Up to `limit` live notices posted after position `after` (0: from the start),
        oldest first, and the position to read after next time.

        Positions only grow, and a notice becomes readable only after every notice
        before it, so a reader that keeps its position misses none that are still live.
        """
        ...

    async def take(self, key: str, rate_per_s: float, burst: int, cost: int = 1) -> float:
        """Atomically take `cost` tokens from the bucket `key`, or take nothing.

        The bucket holds at most `burst` tokens (a new one is full) and refills at
        `rate_per_s`. Returns 0.0 when the tokens were taken, else the seconds until they
        could be (what a 429's Retry-After says). A bucket that has refilled completely is
        indistinguishable from a new one, so it expires then and purge may drop it.
        """
        ...

    async def purge(self) -> int:
        """Drop expired entries; returns how many went."""
        ...

    async def close(self) -> None: ...
