"""Who may read ``/metrics``: the bearer token from anywhere, else the allow-list, judged on
the connection's own address."""

from __future__ import annotations

import dataclasses

from aiohttp.test_utils import TestClient, TestServer

from mediad.config import Config, MetricsConfig
from mediad.http.app import create_app
from mediad.metrics.access import MetricsAccess
from mediad.metrics.setup import setup_metrics
from mediad.store import Store

TOKEN = "scrape-me-0123456789"


def test_the_token_is_a_bearer_token_compared_whole() -> None:
    access = MetricsAccess.from_config(MetricsConfig(token=TOKEN, allow=()))
    assert access.permits("203.0.113.9", f"Bearer {TOKEN}")
    assert access.permits("203.0.113.9", f"bearer  {TOKEN} ")  # scheme any case, padding
    assert not access.permits("203.0.113.9", f"Bearer {TOKEN}x")
    assert not access.permits("203.0.113.9", f"Bearer {TOKEN[:-1]}")
    assert not access.permits("203.0.113.9", f"Basic {TOKEN}")
    assert not access.permits("203.0.113.9", TOKEN)
    assert not access.permits("203.0.113.9", None)
    assert not access.permits(None, None)


def test_without_a_token_configured_no_bearer_opens_it() -> None:
    access = MetricsAccess.from_config(MetricsConfig(token="", allow=("10.0.0.0/8",)))
    assert not access.permits("203.0.113.9", "Bearer ")
    assert not access.permits("203.0.113.9", "Bearer anything")
    assert access.permits("10.1.2.3", None)


def test_the_allow_list_holds_addresses_and_networks_of_both_families() -> None:
    access = MetricsAccess.from_config(MetricsConfig(
        allow=("127.0.0.1", "192.168.0.0/16", "2001:db8::/32", "::1/128")))
    assert access.permits("127.0.0.1", None)
    assert not access.permits("127.0.0.2", None)
    assert access.permits("192.168.44.5", None)
    assert access.permits("::ffff:192.168.1.1", None)  # a dual-stack socket's IPv4 peer
    assert access.permits("2001:db8::42", None)
    assert access.permits("fe80::1%eth0", None) is False
    assert access.permits("::1", None)
    assert not access.permits("2001:db9::1", None)
    assert not access.permits("not an address", None)
    assert not access.permits("", None)


async def test_a_scrape_from_elsewhere_without_the_token_is_refused(store: Store) -> None:
    base = Config()
    config = dataclasses.replace(
        base, metrics=MetricsConfig(token=TOKEN, allow=("10.0.0.0/8",)),
        server=dataclasses.replace(base.server, trusted_proxies=("127.0.0.1",)))
    app = create_app(config, store)
    setup_metrics(app, config.metrics)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        refused = await client.get("/metrics")
        assert refused.status == 403
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "mediad_build_info" not in await refused.text()
        # A trusted edge's X-Forwarded-For naming an allowed address does not open it.
        forwarded = await client.get("/metrics", headers={"X-Forwarded-For": "10.0.0.5"})
        assert forwarded.status == 403
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status == 403
        allowed = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert allowed.status == 200 and "mediad_build_info" in await allowed.text()


async def test_loopback_scrapes_by_default(store: Store) -> None:
    app = create_app(Config(), store)
    setup_metrics(app, Config().metrics)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        assert (await client.get("/metrics")).status == 200
