"""Chunk stream: reader(writer(messages)) == messages for any chunking and any split."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.errors import ProtocolError
from ingest.rtmp.chunk import ChunkReader, ChunkWriter, Message, basic_header

CSIDS = st.one_of(st.integers(2, 63), st.integers(64, 319), st.integers(320, 65599),
                  st.sampled_from([2, 3, 63, 64, 319, 320, 65599]))
TIMESTAMPS = st.one_of(st.integers(0, 0xFFFFFE), st.integers(0xFFFFFF, 0xFFFFFFFF),
                       st.sampled_from([0, 0xFFFFFE, 0xFFFFFF, 0x1000000, 0xFFFFFFFF]))


@st.composite
def message_lists(draw: st.DrawFn) -> list[Message]:
    """Messages whose per-csid timestamps often repeat a delta, so fmt 1, 2 and 3 all occur
    next to fmt 0 (first use, new stream id, timestamp going backwards)."""
    csids = draw(st.lists(CSIDS, min_size=1, max_size=4, unique=True))
    messages: list[Message] = []
    clock = {csid: draw(TIMESTAMPS) for csid in csids}
    for _ in range(draw(st.integers(1, 12))):
        csid = draw(st.sampled_from(csids))
        step = draw(st.one_of(st.sampled_from([0, 20, 33]), st.integers(0, 0x2000000),
                              st.integers(-1000, -1)))
        clock[csid] = min(max(clock[csid] + step, 0), 0xFFFFFFFF)
        length = draw(st.sampled_from([0, 1, 5, 128, 129, 300]) | st.integers(0, 700))
        messages.append(Message(
            csid, clock[csid], draw(st.sampled_from([8, 9, 20]) | st.integers(0, 255)),
            draw(st.sampled_from([0, 1]) | st.integers(0, 0xFFFFFFFF)),
            random.Random(len(messages)).randbytes(length)))
    return messages


def write(messages: list[Message], chunk_size: int) -> bytes:
    writer = ChunkWriter(chunk_size)
    out = bytearray()
    for m in messages:
        writer.write(out, m.csid, m.timestamp, m.type_id, m.stream_id, m.payload)
    return bytes(out)


def read(pieces: list[bytes], chunk_size: int, **limits: int) -> list[Message]:
    reader = ChunkReader(**limits)
    reader.set_chunk_size(chunk_size)
    got = []
    for piece in pieces:
        reader.feed(piece)
        while (message := reader.next_message()) is not None:
            got.append(message)
    assert reader.buffered == 0
    return got


def splits(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(len(data) + 1), min(len(data) + 1, rng.randint(0, 12))))
    bounds = [0, *cuts, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@settings(max_examples=300)
@given(message_lists(), st.integers(1, 700), st.integers(0, 2**32))
def test_round_trip_any_split(messages: list[Message], chunk_size: int, seed: int) -> None:
    data = write(messages, chunk_size)
    assert read([data], chunk_size) == messages
    assert read(splits(data, seed), chunk_size) == messages


@settings(max_examples=30)
@given(message_lists(), st.integers(1, 300))
def test_round_trip_byte_by_byte(messages: list[Message], chunk_size: int) -> None:
    data = write(messages, chunk_size)
    assert read([data[i:i + 1] for i in range(len(data))], chunk_size) == messages


@settings(max_examples=200)
@given(message_lists(), st.integers(1, 300), st.integers(0, 2**32))
def test_interleaved_chunk_streams(messages: list[Message], chunk_size: int,
                                   seed: int) -> None:
    """Chunks of different csids interleave at chunk boundaries (§2.4)."""
    writer = ChunkWriter(chunk_size)
    queues: dict[int, list[bytes]] = {}
    for m in messages:
        queues.setdefault(m.csid, []).extend(
            writer.chunks(m.csid, m.timestamp, m.type_id, m.stream_id, m.payload))
    rng = random.Random(seed)
    stream = []
    while queues:
        csid = rng.choice(sorted(queues))
        stream.append(queues[csid].pop(0))
        if not queues[csid]:
            del queues[csid]
    got = read([b"".join(stream)], chunk_size)
    for csid in {m.csid for m in messages}:
        assert [m for m in got if m.csid == csid] == [m for m in messages if m.csid == csid]


@pytest.mark.parametrize(("csid", "encoded"), [
    (2, "02"), (63, "3f"), (64, "0000"), (319, "00ff"), (320, "010001"), (65599, "01ffff"),
])
def test_basic_header_forms(csid: int, encoded: str) -> None:
    assert basic_header(0, csid).hex() == encoded
    assert basic_header(3, csid)[0] >> 6 == 3


def fmt0(csid: int, timestamp: int, length: int, type_id: int = 9, stream_id: int = 1,
         extended: bool = False) -> bytes:
    ts = 0xFFFFFF if extended else timestamp
    header = (bytes([csid]) + ts.to_bytes(3, "big") + length.to_bytes(3, "big")
              + bytes([type_id]) + stream_id.to_bytes(4, "little"))
    return header + (timestamp.to_bytes(4, "big") if extended else b"")


@pytest.mark.parametrize("repeat_extended", [True, False])
def test_extended_timestamp_on_fmt3_continuation(repeat_extended: bool) -> None:
    """The 4 bytes must repeat on continuation chunks; some peers omit them (lenient)."""
    ts = 0x01020304
    payload = bytes(range(256)) + bytes(44)
    ext = ts.to_bytes(4, "big") if repeat_extended else b""
    data = (fmt0(6, ts, 300, extended=True) + payload[:128]
            + b"\xc6" + ext + payload[128:256] + b"\xc6" + ext + payload[256:])
    expected = [Message(6, ts, 9, 1, payload)]
    assert read([data], 128) == expected
    assert read([data[i:i + 1] for i in range(len(data))], 128) == expected


def test_writer_repeats_extended_timestamp_on_continuations() -> None:
    data = write([Message(6, 0xFFFFFFFF, 9, 1, bytes(300))], 128)
    assert data[12:16] == b"\xff\xff\xff\xff"
    assert data[16 + 128:16 + 128 + 5] == b"\xc6\xff\xff\xff\xff"


def test_fmt3_new_message_reuses_fmt0_timestamp_as_delta() -> None:
    """§2.2: after a fmt 0 header the delta a new-message fmt 3 reuses is its timestamp."""
    data = fmt0(4, 100, 2) + b"ab" + b"\xc4" + b"cd" + b"\xc4" + b"ef"
    assert [m.timestamp for m in read([data], 128)] == [100, 200, 300]


def test_fmt1_fmt2_deltas_and_32bit_wrap() -> None:
    data = (fmt0(4, 0xFFFFFFF0 & 0xFFFFFF, 1) + b"a"  # 24-bit timestamp 0xFFFFF0
            + b"\x44" + (0x20).to_bytes(3, "big") + (2).to_bytes(3, "big") + b"\x08" + b"bc"
            + b"\x84" + (0x20).to_bytes(3, "big") + b"de")
    got = read([data], 128)
    assert [m.timestamp for m in got] == [0xFFFFF0, 0x1000010, 0x1000030]
    assert [m.type_id for m in got] == [9, 8, 8]
    wrap = fmt0(4, 0xFFFFFFF0, 1, extended=True) + b"a" + b"\x84" + (0x20).to_bytes(3, "big")
    wrap += b"b"
    assert [m.timestamp for m in read([wrap], 128)] == [0xFFFFFFF0, 0x10]


@pytest.mark.parametrize("first", [b"\x44" + bytes(7), b"\x84" + bytes(3), b"\xc4"])
def test_stream_must_start_with_fmt0(first: bytes) -> None:
    with pytest.raises(ProtocolError):
        read([first + bytes(8)], 128)


def test_message_size_cap() -> None:
    with pytest.raises(ProtocolError) as info:
        read([fmt0(4, 0, 1001)], 128, max_message_size=1000)
    assert info.value.code == "limit"


def test_reassembly_budget_across_chunk_streams() -> None:
    data = b"".join(fmt0(csid, 0, 900) + bytes(128) for csid in range(4, 20))
    with pytest.raises(ProtocolError):
        read([data], 128, max_message_size=1000, reassembly_budget=1500)


def test_chunk_stream_count_cap() -> None:
    data = b"".join(fmt0(csid, 0, 1) + b"x" for csid in range(4, 40))
    with pytest.raises(ProtocolError):
        read([data], 128, max_chunk_streams=10)


def test_abort_discards_partial_message_and_frees_budget() -> None:
    reader = ChunkReader(max_message_size=1000, reassembly_budget=1000)
    reader.feed(fmt0(4, 0, 900) + bytes(128))
    assert reader.next_message() is None
    reader.abort(4)
    reader.feed(fmt0(4, 5, 900) + bytes(128)
                + b"".join(b"\xc4" + bytes(min(128, 772 - i)) for i in range(0, 772, 128)))
    message = reader.next_message()
    assert message is not None and message.timestamp == 5 and len(message.payload) == 900


def test_new_header_mid_message_restarts_it() -> None:
    data = fmt0(4, 0, 200) + bytes(128) + fmt0(4, 7, 3) + b"xyz"
    assert read([data], 128) == [Message(4, 7, 9, 1, b"xyz")]


def test_set_chunk_size_bounds() -> None:
    reader = ChunkReader()
    reader.set_chunk_size(0x7FFFFFFF)
    assert reader.chunk_size == 0xFFFFFF
    with pytest.raises(ProtocolError):
        reader.set_chunk_size(0)


@settings(max_examples=300, deadline=1000)
@given(st.binary(max_size=2000), st.integers(1, 300))
def test_random_bytes_only_protocol_errors(data: bytes, chunk_size: int) -> None:
    reader = ChunkReader(max_message_size=4096)
    reader.set_chunk_size(chunk_size)
    reader.feed(data)
    try:
        while reader.next_message() is not None:
            pass
    except ProtocolError:
        pass
