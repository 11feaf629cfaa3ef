from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import WSCloseCode, WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer

from mediad.config import Config
from mediad.http.app import create_app, track_websocket
from mediad.store import Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "db.sqlite3")
    yield s
    await s.close()


async def test_healthz_and_json_errors(store: Store) -> None:
    app = create_app(Config(), store)

    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("bug")

    app.router.add_get("/boom", boom)
    async with TestClient(TestServer(app)) as client:
        r = await client.get("/healthz")
        assert r.status == 200 and (await r.json())["status"] == "ok"
        assert r.headers["Cache-Control"] == "no-store"
        r = await client.post("/healthz")
        assert r.status == 405 and await r.json() == {"error": "Method Not Allowed"}
        r = await client.get("/boom")
        assert r.status == 500 and await r.json() == {"error": "internal error"}


async def test_shutdown_closes_websockets_with_going_away(store: Store) -> None:
    app = create_app(Config(), store)
    opened = asyncio.Event()

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        track_websocket(request.app, ws)
        opened.set()
        async for _ in ws:
            pass
        return ws

    app.router.add_get("/ws", ws_handler)
    server = TestServer(app)
    client = TestClient(server)
    await client.start_server()
    ws = await client.ws_connect("/ws")
    await opened.wait()
    closing = asyncio.create_task(server.close())
    msg = await asyncio.wait_for(ws.receive(), 5)
    assert msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSED)
    assert ws.close_code == WSCloseCode.GOING_AWAY
    await closing
    await client.close()


async def test_shutdown_lets_in_flight_requests_finish(store: Store) -> None:
    """The daemon's runner settings: closing listeners does not cut a running request."""
    import aiohttp

    from mediad.testing import free_port

    app = create_app(Config(), store)
    started = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        started.set()
        await asyncio.sleep(0.3)
        return web.json_response({"done": True})

    app.router.add_get("/slow", slow)
    runner = web.AppRunner(app, shutdown_timeout=5, handle_signals=False)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    async with aiohttp.ClientSession() as session:
        request = asyncio.create_task(session.get(f"http://127.0.0.1:{port}/slow"))
        await started.wait()
        await runner.cleanup()
        response = await request
        assert response.status == 200 and await response.json() == {"done": True}
