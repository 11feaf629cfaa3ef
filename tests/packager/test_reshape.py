"""A publish that changes shape, sans IO (issue 15, items 1, 2, 3, 8): real encoded frames
(libx264, AAC through PyAV) fed to a ``StreamPipeline`` as two publishes, the second with
other tracks or a smaller picture; then an audio-only publish, and rungs as tall as the
source. Checked on what players read: the multivariant playlist (through ``m3u8``) and
the media playlists' text.

The rule: renditions that still exist continue after EXT-X-DISCONTINUITY, renditions that
no longer exist end (EXT-X-ENDLIST) and leave the multivariant playlist, new ones appear
and become ready (servable, listed).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from fractions import Fraction
from typing import Any

import m3u8
import pytest

from ingest.media import Frame, TrackInfo
from packager.ladder_plan import SourceRate
from packager.llhls import MediaPlaylist, PlaylistSettings
from packager.pipeline import StreamPipeline
from tests.packager.packager_testing import FPS, Rung, Source, encode_source

av: Any = pytest.importorskip("av")

SETTINGS = PlaylistSettings(part_target=0.2, segment_target=1.0, dvr_window=60)
ONE_RUNG = (Rung("120p", 120, 100),)
SECOND_PUBLISH_AT = 30.0
"""Ingest arrival (s) of the second publish's first frame: after the first one's end."""


@pytest.fixture(scope="module")
def small() -> Source:
    return encode_source(320, 180, seconds=4, b_frames=0)


def make(ladder: tuple[Rung, ...] = ONE_RUNG) -> StreamPipeline:
    return StreamPipeline(SETTINGS, lambda arrival: 1.79e9 + arrival, ladder=ladder,
                          lossless=True)


def publish(pipeline: StreamPipeline, source: Source, kinds: Iterable[str],
            arrival_shift: float = 0.0, rate: SourceRate | None = None,
            after_each: Callable[[], None] = lambda: None) -> None:
    """One publish of ``source``'s tracks of ``kinds``: announced, then its frames (its clock
    starts at 0, as a new encoder's does); ``after_each`` frame pushed."""
    kinds = set(kinds)
    for track in (source.video, source.audio):
        if track.kind in kinds:
            if rate is not None and track.kind == "video":
                pipeline.track_changed(track, rate)
            else:
                pipeline.track_changed(track)
    for frame in source.frames:
        if frame.track.kind in kinds:
            pipeline.push(replace(frame, arrival=frame.arrival + arrival_shift))
            after_each()


def reconnect(pipeline: StreamPipeline, source: Source, kinds: Iterable[str],
              rate: SourceRate | None = None) -> None:
    """The second publish. Throughout it the stream stays servable, and the multivariant
    playlist lists only renditions that can be served (a player sent to one that is not
    ready would wait, then get a 503)."""
    lapses: list[str] = []

    def servable() -> None:
        if not pipeline.ready:
            lapses.append("the stream is not servable")
        unready = {n for n in listed(pipeline) if not pipeline.renditions[n].playlist.ready}
        if unready:
            lapses.append(f"listed before ready: {sorted(unready)}")

    pipeline.publisher_changed()
    servable()
    publish(pipeline, source, kinds, SECOND_PUBLISH_AT, rate, servable)
    assert not lapses, f"{len(lapses)} frames of the new publish saw: {sorted(set(lapses))}"


def wait_for(what: str, holds: Callable[[], bool], within: float = 20.0) -> None:
    """Encoder threads deliver on their own time (lossless: nothing is dropped)."""
    deadline = time.monotonic() + within
    while not holds():
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        time.sleep(0.02)


def listing(pipeline: StreamPipeline) -> Any:
    """The multivariant playlist as ``m3u8`` reads it."""
    return m3u8.loads(pipeline.multivariant().text.decode())


def listed(pipeline: StreamPipeline) -> set[str]:
    """Rendition names the multivariant playlist lists (variants and audio renditions)."""
    parsed = listing(pipeline)
    uris = [p.uri for p in parsed.playlists] + [m.uri for m in parsed.media if m.uri]
    return {uri.rsplit("/", 2)[-2] for uri in uris}


