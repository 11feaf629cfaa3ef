"""A standby's warm GOP: from its last keyframe only, bounded in frames and bytes (a GOP
that outgrows the caps is dropped whole, then the next keyframe starts again)."""

from __future__ import annotations

from ingest.media import Frame, TrackInfo
from mediad.warm_gop import WarmGop

VIDEO = TrackInfo(0, "video", "h264", 1000, width=640, height=360)
AUDIO = TrackInfo(1, "audio", "aac", 1000, sample_rate=48000, channels=2)


def video(ms: int, key: bool = False, size: int = 10) -> Frame:
    return Frame(VIDEO, ms, ms, key, bytes(size), arrival=ms / 1000)


def audio(ms: int) -> Frame:
    return Frame(AUDIO, ms, ms, True, bytes(4), arrival=ms / 1000)


def test_only_what_follows_the_last_keyframe_is_kept() -> None:
    warm = WarmGop()
    warm.has_video = True  # a video track was announced
    assert not warm.push(audio(0)) and not warm.push(video(10)) and not warm.ready
    assert warm.push(video(33, key=True))
    warm.push(audio(40))
    warm.push(video(66))
    assert warm.push(video(1000, key=True))  # a new GOP: the old one goes
    warm.push(audio(1010))
    frames = warm.take()
    assert frames == [video(1000, key=True), audio(1010)]
    assert [f.arrival for f in frames] == [1.0, 1.01]
    assert not warm.ready and warm.frames == 0 and warm.bytes == 0


def test_a_gop_over_the_frame_cap_is_dropped_until_the_next_keyframe() -> None:
    warm = WarmGop(max_frames=3)
    warm.push(video(0, key=True))
    warm.push(video(33))
    warm.push(video(66))
    assert warm.frames == 3
    warm.push(video(100))
    assert not warm.ready and warm.overflows == 1
    warm.push(video(133))  # still no keyframe: nothing kept
    assert warm.frames == 0
    assert warm.push(video(1000, key=True)) and warm.frames == 1


def test_a_gop_over_the_byte_cap_is_dropped() -> None:
    warm = WarmGop(max_bytes=250)
    warm.push(video(0, key=True, size=200))
    warm.push(video(33, size=40))
    assert warm.bytes == 240
    warm.push(video(66, size=20))
    assert not warm.ready and warm.overflows == 1


def test_without_video_every_audio_frame_starts_anew() -> None:
    warm = WarmGop()
    assert warm.push(audio(0)) and warm.push(audio(21))
    assert warm.take() == [audio(21)]
    assert not warm.has_video
    warm.push(video(40, key=True))  # the video turns up: from now on video keyframes rule
    assert warm.has_video and not warm.push(audio(50)) and warm.frames == 2
