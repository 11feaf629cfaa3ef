"""Wiring: the daemon's registry on the app, the event-loop probe, and the route."""

from __future__ import annotations

from aiohttp import web

from mediad.config import MetricsConfig
from mediad.http.app import METRICS, add_service
from mediad.metrics.access import MetricsAccess
from mediad.metrics.loop_lag import LoopLagProbe
from mediad.metrics.routes import MetricsListener, metrics_handler

LOOP_LAG_PROBE = web.AppKey("loop_lag_probe", LoopLagProbe)
METRICS_LISTENER = web.AppKey("metrics_listener", MetricsListener)


def setup_metrics(app: web.Application, config: MetricsConfig) -> None:
    """``app[METRICS]`` (made by ``create_app``) is what components add collectors to; this
    serves it and starts the event-loop probe."""
    if not config.enabled:
        return
    add_service(app, LOOP_LAG_PROBE, LoopLagProbe())
    handler = metrics_handler(app[METRICS], MetricsAccess.from_config(config))
    if config.port:
        add_service(app, METRICS_LISTENER, MetricsListener(config, handler))
    else:
        app.router.add_get("/metrics", handler)
