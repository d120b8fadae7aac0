"""create_app(settings) wires domain, storage and HTTP together."""

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import NamedTuple

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import Receive, Scope, Send

from authkong.admin import api as admin_api
from authkong.admin import dashboard, setup_code
from authkong.admin.service import AdminService
from authkong.admin.stats import Stats
from authkong.api import challenge, demo, pages, redeem, widget_assets
from authkong.api.asgi import Endpoint, HotRequest, JsonReply, json_response
from authkong.api.errors import METHOD_NOT_ALLOWED, widget_internal_error
from authkong.api.flavors import authkong, hcaptcha, recaptcha, turnstile, zencaptcha
from authkong.api.services import Services
from authkong.config import Settings
from authkong.domain.clock import Clock, SystemClock
from authkong.storage import keyfile
from authkong.storage.ephemeral import EphemeralStore
from authkong.storage.ephemeral_memory import MemoryEphemeralStore
from authkong.storage.ephemeral_sqlite import SqliteEphemeralStore
from authkong.storage.registry import Registry, SiteCache, migrate, open_engine


def open_services(settings: Settings, clock: Clock | None = None) -> Services:
    """Open (and on first use create) the data dir's databases and keys."""
    clock = clock or SystemClock()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = open_engine(settings.registry_path)
    migrate(engine)
    store: EphemeralStore
    if settings.ephemeral_backend == "memory":
        store = MemoryEphemeralStore(clock)
    else:
        store = SqliteEphemeralStore(settings.ephemeral_path, clock, settings.lock_timeout_s)
    registry = Registry(engine)
    stats = Stats(settings.stats_path, clock)
    return Services(
        settings=settings,
        clock=clock,
        keys=keyfile.KeyringFile(settings.data_dir),
        registry=registry,
        sites=SiteCache(registry, settings.registry_path),
        store=store,
        stats=stats,
        admin=AdminService(registry, store, clock, stats),
    )


_log = logging.getLogger("authkong")


def _routing_error(status: int) -> dict[str, object]:
    if status == 405:
        return {
            "success": False,
            "error_code": METHOD_NOT_ALLOWED.code,
            "message": METHOD_NOT_ALLOWED.message,
        }
    return {"success": False, "error_code": "not_found", "message": "No such endpoint."}


async def _http_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse(_routing_error(exc.status_code), exc.status_code, headers=exc.headers)


class HotRoute(NamedTuple):
    endpoint: Endpoint
    methods: frozenset[str]
    on_error: Callable[[], JsonReply]
    """The answer when the endpoint raises: the flavor's own failure, never a bare 500.

    Some integrations let the visitor through on any non-200 answer from siteverify.
    """


class HotPaths:
    """Exact-path dispatch of the hot endpoints (api/asgi.py) in front of Starlette.

    A wrong method on a hot path answers 405 here, in the same JSON shape Starlette's
    handler gives every other route.
    """

    def __init__(self, app: Starlette, routes: dict[str, HotRoute]) -> None:
        self.app = app
        self.routes = routes

    @property
    def state(self) -> State:
        return self.app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        route = self.routes.get(_route_path(scope)) if scope["type"] == "http" else None
        if route is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] not in route.methods:
            allow = {"Allow": ", ".join(sorted(route.methods))}
            reply = json_response(_routing_error(405), 405, headers=allow)
        else:
            try:
                reply = await route.endpoint(HotRequest(scope, receive, self.app))
            except Exception:  # noqa: BLE001  # answer in the endpoint's own terms, and log it
                _log.exception("internal error on %s", scope["path"])
                reply = route.on_error()
        await reply(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path below the app's mount point (uvicorn --root-path)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> HotPaths:
    svc = open_services(settings or Settings(), clock)
    if svc.admin.needs_setup():
        # First-run setup on /admin asks for this code (admin/setup_code.py); `authkong
        # serve` prints it, other launchers find it in the data directory.
        setup_code.ensure(svc.settings.data_dir)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await svc.stats.start(svc.settings.stats_flush_s)
        await svc.velocity_sync.start(svc.settings.velocity_sync_s)
        yield
        await svc.velocity_sync.stop()  # with a last sync, before the store closes
        await svc.stats.stop()  # with a last flush of this worker's counts
        svc.stats.close()
        await svc.store.close()
        svc.sites.close()
        svc.registry.engine.dispose()

    post, both = frozenset({"POST"}), frozenset({"GET", "POST"})
    hot = {
        "/api/v1/challenge": HotRoute(challenge.issue, post, widget_internal_error),
        "/api/v1/redeem": HotRoute(redeem.redeem, post, widget_internal_error),
        "/api/siteverify": HotRoute(authkong.siteverify, both, authkong.internal_error),
        "/recaptcha/api/siteverify": HotRoute(recaptcha.siteverify, both, recaptcha.internal_error),
        "/siteverify": HotRoute(hcaptcha.siteverify, post, hcaptcha.internal_error),
        "/turnstile/v0/siteverify": HotRoute(turnstile.siteverify, both, turnstile.internal_error),
        "/captcha/siteverify": HotRoute(zencaptcha.siteverify, both, zencaptcha.internal_error),
    }
    routes = [
        Route("/", pages.landing),
        Route("/healthz", pages.health),
        Route("/demo", demo.demo),
        Route("/demo/{flavor}", demo.demo),
        Route("/demo/{flavor}/verify", demo.demo_verify, methods=["POST"]),
        *widget_assets.routes(),
        Mount(admin_api.PREFIX, app=admin_api.admin_api(svc)),
        *dashboard.routes(),
    ]
    app = Starlette(
        routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _http_error}
    )
    app.state.services = svc
    return HotPaths(app, hot)


def app_from_env() -> HotPaths:
    """Factory for `uvicorn --factory` worker processes; settings come from the environment."""
    return create_app(Settings())
