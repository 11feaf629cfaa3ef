"""The whole HTTP API (REST, real-time routes) on a real aiohttp server over a real store,
with the accounts of the authorization matrix: an admin, two creators with a stream each,
a moderator of the first stream, and a viewer. The recorder is the daemon's (over a
``recordings`` folder of the test's own, packaging without a ladder)."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import CookieJar, DummyCookieJar
from aiohttp.test_utils import TestClient, TestServer

from mediad.api import ApiContext, setup_api
from mediad.auth import Tokens
from mediad.config import (
    ApiConfig,
    AuthConfig,
    ChatConfig,
    ClipsConfig,
    Config,
    RecordingConfig,
)
from mediad.http.app import create_app
from mediad.metrics.quality_setup import live_in, setup_quality
from mediad.passwords import hash_password
from mediad.realtime.keys import RECORDER, VIEWERS
from mediad.realtime.setup import setup_realtime
from mediad.recording.recorder import Recorder
from mediad.recording.setup import setup_recording
from mediad.store import Store
from mediad.store.keys import KEY_KINDS
from mediad.store.streams import Stream
from mediad.store.users import Role, User
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import StreamRegistry
from mediad.thumbnails import has_picture
from mediad.urls import Ports

ACCOUNTS: dict[str, tuple[str, Role]] = {
    "admin": ("root", "admin"),
    "creator": ("carla", "creator"),
    "other_creator": ("otto", "creator"),
    "moderator": ("moe", "viewer"),
    "viewer": ("vic", "viewer"),
}
PORTS = Ports(8080, 1935, 9000)


def password_of(who: str) -> str:
    return f"pw-{who}-correct horse"


@functools.cache
def _hash(password: str) -> str:
    return hash_password(password)  # scrypt once per account per test session


@dataclass
class ApiEnv:
    client: TestClient
    store: Store
    registry: StreamRegistry
    tokens: Tokens
    config: Config
    users: dict[str, User]
    stream: Stream
    """Carla's stream; Moe moderates it."""
    other_stream: Stream
    """Otto's stream."""
    pipelines: StreamPipelines
    recorder: Recorder
    extra_clients: list[TestClient] = field(default_factory=list)

    def headers(self, who: str | None) -> dict[str, str]:
        if who is None:
            return {}
        return {"Authorization": f"Bearer {self.tokens.issue_access(self.users[who])}"}

    async def call(self, method: str, path: str, who: str | None = None, *,
                   json: Any = None, headers: dict[str, str] | None = None,
                   client: TestClient | None = None) -> tuple[int, Any]:
        response = await (client or self.client).request(
            method, path, json=json, headers={**self.headers(who), **(headers or {})})
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body

    async def browser(self) -> TestClient:
        """A client that keeps cookies, as a browser does."""
        client = TestClient(self.client.server, cookie_jar=CookieJar(unsafe=True))
        await client.start_server()
        self.extra_clients.append(client)
        return client


async def make_api_env(tmp_path: Path, *, auth: AuthConfig | None = None,
                       api: ApiConfig | None = None, recording: RecordingConfig | None = None,
                       clips: ClipsConfig | None = None) -> ApiEnv:
    base = Config()
    config = replace(base, auth=auth or AuthConfig(), api=api or ApiConfig(),
                     recording=recording or base.recording, clips=clips or base.clips,
                     chat=ChatConfig(messages_per_minute=600, messages_per_minute_per_ip=6000),
                     storage=replace(base.storage, data_dir=str(tmp_path)))
    store = await Store.open(tmp_path / "mediad.sqlite3")
    users = {who: await store.users.create(handle, handle.title(), role, _hash(password_of(who)))
             for who, (handle, role) in ACCOUNTS.items()}
    streams = []
    for owner in ("creator", "other_creator"):
        stream = await store.streams.create(users[owner].id, f"{owner} live")
        for kind in KEY_KINDS:
            await store.keys.issue(stream.id, kind)
        streams.append(stream)
    await store.moderators.add(streams[0].id, users["moderator"].id, 0)
    registry = StreamRegistry(store, auto_live=False)
    tokens = Tokens(b"test-secret-for-the-api-0123456789abcdef", 900, 3600)
    pipelines = StreamPipelines(config.hls, registry, store)
    await pipelines.start()
    app = create_app(config, store, registry)
    recorder = setup_recording(app, config, store, registry, pipelines)
    setup_quality(app, live_in(pipelines))
    setup_realtime(app, tokens)
    setup_api(app, ApiContext(config, store, registry, tokens, app[VIEWERS], app[RECORDER],
                              ports=lambda: PORTS,
                              pictures=lambda stream_id: has_picture(pipelines, stream_id)))
    client = TestClient(TestServer(app), cookie_jar=DummyCookieJar())
    await client.start_server()
    return ApiEnv(client, store, registry, tokens, config, users, streams[0],
                  streams[1], pipelines, recorder)


async def close_api_env(env: ApiEnv) -> None:
    for client in env.extra_clients:
        await client.close()
    await env.client.close()
    await env.pipelines.stop()
    await env.registry.close()
    await env.store.close()


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[ApiEnv]:
    environment = await make_api_env(tmp_path)
    try:
        yield environment
    finally:
        await close_api_env(environment)
