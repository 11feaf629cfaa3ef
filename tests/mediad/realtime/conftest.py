"""A real aiohttp server with the real-time routes over a real store, and real WebSocket
clients, for the real-time tests."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import msgpack
import pytest
from aiohttp import ClientWebSocketResponse, DummyCookieJar, WSMsgType
from aiohttp.test_utils import TestClient, TestServer

from mediad.auth import Tokens
from mediad.config import ChatConfig, Config, RealtimeConfig, TipsConfig
from mediad.http.app import create_app
from mediad.realtime.hub import Hub
from mediad.realtime.keys import HUB, STREAM_HEALTH, TIPS, VIEWERS
from mediad.realtime.setup import setup_realtime
from mediad.realtime.stream_health import StreamHealth
from mediad.realtime.tip_webhook import TipWebhook
from mediad.realtime.viewer_counts import ViewerCounts
from mediad.store import Store
from mediad.store.streams import Stream
from mediad.store.users import User
from mediad.streams import StreamRegistry

WEBHOOK_SECRET = "whsec-test-0123456789"


class Socket:
    """A WebSocket client that reads messages one by one (frames may hold arrays)."""

    def __init__(self, ws: ClientWebSocketResponse) -> None:
        self.ws = ws
        self.seen: list[dict[str, Any]] = []
        self._buffer: list[dict[str, Any]] = []

    async def _read(self, timeout: float) -> dict[str, Any]:  # noqa: ASYNC109
        while not self._buffer:
            frame = await asyncio.wait_for(self.ws.receive(), timeout)
            if frame.type == WSMsgType.TEXT:
                body = json.loads(frame.data)
            elif frame.type == WSMsgType.BINARY:
                body = msgpack.unpackb(frame.data)
            else:
                raise ConnectionError(f"socket ended: {frame.type} {frame.data!r}")
            self._buffer.extend(body if isinstance(body, list) else [body])
        message = self._buffer.pop(0)
        self.seen.append(message)
        return message

    async def next(self, kind: str | None = None, timeout: float = 5.0,  # noqa: ASYNC109
                   where: Callable[[dict[str, Any]], bool] = lambda m: True) -> dict[str, Any]:
        """The next message of type ``kind`` (others are skipped, and kept in ``seen``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            message = await self._read(max(0.01, deadline - loop.time()))
            if (kind is None or message.get("type") == kind) and where(message):
                return message

    async def nothing(self, kind: str, within: float = 0.3) -> None:
        try:
            found = await self.next(kind, timeout=within)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected {found}")

    async def command(self, **command: Any) -> dict[str, Any]:
        """Send a command and return its ack or error (matched by ref)."""
        ref = f"r{id(command)}"
        await self.ws.send_json({**command, "ref": ref})
        return await self.next(where=lambda m: m.get("ref") == ref
                               and m.get("type") in ("ack", "error", "hello", "pong"))

    async def close(self) -> None:
        await self.ws.close()


@dataclass
class Env:
    client: TestClient
    store: Store
    hub: Hub
    viewers: ViewerCounts
    health: StreamHealth
    tips: TipWebhook
    registry: StreamRegistry
    tokens: Tokens
    stream: Stream
    other_stream: Stream
    users: dict[str, User] = field(default_factory=dict)
    sockets: list[Socket] = field(default_factory=list)

    def headers(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        return {"Authorization": f"Bearer {self.tokens.issue_access(self.users[who])}"}

    async def connect(self, who: str | None = None, *, cursor: int | None = None,
                      stream: str | None = None, protocols: tuple[str, ...] = (),
                      cookies: dict[str, str] | None = None) -> Socket:
        path = f"/ws/streams/{stream or self.stream.id}"
        if cursor is not None:
            path += f"?cursor={cursor}"
        headers = self.headers(who)
        if cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        ws = await self.client.ws_connect(path, headers=headers, protocols=protocols)
        socket = Socket(ws)
        self.sockets.append(socket)
        return socket

    async def post(self, path: str, body: Any, who: str | None = None,
                   method: str = "POST") -> tuple[int, dict[str, Any]]:
        response = await self.client.request(method, path, json=body, headers=self.headers(who))
        return response.status, await response.json()


async def make_env(tmp_path: Path, chat: ChatConfig | None = None,
                   realtime: RealtimeConfig | None = None) -> Env:
    config = Config()
    config = replace(config,
                     chat=chat or ChatConfig(messages_per_minute=600,
                                             messages_per_minute_per_ip=6000),
                     realtime=realtime or RealtimeConfig(),
                     tips=TipsConfig(webhook_secret=WEBHOOK_SECRET),
                     storage=replace(config.storage, data_dir=str(tmp_path)))
    store = await Store.open(tmp_path / "mediad.sqlite3")
    users = {
        "admin": await store.users.create("admin", "Admin", "admin", "x"),
        "creator": await store.users.create("carla", "Carla", "creator", "x"),
        "moderator": await store.users.create("moe", "Moe", "viewer", "x"),
        "viewer": await store.users.create("vic", "Vic", "viewer", "x"),
        "other_creator": await store.users.create("otto", "Otto", "creator", "x"),
    }
    stream = await store.streams.create(users["creator"].id, "Carla live")
    other = await store.streams.create(users["other_creator"].id, "Otto live")
    await store.moderators.add(stream.id, users["moderator"].id, 0)
    # The other creator moderates nothing of Carla's; Moe moderates Otto's stream? No.
    registry = StreamRegistry(store)
    tokens = Tokens(b"test-secret-for-realtime-0123456789abcdef", 900, 3600)
    app = create_app(config, store, registry)
    setup_realtime(app, tokens)
    # No shared cookie jar: every connection is its own browser unless a test says otherwise.
    client = TestClient(TestServer(app), cookie_jar=DummyCookieJar())
    await client.start_server()
    return Env(client, store, app[HUB], app[VIEWERS], app[STREAM_HEALTH], app[TIPS], registry,
               tokens, stream, other, users)


@asynccontextmanager
async def running_env(tmp_path: Path, chat: ChatConfig | None = None) -> AsyncIterator[Env]:
    """``make_env``, closed after: its sockets, the server, the registry and the store."""
    environment = await make_env(tmp_path, chat=chat)
    try:
        yield environment
    finally:
        for socket in environment.sockets:
            await socket.close()
        await environment.client.close()
        await environment.registry.close()
        await environment.store.close()


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with running_env(tmp_path) as environment:
        yield environment
