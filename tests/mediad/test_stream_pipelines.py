"""The daemon's packaging follows the registry: a publisher that comes back within the grace
period with another shape (tracks added or gone) keeps one presentation that players can
load at once, with the renditions of the new publish."""

from __future__ import annotations

import asyncio
import gc
import secrets
import tracemalloc
from collections.abc import AsyncIterator, Callable

import m3u8
import pytest

from ingest.media import Frame
from mediad.config import HlsConfig, LadderRung, TranscodeConfig
from mediad.live_stream import Publisher
from mediad.store import Store
from mediad.stream_pipelines import StreamPipelines, source_rate
from mediad.streams import StreamRegistry
from packager.ladder_plan import SourceRate
from packager.pipeline import StreamPipeline
from tests.mediad.registry_testing import Kicks, make_stream
from tests.packager.packager_testing import Source, encode_source

LADDER = TranscodeConfig(ladder=(LadderRung("120p", 120, 200, preset="ultrafast"),))


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source(seconds=3, b_frames=0)


@pytest.fixture
async def packaging(store: Store) -> AsyncIterator[tuple[StreamRegistry, StreamPipelines]]:
    registry = StreamRegistry(store)
    pipelines = StreamPipelines(HlsConfig(block_timeout_sec=5.0), registry, store,
                                transcode=LADDER)
    await pipelines.start()
    yield registry, pipelines
    await pipelines.stop()
    await registry.close()


async def publish(registry: StreamRegistry, key: str, source: Source, shift_ms: int, *,
                  video: bool = True, audio: bool = True, paced: bool = True) -> Publisher:
    """One publish of ``source``'s chosen tracks, its clock ``shift_ms`` on, in real time
    (the ladder's encoders drop what comes faster than they encode) unless not ``paced``."""
    loop = asyncio.get_running_loop()
    started = loop.time() - source.frames[0].arrival
    session = await registry.start_publish(protocol="rtmp", key=key, peer="enc",
                                           disconnect=Kicks())
    for track, wanted in ((source.video, video), (source.audio, audio)):
        if wanted:
            session.announce_track(track)
    for frame in source.frames:
        if frame.is_video == video or (not frame.is_video) == audio:
            ticks = shift_ms * frame.track.timescale // 1000
            session.push_frame(Frame(frame.track, frame.dts + ticks, frame.pts + ticks,
                                     frame.keyframe, frame.payload,
                                     loop.time()))
            await asyncio.sleep(max(0.0, started + frame.arrival - loop.time()) if paced else 0)
    return session


async def until(check: Callable[[], bool], within: float = 20.0) -> None:
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 -- encoder threads and the feed change it
            await asyncio.sleep(0.05)


def variants(pipeline: StreamPipeline) -> list[tuple[str, str | None]]:
    parsed = m3u8.loads(pipeline.multivariant().text.decode())
    return [(p.uri.split("/")[1], p.stream_info.audio) for p in parsed.playlists]


async def test_a_reconnect_that_adds_audio_is_served_with_it(
        store: Store, source: Source,
        packaging: tuple[StreamRegistry, StreamPipelines]) -> None:
    registry, pipelines = packaging
    stream_id, key, _ = await make_stream(store)
    first = await publish(registry, key, source, 0, audio=False)
    pipeline = await pipelines.wait_pipeline(stream_id, 10)
    assert pipeline is not None
    await until(lambda: len(variants(pipeline)) == 2)
    assert variants(pipeline) == [("source", None), ("120p", None)]
    first.detach("encoder restarted")
    second = await publish(registry, key, source, 5000)
    assert await pipelines.wait_pipeline(stream_id, 1) is pipeline, "served meanwhile"
    await until(lambda: variants(pipeline) == [("source", "audio"), ("120p", "audio")])
    assert pipelines.get(stream_id) is pipeline, "one presentation: the grace continued it"
    second.detach("done")


async def test_a_reconnect_without_audio_ends_the_audio_rendition(
        store: Store, source: Source,
        packaging: tuple[StreamRegistry, StreamPipelines]) -> None:
    registry, pipelines = packaging
    stream_id, key, _ = await make_stream(store)
    first = await publish(registry, key, source, 0)
    pipeline = await pipelines.wait_pipeline(stream_id, 10)
    assert pipeline is not None
    await until(lambda: ("source", "audio") in variants(pipeline))
    audio = pipeline.renditions["audio"].playlist
    first.detach("encoder restarted")
    second = await publish(registry, key, source, 5000, audio=False)
    await until(lambda: audio.ended)
    assert "#EXT-X-ENDLIST" in audio.render().text.decode()
    assert "audio" not in pipeline.renditions
    assert ("source", None) in variants(pipeline)
    second.detach("done")


