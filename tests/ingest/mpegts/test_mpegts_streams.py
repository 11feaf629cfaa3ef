"""The demuxer on crafted streams (``Muxer``): PAT/PMT changes, a codec switch, continuity
edge cases, scrambled and damaged tables, what is counted."""

from __future__ import annotations

import pytest

from ingest.media import Frame
from ingest.mpegts.demux import TsDemuxer
from tests.ingest.mpegts.mpegts_testing import (
    PACKET,
    Demuxed,
    Muxer,
    adts_frame,
    annex_b,
    demux,
    load,
    nal_units,
    packets,
    record_nals,
)

H264, HEVC, AAC, MP2 = 0x1B, 0x24, 0x0F, 0x03


def access_units(name: str) -> list[tuple[Frame, bytes]]:
    """A fixture's video frames and each as Annex B, parameter sets in front of keyframes."""
    video = demux([load(name)]).of("video")
    hevc = video[0].track.codec == "hevc"
    out = []
    for frame in video:
        nals = nal_units(frame)
        if frame.keyframe:
            nals = record_nals(frame.track.config, hevc) + nals
        out.append((frame, annex_b(nals)))
    return out


def mux_video(mux: Muxer, pid: int, units: list[tuple[Frame, bytes]], shift: int = 0) -> bytes:
    return b"".join(mux.pes(pid, 0xE0, data, frame.pts + shift, frame.dts + shift)
                    for frame, data in units)


def test_crafted_stream_round_trips() -> None:
    mux = Muxer()
    units = access_units("h264_bframes_aac.ts")
    stream = mux.pat() + mux.pmt([(H264, 0x100)]) + mux_video(mux, 0x100, units)
    out = demux([stream])
    assert [f.payload for f in out.of("video")] == [f.payload for f, _ in units]
    assert out.stamps("video") == [(f.pts, f.dts, f.keyframe) for f, _ in units]


def test_pmt_moves_the_video_pid_and_the_track_goes_on() -> None:
    mux = Muxer()
    units = access_units("h264_bframes_aac.ts")
    stream = (mux.pat() + mux.pmt([(H264, 0x100)]) + mux_video(mux, 0x100, units[:15])
              + mux.pmt([(H264, 0x200)], version=1) + mux_video(mux, 0x200, units[15:]))
    out = demux([stream])
    assert len(out.tracks) == 1
    assert out.stamps("video") == [(f.pts, f.dts, f.keyframe) for f, _ in units]


def test_codec_switch_announces_hevc_and_waits_for_its_keyframe() -> None:
    mux = Muxer()
    h264 = access_units("h264_bframes_aac.ts")
    hevc = access_units("hevc_aac.ts")
    shift = h264[-1][0].dts + 3000 - hevc[0][0].dts
    cra = next(i for i, (frame, _) in enumerate(hevc) if i and frame.keyframe)
    stream = (mux.pat() + mux.pmt([(H264, 0x100)]) + mux_video(mux, 0x100, h264)
              + mux.pmt([(HEVC, 0x100)], version=1)
              + mux_video(mux, 0x100, hevc[1:cra], shift))  # the HEVC IDR is lost
    out = demux([stream])
    assert [t.codec for t in out.tracks] == ["h264"]  # HEVC never got its parameter sets
    assert out.demuxer.dropped_frames == cra - 1
    stream += mux_video(mux, 0x100, hevc, shift + 60 * 90000)
    out = demux([stream])
    assert [t.codec for t in out.tracks] == ["h264", "hevc"]
    video = out.of("video")
    assert [f.track.codec for f in video] == ["h264"] * len(h264) + ["hevc"] * len(hevc)
    assert out.demuxer.dropped_frames == cra - 1
    dts = [f.dts for f in video]
    assert dts == sorted(dts)


