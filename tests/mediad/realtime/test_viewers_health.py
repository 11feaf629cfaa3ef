"""Viewer counting over sockets, polls and playlist requests; health samples."""

from __future__ import annotations

import asyncio

from mediad.http.app import PLAYBACK_OBSERVERS
from mediad.realtime.health import Counters, sample
from mediad.realtime.viewers import ViewerTracker
from tests.mediad.realtime.conftest import Env


def test_tracker_counts_each_viewer_once() -> None:
    tracker = ViewerTracker("me", ttl=15)
    tracker.socket_opened("s", "b:1")
    tracker.socket_opened("s", "b:1")  # a second tab of the same browser
    tracker.seen("s", "b:1", now=0)  # its player
    tracker.seen("s", "a:xyz", now=0)  # a player without cookies
    assert tracker.local_count("s", now=1) == 2
    tracker.socket_closed("s", "b:1")
    assert tracker.local_count("s", now=1) == 2
    tracker.socket_closed("s", "b:1")
    assert tracker.local_count("s", now=14) == 2  # its player is still fetching
    assert tracker.local_count("s", now=16) == 0


def test_totals_add_up_processes_and_forget_silent_ones() -> None:
    tracker = ViewerTracker("me", report_ttl=12)
    tracker.report_received("s", "me", 3, now=0)
    tracker.report_received("s", "other", 4, now=0)
    assert tracker.changed_totals(now=1) == [("s", 7)]
    assert tracker.changed_totals(now=2) == []
    tracker.report_received("s", "me", 3, now=10)
    assert tracker.changed_totals(now=13) == [("s", 3)]  # "other" went quiet


def test_reports_when_changed_and_as_heartbeat() -> None:
    tracker = ViewerTracker("me", report_every=5)
    tracker.socket_opened("s", "k")
    assert tracker.reports_due(now=0) == [("s", 1)]
    assert tracker.reports_due(now=1) == []
    assert tracker.reports_due(now=6) == [("s", 1)]
    tracker.socket_closed("s", "k")
    assert tracker.reports_due(now=7) == [("s", 0)]
    assert tracker.reports_due(now=20) == []  # reported gone: forgotten


async def test_viewer_count_is_broadcast_once_a_second_at_most(env: Env) -> None:
    watcher = await env.connect()
    await watcher.next("chat.history")
    others = [await env.connect() for _ in range(3)]
    counts = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    while not counts or counts[-1][1] != 4:
        message = await watcher.next("viewers", timeout=4)
        counts.append((loop.time() - start, message["count"]))
    assert len(counts) <= 2  # four joins within a second: one or two broadcasts, not four
    # A poller and a player (playlist requests) from other browsers count too.
    await env.client.get(f"/api/streams/{env.stream.id}/events")
    observer = env.client.app[PLAYBACK_OBSERVERS][0]

    class FakeRequest:
        remote = "198.51.100.7"
        headers = {"User-Agent": "hls.js"}
        cookies: dict[str, str] = {}

    observer(env.stream.id, FakeRequest())  # type: ignore[arg-type]
    assert (await watcher.next("viewers", where=lambda m: m["count"] == 6))["count"] == 6
    for other in others:
        await other.close()
    assert (await watcher.next("viewers", where=lambda m: m["count"] == 3))["count"] == 3


async def test_playlist_requests_count_with_the_browsers_chat_identity(env: Env) -> None:
    response = await env.client.get(f"/api/streams/{env.stream.id}/events")
    cookie = response.cookies["mediad_guest"].value
    socket = await env.connect(cookies={"mediad_guest": cookie})
    observer = env.client.app[PLAYBACK_OBSERVERS][0]

    class SameBrowser:
        remote = "127.0.0.1"
        headers = {"User-Agent": "Chromium"}
        cookies = {"mediad_guest": cookie}

    observer(env.stream.id, SameBrowser())  # type: ignore[arg-type]
    assert env.viewers.local_count(env.stream.id) == 1
    await socket.close()


def test_health_rates_from_counters() -> None:
    before = Counters(10.0, 0, 0, 0, 0, {"720p": 0}, {"720p": 0})
    after = Counters(15.0, 3_750_000, 400, 150, 10, {"720p": 15}, {"720p": 135})
    health = sample(before, after)
    assert health.bitrate_kbps == 6000.0 and health.fps == 30.0
    assert health.drop_rate == 0.1  # the rung lost 15 of 150: worse than the reader's 10/410


async def test_health_is_sampled_stored_and_broadcast(env: Env) -> None:
    key = await env.store.keys.issue(env.stream.id, "primary")
    publisher = await env.registry.start_publish(protocol="rtmp", key=key.secret, peer="t",
                                                 disconnect=lambda reason: None)
    socket = await env.connect()
    await socket.next("chat.history")
    await env.health.sample()  # the first reading: a baseline, nothing to say
    live = env.registry.get(env.stream.id)
    assert live is not None
    live.stats.bytes += 500_000
    live.stats.video_frames += 60
    live.stats.frames += 100
    await env.health.sample()
    health = await socket.next("health")
    assert health["bitrateKbps"] > 0 and health["fps"] > 0 and health["dropRate"] == 0.0
    response = await env.client.get(f"/api/streams/{env.stream.id}/health",
                                    headers=env.headers("creator"))
    samples = (await response.json())["samples"]
    assert len(samples) == 1 and samples[0]["bitrateKbps"] == health["bitrateKbps"]
    late = await env.connect()
    assert (await late.next("health"))["at"] == health["at"]  # the latest, on join
    publisher.detach("done")