def text(playlist: MediaPlaylist) -> str:
    return playlist.render().text.decode()


def playlists(pipeline: StreamPipeline) -> dict[str, MediaPlaylist]:
    return {name: member.playlist for name, member in pipeline.renditions.items()}


def resumed(playlist: MediaPlaylist) -> bool:
    """A complete segment after the seam: the new publish plays in this rendition."""
    return any(s.discontinuity and s.complete for s in playlist.segments)


def check_change(before: dict[str, MediaPlaylist], pipeline: StreamPipeline,
                 expected: set[str]) -> None:
    """After the second publish: ``expected`` is what is listed; each continuing rendition
    goes on in the same playlist after a discontinuity, each gone one has ended, each new
    one is ready."""
    wait_for(f"{sorted(expected)} listed, each with media of the new publish",
             lambda: listed(pipeline) == expected and all(
                 resumed(p) or (name not in before and p.ready and p.segments)
                 for name, p in playlists(pipeline).items() if name in expected))
    now = playlists(pipeline)
    assert set(now) == expected, f"members {sorted(now)}, listed {sorted(listed(pipeline))}"
    for name in expected & set(before):
        assert now[name] is before[name], f"{name} was replaced, not continued"
        body = text(now[name])
        assert "#EXT-X-DISCONTINUITY\n" in body and "#EXT-X-ENDLIST" not in body, body
    for name in set(before) - expected:
        body = text(before[name])
        assert body.rstrip().endswith("#EXT-X-ENDLIST"), f"{name} did not end:\n{body}"
        assert "#EXT-X-PRELOAD-HINT" not in body
    for name in expected - set(before):
        assert now[name].ready and now[name].target_duration == 1, name
    targets = {p.target_duration for p in now.values()}
    assert targets == {1}, f"one TARGETDURATION across the set: {targets}"
    for name, playlist in now.items():
        for uri, _ in playlist.siblings:  # rendition reports name only what exists
            assert uri.split("/")[-2] in expected, (name, uri)


# -- 1. a reconnect with another set of tracks -----------------------------------------------

def test_audio_joins_a_video_only_stream(small: Source) -> None:
    pipeline = make()
    publish(pipeline, small, ["video"])
    wait_for("the video-only renditions", lambda: listed(pipeline) == {"source", "120p"})
    assert not listing(pipeline).media
    before = playlists(pipeline)
    reconnect(pipeline, small, ["video", "audio"])
    check_change(before, pipeline, {"source", "120p", "audio"})
    parsed = listing(pipeline)
    [audio] = parsed.media
    assert audio.type == "AUDIO"
    assert all(p.stream_info.audio == audio.group_id for p in parsed.playlists)
    assert all("mp4a.40.2" in p.stream_info.codecs for p in parsed.playlists)
    pipeline.end(flush=True)


def test_audio_leaves_a_video_and_audio_stream(small: Source) -> None:
    pipeline = make()
    publish(pipeline, small, ["video", "audio"])
    wait_for("video and audio renditions", lambda: listed(pipeline) == {"source", "120p", "audio"})
    before = playlists(pipeline)
    reconnect(pipeline, small, ["video"])
    check_change(before, pipeline, {"source", "120p"})
    parsed = listing(pipeline)
    assert not parsed.media, "the audio group is gone"
    assert all(p.stream_info.audio is None for p in parsed.playlists)
    assert all("mp4a" not in p.stream_info.codecs for p in parsed.playlists)
    pipeline.end(flush=True)


def test_video_joins_an_audio_only_stream(small: Source) -> None:
    pipeline = make()
    publish(pipeline, small, ["audio"])
    wait_for("the audio rendition listed", lambda: listed(pipeline) == {"audio"})
    before = playlists(pipeline)
    reconnect(pipeline, small, ["video", "audio"])
    check_change(before, pipeline, {"source", "120p", "audio"})
    parsed = listing(pipeline)
    assert {p.stream_info.resolution for p in parsed.playlists} == {(320, 180), (214, 120)}
    assert all(p.stream_info.audio for p in parsed.playlists)
    pipeline.end(flush=True)


