"""Encoder advice through the daemon's real services: a publisher with a long GOP gets the
keyframe advice on the health channel, one with a 2 s GOP gets none, and the advice goes
when the publisher goes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ingest.media import Frame, TrackInfo
from ingest.sink import PublishSession
from mediad.encoder_advice import AdviceSettings
from mediad.realtime.encoder_watch import EncoderWatch
from mediad.store import Store
from mediad.streams import StreamRegistry
from tests.mediad.realtime.conftest import Env
from tests.mediad.registry_testing import make_stream

VIDEO = TrackInfo(0, "video", "h264", 1000, width=640, height=360)
AUDIO = TrackInfo(1, "audio", "aac", 32_000, sample_rate=32_000, channels=2)


def send(session: PublishSession, seconds: float, gop: int, start: int = 0) -> None:
    """30 fps of video with a keyframe every ``gop`` frames, in RTMP milliseconds."""
    for n in range(round(seconds * 30)):
        dts = start + round(n * 1000 / 30)
        session.push_frame(Frame(VIDEO, dts, dts, n % gop == 0, bytes(2000)))


async def eventually(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 -- the watch's reader drains in its own task
            await asyncio.sleep(0.01)


async def test_the_watch_follows_each_publisher(store: Store) -> None:
    registry = StreamRegistry(store)
    stream_id, primary, _ = await make_stream(store)
    watch = EncoderWatch(registry, AdviceSettings())
    await watch.start()
    try:
        session = await registry.start_publish(protocol="rtmp", key=primary, peer="a",
                                               disconnect=lambda dropped: None)
        session.announce_track(VIDEO)
        session.announce_track(AUDIO)
        send(session, 6, gop=150)
        await eventually(lambda: [a.code for a in watch.advice(stream_id)] == [
            "keyframe_interval", "audio_sample_rate"])
        [keyframes, rate] = watch.advice(stream_id)
        assert keyframes.value == 5.0 and rate.value == 32_000
        session.detach("closed by peer")
        await eventually(lambda: watch.advice(stream_id) == [])

        clean = await registry.start_publish(protocol="rtmp", key=primary, peer="b",
                                             disconnect=lambda dropped: None)
        clean.announce_track(VIDEO)
        send(clean, 6, gop=60, start=100_000)
        await asyncio.sleep(0.1)  # let the reader drain
        assert watch.advice(stream_id) == []
        clean.detach("closed by peer")
    finally:
        await watch.stop()
        await registry.close()


async def test_advice_is_sent_with_health(env: Env) -> None:
    key = await env.store.keys.issue(env.stream.id, "primary")
    session = await env.registry.start_publish(protocol="rtmp", key=key.secret, peer="t",
                                               disconnect=lambda dropped: None)
    socket = await env.connect("creator")
    await socket.next("chat.history")
    session.announce_track(VIDEO)
    await env.health.sample()  # the baseline
    send(session, 4, gop=300)
    await asyncio.sleep(0.1)  # the watch's reader drains in its own task
    await env.health.sample()
    health = await socket.next("health")
    [advice] = health["advice"]
    assert advice["code"] == "keyframe_interval" and advice["unit"] == "s"
    assert advice["value"] > 3.9 and advice["limit"] == 2.0
    assert "Keyframe Interval" in advice["obs"] and advice["message"]
    session.detach("done")
