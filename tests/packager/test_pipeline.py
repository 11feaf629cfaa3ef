"""The passthrough rendition: frames from real encoders (libx264 with B-frames, AAC, through
PyAV) with RTMP's millisecond clock go in; parts, segments and the playlist come out, and
PyAV must read the media back whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from packager.llhls import MediaPlaylist, PlaylistSettings
from packager.output_timeline import OutputTimeline
from packager.pipeline import StreamPipeline
from packager.segmenter import Segmenter
from tests.packager.packager_testing import SECONDS, Source, encode_source

av: Any = pytest.importorskip("av")

WALL0 = 1_790_000_000.0
SETTINGS = PlaylistSettings(part_target=0.2, segment_target=1.0, dvr_window=60)


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source()


def wall(arrival: float) -> float:
    return WALL0 + arrival


def run(source: Source, pipeline: StreamPipeline | None = None) -> StreamPipeline:
    pipeline = pipeline or StreamPipeline(SETTINGS, wall)
    pipeline.track_changed(source.video)
    pipeline.track_changed(source.audio)
    for frame in source.frames:
        pipeline.push(frame)
    return pipeline


def read_back(playlist: MediaPlaylist, path: Path) -> dict[str, list[tuple[int, int, bool]]]:
    """Every packet PyAV demuxes from init + segments (per kind: pts, dts, key), after
    decoding each one without error."""
    segments = [s for s in playlist.segments if s.complete]
    init = playlist.inits[segments[0].init]
    path.write_bytes(init + b"".join(s.data for s in segments))
    got: dict[str, list[tuple[int, int, bool]]] = {"video": [], "audio": []}
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.size == 0:
                continue
            kind = packet.stream.type
            got[kind].append((int(packet.pts), int(packet.dts), bool(packet.is_keyframe)))
            packet.decode()
    return got


def test_every_frame_reads_back_in_order_with_keyframes(source: Source, tmp_path: Path) -> None:
    pipeline = run(source)
    pipeline.end()
    playlist = pipeline.renditions["source"].playlist
    got = read_back(playlist, tmp_path / "out.mp4")
    video_in = [f for f in source.frames if f.is_video]
    assert len(got["video"]) == len(video_in)
    assert len(got["audio"]) == len(source.frames) - len(video_in)
    # The output timeline is the input's, shifted and at 90 kHz.
    shift = got["video"][0][1] - video_in[0].dts * 90
    assert [(p, d) for p, d, _ in got["video"]] == [
        (f.pts * 90 + shift, f.dts * 90 + shift) for f in video_in]
    assert [k for _, _, k in got["video"]] == [f.keyframe for f in video_in]


def test_parts_and_segments_follow_the_rules(source: Source) -> None:
    pipeline = run(source)
    playlist = pipeline.renditions["source"].playlist
    complete = [s for s in playlist.segments if s.complete]
    assert len(complete) == SECONDS - 1  # the last GOP is still open
    for segment in complete:
        assert segment.parts[0].independent
        assert abs(segment.duration - 1.0) < 0.01
        assert segment.data == b"".join(bytes(p.data) for p in segment.parts)
        for part in segment.parts:
            assert part.duration <= SETTINGS.part_limit
            if not part.independent and part is not segment.parts[-1]:
                assert part.duration >= 0.85 * SETTINGS.part_target
    assert playlist.target_duration == 1
    # Program date time: the ingest wall clock of each segment's first frame.
    for segment in complete:
        offset = segment.program_date_time - complete[0].program_date_time
        assert abs(offset - (segment.msn - complete[0].msn) * 1.0) < 0.01
    assert complete[0].program_date_time == pytest.approx(wall(0.0))


def test_a_part_is_published_on_the_arrival_of_its_last_frame(source: Source) -> None:
    """Early close: the part is out when its last frame is in, not one frame later."""
    rendition = Segmenter(MediaPlaylist(SETTINGS), OutputTimeline(wall))
    rendition.set_tracks([source.video, source.audio])
    published: list[tuple[int, int, float]] = []
    for frame in source.frames:
        before = rendition.playlist.last_position()
        rendition.push(frame)
        after = rendition.playlist.last_position()
        if after != before:
            published.append((*after, frame.arrival))
    for msn, index, at in published:
        part = rendition.playlist.part(msn, index)
        assert part is not None
        assert part.last_arrival == at or part.last_arrival <= at


def test_reconnect_continues_the_timeline_with_a_discontinuity(source: Source,
                                                               tmp_path: Path) -> None:
    pipeline = run(source)
    pipeline.publisher_changed()
    run(source, pipeline)  # the encoder comes back: its clock starts at 0 again
    pipeline.end()
    playlist = pipeline.renditions["source"].playlist
    flagged = [s.msn for s in playlist.segments if s.discontinuity]
    assert flagged == [SECONDS + 1]
    assert len(playlist.inits) == 1, "same settings: same init section"
    got = read_back(playlist, tmp_path / "out.mp4")
    dts = [d for _, d, _ in got["video"]]
    assert dts == sorted(dts) and len(set(dts)) == len(dts), "one continuous timeline"
    assert len(got["video"]) == 2 * sum(f.is_video for f in source.frames)


def test_new_codec_parameters_start_a_new_init_section(source: Source) -> None:
    pipeline = run(source)
    smaller = encode_source(160, 120, seconds=2)
    pipeline.track_changed(smaller.video)
    for frame in smaller.frames:
        pipeline.push(frame)
    pipeline.end()
    playlist = pipeline.renditions["source"].playlist
    inits = [s.init for s in playlist.segments]
    assert len(set(inits)) == 2
    switched = next(s for s in playlist.segments if s.init != inits[0])
    assert switched.discontinuity
    text = playlist.render().text.decode()
    assert text.count("#EXT-X-MAP") == 2 and "#EXT-X-DISCONTINUITY\n" in text


def test_multivariant_describes_the_source(source: Source) -> None:
    pipeline = run(source)
    text = pipeline.multivariant().text.decode()
    assert 'CODECS="avc1.42c00d,mp4a.40.2"' in text
    assert "RESOLUTION=320x240" in text and "FRAME-RATE=30.000" in text
    assert f"{pipeline.session}/source/index.m3u8" in text
    bandwidth = int(text.split("BANDWIDTH=")[1].split(",")[0])
    assert bandwidth > 0
