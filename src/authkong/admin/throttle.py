"""Login throttling: token buckets in the ephemeral store, so limits hold across workers.

Three buckets are asked before any password is checked, each keyed whether or not the
account exists (the normalised email), so the limits themselves reveal nothing:

- per client IP (IPv4 address or IPv6 /64, as for the widget's rate limits): 20 at
  once, then 10 a minute. That slows one address trying a password on many accounts,
  and leaves room for an office behind one NAT.
- per account and client IP: 5 at once, then 1 a minute. A guesser gets about 1,440
  tries a day at one account from each address, far too few against any password that
  passed `check_new_password`, while its owner who mistyped five times waits one minute.
  Keyed by address too, so a guesser elsewhere cannot keep the owner locked out.
- per account, from every address: 50 at once, then 10 a minute. That caps guessing
  spread over many addresses; only a guesser with ten or more of them, each at its own
  limit, can hold this bucket empty (and the owner out) for as long as it keeps going.

Every attempt takes a token, successful or not: a login is rare, and counting only
failures would need a second write after the (slow) password check.
"""

import math
from dataclasses import dataclass

from authkong.admin.model import Throttled
from authkong.api.rate_limit import client_key
from authkong.storage.ephemeral import EphemeralStore


@dataclass(frozen=True, slots=True)
class Bucket:
    burst: int
    per_min: float


IP = Bucket(burst=20, per_min=10)
PAIR = Bucket(burst=5, per_min=1)
ACCOUNT = Bucket(burst=50, per_min=10)


class LoginThrottle:
    def __init__(
        self,
        store: EphemeralStore,
        account: Bucket = ACCOUNT,
        ip: Bucket = IP,
        pair: Bucket = PAIR,
    ) -> None:
        self.store = store
        self.account = account
        self.ip = ip
        self.pair = pair

    async def check(self, email: str, ip: str) -> None:
        """Raise Throttled (with whole seconds to wait) if any bucket is empty.

        The narrower buckets go first, and a refusal takes from none after it: one
        address spraying many accounts does not drain those accounts' buckets, and one
        address stuck at its own limit for an account adds nothing to that account's
        bucket across addresses.
        """
        client = client_key(ip)  # never contains "|", so the pair key reads one way
        for key, bucket in (
            (f"login:ip:{client}", self.ip),
            (f"login:pair:{email}|{client}", self.pair),
            (f"login:account:{email}", self.account),
        ):
            wait = await self.store.take(key, bucket.per_min / 60, bucket.burst)
            if wait:
                # Whole seconds (Retry-After), rounded up so waiting that long is enough.
                raise Throttled(max(1, math.ceil(wait)))
