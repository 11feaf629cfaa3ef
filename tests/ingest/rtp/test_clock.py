"""RTP timestamps onto the media axis: wraparound, tracks aligned by arrival until sender
reports tie them, then by the reports, and never a step backwards."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ingest.rtp.clock import NTP_SCALE, SessionClock, TrackClock

WRAP = 1 << 32


def ntp(seconds: float) -> int:
    return round(seconds * NTP_SCALE)


def test_a_timestamp_crossing_the_32_bit_wrap_keeps_counting_up() -> None:
    clock = TrackClock(90_000)
    start = WRAP - 3000
    assert clock.extend(start) == start
    assert clock.extend(1000) == WRAP + 1000  # 4000 ticks later, past the wrap
    assert clock.extend(WRAP - 1000) == start + 2000  # a reordered one before the wrap


def test_the_first_track_starts_the_axis_and_media_time_follows_its_rtp_clock() -> None:
    clock = SessionClock()
    clock.add_track("video", 90_000)
    assert clock.media_time("video", 123_456, arrival=10.0) == 0
    assert clock.media_time("video", 123_456 + 3000, arrival=10.033) == 3000
    assert clock.media_time("video", (123_456 + 3000 + WRAP) % WRAP, 10.04) == 3000


def test_video_wraps_around_in_media_time_without_a_jump() -> None:
    clock = SessionClock()
    clock.add_track("video", 90_000)
    first = WRAP - 4500
    times = [clock.media_time("video", (first + i * 3000) % WRAP, 1.0 + i / 30)
             for i in range(5)]
    assert times == [0, 3000, 6000, 9000, 12000]


def test_a_later_track_starts_where_the_lead_stands_when_it_arrives() -> None:
    clock = SessionClock()
    clock.add_track("video", 90_000)
    clock.add_track("audio", 48_000)
    clock.media_time("video", 1_000_000, arrival=5.0)
    clock.media_time("video", 1_000_000 + 9000, arrival=5.1)  # 0.1 s of video
    # Audio arrives 0.05 s after that frame: it starts 0.15 s into the axis.
    assert clock.media_time("audio", 777, arrival=5.15) == round(0.15 * 48_000)


def test_sender_reports_align_the_tracks_and_a_backward_correction_drops_frames() -> None:
    clock = SessionClock()
    clock.add_track("video", 90_000)
    clock.add_track("audio", 48_000)
    video0, audio0 = 50_000, 9_000_000
    # The sender captured audio sample audio0 at the same instant as video frame video0, but
    # the audio arrives 0.2 s late: by arrival it is placed 0.2 s too late.
    clock.media_time("video", video0, arrival=1.0)
    late = clock.media_time("audio", audio0, arrival=1.2)
    assert late == round(0.2 * 48_000)
    clock.sender_report("video", ntp(100.0), video0)
    clock.sender_report("audio", ntp(100.0), audio0)
    assert clock.resyncs == 1
    # Audio moved back by 0.2 s: frames behind the last one handed out are dropped ...
    assert clock.media_time("audio", audio0 + 960, arrival=1.22) is None
    assert clock.dropped == 1
    # ... and once past it, audio is where the reports put it: in step with video.
    ahead = audio0 + round(0.5 * 48_000)
    assert clock.media_time("audio", ahead, arrival=1.7) == round(0.5 * 48_000)


def test_a_track_starting_after_both_reports_is_placed_by_them_not_by_arrival() -> None:
    clock = SessionClock()
    clock.add_track("video", 90_000)
    clock.add_track("audio", 48_000)
    clock.media_time("video", 0, arrival=0.0)
    clock.sender_report("video", ntp(50.0), 90_000)  # video at 1 s of media time
    clock.sender_report("audio", ntp(51.0), 48_000)  # one second later, audio's clock at 48000
    # Audio's RTP 48000 is sender time 51.0 = video media time 2.0 s.
    assert clock.media_time("audio", 48_000, arrival=9.0) == 2 * 48_000


def test_a_report_that_would_move_a_track_by_seconds_is_refused() -> None:
    clock = SessionClock()
    clock.add_track("video", 90_000)
    clock.add_track("audio", 48_000)
    clock.media_time("video", 0, arrival=0.0)
    clock.media_time("audio", 0, arrival=0.0)
    clock.sender_report("video", ntp(10.0), 0)
    clock.sender_report("audio", ntp(17.0), 0)  # audio's RTP 0 "seven seconds later"
    assert clock.resyncs == 0 and clock.refused_reports == 1
    assert clock.media_time("audio", 960, arrival=0.02) == 960


def test_small_report_jitter_does_not_move_a_track() -> None:
    clock = SessionClock()
    clock.add_track("video", 90_000)
    clock.add_track("audio", 48_000)
    clock.media_time("video", 0, arrival=0.0)
    clock.media_time("audio", 0, arrival=0.0)
    clock.sender_report("video", ntp(10.0), 0)
    clock.sender_report("audio", ntp(10.005), 0)  # 5 ms: under RESYNC_SEC
    assert clock.resyncs == 0
    assert clock.media_time("audio", 960, arrival=0.02) == 960


@given(st.lists(st.tuples(st.sampled_from(["video", "audio"]),
                          st.integers(0, WRAP - 1), st.floats(0, 1e6)), max_size=60),
       st.lists(st.tuples(st.sampled_from(["video", "audio"]), st.integers(0, (1 << 64) - 1),
                          st.integers(0, WRAP - 1)), max_size=6))
def test_any_input_gives_media_times_that_never_go_backwards(
        frames: list[tuple[str, int, float]], reports: list[tuple[str, int, int]]) -> None:
    clock = SessionClock()
    clock.add_track("video", 90_000)
    clock.add_track("audio", 48_000)
    last: dict[str, int] = {}
    for i, (kind, timestamp, arrival) in enumerate(frames):
        if i < len(reports):
            clock.sender_report(*reports[i])
        media = clock.media_time(kind, timestamp, arrival)
        if media is not None:
            assert media >= last.get(kind, media)
            last[kind] = media
