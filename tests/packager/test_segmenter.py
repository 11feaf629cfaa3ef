"""One segmenter alone, with real encoded frames: renditions that share an output timeline
cut at the same dates, a publish starts on a keyframe, the last part keeps trailing audio,
and the stats the multivariant playlist reads."""

from __future__ import annotations

import pytest

from packager.llhls import MediaPlaylist, PlaylistSettings
from packager.output_timeline import TIMELINE_START, OutputTimeline
from packager.segmenter import Segmenter
from tests.packager.packager_testing import Source, encode_source

SETTINGS = PlaylistSettings(part_target=0.2, segment_target=1.0, dvr_window=60)
WALL0 = 1_790_000_000.0


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source(seconds=3, b_frames=0)


def segmenter(timeline: OutputTimeline | None = None) -> Segmenter:
    return Segmenter(MediaPlaylist(SETTINGS),
                     timeline or OutputTimeline(lambda arrival: WALL0 + arrival))


def test_renditions_on_one_timeline_share_dates(source: Source) -> None:
    timeline = OutputTimeline(lambda arrival: WALL0 + arrival)
    video, audio = segmenter(timeline), segmenter(timeline)
    video.set_tracks([source.video])
    audio.set_tracks([source.audio])
    for frame in source.frames:
        (video if frame.is_video else audio).push(frame)
    video.end()
    audio.end()
    video_dates = [s.program_date_time for s in video.playlist.segments]
    audio_dates = [s.program_date_time for s in audio.playlist.segments]
    # The same source time has the same date in both, whichever fixed the placement (here
    # the audio, whose priming frame starts before the first picture).
    first_audio = next(f for f in source.frames if not f.is_video)
    assert first_audio.dts < 0
    assert video_dates[0] == pytest.approx(WALL0)
    assert audio_dates[0] == pytest.approx(WALL0 + first_audio.dts / 1000)
    assert len(video_dates) == 3 and len(audio_dates) >= 3  # the encoder's tail: audio
    for v, a in zip(video_dates, audio_dates[:3], strict=True):
        assert abs(v - a) <= 1024 / 48000  # audio cuts at its own frame boundaries
    # Both end just past their last frame, on the timeline the audio's first frame fixed.
    last_video = [f for f in source.frames if f.is_video][-1]
    last_audio = [f for f in source.frames if not f.is_video][-1]
    assert video.end_seconds == pytest.approx(
        TIMELINE_START + (last_video.dts + 1000 / 30 - first_audio.dts) / 1000, abs=0.002)
    assert audio.end_seconds == pytest.approx(
        TIMELINE_START + (last_audio.dts + 1024 / 48 - first_audio.dts) / 1000, abs=0.002)


def test_a_publish_starts_on_a_keyframe(source: Source) -> None:
    rendition = segmenter()
    rendition.set_tracks([source.video])
    video = [f for f in source.frames if f.is_video]
    for frame in video[5:]:  # joined mid-GOP: up to the next keyframe is dropped
        rendition.push(frame)
    rendition.end()
    segments = list(rendition.playlist.segments)
    assert len(segments) == 2 and segments[0].parts[0].independent
    assert segments[0].program_date_time == WALL0 + video[30].arrival


def test_the_final_part_keeps_trailing_audio(source: Source) -> None:
    rendition = segmenter()
    rendition.set_tracks([source.video, source.audio])
    for frame in source.frames:
        rendition.push(frame)
    rendition.end()
    assert rendition.playlist.ended
    last = [p for s in rendition.playlist.segments for p in s.parts][-1]
    assert last.last_arrival == max(f.arrival for f in source.frames)


def test_what_the_multivariant_reads(source: Source) -> None:
    rendition = segmenter()
    assert rendition.codecs() == "" and rendition.resolution() is None
    rendition.set_tracks([source.audio, source.video])  # video leads, whatever the order
    assert rendition.tracks == [source.video, source.audio]
    assert rendition.codecs() == "avc1.42c00d,mp4a.40.2"
    assert rendition.resolution() == (320, 240)
    for frame in source.frames:
        rendition.push(frame)
    stats = rendition.stats
    complete = [s for s in rendition.playlist.segments if s.complete]
    assert stats.segments == len(complete) == 2
    assert stats.frame_rate == 30.0
    assert stats.peak_bps >= stats.average_bps > 0
    assert stats.average_bps == pytest.approx(
        sum(len(s.data) * 8 for s in complete) / sum(s.duration for s in complete))


def test_the_same_tracks_keep_the_init_section(source: Source) -> None:
    rendition = segmenter()
    rendition.set_tracks([source.video, source.audio])
    rendition.set_tracks([source.audio, source.video])
    assert list(rendition.playlist.inits) == [1]


def test_frames_lost_on_the_way_neither_stretch_nor_hole_the_timeline(source: Source) -> None:
    """A publisher's pictures lost for a while (a WHIP publish through a lossy link drops
    them until the next keyframe): the picture before the gap is held over it, and the
    parts after it last what their frames do. Before, the gap entered the running estimate
    of the frame step, every following part's last sample took it, and a 1 s segment was
    listed as several seconds (hls.js then found a hole in its buffer and stalled)."""
    rendition = segmenter()
    rendition.set_tracks([source.video])
    video = [f for f in source.frames if f.is_video]
    gap = range(3, 25)  # 22 pictures (0.73 s) after the first three are lost
    for i, frame in enumerate(video):
        if i not in gap:
            rendition.push(frame)
    rendition.end()
    segments = rendition.playlist.segments
    listed = sum(s.duration for s in segments)
    span = (video[-1].dts - video[0].dts) / 1000 + 1 / 30
    assert listed == pytest.approx(span, abs=0.01)  # no hole, no stretch
    assert max(s.duration for s in segments) < 1.1
    parts = [p.duration for s in segments for p in s.parts]
    assert max(parts) <= 0.2 + 0.73 + 0.01  # only the part holding the gap is long
    assert sorted(parts)[-2] <= SETTINGS.part_target + 0.01