def test_counters_outlive_the_readers_and_parsers_they_came_from() -> None:
    """The demuxer owns every counter: what a PMT's section reader or the H.264 parser saw is
    still counted once a new PMT PID and a codec switch replaced them."""
    mux = Muxer()
    h264 = access_units("h264_bframes_aac.ts")
    hevc = access_units("hevc_aac.ts")
    broken_sps = annex_b([b"\x67\x64\x01", *nal_units(h264[1][0])])  # cut after the profile
    bad_crc = b"\x00" + Muxer.section(0x02, 1, b"\xe1\x00\xf0\x00")[:-1] + b"\x00"
    stream = (mux.pat() + mux.pmt([(H264, 0x100)]) + mux_video(mux, 0x100, h264[:1])
              + mux.pes(0x100, 0xE0, broken_sps, h264[1][0].pts, h264[1][0].dts)
              + mux.packets(0x1000, bad_crc))
    mux.pmt_pid = 0x1100
    stream += (mux.pat(version=1) + mux.pmt([(HEVC, 0x100)])
               + mux_video(mux, 0x100, hevc[:1], h264[2][0].dts - hevc[0][0].dts))
    out = demux([stream])
    assert [t.codec for t in out.tracks] == ["h264", "hevc"]
    counters = out.demuxer.counters()
    assert (counters["parameter_set_errors"], counters["psi_errors"]) == (1, 1)
    assert counters["duplicate_packets"] == counters["cc_errors"] == 0


def test_streams_other_than_the_first_video_and_aac_are_ignored() -> None:
    mux = Muxer()
    units = access_units("h264_bframes_aac.ts")[:3]
    audio = b"".join(adts_frame(bytes([i]) * 20) for i in range(2))
    stream = (mux.pat() + mux.pmt([(MP2, 0x300), (H264, 0x100), (H264, 0x101), (AAC, 0x102),
                                   (AAC, 0x103)])
              + mux_video(mux, 0x100, units) + mux_video(mux, 0x101, units)
              + mux.pes(0x300, 0xC0, b"\xff\xfd" + bytes(100), 1000, bounded=True)
              + mux.pes(0x102, 0xC0, audio, 1000, bounded=True)
              + mux.pes(0x103, 0xC1, audio, 1000, bounded=True))
    out = demux([stream])
    assert len(out.of("video")) == 3 and len(out.of("audio")) == 2
    assert [t.track_id for t in out.tracks] == [0, 1]


def test_the_first_program_is_used_and_a_new_pat_can_switch_it() -> None:
    first = Muxer(pmt_pid=0x1000, program=1)
    second = Muxer(pmt_pid=0x1001, program=2)
    second.cc = first.cc  # one stream: one continuity counter per PID
    units = access_units("h264_bframes_aac.ts")
    stream = (first.pat() + first.pmt([(H264, 0x100)]) + second.pmt([(H264, 0x200)])
              + mux_video(first, 0x100, units[:5]) + mux_video(second, 0x200, units[:5]))
    out = demux([stream])
    assert len(out.of("video")) == 5  # program 2's PMT and PES ignored
    # Program 1 leaves the (one-section) PAT: program 2 is taken; its PES before its PMT are
    # still ignored.
    switch = second.pat(version=1) + mux_video(second, 0x200, units[5:10])
    out = demux([stream + switch + second.pmt([(H264, 0x200)])
                 + mux_video(second, 0x200, units[10:])])
    assert len(out.of("video")) == 5 + len(units) - 10


def test_bad_crc_is_counted_and_the_table_ignored() -> None:
    mux = Muxer()
    pmt = bytearray(mux.pmt([(H264, 0x100)]))
    pmt[-6] ^= 0xFF
    units = access_units("h264_bframes_aac.ts")[:3]
    out = demux([mux.pat() + bytes(pmt) + mux_video(mux, 0x100, units)])
    assert out.demuxer.psi_errors == 1 and out.frames == []


def test_repeated_tables_are_not_parsed_again() -> None:
    mux = Muxer()
    stream = mux.pat() + mux.pmt([(H264, 0x100)])
    demuxer = TsDemuxer()
    demuxer.receive_data(stream)
    applied = dict(demuxer._applied)
    demuxer.receive_data(mux.pat() + mux.pmt([(H264, 0x100)]))
    assert demuxer._applied == applied and demuxer.psi_errors == 0


