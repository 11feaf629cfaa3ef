"""``GET /metrics``: on the HTTP port, or on a listener of its own (``metrics.port``)."""

from __future__ import annotations

import logging

from aiohttp import web

from mediad.config import MetricsConfig
from mediad.http.app import Handler
from mediad.metrics.access import MetricsAccess
from mediad.metrics.registry import CONTENT_TYPE, DaemonMetrics

log = logging.getLogger("mediad.metrics")


def metrics_handler(metrics: DaemonMetrics, access: MetricsAccess) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        address = peer[0] if isinstance(peer, tuple) and peer else None
        if not access.permits(address, request.headers.get("Authorization")):
            raise web.HTTPForbidden(
                reason="metrics: send the metrics.token as a bearer token, or scrape from "
                       "an address of metrics.allow",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        return web.Response(body=metrics.render(), headers={
            "Content-Type": CONTENT_TYPE, "Cache-Control": "no-store"})

    return handler


class MetricsListener:
    """The metrics alone on ``metrics.host:metrics.port``, off the public port."""

    def __init__(self, config: MetricsConfig, handler: Handler) -> None:
        self._config = config
        app = web.Application()
        app.router.add_get("/metrics", handler)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        self.port = config.port

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._config.host, self._config.port,
                           reuse_address=True)
        await site.start()
        log.info("metrics listening", extra={"fields": {
            "host": self._config.host, "port": self._config.port}})

    async def stop(self) -> None:
        await self._runner.cleanup()
