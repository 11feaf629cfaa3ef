"""EncoderAdvisor, rule by rule, on synthetic frames: what a clean OBS setup sends gives no
advice; each bad setting gives its code, the measured value and what to set in OBS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ingest.media import Frame, TrackInfo
from mediad.encoder_advice import (
    AUDIO_SAMPLE_RATE,
    B_FRAMES,
    BITRATE,
    KEYFRAME_INTERVAL,
    VARIABLE_FRAME_RATE,
    AdviceSettings,
    EncoderAdvisor,
)

VIDEO = TrackInfo(0, "video", "h264", 1000, width=1280, height=720)  # RTMP: milliseconds
VIDEO_90K = TrackInfo(0, "video", "h264", 90_000, width=1280, height=720)  # MPEG-TS


def audio(rate: int, codec: str = "aac") -> TrackInfo:
    return TrackInfo(1, "audio", codec, rate, sample_rate=rate, channels=2)  # type: ignore[arg-type]


def video_frames(seconds: float, fps: float = 30, gop: int = 60, size: int = 1000,
                 track: TrackInfo = VIDEO, b_frames: bool = False,
                 start: float = 0.0) -> Iterator[Frame]:
    """A constant-rate stream, timestamps rounded to the timescale as an ingest gives them.
    With ``b_frames``: I P B B order, each B shown before the P decoded ahead of it."""
    count = round(seconds * fps)
    delay = 2 if b_frames else 0  # presentation delay in frames, so no pts precedes a dts
    for n in range(count):
        dts = round((start + n / fps) * track.timescale)
        shown = n
        if b_frames and n % gop:
            # within a GOP: decode order P(n) B(n-1) ... shows each B one slot earlier
            shown = n + 1 if n % 3 == 1 else n - 1 if n % 3 == 2 else n
        pts = round((start + (shown + delay) / fps) * track.timescale)
        yield Frame(track, dts, pts, n % gop == 0, bytes(size))


def advisor_with(frames: Iterator[Frame], *tracks: TrackInfo,
                 settings: AdviceSettings | None = None) -> EncoderAdvisor:
    advisor = EncoderAdvisor(settings)
    for track in tracks:
        advisor.track(track)
    for frame in frames:
        advisor.frame(frame)
    return advisor


def codes(advisor: EncoderAdvisor) -> list[str]:
    return [a.code for a in advisor.advice()]


def test_a_clean_publish_gets_no_advice() -> None:
    """2 s keyframes, 30 fps in milliseconds, 48 kHz AAC, B-frames (WebRTC is off)."""
    advisor = advisor_with(video_frames(20, b_frames=True), VIDEO, audio(48_000),
                           settings=AdviceSettings(max_ingest_kbps=6000))
    assert advisor.advice() == []
    assert advisor.keyframe_interval == pytest.approx(2.0, abs=0.04)


def test_obs_default_keyframe_interval_is_advised_against() -> None:
    advisor = advisor_with(video_frames(20, gop=250), VIDEO)  # OBS's auto: 8.3 s at 30 fps
    [advice] = advisor.advice()
    assert advice.code == KEYFRAME_INTERVAL
    assert advice.value == pytest.approx(8.3, abs=0.05) and advice.unit == "s"
    assert advice.limit == 2.0
    assert "Keyframe Interval: 1 s or 2 s" in advice.obs
    assert "8.3 s apart" in advice.message


def test_a_long_gop_is_seen_before_its_second_keyframe() -> None:
    """The first GOP of a 5 s interval: after 3 s the rule already knows it is over 2 s."""
    advisor = advisor_with(video_frames(3, gop=150), VIDEO)
    [advice] = advisor.advice()
    assert advice.code == KEYFRAME_INTERVAL and advice.message.startswith("No keyframe for 3.0 s")
    assert advisor.keyframe_interval == pytest.approx(2.97, abs=0.01)
    short = advisor_with(video_frames(2, gop=150), VIDEO)
    assert codes(short) == []


def test_a_fixed_keyframe_interval_clears_the_advice_after_a_few_gops() -> None:
    advisor = advisor_with(video_frames(10, gop=150), VIDEO)
    assert codes(advisor) == [KEYFRAME_INTERVAL]
    for frame in video_frames(10, gop=30, start=10.0):
        advisor.frame(frame)
    assert codes(advisor) == []


def test_b_frames_are_detected_and_advised_against_only_for_webrtc() -> None:
    frames = list(video_frames(10, b_frames=True))
    off = advisor_with(iter(frames), VIDEO)
    assert off.reordered_frames > 0 and codes(off) == []
    on = advisor_with(iter(frames), VIDEO, settings=AdviceSettings(webrtc_playback=True))
    [advice] = on.advice()
    assert advice.code == B_FRAMES and advice.value == on.reordered_frames
    assert "B-frames to 0" in advice.obs
    plain = advisor_with(video_frames(10), VIDEO, settings=AdviceSettings(webrtc_playback=True))
    assert plain.reordered_frames == 0 and codes(plain) == []


@pytest.mark.parametrize(("size", "advised"), [(20_000, False), (35_000, True)])
def test_bitrate_over_the_server_limit(size: int, advised: bool) -> None:
    """30 fps of ``size`` bytes: 4.8 Mbit/s is within a 6000 limit, 8.4 Mbit/s is not."""
    settings = AdviceSettings(max_ingest_kbps=6000)
    advisor = advisor_with(video_frames(12, size=size), VIDEO, settings=settings)
    assert advisor.bitrate_kbps == pytest.approx(size * 8 * 30 / 1000, rel=0.01)
    assert codes(advisor) == ([BITRATE] if advised else [])
    if advised:
        [advice] = advisor.advice()
        assert advice.unit == "kbit/s" and advice.limit == 6000
        assert advice.value == pytest.approx(8400, rel=0.01)
        assert "Bitrate: 6000 Kbps or less" in advice.obs


def test_no_limit_no_bitrate_advice_and_not_from_the_first_seconds() -> None:
    assert codes(advisor_with(video_frames(12, size=100_000), VIDEO)) == []
    early = advisor_with(video_frames(3, size=100_000), VIDEO,
                         settings=AdviceSettings(max_ingest_kbps=1000))
    assert early.bitrate_kbps is None and codes(early) == []


def test_audio_and_video_bitrates_add_up_on_their_own_timelines() -> None:
    advisor = EncoderAdvisor(AdviceSettings(max_ingest_kbps=100_000))
    track = audio(48_000)
    for frame in video_frames(10, size=10_000, track=VIDEO_90K):
        advisor.frame(frame)
    for n in range(470):  # 10 s of 1024-sample AAC frames of 500 bytes, timeline at 900 s
        advisor.frame(Frame(track, 900 * 48_000 + n * 1024, 900 * 48_000 + n * 1024,
                            True, bytes(500)))
    assert advisor.bitrate_kbps == pytest.approx(2400 + 188, rel=0.02)


@pytest.mark.parametrize(("rate", "advised"), [
    (48_000, False), (44_100, False), (32_000, True), (22_050, True), (96_000, True)])
def test_audio_sample_rates_players_mishandle(rate: int, advised: bool) -> None:
    advisor = advisor_with(iter(()), VIDEO, audio(rate))
    assert codes(advisor) == ([AUDIO_SAMPLE_RATE] if advised else [])
    if advised:
        [advice] = advisor.advice()
        assert advice.value == rate and advice.unit == "Hz"
        assert "Sample Rate: 48 kHz" in advice.obs


def test_opus_is_never_advised_on_its_rate() -> None:
    assert codes(advisor_with(iter(()), audio(24_000, "opus"))) == []


@pytest.mark.parametrize("fps", [25, 29.97, 30, 59.94, 60])
def test_constant_rates_in_milliseconds_do_not_vary(fps: float) -> None:
    assert codes(advisor_with(video_frames(10, fps=fps, gop=round(fps)), VIDEO)) == []


def test_a_varying_frame_rate_is_advised_against() -> None:
    """A phone encoder's variable rate: intervals between 25 and 50 ms."""
    advisor = EncoderAdvisor()
    dts = 0
    for n in range(200):
        advisor.frame(Frame(VIDEO, dts, dts, n % 30 == 0, bytes(100)))
        dts += (25, 50, 33, 45, 28)[n % 5]
    [advice] = advisor.advice()
    assert advice.code == VARIABLE_FRAME_RATE and advice.unit == "ms"
    assert advice.value > advice.limit  # type: ignore[operator]
    assert "between 20 and 40 fps" in advice.message
    assert "Common FPS Values: 30 or 60" in advice.obs


