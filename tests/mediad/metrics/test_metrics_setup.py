"""Where ``/metrics`` is served, and what every scrape carries whatever runs."""

from __future__ import annotations

import dataclasses

import aiohttp
from aiohttp.test_utils import TestClient, TestServer
from prometheus_client.parser import text_string_to_metric_families

from mediad import __version__
from mediad.config import Config, MetricsConfig
from mediad.http.app import create_app
from mediad.metrics.setup import setup_metrics
from mediad.store import Store
from mediad.testing import free_port


def _config(metrics: MetricsConfig) -> Config:
    return dataclasses.replace(Config(), metrics=metrics)


async def test_the_http_port_serves_process_build_and_loop_metrics(store: Store) -> None:
    app = create_app(Config(), store)
    setup_metrics(app, Config().metrics)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        response = await client.get("/metrics")
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert response.headers["Cache-Control"] == "no-store"
        families = {f.name: f for f in text_string_to_metric_families(await response.text())}
    assert families["mediad_build_info"].samples[0].labels == {"version": __version__}
    for name in ("process_cpu_seconds", "process_resident_memory_bytes", "process_open_fds",
                 "mediad_event_loop_lag_seconds"):
        assert name in families, name
    assert families["process_open_fds"].samples[0].value > 0


async def test_metrics_port_moves_them_off_the_public_port(store: Store) -> None:
    port = free_port()
    config = _config(MetricsConfig(port=port))
    app = create_app(config, store)
    setup_metrics(app, config.metrics)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        assert (await client.get("/metrics")).status == 404
        async with aiohttp.ClientSession() as session, \
                session.get(f"http://127.0.0.1:{port}/metrics") as response:
            assert response.status == 200
            assert "mediad_build_info" in await response.text()
    # the listener goes with the app
    async with aiohttp.ClientSession() as session:
        try:
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                raise AssertionError(f"still answered {response.status}")
        except aiohttp.ClientConnectionError:
            pass


async def test_disabled_metrics_are_not_served(store: Store) -> None:
    config = _config(MetricsConfig(enabled=False))
    app = create_app(config, store)
    setup_metrics(app, config.metrics)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        assert (await client.get("/metrics")).status == 404
