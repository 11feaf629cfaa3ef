"""Live thumbnails and recording posters from real media: libx264 and AAC from PyAV through
a real ``StreamPipeline`` (and, for posters, a real recording on disk). Every source
picture is flat with luma (7 i) mod 256 (picture i, 30 fps, 1 s GOPs, 1 s segments), so
the JPEG tells which segment's keyframe it shows. Freshness runs on an injected clock and
counts the pictures made."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from ingest.media import Frame
from mediad import thumbnails as thumbnails_module
from mediad.config import Config, HlsConfig, ThumbnailsConfig
from mediad.http.app import create_app
from mediad.recording import layout
from mediad.recording.model import Recording, SegmentEntry
from mediad.store import Store
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import StreamRegistry
from mediad.thumbnails import (
    Thumbnail,
    Thumbnails,
    newest_keyframe,
    poster_segment,
    recording_poster,
    setup_thumbnails,
)
from packager.llhls import PlaylistSettings
from packager.pipeline import StreamPipeline
from packager.poster import PosterError, poster_jpeg
from tests.mediad.recording.disk_recording_testing import record_to_disk
from tests.mediad.registry_testing import ManualClock
from tests.packager.packager_testing import FPS, Rung, Source, encode_source

av: Any = pytest.importorskip("av")

STREAM = "teststream01"
WALL0 = 1_790_000_000.0
SETTINGS = PlaylistSettings(part_target=0.25, segment_target=1.0, dvr_window=60)
CONFIG = ThumbnailsConfig(interval_sec=10.0, width=320)


def keyframe_luma(msn: int) -> float:
    """The full-range luma of segment ``msn``'s keyframe (picture 30 (msn - 1))."""
    return max(0.0, (7 * FPS * (msn - 1) % 256 - 16) * 255 / 219)


