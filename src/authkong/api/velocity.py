"""Velocity per IP, per subnet and per site, counted in this worker's memory.

"Per IP" is per client as the rate limits count them (rate_limit.client_key): an IPv4
address, or an IPv6 /64, which one host can fill with addresses of its own.

Challenges feed the per-IP and per-site counts that adaptive difficulty reads; redemptions
and failed redemptions feed the counts the risk model weighs at redemption. Counting is a
dict operation (domain/sliding.py), so it fits the hot paths' budget; api/velocity_sync.py
adds the other workers' counts to the same windows in the background.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from authkong.api.rate_limit import client_key
from authkong.api.risk_signals import subnet_key
from authkong.domain.risk import VELOCITY_WINDOW_S
from authkong.domain.sliding import SlidingCounts

SITE_RATE_WINDOW_S = 60
"""The site's current challenge rate is its count over the last minute."""
SITE_BASELINE_WINDOW_S = 3600
"""Its baseline, the rate it is compared with, is its count over the last hour."""


@dataclass(frozen=True, slots=True)
class SiteLoad:
    rate: float
    """Challenges per second over the last minute."""
    baseline: float
    """Challenges per second over the last hour (or since start, if shorter)."""


@dataclass(frozen=True, slots=True)
class ClientCounts:
    ip_challenges: int
    ip_redemptions: int
    ip_failures: int
    subnet_challenges: int
    subnet_redemptions: int
    subnet_failures: int


class Velocity:
    def __init__(self, started_ms: int) -> None:
        self.started_ms = started_ms
        window = VELOCITY_WINDOW_S
        self.challenges, self.redemptions, self.failures = (
            SlidingCounts(window),
            SlidingCounts(window),
            SlidingCounts(window),
        )
        self.site_recent = SlidingCounts(SITE_RATE_WINDOW_S)
        self.site_hour = SlidingCounts(SITE_BASELINE_WINDOW_S)
        self.server_counted_s = 0.0
        """How much of the last hour any worker of the server was counting (velocity sync
        learns it from the store); 0 until the first sync."""

    def counters(self) -> Mapping[str, SlidingCounts]:
        """Every count by a name that is stable across workers (the shared keys' prefix)."""
        return {
            "vc": self.challenges,
            "vr": self.redemptions,
            "vf": self.failures,
            "vsm": self.site_recent,
            "vsh": self.site_hour,
        }

    def challenge(self, sitekey: str, ip: str, now_ms: int) -> tuple[int, int, SiteLoad]:
        """Count a challenge; the IP's and the subnet's challenge counts and the site's load."""
        ip_count = self.challenges.hit(client_key(ip), now_ms)
        subnet_count = self.challenges.hit(subnet_key(ip), now_ms)
        recent = self.site_recent.hit(sitekey, now_ms)
        hour = self.site_hour.hit(sitekey, now_ms)
        # Until an hour has passed, the baseline is the average over the time counted (at
        # least a minute), so a restart does not look like a surge. That time is this
        # worker's own, or what the store says the server counted in the last hour if that
        # is longer: the hour's count includes what it took in from there.
        counted_s = max((now_ms - self.started_ms) / 1000, self.server_counted_s)
        span_s = min(SITE_BASELINE_WINDOW_S, max(SITE_RATE_WINDOW_S, counted_s))
        load = SiteLoad(rate=recent / SITE_RATE_WINDOW_S, baseline=hour / span_s)
        return round(ip_count), round(subnet_count), load

    def failure(self, ip: str, now_ms: int) -> None:
        self.failures.hit(client_key(ip), now_ms)
        self.failures.hit(subnet_key(ip), now_ms)

    def redemption(self, ip: str, now_ms: int) -> ClientCounts:
        """Count a redemption; what the risk model weighs for it."""
        client, subnet = client_key(ip), subnet_key(ip)
        return ClientCounts(
            ip_challenges=round(self.challenges.count(client, now_ms)),
            ip_redemptions=round(self.redemptions.hit(client, now_ms)),
            ip_failures=round(self.failures.count(client, now_ms)),
            subnet_challenges=round(self.challenges.count(subnet, now_ms)),
            subnet_redemptions=round(self.redemptions.hit(subnet, now_ms)),
            subnet_failures=round(self.failures.count(subnet, now_ms)),
        )
