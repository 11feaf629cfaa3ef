"""The layers under the demuxer, one at a time: packet cutting and sync, PSI sections and
tables, PES reassembly and headers (the 33-bit timeline: ``tests/ingest/test_timeline.py``)."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.mpegts.errors import MpegTsError
from ingest.mpegts.packet import PACKET_SIZE, PacketSplitter, parse_header
from ingest.mpegts.pes import PesAssembler, header_size
from ingest.mpegts.pes import parse_header as parse_pes
from ingest.mpegts.psi import (
    SectionAssembler,
    crc32_mpeg,
    parse_pat,
    parse_pmt,
    section_header,
)
from tests.ingest.mpegts.mpegts_testing import (
    WRAP,
    Muxer,
    encode_timestamp,
    load,
    packets,
    payload_offset,
    pes_packet,
)

# -- packets ----------------------------------------------------------------------------------


def test_header_fields() -> None:
    packet = bytes((0x47, 0x41, 0x00, 0x37, 7, 0x80 | 0x10)) + bytes(182)
    header = parse_header(packet)
    assert header is not None
    assert (header.pid, header.pusi, header.cc, header.payload_offset) == (0x100, True, 7, 12)
    assert header.discontinuity and header.has_payload
    assert not header.transport_error and not header.scrambled


def test_adaptation_only_packet_has_no_payload() -> None:
    header = parse_header(bytes((0x47, 0x01, 0x00, 0x20, 183, 0x10)) + bytes(182))
    assert header is not None and not header.has_payload


@pytest.mark.parametrize("b3, length", [(0x00, 0), (0x30, 183), (0x20, 184)])
def test_unusable_headers(b3: int, length: int) -> None:
    assert parse_header(bytes((0x47, 0x01, 0x00, b3, length)) + bytes(183)) is None


def split_all(splitter: PacketSplitter, pieces: list[bytes]) -> list[bytes]:
    return [bytes(p) for piece in pieces for p in splitter.feed(piece)]


def test_splitter_keeps_partial_packets_across_calls() -> None:
    data = load("h264_bframes_aac.ts")[:PACKET_SIZE * 5]
    splitter = PacketSplitter()
    out = split_all(splitter, [data[:100], data[100:500], data[500:]])
    assert out == packets(data) and splitter.buffered == 0 and splitter.resyncs == 0


def test_splitter_needs_two_sync_bytes_to_trust_a_candidate() -> None:
    data = load("h264_bframes_aac.ts")[:PACKET_SIZE * 4]
    splitter = PacketSplitter()
    garbage = b"\x00" + b"\x47" * 3 + b"\x00" * 50  # in sync, a 0x47 is trusted: start off it
    # Fed byte by byte, a candidate waits for its confirmation 188 bytes later.
    stream = data[:PACKET_SIZE] + garbage + data[PACKET_SIZE:]
    out = split_all(splitter, [stream[i:i + 1] for i in range(len(stream))])
    assert out == packets(data)
    assert (splitter.resyncs, splitter.skipped_bytes) == (1, len(garbage))


def test_splitter_raises_when_nothing_looks_like_a_transport_stream() -> None:
    splitter = PacketSplitter(max_unsynced=1000)
    assert split_all(splitter, [b"\x00" * 1000]) == []
    with pytest.raises(MpegTsError):
        split_all(splitter, [b"\x00"])


def test_splitter_holds_little_while_hunting() -> None:
    splitter = PacketSplitter()
    split_all(splitter, [b"\x01" + b"\x47" + bytes(10000)])
    assert splitter.buffered == 0
    split_all(splitter, [b"\x47" + bytes(100)])
    assert splitter.buffered == 101  # a candidate waiting for its confirmation


@settings(max_examples=100)
@given(st.binary(max_size=1500), st.lists(st.integers(1, 400), max_size=10))
def test_splitter_outcome_does_not_depend_on_chunking(garbage: bytes, sizes: list[int]) -> None:
    data = load("hevc_aac.ts")[:PACKET_SIZE * 6]
    stream = data[:PACKET_SIZE * 2] + garbage + data[PACKET_SIZE * 2:]
    pieces, pos = [], 0
    for size in sizes:
        pieces.append(stream[pos:pos + size])
        pos += size
    pieces.append(stream[pos:])
    one = PacketSplitter()
    many = PacketSplitter()
    assert split_all(one, [stream]) == split_all(many, pieces)
    assert (one.resyncs, one.skipped_bytes) == (many.resyncs, many.skipped_bytes)


# -- PSI --------------------------------------------------------------------------------------


def test_crc32_mpeg_check_value() -> None:
    assert crc32_mpeg(b"123456789") == 0x0376E6E7  # CRC-32/MPEG-2 catalogue check value
    section = Muxer.section(0x00, 1, b"\x00\x01\xf0\x00")
    assert crc32_mpeg(section) == 0


def test_pat_and_pmt() -> None:
    mux = Muxer(pmt_pid=0x1234, program=9)
    pat = packets(mux.pat())[0]
    sections = SectionAssembler().push(memoryview(pat)[payload_offset(pat):], True).sections
    assert len(sections) == 1 and section_header(sections[0]) is not None
    assert [(p.number, p.pmt_pid) for p in parse_pat(sections[0]) or []] == [(9, 0x1234)]
    pmt = packets(mux.pmt([(0x1B, 0x100), (0x0F, 0x101)]))[0]
    sections = SectionAssembler().push(memoryview(pmt)[payload_offset(pmt):], True).sections
    program_map = parse_pmt(sections[0])
    assert program_map is not None and program_map.program_number == 9
    assert [(s.stream_type, s.pid) for s in program_map.streams] == [(0x1B, 0x100),
                                                                     (0x0F, 0x101)]


def test_malformed_tables_parse_to_none() -> None:
    assert parse_pat(Muxer.section(0x00, 1, b"\x00\x01\xf0")) is None  # 3-byte entry
    # An ES_info_length past the section.
    assert parse_pmt(Muxer.section(0x02, 1, b"\xe1\x00\xf0\x00\x1b\xe1\x00\xf0\x09")) is None
    assert parse_pmt(Muxer.section(0x00, 1, b"\xe1\x00\xf0\x00")) is None  # not a PMT


def test_sections_spanning_packets_and_sharing_them() -> None:
    """A PMT longer than one packet, then two sections in one packet behind a pointer."""
    body = b"\xe1\x00\xf0\x00" + b"".join(
        bytes((0x06, 0xE0 | pid >> 8, pid & 0xFF, 0xF0, 20)) + bytes(20)
        for pid in range(0x100, 0x114))  # 20 streams with 20-byte descriptors: 516 bytes
    big = Muxer.section(0x02, 1, body)
    small = Muxer.section(0x02, 1, b"\xe1\x00\xf0\x00")
    stream = b"\x00" + big + small + small
    assembler = SectionAssembler()
    first = assembler.push(memoryview(stream[:184]), True).sections
    second = assembler.push(memoryview(stream[184:368]), False).sections
    rest = stream[368:] + b"\xff" * (184 - len(stream[368:]))
    third = assembler.push(memoryview(rest), False).sections
    assert first == [] and second == [] and third == [big, small, small]
    assert len(parse_pmt(big).streams) == 20  # type: ignore[union-attr]


def test_pointer_field_finishes_the_previous_section() -> None:
    section = Muxer.section(0x00, 1, b"\x00\x01\xf0\x00")
    assembler = SectionAssembler()
    assert assembler.push(memoryview(b"\x00" + section[:5]), True).sections == []
    # The next section starts 11 bytes in; those bytes end the first one.
    payload = bytes((len(section) - 5,)) + section[5:] + section
    assert assembler.push(memoryview(payload), True).sections == [section, section]


def test_a_lost_packet_resets_the_section() -> None:
    section = Muxer.section(0x00, 1, b"\x00\x01\xf0\x00" * 60)
    assembler = SectionAssembler()
    assembler.push(memoryview(b"\x00" + section[:183]), True)
    assembler.reset()
    assert assembler.push(memoryview(section[183:]), False).sections == []


@pytest.mark.parametrize("payload", [b"", b"\xb0" + bytes(20), b"\x00\x02\xbf\xff"])
def test_bad_section_starts_are_counted(payload: bytes) -> None:
    assert SectionAssembler().push(memoryview(payload), True) == ([], 1)  # (sections, errors)


# -- PES ----------------------------------------------------------------------------------------


def test_pes_header_with_pts_and_dts() -> None:
    data = pes_packet(0xE0, b"payload", pts=WRAP - 1, dts=12345)
    header = parse_pes(data)
    assert header is not None
    assert (header.stream_id, header.pts, header.dts, header.header_size) == (
        0xE0, WRAP - 1, 12345, 19)
    assert header.payload_size == 0  # unbounded
    bounded = parse_pes(pes_packet(0xC0, b"x" * 10, pts=90000, bounded=True))
    assert bounded is not None and (bounded.pts, bounded.dts, bounded.payload_size) == (
        90000, 90000, 10)


@pytest.mark.parametrize("data", [
    b"\x00\x00\x02\xe0" + bytes(10),  # no start code
    b"\x00\x00\x01\xbe\x00\x10" + bytes(10),  # padding stream: no header
    b"\x00\x00\x01\xe0\x00\x00\x0f\x80\x05" + encode_timestamp(2, 1),  # not '10' marker
])
def test_unusable_pes_starts(data: bytes) -> None:
    assert header_size(data) == -1 and parse_pes(data) is None


@pytest.mark.parametrize("data", [
    b"\x00\x00\x01\xe0\x00\x00\x80\x40\x05" + encode_timestamp(2, 1),  # PTS_DTS_flags 01
    b"\x00\x00\x01\xe0\x00\x00\x80\xc0\x05" + encode_timestamp(2, 1),  # DTS past the header
    b"\x00\x00\x01\xe0\x00\x04\x80\x80\x05" + encode_timestamp(2, 1),  # length < header
])
def test_malformed_pes_headers(data: bytes) -> None:
    assert parse_pes(data) is None


def feed(assembler: PesAssembler, data: bytes, first: bool = True,
         merge: bool = False, oversized: list[int] | None = None) -> tuple[list[bytes], int]:
    """Push ``data`` in 184-byte payloads; (finished PES payloads, dropped). Appends the
    oversized count of each push to ``oversized``."""
    done: list[bytes] = []
    dropped = 0
    for pos in range(0, len(data), 184):
        progress = assembler.push(memoryview(data[pos:pos + 184]), first and pos == 0, merge)
        done += [bytes(p.data) for p in progress.finished]
        dropped += progress.dropped
        if oversized is not None:
            oversized.append(progress.oversized)
    return done, dropped


def test_unbounded_pes_ends_at_the_next_start() -> None:
    assembler = PesAssembler(1 << 20)
    one = pes_packet(0xE0, b"a" * 500, pts=1)
    assert feed(assembler, one) == ([], 0)
    assert feed(assembler, pes_packet(0xE0, b"b" * 10, pts=2)) == ([b"a" * 500], 0)
    pes, dropped = assembler.flush()
    assert pes is not None and bytes(pes.data) == b"b" * 10 and dropped == 0


def test_bounded_pes_ends_with_its_last_byte() -> None:
    assembler = PesAssembler(1 << 20)
    assert feed(assembler, pes_packet(0xC0, b"a" * 500, pts=1, bounded=True)) == (
        [b"a" * 500], 0)
    assert not assembler.active


def test_bounded_pes_cut_short_is_dropped() -> None:
    assembler = PesAssembler(1 << 20)
    data = pes_packet(0xC0, b"a" * 500, pts=1, bounded=True)
    feed(assembler, data[:300])
    assert feed(assembler, pes_packet(0xC0, b"b", pts=2, bounded=True)) == ([b"b"], 1)


def test_a_header_split_over_packets() -> None:
    assembler = PesAssembler(1 << 20)
    data = pes_packet(0xC0, b"abc", pts=7, bounded=True)
    assert assembler.push(memoryview(data[:5]), True) == ((), 0, 0)  # (finished, dropped,
    finished, dropped, _ = assembler.push(memoryview(data[5:]), False)  # oversized)
    assert [bytes(p.data) for p in finished] == [b"abc"] and dropped == 0
    assert finished[0].header is not None and finished[0].header.pts == 7


def test_video_pes_without_pts_continues_the_access_unit() -> None:
    assembler = PesAssembler(1 << 20)
    feed(assembler, pes_packet(0xE0, b"first half ", pts=1), merge=True)
    feed(assembler, pes_packet(0xE0, b"second half", pts=None), merge=True)
    assert feed(assembler, pes_packet(0xE0, b"next", pts=2), merge=True) == (
        [b"first half second half"], 0)


def test_oversized_pes_is_dropped_and_the_pid_waits_for_the_next_start() -> None:
    assembler = PesAssembler(1000)
    oversized: list[int] = []
    assert feed(assembler, pes_packet(0xE0, b"a" * 3000, pts=1), oversized=oversized) == ([], 1)
    assert sum(oversized) == 1 and not assembler.active
    assert feed(assembler, pes_packet(0xE0, b"b" * 100, pts=2)) == ([], 0)
    assert assembler.flush()[0] is not None


def test_false_syncs_in_garbage_do_not_reset_the_limit() -> None:
    """Garbage confirms a false sync now and then (two 0x47 188 bytes apart) but never holds
    it for long: the bytes skipped still add up to the limit."""
    chunk = bytearray(10000)
    chunk[100] = chunk[100 + PACKET_SIZE] = 0x47
    splitter = PacketSplitter()
    with pytest.raises(MpegTsError):
        for _ in range(7):
            split_all(splitter, [bytes(chunk)])
    assert splitter.resyncs >= 7  # one per false sync, held for two packets each


def test_random_bytes_reach_the_limit() -> None:
    rng = random.Random(3)
    splitter = PacketSplitter()
    with pytest.raises(MpegTsError):
        for _ in range(300):
            split_all(splitter, [rng.randbytes(1316)])


def test_loss_recovery_does_not_add_up_to_the_limit() -> None:
    data = load("h264_bframes_aac.ts")
    splitter = PacketSplitter(max_unsynced=200)
    chunks = [data[i:i + 1456] for i in range(0, len(data), 1456)]
    # Losing every fourth unaligned chunk skips up to 187 bytes each time.
    split_all(splitter, [c for i, c in enumerate(chunks) if i % 4 != 3])
    assert splitter.resyncs > 5 and splitter.skipped_bytes > 200