@pytest.mark.parametrize("flagged", [True, False])
def test_discontinuity_indicator_excuses_a_cc_jump(flagged: bool) -> None:
    mux = Muxer()
    units = access_units("h264_bframes_aac.ts")[:4]
    head = mux.pat() + mux.pmt([(H264, 0x100)]) + mux_video(mux, 0x100, units[:2])
    mux.cc[0x100] += 5
    frame, data = units[2]
    tail = (mux.pes(0x100, 0xE0, data, frame.pts, frame.dts, discontinuity=flagged)
            + mux_video(mux, 0x100, units[3:]))
    out = demux([head + tail])
    assert out.demuxer.cc_errors == (0 if flagged else 1)
    # Unflagged, the PES before the jump may have lost its end: dropped.
    assert len(out.of("video")) == (4 if flagged else 3)


def test_scrambled_packets_are_counted_and_break_their_pes() -> None:
    mux = Muxer()
    units = access_units("h264_bframes_aac.ts")[:6]
    stream = bytearray(mux.pat() + mux.pmt([(H264, 0x100)]) + mux_video(mux, 0x100, units))
    video = [i for i, p in enumerate(packets(bytes(stream))) if p[1] & 0x1F == 0x01
             and not p[1] & 0x40]
    stream[video[-1] * PACKET + 3] |= 0x80  # in the last PES
    out = demux([bytes(stream)])
    assert out.demuxer.scrambled_packets == 1 and out.demuxer.dropped_pes == 1
    assert len(out.of("video")) == 5


def test_video_pes_without_pts_is_dropped_and_counted() -> None:
    mux = Muxer()
    units = access_units("h264_bframes_aac.ts")[:3]
    stream = (mux.pat() + mux.pmt([(H264, 0x100)]) + mux.pes(0x100, 0xE0, units[0][1], None)
              + mux_video(mux, 0x100, units))
    out = demux([stream])
    assert out.demuxer.dropped_pes == 1 and len(out.of("video")) == 3


def test_audio_frames_straddling_pes_through_the_demuxer() -> None:
    mux = Muxer()
    frames = [adts_frame(bytes([i]) * 300) for i in range(6)]
    data = b"".join(frames)
    cut = len(frames[0]) * 3 + 100
    stream = (mux.pat() + mux.pmt([(AAC, 0x101)])
              + mux.pes(0x101, 0xC0, data[:cut], 90000, bounded=True)
              + mux.pes(0x101, 0xC0, data[cut:], 90000 + 4 * 1920, bounded=True))
    out = demux([stream])
    assert [(f.pts, f.payload[0]) for f in out.of("audio")] == [
        (90000 + i * 1920, i) for i in range(6)]


@pytest.mark.parametrize("chunk", [1, 7, 188, 1316])
def test_crafted_stream_any_chunking(chunk: int) -> None:
    mux = Muxer()
    units = access_units("hevc_aac.ts")[:8]
    audio = b"".join(adts_frame(bytes([i]) * 50) for i in range(3))
    stream = (mux.pat() + mux.pmt([(HEVC, 0x100), (AAC, 0x101)])
              + mux_video(mux, 0x100, units[:4])
              + mux.pes(0x101, 0xC0, audio, 126000, bounded=True)
              + mux_video(mux, 0x100, units[4:]))
    whole: Demuxed = demux([stream])
    assert len(whole.of("video")) == 8 and len(whole.of("audio")) == 3
    pieces = [stream[i:i + chunk] for i in range(0, len(stream), chunk)]
    assert demux(pieces).frames == whole.frames


def test_audio_pes_without_pts_continues_from_the_last_frame() -> None:
    mux = Muxer()
    frames = [adts_frame(bytes([i]) * 30) for i in range(6)]
    stream = (mux.pat() + mux.pmt([(AAC, 0x101)])
              + mux.pes(0x101, 0xC0, b"".join(frames[:3]), 90000, bounded=True)
              + mux.pes(0x101, 0xC0, b"".join(frames[3:]), None, bounded=True))
    out = demux([stream])
    assert [(f.pts, f.payload[0]) for f in out.of("audio")] == [
        (90000 + i * 1920, i) for i in range(6)]
    # Without a frame before it, a PES without PTS cannot be placed.
    lone = Muxer()
    out = demux([lone.pat() + lone.pmt([(AAC, 0x101)])
                 + lone.pes(0x101, 0xC0, frames[0], None, bounded=True)])
    assert out.frames == [] and out.demuxer.dropped_pes == 1
