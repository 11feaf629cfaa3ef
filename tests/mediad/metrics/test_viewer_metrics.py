"""Viewers by protocol per stream, read at scrape time; open WebSockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import make_mocked_request

from mediad.http.app import METRICS, PLAYBACK_OBSERVERS
from mediad.metrics.registry import DaemonMetrics
from mediad.metrics.viewers import ViewerCollector
from mediad.realtime.viewers import ViewerTracker
from tests.mediad.metrics.metrics_testing import samples, value
from tests.mediad.realtime.conftest import Env, running_env


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    async with running_env(tmp_path) as environment:
        yield environment


def test_tracker_tells_players_from_pollers_and_forgets_them_with_the_rest() -> None:
    tracker = ViewerTracker("me", ttl=15)
    tracker.seen("s", "a:poller", now=0)
    tracker.seen("s", "a:player", now=0, player=True)
    tracker.seen("s", "b:both", now=0)
    tracker.seen("s", "b:both", now=5, player=True)
    assert tracker.player_count("s") == 2 and tracker.player_count("other") == 0
    assert tracker.local_count("s", now=10) == 3
    assert tracker.local_count("s", now=17) == 1  # the first two expired
    assert tracker.player_count("s") == 1


async def test_viewers_by_protocol_per_stream_and_gone_once_ended(env: Env) -> None:
    metrics = env.client.app[METRICS]
    stream = env.stream.id
    assert not any(dict(k)["stream"] == stream for k in samples(metrics, "mediad_viewers"))
    await env.registry.live_stream(stream)  # held by the daemon (preview)
    sockets = [await env.connect() for _ in range(2)]
    for socket in sockets:
        await socket.next("chat.history")
    # A playlist request from a browser with no cookie: an LL-HLS player.
    observer = env.client.app[PLAYBACK_OBSERVERS][0]
    observer(stream, make_mocked_request("GET", "/hls/x.m3u8",
                                         headers={"User-Agent": "hls.js"}))
    # A poller of the HTTP fallback is a viewer, not a player.
    await env.client.get(f"/api/streams/{stream}/events")
    assert value(metrics, "mediad_viewers", stream=stream, protocol="websocket") == 2
    assert value(metrics, "mediad_viewers", stream=stream, protocol="hls") == 1
    assert env.viewers.local_count(stream) == 4  # the total counts all of them
    # WebRTC is off in this daemon: no series claims zero WebRTC viewers.
    assert (("protocol", "webrtc"), ("stream", stream)) not in samples(metrics,
                                                                       "mediad_viewers")
    await sockets[0].close()
    for _ in range(50):
        if value(metrics, "mediad_viewers", stream=stream, protocol="websocket") == 1:
            break
        await asyncio.sleep(0.02)
    assert value(metrics, "mediad_viewers", stream=stream, protocol="websocket") == 1
    await env.registry.end(stream)
    assert not any(dict(k)["stream"] == stream for k in samples(metrics, "mediad_viewers"))


async def test_webrtc_viewers_come_from_the_streams_whep_figures(env: Env) -> None:
    metrics = DaemonMetrics()
    whep = {env.stream.id: {"viewers": 3, "falls": 0, "droppedUnits": 0}}
    metrics.add_collector(ViewerCollector(env.registry, env.viewers, env.hub,
                                          lambda stream_id: whep.get(stream_id)))
    await env.registry.live_stream(env.stream.id)
    assert value(metrics, "mediad_viewers", stream=env.stream.id, protocol="webrtc") == 3


async def test_open_websockets_are_counted_while_open(env: Env) -> None:
    metrics = env.client.app[METRICS]
    before = value(metrics, "mediad_websocket_connections")
    socket = await env.connect()
    await socket.next("chat.history")
    assert value(metrics, "mediad_websocket_connections") == before + 1
    await socket.close()
    for _ in range(50):
        if value(metrics, "mediad_websocket_connections") == before:
            break
        await asyncio.sleep(0.02)
    assert value(metrics, "mediad_websocket_connections") == before
