"""create_app(settings) wires domain, storage and HTTP together."""

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from authkong.api import challenge, pages, redeem
from authkong.api.asgi import Endpoint, HotRequest, json_response
from authkong.api.errors import METHOD_NOT_ALLOWED
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
        store = SqliteEphemeralStore(settings.ephemeral_path, clock)
    registry = Registry(engine)
    return Services(
        settings=settings,
        clock=clock,
        keys=keyfile.load_or_create(settings.data_dir),
        registry=registry,
        sites=SiteCache(registry, settings.registry_path),
        store=store,
    )


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


class HotPaths:
    """Exact-path dispatch of the hot endpoints (api/asgi.py) in front of Starlette.

    A wrong method on a hot path answers 405 here, in the same JSON shape Starlette's
    handler gives every other route.
    """

    def __init__(self, app: Starlette, routes: dict[str, tuple[Endpoint, frozenset[str]]]) -> None:
        self.app = app
        self.routes = routes

    @property
    def state(self) -> State:
        return self.app.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hit = self.routes.get(scope["path"]) if scope["type"] == "http" else None
        if hit is None:
            await self.app(scope, receive, send)
            return
        endpoint, methods = hit
        if scope["method"] in methods:
            reply = await endpoint(HotRequest(scope, receive, self.app))
        else:
            reply = json_response(
                _routing_error(405), 405, headers={"Allow": ", ".join(sorted(methods))}
            )
        await reply(scope, receive, send)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> HotPaths:
    svc = open_services(settings or Settings(), clock)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await svc.store.close()
        svc.sites.close()
        svc.registry.engine.dispose()

    post, both = frozenset({"POST"}), frozenset({"GET", "POST"})
    hot: dict[str, tuple[Endpoint, frozenset[str]]] = {
        "/api/v1/challenge": (challenge.issue, post),
        "/api/v1/redeem": (redeem.redeem, post),
        "/api/siteverify": (authkong.siteverify, both),
        "/recaptcha/api/siteverify": (recaptcha.siteverify, both),
        "/siteverify": (hcaptcha.siteverify, post),
        "/turnstile/v0/siteverify": (turnstile.siteverify, both),
        "/captcha/siteverify": (zencaptcha.siteverify, both),
    }
    routes = [
        Route("/", pages.landing),
        Route("/healthz", pages.health),
        *(
            Route(path, endpoint, methods=sorted(methods))
            for path, (endpoint, methods) in hot.items()
        ),
    ]
    app = Starlette(
        routes=routes, lifespan=lifespan, exception_handlers={HTTPException: _http_error}
    )
    app.state.services = svc
    return HotPaths(app, hot)


def app_from_env() -> HotPaths:
    """Factory for `uvicorn --factory` worker processes; settings come from the environment."""
    return create_app(Settings())
