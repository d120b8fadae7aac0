"""Login throttling: token buckets in the ephemeral store, so limits hold across workers.

Two buckets are asked before any password is checked:

- per account (the normalised email, whether or not such a user exists, so the limit
  itself reveals nothing): 5 attempts at once, then 1 a minute. A guesser gets about
  1,440 tries a day at one account, far too few against any password that passed
  `check_new_password`, while its owner who mistyped five times waits one minute.
- per client IP (IPv4 address or IPv6 /64, as for the widget's rate limits): 20 at
  once, then 10 a minute. That slows one address trying a password on many accounts,
  and leaves room for an office behind one NAT.

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


ACCOUNT = Bucket(burst=5, per_min=1)
IP = Bucket(burst=20, per_min=10)


class LoginThrottle:
    def __init__(self, store: EphemeralStore, account: Bucket = ACCOUNT, ip: Bucket = IP) -> None:
        self.store = store
        self.account = account
        self.ip = ip

    async def check(self, email: str, ip: str) -> None:
        """Raise Throttled (with whole seconds to wait) if either bucket is empty.

        The IP's bucket goes first, so one address spraying many accounts is stopped
        without also draining those accounts' own buckets.
        """
        wait = await self.store.take(
            f"login:ip:{client_key(ip)}", self.ip.per_min / 60, self.ip.burst
        )
        if not wait:
            wait = await self.store.take(
                f"login:account:{email}", self.account.per_min / 60, self.account.burst
            )
        if wait:
            # Whole seconds (Retry-After), rounded up so waiting that long is enough.
            raise Throttled(max(1, math.ceil(wait)))
