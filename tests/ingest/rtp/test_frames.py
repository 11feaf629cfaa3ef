"""Depacketized WebRTC media into the media model: the track from in-band parameter sets,
nothing before the first IDR, dts = pts on one axis with the audio, a lost picture holding
everything until the next keyframe."""

from __future__ import annotations

import av
from hypothesis import given
from hypothesis import strategies as st

from ingest.codecs.nal import annex_b
from ingest.errors import ProtocolError
from ingest.media import Frame, TrackInfo
from ingest.rtp.frames import RtpPublish, opus_head

# A 320x240 baseline SPS and a PPS as x264 writes them.
SPS = bytes.fromhex("6742c00dda0507e84000000300400000078a3c50aa")
PPS = bytes.fromhex("68ce3c80")
IDR = b"\x65\x88\x84\x00\x33\xff"
SLICE = b"\x41\x9a\x02\x03"


def key_unit() -> bytes:
    return annex_b([SPS, PPS, IDR])


def frames(events: list[TrackInfo | Frame]) -> list[Frame]:
    return [e for e in events if isinstance(e, Frame)]


def test_the_opus_head_says_48_khz_and_the_channels() -> None:
    head = opus_head(2)
    assert head.startswith(b"OpusHead") and len(head) == 19 and head[9] == 2


def test_video_starts_at_the_first_idr_with_its_track_announced_before() -> None:
    publish = RtpPublish()
    assert publish.video(annex_b([SLICE]), 1000, 0.0) == []
    assert publish.dropped_before_keyframe == 1 and publish.waiting_for_keyframe
    events = publish.video(key_unit(), 4000, 0.033)
    track, _audio, frame = events
    assert isinstance(track, TrackInfo) and track.codec == "h264"
    assert (track.width, track.height, track.timescale) == (320, 240, 90_000)
    assert isinstance(frame, Frame) and frame.keyframe and frame.track == track
    assert frame.payload == len(IDR).to_bytes(4, "big") + IDR  # parameter sets left for avcC
    assert not publish.waiting_for_keyframe
    (second,) = frames(publish.video(annex_b([SLICE]), 7000, 0.066))
    assert (second.dts, second.pts, second.keyframe) == (3000, 3000, False)


def test_audio_frames_share_the_axis_and_both_tracks_come_before_the_first_frame() -> None:
    publish = RtpPublish()
    assert publish.audio(b"\xfc\xff\xfe", 4_040, 0.98) == []  # before the first picture
    assert publish.audio_before_video == 1
    video_track, audio_track, key = publish.video(key_unit(), 10_000, 1.0)
    assert isinstance(video_track, TrackInfo) and video_track.kind == "video"
    assert isinstance(audio_track, TrackInfo) and audio_track.codec == "opus"
    assert audio_track.channels == 2 and isinstance(key, Frame) and key.keyframe
    (frame,) = frames(publish.audio(b"\xfc\xff\xfe", 5_000, 1.02))
    assert frame.track == audio_track and frame.dts == round(0.02 * 48_000)
    assert frames(publish.audio(b"\xfc\xff\xfe", 5_960, 1.04))[0].dts == 960 + 960
    assert publish.audio(b"", 6_920, 1.06) == [] and publish.refused_audio == 1
    assert publish.audio(bytes(4000), 6_920, 1.06) == [] and publish.refused_audio == 2


def test_an_audio_only_publish_starts_at_its_first_packet() -> None:
    publish = RtpPublish(expects_video=False)
    track, frame = publish.audio(b"\xfc\xff\xfe", 123, 0.0)
    assert isinstance(track, TrackInfo) and isinstance(frame, Frame) and frame.dts == 0


def test_a_lost_picture_holds_everything_until_the_next_keyframe() -> None:
    publish = RtpPublish()
    publish.video(key_unit(), 0, 0.0)
    publish.picture_lost()
    assert publish.waiting_for_keyframe and publish.lost_pictures == 1
    assert frames(publish.video(annex_b([SLICE]), 6000, 0.066)) == []
    (frame,) = frames(publish.video(key_unit(), 9000, 0.1))
    assert frame.keyframe and frame.dts == 9000
    assert publish.counters()["lost_pictures"] == 1


def x264_keyframe(width: int, height: int) -> bytes:
    """An IDR access unit, parameter sets in front, as libx264 writes it (Annex B)."""
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = width, height, "yuv420p"
    encoder.options = {"preset": "ultrafast", "tune": "zerolatency"}
    packets = [*encoder.encode(av.VideoFrame(width, height, "yuv420p")), *encoder.encode(None)]
    return bytes(packets[0])


def test_a_changed_resolution_announces_a_new_track() -> None:
    publish = RtpPublish()
    publish.video(x264_keyframe(320, 240), 0, 0.0)
    events = publish.video(x264_keyframe(640, 360), 3000, 0.033)
    assert isinstance(events[0], TrackInfo) and (events[0].width, events[0].height) == (640, 360)
    assert isinstance(events[1], Frame) and events[1].track == events[0]


@given(st.lists(st.tuples(st.booleans(), st.binary(max_size=64), st.integers(0, (1 << 32) - 1),
                          st.floats(0, 1e6)), max_size=40))
def test_random_units_raise_nothing_but_protocol_errors(
        units: list[tuple[bool, bytes, int, float]]) -> None:
    publish = RtpPublish()
    for video, data, timestamp, arrival in units:
        try:
            if video:
                publish.video(b"\x00\x00\x00\x01" + data, timestamp, arrival)
            else:
                publish.audio(data, timestamp, arrival)
        except ProtocolError:
            pass
