"""Behind a trusted edge, a request speaks for the client its X-Forwarded-For names; from
anyone else the header is not believed."""

from __future__ import annotations

from dataclasses import replace

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from mediad.config import Config, ConfigError, ServerConfig
from mediad.http.app import create_app
from mediad.http.forwarded import TrustedProxies
from mediad.store import Store

EDGES = TrustedProxies(["10.0.0.0/8", "192.0.2.7", "::1"])


@pytest.mark.parametrize(("peer", "forwarded", "client"), [
    ("10.1.2.3", ["198.51.100.4"], "198.51.100.4"),
    ("10.1.2.3", ["6.6.6.6, 198.51.100.4"], "198.51.100.4"),  # the client wrote the left
    ("10.1.2.3", ["198.51.100.4, 192.0.2.7"], "198.51.100.4"),  # two edges in a row
    ("10.1.2.3", ["198.51.100.4", "10.9.9.9"], "198.51.100.4"),  # two header lines
    ("10.1.2.3", [], "10.1.2.3"),
    ("10.1.2.3", ["not-an-address"], "10.1.2.3"),
    ("10.1.2.3", ["10.2.2.2"], "10.2.2.2"),  # only edges: the first one
    ("203.0.113.9", ["198.51.100.4"], "203.0.113.9"),  # not an edge: not believed
    ("::1", ["2001:db8::5"], "2001:db8::5"),
    ("::ffff:10.0.0.1", ["198.51.100.4"], "198.51.100.4"),
    (None, ["198.51.100.4"], None),
])
def test_the_client_a_request_speaks_for(peer: str | None, forwarded: list[str],
                                         client: str | None) -> None:
    assert EDGES.client(peer, forwarded) == client


def test_no_trusted_proxies_believes_nobody() -> None:
    none = TrustedProxies([])
    assert not none and none.client("10.1.2.3", ["198.51.100.4"]) == "10.1.2.3"


def test_a_bad_entry_stops_the_start() -> None:
    with pytest.raises(ConfigError, match="trusted_proxies"):
        ServerConfig(trusted_proxies=("10.0.0.0/33",))


@pytest.mark.parametrize(("trusted", "seen"), [(("127.0.0.1",), "198.51.100.4"),
                                               ((), "127.0.0.1")])
async def test_handlers_see_the_forwarded_client(store: Store, trusted: tuple[str, ...],
                                                 seen: str) -> None:
    config = replace(Config(), server=ServerConfig(trusted_proxies=trusted))
    app = create_app(config, store)

    async def remote(request: web.Request) -> web.Response:
        return web.Response(text=request.remote or "")

    app.router.add_get("/remote", remote)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/remote", headers={"X-Forwarded-For": "198.51.100.4"})
        assert await response.text() == seen
