"""What every endpoint needs, built once per process by create_app and kept on app.state."""

from dataclasses import dataclass, field

from starlette.requests import Request

from authkong.admin.service import AdminService
from authkong.admin.stats import Stats
from authkong.api.asgi import HotRequest
from authkong.api.client_ip import TrustedProxies
from authkong.api.velocity import Velocity
from authkong.api.velocity_sync import VelocitySync
from authkong.config import Settings
from authkong.domain.clock import Clock
from authkong.storage.ephemeral import EphemeralStore
from authkong.storage.keyfile import KeyringFile
from authkong.storage.registry import Registry, SiteCache


@dataclass(slots=True)
class Services:
    settings: Settings
    clock: Clock
    keys: KeyringFile
    registry: Registry
    sites: SiteCache
    store: EphemeralStore
    stats: Stats
    """This worker's analytics counters (admin/stats.py)."""
    admin: AdminService
    """The service layer under the dashboard, the admin API and the CLI (admin/service/)."""
    proxies: TrustedProxies | None = field(init=False)
    """The parsed Settings.trusted_proxies; None when there are none (the default)."""
    velocity: Velocity = field(init=False)
    """This worker's velocity counts (per IP, subnet and site), with the other workers'
    added by `velocity_sync`."""
    velocity_sync: VelocitySync = field(init=False)
    """Adds this worker's counts to the ephemeral store and takes in everyone's."""

    def __post_init__(self) -> None:
        trusted = self.settings.trusted_proxies
        self.proxies = TrustedProxies(trusted) if trusted else None
        self.velocity = Velocity(self.clock.now_ms())
        self.velocity_sync = VelocitySync(self.velocity, self.store, self.clock)


def services(request: HotRequest | Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def client_ip(request: HotRequest, svc: Services | None = None) -> str:
    """The visitor's address: the peer's, or a trusted proxy's header's (api/client_ip.py).

    Pass `svc` when the endpoint already has it: looking it up again costs more (Starlette's
    `State` attribute access) than the whole default answer.
    """
    proxies = (svc or services(request)).proxies
    if proxies is None:
        return request.client_host
    return proxies.client_ip(request.client_host, request.scope["headers"])
