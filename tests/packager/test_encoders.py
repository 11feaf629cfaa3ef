"""The encoder threads and the hop: encoded frames leave the threads only through the hop
the pipeline was given (in the daemon, onto the event loop), a replaced encoder's late
deliveries are discarded, the counters of every encoder a stream had add up, and the
inline default runs one callback at a time."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest

from ingest.media import Frame
from packager.encoders import Encoders, inline_hop, plan_rungs
from packager.llhls import PlaylistSettings
from packager.pipeline import StreamPipeline
from packager.transcode import RungSpec
from tests.packager.packager_testing import Rung, Source, encode_source

SETTINGS = PlaylistSettings(part_target=0.2, segment_target=1.0, dvr_window=60)
RUNG = RungSpec("120p", 160, 120, 200, 30, "ultrafast")
RUNG_120P = Rung("120p", 120, 200)


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source(seconds=1, b_frames=0)


def video(source: Source) -> list[Frame]:
    return [f for f in source.frames if f.is_video]


def test_deliveries_come_only_through_the_hop(source: Source) -> None:
    hopped: list[Callable[[], None]] = []
    delivered: list[tuple[str, Frame]] = []
    encoders = Encoders(hopped.append, lambda name, f: delivered.append((name, f)),
                        lossless=True)
    encoders.start_ladder(source.video, [RUNG])
    assert encoders.ladder is not None
    for frame in video(source):
        encoders.ladder.push(frame)
    encoders.flush()
    assert hopped and not delivered, "nothing arrives until the hop runs it"
    for callback in hopped:
        callback()
    assert [name for name, _ in delivered] == ["120p"] * 30
    assert delivered[0][1].keyframe and delivered[0][1].track.width == 160


def test_a_replaced_encoder_delivers_nothing_more(source: Source) -> None:
    hopped: list[Callable[[], None]] = []
    delivered: list[str] = []
    encoders = Encoders(hopped.append, lambda name, f: delivered.append(name), lossless=True)
    encoders.start_ladder(source.video, [RUNG])
    encoders.start_audio(source.audio)
    assert encoders.ladder is not None and encoders.audio is not None
    for frame in source.frames:
        (encoders.ladder if frame.is_video else encoders.audio).push(frame)
    encoders.flush()
    encoders.start_ladder(source.video, [RUNG])  # a new source: the old ladder is retired
    for callback in hopped:
        callback()
    assert set(delivered) == {"audio"}, "the retired ladder's pictures are discarded"
    encoders.stop_ladder()
    encoders.stop_audio()
    health = encoders.health()
    assert health.encoded["120p"] == 30 and health.decoded == 30
    assert health.encoded["audio"] > 0 and len(encoders.retired) == 3


def test_rungs_are_planned_for_what_the_source_can_feed(source: Source) -> None:
    assert [s.name for s in plan_rungs(source.video, [RUNG_120P])] == ["120p"]
    assert plan_rungs(source.video, [Rung("1080p", 1080, 4000)]) == []


def test_the_inline_hop_runs_one_callback_at_a_time() -> None:
    hop = inline_hop()
    running: list[int] = []
    overlaps: list[int] = []

    def callback() -> None:
        running.append(1)
        overlaps.append(len(running))
        time.sleep(0.002)
        running.pop()

    threads = [threading.Thread(target=lambda: [hop(callback) for _ in range(20)])
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(overlaps) == 80 and max(overlaps) == 1


async def test_the_pipeline_hops_onto_the_event_loop(source: Source) -> None:
    loop = asyncio.get_running_loop()
    ran_on: set[int] = set()

    def hop(callback: Callable[[], None]) -> None:
        def on_loop() -> None:
            ran_on.add(threading.get_ident())
            callback()
        loop.call_soon_threadsafe(on_loop)

    pipeline = StreamPipeline(SETTINGS, lambda arrival: 1.79e9 + arrival, ladder=[RUNG_120P],
                              lossless=True, hop=hop)
    pipeline.track_changed(source.video)
    rung = pipeline.renditions["120p"].playlist
    for frame in video(source):
        pipeline.push(frame)
        await asyncio.sleep(0.01)  # a live source: the loop runs between frames
    deadline = loop.time() + 20
    while pipeline.health().encoded.get("120p", 0) < 30:
        assert loop.time() < deadline, pipeline.health()
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.05)  # the last deliveries are queued on the loop
    assert ran_on == {threading.get_ident()}, "every delivery ran on the loop's thread"
    pipeline.end()
    assert rung.ended and rung.segments[0].parts[0].independent
    # Every picture of the second reached the rung (the last one's duration is estimated).
    assert sum(s.duration for s in rung.segments) == pytest.approx(1.0, abs=0.01)