def picture_of(jpeg: bytes) -> tuple[int, int, int]:
    """(width, height, centre luma) of a JPEG, decoded by PyAV."""
    with av.open(io.BytesIO(jpeg), mode="r", format="image2pipe") as container:
        assert container.streams.video[0].codec_context.name == "mjpeg"
        picture = next(container.decode(video=0))
    luma = picture.planes[0]
    centre = bytes(luma)[picture.height // 2 * luma.line_size + picture.width // 2]
    return picture.width, picture.height, centre


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source(640, 360, seconds=8, b_frames=2)


class CountingMaker:
    """The real maker, counted; ``gate`` (when set) holds each call until it opens."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.calls = 0
        self.running = 0
        self.most_running = 0
        self.gate = gate
        self._lock = threading.Lock()

    def __call__(self, init: bytes, fragment: bytes | memoryview, max_width: int
                 ) -> tuple[bytes, int, int]:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        try:
            if self.gate is not None:
                assert self.gate.wait(20)
            return poster_jpeg(init, fragment, max_width)
        finally:
            with self._lock:
                self.running -= 1


class Feed:
    """One stream's pipeline, fed a segment at a time."""

    def __init__(self, source: Source) -> None:
        self.pipeline = StreamPipeline(SETTINGS, lambda arrival: WALL0 + arrival)
        self.pipeline.track_changed(source.video)
        self.pipeline.track_changed(source.audio)
        self._frames: Iterator[Frame] = iter(source.frames)

    @property
    def complete(self) -> int:
        playlist = self.pipeline.renditions["source"].playlist
        return sum(1 for segment in playlist.segments if segment.complete)

    def frame(self) -> None:
        self.pipeline.push(next(self._frames))

    def segments(self, count: int) -> None:
        """Push until ``count`` more segments are complete."""
        target = self.complete + count
        while self.complete < target:
            self.pipeline.push(next(self._frames))


@dataclass
class Env:
    pipelines: StreamPipelines
    thumbnails: Thumbnails
    maker: CountingMaker
    clock: ManualClock
    wall: ManualClock
    client: TestClient

    def live(self, source: Source, stream_id: str = STREAM) -> Feed:
        feed = Feed(source)
        self.pipelines.pipelines[stream_id] = feed.pipeline
        return feed


@pytest.fixture
async def env(store: Store) -> AsyncIterator[Env]:
    registry = StreamRegistry(store)
    pipelines = StreamPipelines(HlsConfig(), registry, store)
    maker, clock, wall = CountingMaker(), ManualClock(), ManualClock(WALL0)
    thumbnails = Thumbnails(pipelines, CONFIG, maker=maker, clock=clock, wall_clock=wall)
    app = create_app(replace(Config(), thumbnails=CONFIG), store, registry)
    setup_thumbnails(app, thumbnails)
    async with TestClient(TestServer(app)) as client:
        yield Env(pipelines, thumbnails, maker, clock, wall, client)
    await registry.close()


async def test_the_thumbnail_is_the_newest_keyframe_as_a_jpeg(env: Env, source: Source) -> None:
    env.live(source).segments(3)
    response = await env.client.get(f"/thumbs/{STREAM}.jpg")
    assert response.status == 200
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Cache-Control"] == "public, max-age=10"
    assert parsedate_to_datetime(response.headers["Last-Modified"]).timestamp() == int(WALL0)
    width, height, luma = picture_of(await response.read())
    assert (width, height) == (320, 180)  # 640x360 scaled to the configured width
    assert abs(luma - keyframe_luma(3)) <= 3  # segment 3, not an older one


async def test_head_and_conditional_requests(env: Env, source: Source) -> None:
    env.live(source).segments(2)
    head = await env.client.head(f"/thumbs/{STREAM}.jpg")
    assert head.status == 200 and head.headers["Content-Type"] == "image/jpeg"
    assert await head.read() == b""
    since = format_datetime(datetime.fromtimestamp(WALL0 + 1, UTC), usegmt=True)
    cached = await env.client.get(f"/thumbs/{STREAM}.jpg", headers={"If-Modified-Since": since})
    assert cached.status == 304 and await cached.read() == b""
    older = format_datetime(datetime.fromtimestamp(WALL0 - 60, UTC), usegmt=True)
    fresh = await env.client.get(f"/thumbs/{STREAM}.jpg", headers={"If-Modified-Since": older})
    assert fresh.status == 200 and (await fresh.read())[:2] == b"\xff\xd8"
    assert env.maker.calls == 1


async def test_a_thumbnail_is_made_again_only_after_the_interval_and_a_new_segment(
        env: Env, source: Source) -> None:
    feed = env.live(source)
    feed.segments(2)
    first = await env.thumbnails.live(STREAM)
    assert first is not None and env.maker.calls == 1
    assert abs(picture_of(first.jpeg)[2] - keyframe_luma(2)) <= 3

    feed.segments(1)
    env.clock.advance(9.9)  # within the interval: the cached one, even with a newer segment
    assert await env.thumbnails.live(STREAM) is first
    assert env.maker.calls == 1

    env.clock.advance(0.2)  # past it: the newer segment's keyframe
    env.wall.advance(10.1)
    second = await env.thumbnails.live(STREAM)
    assert second is not None and second is not first and env.maker.calls == 2
    assert second.made_at == WALL0 + 10.1
    assert abs(picture_of(second.jpeg)[2] - keyframe_luma(3)) <= 3

    env.clock.advance(30)  # long past the interval, but no newer segment: nothing to make
    assert await env.thumbnails.live(STREAM) is second
    assert env.maker.calls == 2


async def test_no_work_when_nobody_asks(env: Env, source: Source) -> None:
    feed = env.live(source)
    feed.segments(3)
    env.clock.advance(60)
    feed.segments(2)
    assert env.maker.calls == 0
    assert await env.thumbnails.live(STREAM) is not None
    assert env.maker.calls == 1


async def test_concurrent_requests_share_one_picture(env: Env, source: Source) -> None:
    env.maker.gate = threading.Event()
    env.live(source).segments(2)
    requests = [asyncio.create_task(env.thumbnails.live(STREAM)) for _ in range(5)]
    await asyncio.sleep(0.1)
    env.maker.gate.set()
    made = await asyncio.gather(*requests)
    assert env.maker.calls == 1
    assert all(isinstance(m, Thumbnail) for m in made) and len({id(m) for m in made}) == 1


async def test_only_a_few_pictures_are_made_at_once(env: Env, source: Source) -> None:
    env.maker.gate = threading.Event()
    streams = [f"stream{n:02d}" for n in range(thumbnails_module.MAKERS + 2)]
    for stream_id in streams:
        env.live(source, stream_id).segments(1)
    requests = [asyncio.create_task(env.thumbnails.live(s)) for s in streams]
    async with asyncio.timeout(20):
        while env.maker.running < thumbnails_module.MAKERS:  # noqa: ASYNC110 -- threads
            await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    assert env.maker.running == thumbnails_module.MAKERS  # the others wait for a slot
    env.maker.gate.set()
    assert all(await asyncio.gather(*requests))
    assert env.maker.calls == len(streams)
    assert env.maker.most_running == thumbnails_module.MAKERS


async def test_a_released_pipeline_takes_its_thumbnail_with_it(env: Env, source: Source
                                                               ) -> None:
    env.live(source).segments(2)
    assert await env.thumbnails.live(STREAM) is not None
    del env.pipelines.pipelines[STREAM]
    assert await env.thumbnails.live(STREAM) is None
    response = await env.client.get(f"/thumbs/{STREAM}.jpg")
    assert response.status == 404
    assert await response.json() == {"error": "this stream is not live"}
    # The next broadcast gets its own picture at once, whatever the interval says.
    env.live(source).segments(1)
    again = await env.thumbnails.live(STREAM)
    assert again is not None and env.maker.calls == 2
    assert abs(picture_of(again.jpeg)[2] - keyframe_luma(1)) <= 3


async def test_an_ended_stream_has_no_thumbnail(env: Env, source: Source) -> None:
    feed = env.live(source)
    feed.segments(2)
    feed.pipeline.end()
    assert await env.thumbnails.live(STREAM) is None
    assert env.maker.calls == 0


@pytest.mark.parametrize(("path", "error"), [
    ("/thumbs/nobody.jpg", "this stream is not live"),
    ("/thumbs/bad%20id!.jpg", "no such stream"),
    (f"/thumbs/{'x' * 65}.jpg", "no such stream"),
])
async def test_not_live_is_a_short_lived_json_404(env: Env, path: str, error: str) -> None:
    response = await env.client.get(path)
    assert response.status == 404
    assert response.headers["Cache-Control"] == "max-age=2"
    assert await response.json() == {"error": error}


async def test_no_picture_before_the_first_segment_or_without_video(
        env: Env, source: Source) -> None:
    feed = env.live(source)
    while not feed.pipeline.renditions["source"].playlist.segments:
        feed.frame()  # parts, no complete segment yet
    response = await env.client.get(f"/thumbs/{STREAM}.jpg")
    assert response.status == 404
    assert await response.json() == {"error": "this stream has no picture yet"}

    audio_only = StreamPipeline(SETTINGS, lambda arrival: WALL0 + arrival)
    audio_only.track_changed(source.audio)
    for frame in source.frames:
        if not frame.is_video:
            audio_only.push(frame)
    env.pipelines.pipelines["radio"] = audio_only
    assert await env.thumbnails.live("radio") is None
    assert env.maker.calls == 0


async def test_an_undecodable_keyframe_is_tried_once_per_segment(
        store: Store, source: Source) -> None:
    pipelines = StreamPipelines(HlsConfig(), StreamRegistry(store), store)
    clock = ManualClock()
    calls: list[int] = []

    def broken(init: bytes, fragment: bytes | memoryview, max_width: int
               ) -> tuple[bytes, int, int]:
        calls.append(len(fragment))
        raise PosterError("undecodable video")

    thumbnails = Thumbnails(pipelines, CONFIG, maker=broken, clock=clock)
    feed = Feed(source)
    pipelines.pipelines[STREAM] = feed.pipeline
    feed.segments(1)
    assert await thumbnails.live(STREAM) is None
    clock.advance(60)
    assert await thumbnails.live(STREAM) is None  # the same segment: not tried again
    assert len(calls) == 1
    feed.segments(1)
    assert await thumbnails.live(STREAM) is None
    assert len(calls) == 2


def test_thumbnails_come_from_the_source_or_else_the_tallest_rung(source: Source) -> None:
    pipeline = StreamPipeline(SETTINGS, lambda arrival: WALL0 + arrival,
                              ladder=[Rung("180p", 180, 300), Rung("120p", 120, 150)])
    pipeline.track_changed(source.video)
    pipeline.track_changed(source.audio)
    for frame in source.frames[: len(source.frames) // 2]:
        pipeline.push(frame)
    pipeline.encoders.flush()
    found = newest_keyframe(pipeline)
    assert found is not None and found.rendition == "source"
    pipeline.renditions.retire("source")
    found = newest_keyframe(pipeline)
    assert found is not None and found.rendition == "180p"
    jpeg, width, height = poster_jpeg(found.init, found.fragment, 640)
    assert picture_of(jpeg)[:2] == (width, height) == (320, 180)
    pipeline.end(flush=True)


# -- recording posters ------------------------------------------------------------------


def entries(*durations: float) -> list[SegmentEntry]:
    return [SegmentEntry(n, 1, d, WALL0 + n, 100) for n, d in enumerate(durations, start=1)]


@pytest.mark.parametrize(("durations", "expected"), [
    ((1.0,) * 30, 4),          # 3 s in: the segment from 3 s to 4 s
    ((2.0,) * 600, 6),         # a 20 minute show: 10 s in, not 120 s
    ((1.0, 1.0, 1.0), 1),      # 0.3 s in
    ((0.0, 2.0), 2),           # an empty first segment is never the one
])
def test_the_poster_segment_is_a_tenth_in_at_most_ten_seconds(
        durations: tuple[float, ...], expected: int) -> None:
    chosen = poster_segment(entries(*durations))
    assert chosen is not None and chosen.number == expected


def test_no_segments_no_poster_segment() -> None:
    assert poster_segment([]) is None


async def test_a_recording_poster_is_made_once_and_reused(tmp_path: Path) -> None:
    written = record_to_disk(tmp_path, seconds=12, width=640, height=360)
    recording = written.recording
    path = await recording_poster(recording, 320)
    assert path == recording.directory / layout.POSTER
    jpeg = path.read_bytes()
    width, height, luma = picture_of(jpeg)
    assert (width, height) == (320, 180)
    assert abs(luma - keyframe_luma(2)) <= 3  # 1.2 s into 12 s: the second segment
    assert [p.name for p in recording.directory.iterdir() if p.name.endswith(".tmp")] == []

    video = layout.rendition_dir(recording.directory, "source")
    for segment in video.glob("seg*.m4s"):
        segment.unlink()  # reused: the media are not read again
    assert await recording_poster(recording, 320) == path
    assert path.read_bytes() == jpeg


async def test_concurrent_poster_requests_make_one(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    recording = record_to_disk(tmp_path, seconds=3).recording
    made: list[int] = []

    def counted(init: bytes, fragment: bytes | memoryview, max_width: int
                ) -> tuple[bytes, int, int]:
        made.append(max_width)
        return poster_jpeg(init, fragment, max_width)

    monkeypatch.setattr(thumbnails_module, "poster_jpeg", counted)
    paths = await asyncio.gather(*(recording_poster(recording, 160) for _ in range(4)))
    assert set(paths) == {recording.directory / layout.POSTER} and made == [160]
    assert picture_of((recording.directory / layout.POSTER).read_bytes())[:2] == (160, 120)


async def test_a_clip_gets_a_poster_from_its_tallest_rendition(tmp_path: Path) -> None:
    recording = record_to_disk(tmp_path, seconds=3, ladder=True, kind="clip").recording
    assert next(r.name for r in recording.video_renditions()) == "source"
    path = await recording_poster(recording, 640)
    assert path is not None and picture_of(path.read_bytes())[:2] == (320, 240)


async def test_no_poster_without_video(tmp_path: Path) -> None:
    full = record_to_disk(tmp_path, seconds=2, ladder=True).recording
    audio = Recording(full.id, full.stream_id, "broadcast", "radio", full.started_at,
                      full.directory, renditions={"audio": full.renditions["audio"]})
    assert await recording_poster(audio, 320) is None
    empty = Recording("AAAAAAAAAAAAAAAA", "stream1", "broadcast", "soon", full.started_at,
                      tmp_path / "stream1" / "AAAAAAAAAAAAAAAA")
    assert await recording_poster(empty, 320) is None
    assert not (full.directory / layout.POSTER).exists()


async def test_an_undecodable_recording_has_no_poster(tmp_path: Path) -> None:
    recording = record_to_disk(tmp_path, seconds=2).recording
    folder = layout.rendition_dir(recording.directory, "source")
    for segment in folder.glob("seg*.m4s"):
        segment.write_bytes(b"\x00" * 64)
    assert await recording_poster(recording, 320) is None
    assert not (recording.directory / layout.POSTER).exists()