@pytest.mark.parametrize("auto_live", [True, False])
async def test_playlists_end_with_the_broadcast_not_before(store: Store, source: Source,
                                                           auto_live: bool) -> None:
    """On air, the registry's reconnect grace decides when the broadcast ends; a preview
    that lost its publisher ends its playlists after the packager's own grace."""
    registry = StreamRegistry(store, auto_live=auto_live)
    pipelines = StreamPipelines(HlsConfig(), registry, store, preview_grace_sec=0.3)
    await pipelines.start()
    stream_id, key, _ = await make_stream(store)
    session = await publish(registry, key, source, 0)
    pipeline = await pipelines.wait_pipeline(stream_id, 10)
    assert pipeline is not None
    session.detach("encoder gone")
    await asyncio.sleep(0.6)
    if auto_live:
        live = registry.get(stream_id)
        assert live is not None and live.state == "reconnecting"
        assert not pipeline.ended, "players go on while the encoder may come back"
        assert await registry.end_unpublished(stream_id, "the publisher did not come back")
        await until(lambda: pipeline.ended, 5)
    else:
        assert pipeline.ended
    await pipelines.stop()
    await registry.close()


async def test_a_deleted_streams_media_go_at_once(store: Store, source: Source) -> None:
    registry = StreamRegistry(store)
    pipelines = StreamPipelines(HlsConfig(), registry, store)
    await pipelines.start()
    stream_id, key, _ = await make_stream(store)
    await publish(registry, key, source, 0, paced=False)
    assert await pipelines.wait_pipeline(stream_id, 10) is not None
    await registry.forget(stream_id)
    await until(lambda: pipelines.get(stream_id) is None, 5)
    assert await pipelines.wait_pipeline(stream_id, 0.5) is None
    await pipelines.stop()
    await registry.close()


async def test_an_ended_streams_media_go_after_the_retention(store: Store,
                                                             source: Source) -> None:
    registry = StreamRegistry(store)
    pipelines = StreamPipelines(HlsConfig(ended_retention_sec=0.5), registry, store)
    await pipelines.start()
    stream_id, key, _ = await make_stream(store)
    await publish(registry, key, source, 0, paced=False)
    pipeline = await pipelines.wait_pipeline(stream_id, 10)
    assert pipeline is not None
    await registry.end(stream_id)
    await until(lambda: pipeline.ended, 5)
    assert pipelines.get(stream_id) is pipeline, "players still finish the ENDLIST playlist"
    await until(lambda: pipelines.get(stream_id) is None, 5)
    await pipelines.stop()
    await registry.close()


async def test_memory_returns_after_streams_come_and_go(store: Store, source: Source) -> None:
    """Python's allocations after 30 broadcasts have ended and been released stay near
    those after one (each kept its whole window in memory before)."""
    registry = StreamRegistry(store)
    pipelines = StreamPipelines(HlsConfig(ended_retention_sec=0), registry, store)
    await pipelines.start()

    async def broadcast() -> None:
        stream_id, key, _ = await make_stream(store, handle=f"u{secrets.token_hex(4)}")
        await publish(registry, key, source, 0, paced=False)
        assert await pipelines.wait_pipeline(stream_id, 10) is not None
        await registry.end(stream_id)
        await until(lambda: pipelines.get(stream_id) is None, 5)

    tracemalloc.start()
    try:
        await broadcast()
        gc.collect()
        after_one = tracemalloc.get_traced_memory()[0]
        for _ in range(30):
            await broadcast()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - after_one
    finally:
        tracemalloc.stop()
    window = sum(len(f.payload) for f in source.frames)
    assert grown < 5 * window, f"{grown} bytes more after 30 broadcasts ({window} each)"
    await pipelines.stop()
    await registry.close()


def test_the_source_rate_comes_from_the_publishers_metadata() -> None:
    assert source_rate({"framerate": 60, "videodatarate": 6000.0}) == SourceRate(60, 6000)
    assert source_rate({"framerate": "60", "videodatarate": -1}) == SourceRate()
    assert source_rate({}) == SourceRate()
