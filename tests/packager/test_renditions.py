"""The rendition set of a stream: every playlist reports the others whenever a member
joins, a shared target duration is settled for the set once each member proposed one, and
the multivariant playlist is rendered from the current members."""

from __future__ import annotations

from dataclasses import replace

import m3u8
import pytest

from packager.llhls import PlaylistSettings
from packager.output_timeline import OutputTimeline
from packager.renditions import RenditionSet
from tests.packager.packager_testing import Source, encode_source

SETTINGS = PlaylistSettings(part_target=0.2, segment_target=1.0, dvr_window=60)


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source(seconds=3, b_frames=0)


def new_set(*, shared: bool) -> RenditionSet:
    return RenditionSet(SETTINGS, OutputTimeline(lambda arrival: 1.79e9 + arrival),
                        shared_target_duration=shared)


def test_members_report_each_other_whenever_one_joins() -> None:
    renditions = new_set(shared=False)
    source = renditions.add("source")
    assert renditions.add("source") is source
    assert not source.playlist.siblings
    rung = renditions.add("360p")
    audio = renditions.add("audio", audio=True)
    assert list(renditions) == ["source", "360p", "audio"] and len(renditions) == 3
    assert source.playlist.siblings == (("../360p/index.m3u8", rung.playlist),
                                        ("../audio/index.m3u8", audio.playlist))
    assert [uri for uri, _ in audio.playlist.siblings] == ["../source/index.m3u8",
                                                           "../360p/index.m3u8"]


def test_a_shared_target_duration_waits_for_every_member(source: Source) -> None:
    renditions = new_set(shared=True)
    video, audio = renditions.add("source"), renditions.add("audio", audio=True)
    video.set_tracks([source.video])
    audio.set_tracks([source.audio])
    for frame in source.frames:
        if frame.is_video:
            video.push(frame)
            renditions.settle_target_duration()
    assert video.playlist.proposed_target_duration == 1
    assert not renditions.ready, "the audio has no segment yet"
    for frame in source.frames:
        if not frame.is_video:
            audio.push(frame)
            renditions.settle_target_duration()
    assert renditions.ready
    assert {m.playlist.target_duration for m in renditions.values()} == {1}


def test_own_target_durations_without_sharing(source: Source) -> None:
    renditions = new_set(shared=False)
    video = renditions.add("source")
    renditions.add("other")
    video.set_tracks([source.video])
    for frame in source.frames:
        if frame.is_video:
            video.push(frame)
    assert video.playlist.ready and not renditions.ready


def test_the_multivariant_lists_the_current_members(source: Source) -> None:
    renditions = new_set(shared=True)
    video, audio = renditions.add("source"), renditions.add("audio", audio=True)
    video.set_tracks([source.video])
    audio.set_tracks([source.audio])
    first = renditions.multivariant("s1", 1)
    assert renditions.multivariant("s1", 1) is first, "shared until something changes"
    for frame in source.frames:
        (video if frame.is_video else audio).push(frame)
        renditions.settle_target_duration()
    after = renditions.multivariant("s1", 1)
    assert after is not first, "new segments: new bit rates"
    parsed = m3u8.loads(after.text.decode())
    assert [(m.uri, m.channels) for m in parsed.media] == [("s1/audio/index.m3u8", "1")]
    [variant] = parsed.playlists
    assert variant.uri == "s1/source/index.m3u8"
    assert variant.stream_info.codecs == "avc1.42c00d,mp4a.40.2"
    assert variant.stream_info.bandwidth == round(video.stats.peak_bps + audio.stats.peak_bps)
    late = renditions.add("120p")  # a member that joins later is listed once it is ready
    parsed = m3u8.loads(renditions.multivariant("s1", 1).text.decode())
    assert [p.uri for p in parsed.playlists] == ["s1/source/index.m3u8"]
    assert renditions.ready, "the set stays servable meanwhile"
    late.set_tracks([source.video])
    for frame in source.frames:
        if frame.is_video:
            late.push(frame)
            renditions.settle_target_duration()
    assert late.playlist.target_duration == video.playlist.target_duration
    parsed = m3u8.loads(renditions.multivariant("s1", 1).text.decode())
    assert [p.uri for p in parsed.playlists] == ["s1/source/index.m3u8", "s1/120p/index.m3u8"]


def test_the_multivariant_follows_a_members_new_tracks(source: Source) -> None:
    renditions = new_set(shared=False)
    video = renditions.add("source")
    video.set_tracks([source.video])
    for frame in source.frames:
        if frame.is_video:
            video.push(frame)
    renditions.settle_target_duration()
    assert "RESOLUTION=320x240" in renditions.multivariant("s1", 0).text.decode()
    video.set_tracks([replace(source.video, width=212, height=120)])
    assert "RESOLUTION=212x120" in renditions.multivariant("s1", 0).text.decode(), \
        "a new encoder's picture size at once, not a segment later"
