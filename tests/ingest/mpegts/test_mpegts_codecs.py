"""Annex B splitting, the H.264/HEVC access-unit parsers (parameter sets into avcC/hvcC, what
leaves the samples, keyframes) and ADTS (frames, timing, straddling PES)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ingest.media import TrackInfo
from ingest.mpegts.aac import AdtsParser, next_frame_time
from ingest.mpegts.annexb import split_annex_b
from ingest.mpegts.h264 import H264Parser, avc_config, parse_sps
from ingest.mpegts.hevc import HevcParser, hevc_config
from tests.ingest.mpegts.mpegts_testing import (
    FIXTURES,
    adts_frame,
    annex_b,
    demux,
    load,
    nal_units,
    record_nals,
)
from tests.peers import require_tool


@pytest.fixture(scope="module")
def h264_units() -> tuple[TrackInfo, list[list[bytes]]]:
    """The H.264 fixture's track and its access units as NAL lists (SPS/PPS put back in
    front of the IDR, with an AUD, as ffmpeg muxes them)."""
    video = demux([load("h264_bframes_aac.ts")]).of("video")
    track = video[0].track
    units = [nal_units(f) for f in video]
    units[0] = [b"\x09\xf0", *record_nals(track.config, False), *units[0]]
    return track, units


# -- Annex B --------------------------------------------------------------------------------


def test_split_annex_b() -> None:
    data = (b"junk\x00\x00\x00\x01\x09\xf0\x00\x00\x01\x67\x42\x00\x00\x00\x00\x01\x68\xce"
            b"\x00\x00\x01\x00\x00\x01\x65\x88\x00\x00\x03\x00\x01")
    assert split_annex_b(data) == [b"\x09\xf0", b"\x67\x42", b"\x68\xce",
                                   b"\x65\x88\x00\x00\x03\x00\x01"]
    assert split_annex_b(b"no start code") == []
    assert split_annex_b(b"\x00\x00\x01") == []


# -- H.264 ----------------------------------------------------------------------------------


def test_h264_parameter_sets_leave_the_sample_for_the_record(
        h264_units: tuple[TrackInfo, list[list[bytes]]]) -> None:
    track, units = h264_units
    parser = H264Parser()
    sample, key, announced = parser.access_unit(annex_b(units[0]))
    assert key and announced == track and parser.track == track
    kinds = [n[0] & 0x1F for n in sample]
    assert 5 in kinds and not {7, 8, 9} & set(kinds)
    sample, key, announced = parser.access_unit(annex_b(units[1]))
    assert not key and announced is None and sample == units[1]
    # The same parameter sets again (every IDR carries them): nothing new to announce.
    assert parser.access_unit(annex_b(units[0]))[2] is None


def test_h264_without_pps_has_no_track(h264_units: tuple[TrackInfo, list[list[bytes]]]) -> None:
    _, units = h264_units
    parser = H264Parser()
    without_pps = [n for n in units[0] if n[0] & 0x1F != 8]
    _, key, announced = parser.access_unit(annex_b(without_pps))
    assert key and announced is None and parser.track is None


def test_h264_changed_sps_announces_a_new_track(
        h264_units: tuple[TrackInfo, list[list[bytes]]]) -> None:
    _, units = h264_units
    other = demux([load("h264_cbr_variety.ts")]).tracks[0]
    parser = H264Parser()
    parser.access_unit(annex_b(units[0]))
    _, _, announced = parser.access_unit(annex_b(record_nals(other.config, False)))
    assert announced == other and (announced.width, announced.height) == (176, 100)


def test_h264_several_pps_all_go_into_the_record(
        h264_units: tuple[TrackInfo, list[list[bytes]]]) -> None:
    track, _ = h264_units
    sps, pps = record_nals(track.config, False)
    pps_1 = b"\x68\x5b\xef\x2c"  # the same PPS with pic_parameter_set_id 1 (ue "010")
    assert pps == b"\x68\xef\xbc\xb0"
    parser = H264Parser()
    parser.access_unit(annex_b([sps, pps, pps_1]))
    assert parser.track is not None
    assert record_nals(parser.track.config, False) == [sps, pps, pps_1]
    assert parser.track.config[5] == 0xE1 and parser.track.config[6 + 2 + len(sps)] == 2


def test_h264_unreadable_sps_stays_in_the_sample_and_is_counted() -> None:
    parser = H264Parser()
    broken = b"\x67\x64\x01"  # cut after the profile bytes
    sample, _, announced = parser.access_unit(annex_b([broken, b"\x65\x88\x84"]))
    assert sample == [broken, b"\x65\x88\x84"] and announced is None
    assert parser.parameter_set_errors == 1


def test_avcc_layout(h264_units: tuple[TrackInfo, list[list[bytes]]]) -> None:
    track, _ = h264_units
    sps, pps = record_nals(track.config, False)
    config = avc_config([sps], [pps], parse_sps(sps))
    assert config == track.config
    assert config[:6] == bytes((1, sps[1], sps[2], sps[3], 0xFF, 0xE1))
    assert config[-4:] == b"\xfd\xf8\xf8\x00"  # High: 4:2:0, 8-bit luma and chroma
    baseline = b"\x67\x42\xc0\x0d" + sps[4:]  # profile 66: no chroma/bit-depth tail
    assert avc_config([baseline], [pps], parse_sps(sps))[-len(pps):] == pps


# -- HEVC -----------------------------------------------------------------------------------


def test_hevc_parameter_sets_into_hvcc() -> None:
    video = demux([load("hevc_aac.ts")]).of("video")
    track = video[0].track
    vps, sps, pps = record_nals(track.config, True)
    assert [n[0] >> 1 & 0x3F for n in (vps, sps, pps)] == [32, 33, 34]
    assert hevc_config(vps, sps, pps) == track.config
    parser = HevcParser()
    idr = nal_units(video[0])
    sample, key, announced = parser.access_unit(annex_b([b"\x46\x01\x50", vps, sps, pps, *idr]))
    assert key and announced == track and sample == idr
    cra = next(f for f in video[1:] if f.keyframe)
    assert any(n[0] >> 1 & 0x3F == 21 for n in nal_units(cra))  # x265's open GOP: a CRA


def test_hvcc_is_what_ffmpeg_writes_for_hvc1(tmp_path: Path) -> None:
    ffmpeg = require_tool("ffmpeg")
    av = pytest.importorskip("av")
    out = tmp_path / "remux.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-i", str(FIXTURES / "hevc_aac.ts"), "-map", "0:v",
                    "-c", "copy", "-tag:v", "hvc1", str(out)], check=True)
    with av.open(str(out)) as container:
        extradata = container.streams.video[0].codec_context.extradata
    assert demux([load("hevc_aac.ts")]).tracks[0].config == extradata


def test_hevc_needs_all_three_parameter_sets() -> None:
    track = demux([load("hevc_aac.ts")]).tracks[0]
    vps, sps, pps = record_nals(track.config, True)
    parser = HevcParser()
    assert parser.access_unit(annex_b([sps, pps]))[2] is None
    assert parser.access_unit(annex_b([vps]))[2] == track


# -- AAC ------------------------------------------------------------------------------------


def collect(parser: AdtsParser, data: bytes, pts: int,
            out: list[tuple[int, bytes]], tracks: list[TrackInfo]) -> int | None:
    def emit(announced: TrackInfo | None, track: TrackInfo, at: int, raw: bytes) -> None:
        if announced is not None:
            tracks.append(announced)
        out.append((at, raw))

    return parser.pes(data, pts, emit)


def test_frame_times_follow_ffmpeg() -> None:
    # ffprobe of h264_bframes_aac.ts (44.1 kHz): 138000, 140089, 142179, 144269, 146359, 148449
    times = [138000]
    for _ in range(5):
        times.append(next_frame_time(times[-1], 44100))
    assert times == [138000, 140089, 142179, 144269, 146359, 148449]
    assert next_frame_time(1000, 48000) == 2920 and next_frame_time(0, 8000) == 11520


def test_several_frames_per_pes() -> None:
    parser = AdtsParser()
    out: list[tuple[int, bytes]] = []
    tracks: list[TrackInfo] = []
    data = b"".join(adts_frame(bytes([i]) * 10) for i in range(3))
    assert collect(parser, data, 9000, out, tracks) == 9000 + 2 * 1920
    assert out == [(9000, b"\x00" * 10), (10920, b"\x01" * 10), (12840, b"\x02" * 10)]
    assert len(tracks) == 1
    track = tracks[0]
    assert (track.sample_rate, track.channels, track.config, track.codec_string) == (
        48000, 2, b"\x11\x90", "mp4a.40.2")


def test_a_frame_straddling_two_pes() -> None:
    parser = AdtsParser()
    out: list[tuple[int, bytes]] = []
    frames = [adts_frame(bytes([i]) * 100) for i in range(4)]
    stream = b"".join(frames)
    cut = len(frames[0]) + 50  # the second frame is cut in two
    collect(parser, stream[:cut], 0, out, [])
    collect(parser, stream[cut:], 3840, out, [])  # PTS of the first frame starting in it
    assert out == [(0, b"\x00" * 100), (1920, b"\x01" * 100), (3840, b"\x02" * 100),
                   (5760, b"\x03" * 100)]
    assert parser.errors == 0


def test_a_header_straddling_two_pes() -> None:
    parser = AdtsParser()
    out: list[tuple[int, bytes]] = []
    stream = adts_frame(b"a" * 20) + adts_frame(b"b" * 20)
    collect(parser, stream[:30], 0, out, [])
    collect(parser, stream[30:], 1920, out, [])
    assert out == [(0, b"a" * 20), (1920, b"b" * 20)]


def test_a_straddling_frame_lost_with_the_next_pes_start() -> None:
    parser = AdtsParser()
    out: list[tuple[int, bytes]] = []
    stream = adts_frame(b"a" * 20) + adts_frame(b"b" * 20)
    collect(parser, stream[:40], 0, out, [])
    collect(parser, adts_frame(b"c" * 20), 5000, out, [])  # not the continuation
    assert out == [(0, b"a" * 20), (5000, b"c" * 20)] and parser.errors == 1


def test_broken_framing_skips_the_rest_of_the_pes() -> None:
    parser = AdtsParser()
    out: list[tuple[int, bytes]] = []
    data = adts_frame(b"a") + b"\x12\x34" + adts_frame(b"b")
    collect(parser, data, 0, out, [])
    assert out == [(0, b"a")] and parser.errors == 1
    collect(parser, adts_frame(b"c"), 1920, out, [])
    assert out[-1] == (1920, b"c")


def test_multi_block_frames_are_dropped_and_counted() -> None:
    parser = AdtsParser()
    out: list[tuple[int, bytes]] = []
    frame = bytearray(adts_frame(b"x" * 10))
    frame[6] |= 1  # number_of_raw_data_blocks_in_frame = 1 (two blocks)
    collect(parser, bytes(frame) + adts_frame(b"y"), 0, out, [])
    assert out == [(1920, b"y")] and parser.multi_block_frames == 1


def test_config_change_announces_again() -> None:
    parser = AdtsParser()
    tracks: list[TrackInfo] = []
    collect(parser, adts_frame(b"a", rate_index=4, channels=2), 0, [], tracks)
    collect(parser, adts_frame(b"a", rate_index=4, channels=2), 2000, [], tracks)
    collect(parser, adts_frame(b"a", rate_index=3, channels=7, profile=0), 4000, [], tracks)
    assert [(t.sample_rate, t.channels, t.codec_string) for t in tracks] == [
        (44100, 2, "mp4a.40.2"), (48000, 8, "mp4a.40.1")]
