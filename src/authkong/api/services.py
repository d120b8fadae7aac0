"""What every endpoint needs, built once per process by create_app and kept on app.state."""

from dataclasses import dataclass

from starlette.requests import Request

from authkong.api.asgi import HotRequest
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


def services(request: HotRequest | Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def client_ip(request: HotRequest) -> str:
    # Proxy headers are not trusted yet: the peer address is the client.
    return request.client_host