def test_video_leaves_a_stream_with_a_ladder(small: Source) -> None:
    pipeline = make()
    publish(pipeline, small, ["video", "audio"])
    wait_for("video and audio renditions", lambda: listed(pipeline) == {"source", "120p", "audio"})
    before = playlists(pipeline)
    reconnect(pipeline, small, ["audio"])
    check_change(before, pipeline, {"audio"})
    [variant] = listing(pipeline).playlists
    assert variant.stream_info.codecs == "mp4a.40.2" and variant.stream_info.resolution is None
    pipeline.end(flush=True)


@pytest.mark.parametrize(("first", "second"), [
    (["video"], ["video", "audio"]),
    (["video", "audio"], ["video"]),
    (["audio"], ["video", "audio"]),
])
def test_passthrough_follows_the_new_track_set(small: Source, first: list[str],
                                               second: list[str]) -> None:
    """Without a ladder the one muxed rendition continues, under a new init section that
    holds the new publish's tracks."""
    pipeline = make(ladder=())
    publish(pipeline, small, first)
    playlist = pipeline.renditions["source"].playlist
    reconnect(pipeline, small, second)
    assert pipeline.renditions["source"].playlist is playlist
    assert resumed(playlist) and not playlist.ended
    [variant] = listing(pipeline).playlists
    codecs = variant.stream_info.codecs.split(",")
    assert ("avc1.42c00d" in codecs) == ("video" in second)
    assert ("mp4a.40.2" in codecs) == ("audio" in second)
    complete = [s for s in playlist.segments if s.complete]
    assert complete[-1].init != complete[0].init, "a new init section for the new tracks"


# -- 2. a smaller picture ------------------------------------------------------------------

def test_a_smaller_picture_retires_the_taller_rungs() -> None:
    tall = encode_source(640, 360, seconds=3, b_frames=0)
    short = encode_source(320, 180, seconds=3, b_frames=0)
    pipeline = make(ladder=(Rung("240p", 240, 300), Rung("120p", 120, 100)))
    publish(pipeline, tall, ["video", "audio"])
    wait_for("the 640x360 ladder", lambda: listed(pipeline) == {"source", "240p", "120p", "audio"})
    before = playlists(pipeline)
    reconnect(pipeline, short, ["video", "audio"])
    check_change(before, pipeline, {"source", "120p", "audio"})
    resolutions = {p.uri.rsplit("/", 2)[-2]: p.stream_info.resolution
                   for p in listing(pipeline).playlists}
    assert resolutions == {"source": (320, 180), "120p": (214, 120)}
    pipeline.end(flush=True)


def test_a_rung_as_tall_as_a_smaller_new_source_goes_too() -> None:
    tall = encode_source(640, 360, seconds=3, b_frames=0)
    short = encode_source(426, 240, seconds=3, b_frames=0)
    pipeline = make(ladder=(Rung("240p", 240, 600), Rung("120p", 120, 100)))
    publish(pipeline, tall, ["video"], rate=SourceRate(fps=FPS, kbps=1000))
    wait_for("the 640x360 ladder", lambda: listed(pipeline) == {"source", "240p", "120p"})
    before = playlists(pipeline)
    reconnect(pipeline, short, ["video"], rate=SourceRate(fps=FPS, kbps=500))
    check_change(before, pipeline, {"source", "120p"})
    pipeline.end(flush=True)


def test_a_taller_picture_brings_its_rungs_back() -> None:
    """A retired rung that the next publish can feed again is listed again, and its
    playlist's media sequence goes on from the retired one's (no reused URL)."""
    tall = encode_source(640, 360, seconds=3, b_frames=0)
    short = encode_source(320, 180, seconds=3, b_frames=0)
    pipeline = make(ladder=(Rung("240p", 240, 300),))
    publish(pipeline, tall, ["video"])
    wait_for("240p listed", lambda: listed(pipeline) == {"source", "240p"})
    first_240 = pipeline.renditions["240p"].playlist
    reconnect(pipeline, short, ["video"])
    wait_for("240p gone", lambda: listed(pipeline) == {"source"} and first_240.ended)
    reconnect(pipeline, tall, ["video"])
    wait_for("240p back", lambda: listed(pipeline) == {"source", "240p"})
    again = pipeline.renditions["240p"].playlist
    assert again.ready and not again.ended
    old = {s.uri for s in first_240.segments}
    assert not old & {s.uri for s in again.segments}, "a URL of the retired playlist reused"
    pipeline.end(flush=True)


