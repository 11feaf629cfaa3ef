"""The shared WebRTC feed of one stream: what each viewer gets, from real encoded media."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from aiortc.mediastreams import MediaStreamError

from ingest.codecs.nal import split_annex_b
from ingest.media import Frame, TrackInfo
from mediad.webrtc.whep_feed import WhepFeed
from mediad.webrtc.whep_keyframes import KeyframeRequests
from mediad.webrtc.whep_units import WhepUnit
from mediad.webrtc.whep_viewer_queue import Kind, ViewerQueue
from packager.audio_to_opus import AudioToOpus
from packager.encoders import inline_hop
from tests.packager.packager_testing import Source, encode_source


class Asker:
    def __init__(self) -> None:
        self.asked = 0

    def request_keyframe(self) -> None:
        self.asked += 1


def make_feed(*, queue_frames: int = 400, sources: Callable[[], list[object]] = list,
              opus: Any = None) -> WhepFeed:
    kwargs: dict[str, Any] = {}
    if opus is not None:
        kwargs["opus"] = opus
    return WhepFeed("s", queue_frames=queue_frames, pipeline=lambda: None, hop=inline_hop(),
                    keyframes=KeyframeRequests(sources, clock=lambda: 0.0), **kwargs)


def drain_units(viewer: ViewerQueue, kind: Kind) -> list[WhepUnit]:
    queue = viewer._queues[kind]  # what the viewer's track would pull
    units = list(queue)
    queue.clear()
    return units


def joined(feed: WhepFeed) -> ViewerQueue:
    viewer = feed.add_viewer()
    viewer.joined = True
    feed._join(viewer)
    return viewer


@pytest.fixture(scope="module")
def plain() -> Source:
    return encode_source(seconds=3, b_frames=0)


@pytest.fixture(scope="module")
def with_b_frames() -> Source:
    return encode_source(seconds=2, b_frames=2)


def opus_track() -> TrackInfo:
    return TrackInfo(1, "audio", "opus", 1000, b"", "opus", sample_rate=48000, channels=2)


def feed_source(feed: WhepFeed, source: Source, audio: TrackInfo | None = None,
                frames: list[Frame] | None = None) -> None:
    feed.track_changed(source.video)
    feed.track_changed(audio or source.audio)
    for frame in frames if frames is not None else source.frames:
        if not frame.is_video and audio is not None:
            frame = dataclasses.replace(frame, track=audio)
        feed.frame(frame)


def test_a_b_frame_free_source_is_served_as_annex_b_with_parameter_sets(plain: Source
                                                                       ) -> None:
    feed = make_feed()
    viewer = joined(feed)
    feed_source(feed, plain, audio=opus_track())
    video = drain_units(viewer, "video")
    assert len(video) == sum(f.is_video for f in plain.frames)
    first = split_annex_b(video[0].data)
    assert [nal[0] & 0x1F for nal in first][:2] == [7, 8]  # SPS, PPS before the IDR
    assert video[0].keyframe
    stamps = [u.timestamp for u in video]
    assert stamps == sorted(stamps) and stamps[0] >= 0
    assert stamps[1] - stamps[0] == pytest.approx(3000, abs=90)  # 30 fps on 90 kHz


def test_a_source_with_b_frames_and_no_ladder_has_no_webrtc_video(with_b_frames: Source
                                                                  ) -> None:
    feed = make_feed()
    viewer = joined(feed)
    feed_source(feed, with_b_frames, audio=opus_track())
    video = drain_units(viewer, "video")
    assert len(video) <= 1  # at most the first keyframe, before reordering showed
    assert feed.choice.wanted is None
    assert feed.refusal(ladder=False) is not None and "B-frames" in (
        feed.refusal(ladder=False) or "")
    assert feed.refusal(ladder=True) is None  # a rung may still come


def test_b_frames_switch_to_the_tallest_rung_at_its_keyframe(with_b_frames: Source,
                                                             plain: Source) -> None:
    feed = make_feed()
    viewer = joined(feed)
    feed.track_changed(with_b_frames.video)
    rung_big = dataclasses.replace(plain.video, height=720)
    rung_small = dataclasses.replace(plain.video, height=240)
    video_source = [f for f in with_b_frames.frames if f.is_video]
    rung_frames = sorted((f for f in plain.frames if f.is_video), key=lambda f: f.dts)
    by_pts = {f.pts: f for f in rung_frames}
    for frame in video_source:
        feed.frame(frame)
        rung = by_pts.get(frame.pts)  # the rung's picture of this source picture
        if rung is not None:
            feed.encoded("240p", dataclasses.replace(rung, track=rung_small))
            feed.encoded("720p", dataclasses.replace(rung, track=rung_big))
    assert feed.choice.wanted == "720p"
    assert feed._serving == "720p"
    video = drain_units(viewer, "video")
    served = video[1:]  # after the source's first keyframe
    assert served and served[0].keyframe
    assert [u.timestamp for u in video] == sorted(u.timestamp for u in video)


def test_a_joiner_gets_the_current_gop_squeezed_before_the_newest_picture(plain: Source
                                                                          ) -> None:
    asker = Asker()
    feed = make_feed(sources=lambda: [asker])
    video = [f for f in plain.frames if f.is_video]
    feed.track_changed(plain.video)
    for frame in video[:45]:  # 1 s GOPs at 30 fps: 15 pictures into the second GOP
        feed.frame(frame)
    newest = feed._newest_video
    assert newest is not None
    viewer = joined(feed)
    units = drain_units(viewer, "video")
    assert len(units) == 15 and units[0].keyframe
    assert [u.timestamp for u in units] == list(range(newest - 14, newest + 1))
    assert asker.asked == 1
    feed.frame(video[45])
    after = drain_units(viewer, "video")
    assert after[0].timestamp > newest


def test_audio_is_held_until_the_pictures_of_its_time_went_out(plain: Source) -> None:
    feed = make_feed()
    viewer = joined(feed)
    feed.track_changed(plain.video)
    opus = opus_track()
    feed.track_changed(opus)
    video = [f for f in plain.frames if f.is_video]
    audio = [dataclasses.replace(f, track=opus) for f in plain.frames if not f.is_video]
    for frame in audio[:20]:  # audio arrives ahead of its pictures (~0.4 s of it)
        feed.frame(frame)
    assert drain_units(viewer, "audio") == []
    for frame in video[:6]:  # 0.2 s of pictures
        feed.frame(frame)
    released = drain_units(viewer, "audio")
    newest_video = feed._newest_video
    assert released and newest_video is not None
    assert all(u.seconds <= newest_video / 90000 for u in released)
    assert feed.lip_sync.held > 0


def test_audio_alone_is_not_held() -> None:
    feed = make_feed()
    viewer = joined(feed)
    opus = opus_track()
    feed.track_changed(opus)
    feed.frame(Frame(opus, 0, 0, True, b"\xfc\x00"))
    assert len(drain_units(viewer, "audio")) == 1


def test_a_slow_viewer_drops_to_the_next_keyframe_and_is_counted(plain: Source) -> None:
    feed = make_feed(queue_frames=40)
    slow, fast = joined(feed), joined(feed)
    feed.track_changed(plain.video)
    video = [f for f in plain.frames if f.is_video]
    for frame in video:
        feed.frame(frame)
        drain_units(fast, "video")
    assert slow.falls >= 1 and slow.dropped_units > 0
    assert fast.falls == 0
    kept = drain_units(slow, "video")
    assert kept[0].keyframe
    assert feed.falls == slow.falls
    feed.remove_viewer(slow)
    assert feed.falls >= 1  # the counts outlive the viewer


def test_a_new_publisher_never_takes_timestamps_back(plain: Source) -> None:
    feed = make_feed()
    viewer = joined(feed)
    opus = opus_track()
    feed_source(feed, plain, audio=opus)
    before_v = drain_units(viewer, "video")
    before_a = drain_units(viewer, "audio")
    feed.discontinuity()  # the new publisher restarts its clock at 0
    feed_source(feed, plain, audio=opus)
    after_v = drain_units(viewer, "video")
    after_a = drain_units(viewer, "audio")
    assert after_v[0].keyframe
    assert after_v[0].timestamp > before_v[-1].timestamp
    assert after_a[0].timestamp > before_a[-1].timestamp
    stamps = [u.timestamp for u in before_v + after_v]
    assert stamps == sorted(stamps)


def test_aac_is_encoded_to_opus_once_whatever_the_viewer_count(plain: Source) -> None:
    made: list[AudioToOpus] = []

    def opus(track: TrackInfo, deliver: Callable[[Frame], None]) -> AudioToOpus:
        encoder = AudioToOpus(track, deliver, lossless=True)
        made.append(encoder)
        return encoder

    feed = make_feed(opus=opus)
    viewers = [joined(feed) for _ in range(5)]
    feed_source(feed, plain)
    made[0].stop()  # everything queued is encoded and delivered
    assert len(made) == 1 and feed.opus_encoders == 1
    counts = {len(drain_units(v, "audio")) for v in viewers}
    assert len(counts) == 1 and counts.pop() > 100  # 3 s of 20 ms packets each
    joined(feed)
    feed_source(feed, plain, frames=[])  # a viewer more, the same track: no new encoder
    assert len(made) == 1


def test_closing_the_feed_ends_every_viewer(plain: Source) -> None:
    feed = make_feed()
    viewer = joined(feed)
    feed.close()
    assert viewer.closed and not feed.viewers
    with pytest.raises(MediaStreamError):
        asyncio.run(viewer.get("video"))
