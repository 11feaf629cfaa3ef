"""Per-stream and per-rendition metrics from a real registry and real packaging fed with real
encoded frames (a transcoded rung included): what a scrape carries while a stream is on,
and that nothing of it is left once the stream ended."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ingest.media import Frame
from mediad.config import HlsConfig, LadderRung, TranscodeConfig
from mediad.metrics.registry import DaemonMetrics
from mediad.metrics.streams import StreamCollector
from mediad.publisher import Publisher
from mediad.store import Store
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import StreamRegistry
from tests.mediad.registry_testing import Kicks, ManualClock, make_stream
from tests.packager.packager_testing import Source, encode_source

LADDER = TranscodeConfig(ladder=(LadderRung("120p", 120, 200, preset="ultrafast"),))

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source(seconds=3, b_frames=0)


def collecting(pipelines: StreamPipelines) -> DaemonMetrics:
    """A daemon's registry with the stream collector over ``pipelines`` (and their
    registry); the pipelines need not run when a test only publishes."""
    metrics = DaemonMetrics()
    metrics.add_collector(StreamCollector(pipelines))
    return metrics


@pytest.fixture
async def transcoding(store: Store) -> AsyncIterator[StreamPipelines]:
    """Packaging with a transcoded rung, running."""
    pipelines = StreamPipelines(HlsConfig(block_timeout_sec=5.0), StreamRegistry(store),
                                store, transcode=LADDER)
    await pipelines.start()
    yield pipelines
    await pipelines.stop()
    await pipelines.registry.close()


def scrape(metrics: DaemonMetrics) -> Samples:
    text = metrics.render().decode()
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def streams_in(samples: Samples) -> set[str]:
    return {label for (_, labels) in samples for key, label in labels if key == "stream"}


async def until(check: Callable[[], bool], within: float = 20.0) -> None:
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 -- encoder threads and the feed change it
            await asyncio.sleep(0.05)


async def publish(registry: StreamRegistry, key: str, source: Source) -> Publisher:
    """``source`` in real time (the ladder's encoder drops what comes faster), its bytes
    counted as an ingest counts them."""
    loop = asyncio.get_running_loop()
    started = loop.time() - source.frames[0].arrival
    session = await registry.start_publish(protocol="rtmp", key=key, peer="enc",
                                           disconnect=Kicks())
    session.announce_track(source.video)
    session.announce_track(source.audio)
    for frame in source.frames:
        session.count_bytes(len(frame.payload))
        session.push_frame(Frame(frame.track, frame.dts, frame.pts, frame.keyframe,
                                 frame.payload, loop.time()))
        await asyncio.sleep(max(0.0, started + frame.arrival - loop.time()))
    return session


async def test_a_live_stream_and_its_renditions_then_nothing_once_it_ended(
        store: Store, source: Source, transcoding: StreamPipelines) -> None:
    pipelines = transcoding
    registry = pipelines.registry
    metrics = collecting(pipelines)
    stream_id, key, _ = await make_stream(store)
    await publish(registry, key, source)
    pipeline = await pipelines.wait_pipeline(stream_id, 10)
    assert pipeline is not None
    health = pipeline.health
    await until(lambda: health().encoded.get("120p", 0) > 0 and "120p" in pipeline.renditions
                and pipeline.renditions["120p"].stats.segments > 0)
    samples = scrape(metrics)
    stream = {"stream": stream_id}
    assert value(samples, "mediad_stream_info", protocol="rtmp", state="live", **stream) == 1
    video = sum(1 for f in source.frames if f.is_video)
    audio = len(source.frames) - video
    assert value(samples, "mediad_stream_ingest_bytes_total", **stream) == sum(
        len(f.payload) for f in source.frames)
    assert value(samples, "mediad_stream_ingest_frames_total", kind="video", **stream) == video
    assert value(samples, "mediad_stream_ingest_frames_total", kind="audio", **stream) == audio
    assert value(samples, "mediad_stream_ingest_frames_dropped_total", **stream) == 0
    # 3 s of 30 fps sent in real time: measured since the publisher attached.
    assert 15 < value(samples, "mediad_stream_source_fps", **stream) <= 31
    assert value(samples, "mediad_stream_source_bitrate_bps", **stream) > 0
    assert value(samples, "mediad_stream_publisher_reconnects_total", **stream) == 0
    assert value(samples, "mediad_stream_takeovers_total", **stream) == 0

    assert set(pipeline.renditions) == {"source", "120p", "audio"}
    for name in pipeline.renditions:
        rendition = {"stream": stream_id, "rendition": name}
        member = pipeline.renditions[name]
        assert value(samples, "mediad_rendition_parts_total", **rendition) == member.stats.parts
        assert member.stats.parts > 0
        assert value(samples, "mediad_rendition_segments_total",
                     **rendition) == member.stats.segments
    rung = {"stream": stream_id, "rendition": "120p"}
    assert value(samples, "mediad_rendition_pictures_encoded_total", **rung) > 0
    assert value(samples, "mediad_rendition_encode_seconds_total", **rung) > 0
    assert value(samples, "mediad_rendition_pictures_dropped_total", **rung) >= 0
    assert 0 <= value(samples, "mediad_rendition_encoder_queue_depth", **rung) <= 8
    for copied in ("source", "audio"):  # passthrough: no encoder figures
        labels = frozenset({"stream": stream_id, "rendition": copied}.items())
        assert ("mediad_rendition_encode_seconds_total", labels) not in samples
        assert ("mediad_rendition_encoder_queue_depth", labels) not in samples

    await registry.end(stream_id)
    await until(lambda: pipeline.ended)
    assert stream_id not in streams_in(scrape(metrics)), "an ended stream has no series"
    assert pipelines.get(stream_id) is pipeline, "its media are still held (retention)"


async def test_reconnects_and_takeovers_are_counted(store: Store) -> None:
    registry = StreamRegistry(store)
    metrics = collecting(StreamPipelines(HlsConfig(), registry, store))
    stream_id, primary, backup = await make_stream(store)
    stream = {"stream": stream_id}
    first = await registry.start_publish(protocol="rtmp", key=primary, peer="a",
                                         disconnect=Kicks())
    first.detach("encoder restarted")
    samples = scrape(metrics)
    assert value(samples, "mediad_stream_info", protocol="none", state="reconnecting",
                 **stream) == 1
    assert value(samples, "mediad_stream_source_fps", **stream) == 0
    second = await registry.start_publish(protocol="rtmp", key=primary, peer="a",
                                          disconnect=Kicks())
    await registry.start_publish(protocol="srt", key=backup, peer="b", disconnect=Kicks())
    second.detach("encoder crashed")  # the hot standby takes over
    samples = scrape(metrics)
    assert value(samples, "mediad_stream_publisher_reconnects_total", **stream) == 1
    assert value(samples, "mediad_stream_takeovers_total", **stream) == 1
    assert value(samples, "mediad_stream_info", protocol="srt", state="live", **stream) == 1
    assert not [labels for (name, labels) in samples if name == "mediad_stream_info"
                and ("protocol", "rtmp") in labels], "one info series: the present one"
    await registry.close()


async def test_label_sets_stay_bounded_as_streams_come_and_go(store: Store) -> None:
    registry = StreamRegistry(store)
    metrics = collecting(StreamPipelines(HlsConfig(), registry, store))
    for number in range(12):
        stream_id, key, _ = await make_stream(store, f"creator{number}")
        publisher = await registry.start_publish(protocol="rtmp", key=key, peer="enc",
                                                 disconnect=Kicks())
        publisher.count_bytes(1000)
        assert streams_in(scrape(metrics)) == {stream_id}, "only the stream that is on"
        await registry.end(stream_id)
    samples = scrape(metrics)
    assert streams_in(samples) == set()
    assert not [name for (name, _) in samples if name.startswith("mediad_stream_")]
    await registry.close()


async def test_source_rate_is_over_the_interval_since_the_previous_scrape(
        store: Store, source: Source) -> None:
    clock = ManualClock()
    registry = StreamRegistry(store, clock=clock)
    metrics = collecting(StreamPipelines(HlsConfig(), registry, store))
    stream_id, key, _ = await make_stream(store)
    stream = {"stream": stream_id}
    publisher = await registry.start_publish(protocol="rtmp", key=key, peer="enc",
                                             disconnect=Kicks())
    publisher.announce_track(source.video)
    picture = next(f for f in source.frames if f.is_video)

    def send(pictures: int, size: int) -> None:
        for _ in range(pictures):
            publisher.count_bytes(size)
            publisher.push_frame(picture)

    send(60, 1000)
    clock.advance(2.0)
    samples = scrape(metrics)
    assert value(samples, "mediad_stream_source_fps", **stream) == 30
    assert value(samples, "mediad_stream_source_bitrate_bps", **stream) == 60 * 1000 * 8 / 2
    send(25, 2000)
    clock.advance(0.5)  # a second scraper within the reading interval: the same rate
    assert value(scrape(metrics), "mediad_stream_source_fps", **stream) == 30
    clock.advance(0.5)
    samples = scrape(metrics)
    assert value(samples, "mediad_stream_source_fps", **stream) == 25
    assert value(samples, "mediad_stream_source_bitrate_bps", **stream) == 25 * 2000 * 8
    await registry.close()