# -- 3. audio only ---------------------------------------------------------------------------

@pytest.mark.parametrize("ladder", [ONE_RUNG, ()], ids=["ladder", "passthrough"])
def test_an_audio_only_publish_has_a_variant(small: Source, ladder: tuple[Rung, ...]) -> None:
    pipeline = make(ladder)
    publish(pipeline, small, ["audio"])
    assert pipeline.ready
    parsed = listing(pipeline)
    assert parsed.playlists, pipeline.multivariant().text.decode()
    for variant in parsed.playlists:
        assert variant.stream_info.codecs == "mp4a.40.2"
        assert variant.stream_info.resolution is None and variant.stream_info.bandwidth > 0
    for name in listed(pipeline):
        playlist = pipeline.renditions[name].playlist
        assert playlist.ready and len([s for s in playlist.segments if s.complete]) >= 2


# -- 8. no rung that copies the source --------------------------------------------------------

def noisy_source(width: int, height: int, kbps: int, seconds: int = 2) -> tuple[TrackInfo,
                                                                               list[Frame]]:
    """libx264 at ``kbps`` on noise pictures (which use all of it), 30 fps, 1 s GOPs."""
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.time_base = Fraction(1, 1000)
    encoder.framerate = Fraction(FPS)
    encoder.gop_size, encoder.max_b_frames = FPS, 0
    encoder.bit_rate = kbps * 1000
    encoder.flags |= av.codec.context.Flags.global_header
    encoder.options = {"preset": "ultrafast", "x264-params": "annexb=0:scenecut=0"}
    encoder.open()
    packets: list[Any] = []
    for i in range(seconds * FPS):
        picture = av.VideoFrame(width, height, "yuv420p")
        for plane in picture.planes:
            plane.update(os.urandom(plane.buffer_size))
        picture.pts = round(i * 1000 / FPS)
        packets += encoder.encode(picture)
    packets += encoder.encode(None)
    track = TrackInfo(0, "video", "h264", 1000, bytes(encoder.extradata), "avc1.42c01e",
                      width, height)
    return track, [Frame(track, int(p.dts), int(p.pts), p.is_keyframe, bytes(p),
                         arrival=int(p.dts) / 1000) for p in packets]


@pytest.mark.parametrize(("source_kbps", "rung_kbps", "kept"), [
    (800, 1200, False),
    (2000, 300, True),
])
def test_a_rung_as_tall_as_the_source_only_when_well_below_its_bitrate(
        source_kbps: int, rung_kbps: int, kept: bool) -> None:
    track, frames = noisy_source(640, 360, source_kbps)
    pipeline = make(ladder=(Rung("360p", 360, rung_kbps), Rung("240p", 240, 400)))
    pipeline.track_changed(track, SourceRate(fps=FPS, kbps=source_kbps))
    for frame in frames:
        pipeline.push(frame)
    expected = {"source", "240p", *(["360p"] if kept else [])}
    wait_for(f"{sorted(expected)} listed", lambda: listed(pipeline) == expected)
    heights = [p.stream_info.resolution[1] for p in listing(pipeline).playlists]
    assert heights.count(360) == (2 if kept else 1)
    if kept:
        by_name = {p.uri.rsplit("/", 2)[-2]: p.stream_info for p in listing(pipeline).playlists}
        assert by_name["360p"].bandwidth < by_name["source"].bandwidth
    pipeline.end(flush=True)


def test_a_rung_as_tall_as_the_source_at_a_lower_frame_rate_is_kept(small: Source) -> None:
    pipeline = make(ladder=(Rung("180p", 180, 200, fps_max=15),))
    publish(pipeline, small, ["video"], rate=SourceRate(fps=FPS, kbps=100))
    wait_for("the 15 fps rung listed", lambda: listed(pipeline) == {"source", "180p"})
    rates = sorted(p.stream_info.frame_rate for p in listing(pipeline).playlists)
    assert rates == [15.0, 30.0]
    pipeline.end(flush=True)
