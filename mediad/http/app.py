"""The aiohttp application: shared state, JSON errors, health, and WebSocket bookkeeping."""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, TypeVar

from aiohttp import WSCloseCode, web

from mediad import __version__
from mediad.config import Config
from mediad.http.forwarded import TrustedProxies, forwarded_middleware
from mediad.metrics.registry import DaemonMetrics
from mediad.store import Store
from mediad.streams import StreamRegistry

log = logging.getLogger("mediad.http")

CONFIG = web.AppKey("config", Config)
STORE = web.AppKey("store", Store)
REGISTRY = web.AppKey("registry", StreamRegistry)
STARTED_AT = web.AppKey("started_at", float)
WEBSOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("websockets")
METRICS = web.AppKey("metrics", DaemonMetrics)
"""The daemon's Prometheus registry: a component adds its state collector here."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PlaybackObserver = Callable[[str, web.Request], None]
PLAYBACK_OBSERVERS: web.AppKey[list[PlaybackObserver]] = web.AppKey("playback_observers")
"""Told of every playlist request, with the stream id (viewer counting)."""


class Background(Protocol):
    """A service with work of its own (loops, a connection) from start to stop."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


BackgroundT = TypeVar("BackgroundT", bound=Background)


def add_service(app: web.Application, key: web.AppKey[BackgroundT], service: BackgroundT
                ) -> None:
    """Put ``service`` on the app under ``key``, started with the app and stopped with it
    (in the reverse order of adding)."""
    app[key] = service

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        await service.start()
        yield
        await service.stop()

    app.cleanup_ctx.append(lifetime)


def json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as ``{"error": ...}``, never as an HTML page or a traceback."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400 or exc.content_type == "application/json":
            raise
        response = json_error(exc.status, exc.reason)
        for name in ("Retry-After", "WWW-Authenticate", "Allow"):
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except Exception:
        log.exception("unhandled error", extra={"fields": {"path": request.path}})
        return json_error(500, "internal error")


def track_websocket(app: web.Application, ws: web.WebSocketResponse) -> None:
    """Register an open WebSocket so shutdown can close it with GOING_AWAY."""
    app[WEBSOCKETS].add(ws)


async def _close_websockets(app: web.Application) -> None:
    sockets = app[WEBSOCKETS]
    for ws in list(sockets):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutting down")


async def healthz(request: web.Request) -> web.Response:
    store = request.app[STORE]
    async with store.db.execute("SELECT 1") as cur:
        await cur.fetchone()
    return web.json_response({
        "status": "ok",
        "version": __version__,
        "uptime_s": round(time.monotonic() - request.app[STARTED_AT], 3),
    }, headers={"Cache-Control": "no-store"})


def create_app(config: Config, store: Store, registry: StreamRegistry | None = None
               ) -> web.Application:
    proxies = TrustedProxies(config.server.trusted_proxies)
    middlewares = [forwarded_middleware(proxies)] if proxies else []
    app = web.Application(middlewares=[*middlewares, json_errors], client_max_size=1 << 20)
    app[CONFIG] = config
    app[STORE] = store
    app[REGISTRY] = registry if registry is not None else StreamRegistry(store)
    app[STARTED_AT] = time.monotonic()
    app[WEBSOCKETS] = weakref.WeakSet()
    app[PLAYBACK_OBSERVERS] = []
    app[METRICS] = DaemonMetrics()
    app.on_shutdown.append(_close_websockets)
    app.router.add_get("/healthz", healthz)
    return app
