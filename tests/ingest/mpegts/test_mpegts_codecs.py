"""ADTS in MPEG-TS (frames, timing, straddling PES). The H.264/HEVC normalisation these
streams go through is tested with the codec layer, in ``tests/ingest/codecs``."""

from __future__ import annotations

from ingest.media import TrackInfo
from ingest.mpegts.aac import AdtsParser, next_frame_time
from tests.ingest.mpegts.mpegts_testing import adts_frame

# -- AAC ------------------------------------------------------------------------------------


class Collected:
    """What an ``AdtsParser`` gave over several PES: frames, announced tracks, counts."""

    def __init__(self) -> None:
        self.parser = AdtsParser()
        self.out: list[tuple[int, bytes]] = []
        self.tracks: list[TrackInfo] = []
        self.errors = 0
        self.multi_block_frames = 0

    def pes(self, data: bytes, pts: int) -> int | None:
        result = self.parser.pes(data, pts)
        for frame in result.frames:
            if frame.announced is not None:
                self.tracks.append(frame.announced)
            self.out.append((frame.pts, frame.raw))
        self.errors += result.errors
        self.multi_block_frames += result.multi_block_frames
        return result.last


def test_frame_times_follow_ffmpeg() -> None:
    # ffprobe of h264_bframes_aac.ts (44.1 kHz): 138000, 140089, 142179, 144269, 146359, 148449
    times = [138000]
    for _ in range(5):
        times.append(next_frame_time(times[-1], 44100))
    assert times == [138000, 140089, 142179, 144269, 146359, 148449]
    assert next_frame_time(1000, 48000) == 2920 and next_frame_time(0, 8000) == 11520


def test_several_frames_per_pes() -> None:
    parser = Collected()
    data = b"".join(adts_frame(bytes([i]) * 10) for i in range(3))
    assert parser.pes(data, 9000) == 9000 + 2 * 1920
    assert parser.out == [(9000, b"\x00" * 10), (10920, b"\x01" * 10), (12840, b"\x02" * 10)]
    assert len(parser.tracks) == 1
    track = parser.tracks[0]
    assert (track.sample_rate, track.channels, track.config, track.codec_string) == (
        48000, 2, b"\x11\x90", "mp4a.40.2")


def test_a_frame_straddling_two_pes() -> None:
    parser = Collected()
    frames = [adts_frame(bytes([i]) * 100) for i in range(4)]
    stream = b"".join(frames)
    cut = len(frames[0]) + 50  # the second frame is cut in two
    parser.pes(stream[:cut], 0)
    parser.pes(stream[cut:], 3840)  # PTS of the first frame starting in it
    assert parser.out == [(0, b"\x00" * 100), (1920, b"\x01" * 100), (3840, b"\x02" * 100),
                          (5760, b"\x03" * 100)]
    assert parser.errors == 0


def test_a_header_straddling_two_pes() -> None:
    parser = Collected()
    stream = adts_frame(b"a" * 20) + adts_frame(b"b" * 20)
    parser.pes(stream[:30], 0)
    parser.pes(stream[30:], 1920)
    assert parser.out == [(0, b"a" * 20), (1920, b"b" * 20)]


def test_a_straddling_frame_lost_with_the_next_pes_start() -> None:
    parser = Collected()
    stream = adts_frame(b"a" * 20) + adts_frame(b"b" * 20)
    parser.pes(stream[:40], 0)
    parser.pes(adts_frame(b"c" * 20), 5000)  # not the continuation
    assert parser.out == [(0, b"a" * 20), (5000, b"c" * 20)] and parser.errors == 1


def test_broken_framing_skips_the_rest_of_the_pes() -> None:
    parser = Collected()
    data = adts_frame(b"a") + b"\x12\x34" + adts_frame(b"b")
    parser.pes(data, 0)
    assert parser.out == [(0, b"a")] and parser.errors == 1
    parser.pes(adts_frame(b"c"), 1920)
    assert parser.out[-1] == (1920, b"c")


def test_multi_block_frames_are_dropped_and_counted() -> None:
    parser = Collected()
    frame = bytearray(adts_frame(b"x" * 10))
    frame[6] |= 1  # number_of_raw_data_blocks_in_frame = 1 (two blocks)
    parser.pes(bytes(frame) + adts_frame(b"y"), 0)
    assert parser.out == [(1920, b"y")] and parser.multi_block_frames == 1


def test_config_change_announces_again() -> None:
    parser = Collected()
    parser.pes(adts_frame(b"a", rate_index=4, channels=2), 0)
    parser.pes(adts_frame(b"a", rate_index=4, channels=2), 2000)
    parser.pes(adts_frame(b"a", rate_index=3, channels=7, profile=0), 4000)
    assert [(t.sample_rate, t.channels, t.codec_string) for t in parser.tracks] == [
        (44100, 2, "mp4a.40.2"), (48000, 8, "mp4a.40.1")]