def test_too_few_frames_say_nothing_about_the_rate() -> None:
    advisor = EncoderAdvisor()
    for n, dts in enumerate((0, 10, 60, 70, 200)):
        advisor.frame(Frame(VIDEO, dts, dts, n == 0, b""))
    assert codes(advisor) == []


def test_a_new_publisher_starts_afresh() -> None:
    advisor = advisor_with(video_frames(10, gop=150), VIDEO)
    assert codes(advisor) == [KEYFRAME_INTERVAL]
    advisor.reset()
    for frame in video_frames(4, gop=30, start=500.0):
        advisor.frame(frame)
    assert codes(advisor) == []


def test_frames_lost_on_the_way_are_not_taken_for_a_long_gop() -> None:
    advisor = advisor_with(video_frames(1.5, gop=30), VIDEO)
    advisor.gap()  # a reader fell behind: the next frames come 5 s later
    for frame in video_frames(1.5, gop=30, start=6.5):
        advisor.frame(frame)
    assert codes(advisor) == [] and advisor.keyframe_interval == pytest.approx(1.0, abs=0.04)


def test_advice_travels_as_a_message() -> None:
    [advice] = advisor_with(video_frames(6, gop=150), VIDEO).advice()
    assert advice.as_message() == {
        "code": "keyframe_interval", "value": advice.value, "unit": "s", "limit": 2.0,
        "message": advice.message, "obs": advice.obs}
