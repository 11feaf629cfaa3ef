"""SRT packets: every type built then parsed, the loss-list coding, sequence arithmetic,
and random datagrams raising nothing but ProtocolError."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.errors import ProtocolError
from ingest.srt.packet import (
    ACK,
    ACKACK,
    CONGESTION,
    DROPREQ,
    HANDSHAKE,
    KEEPALIVE,
    NAK,
    PEERERROR,
    SHUTDOWN,
    USER,
    Ack,
    ControlPacket,
    DataPacket,
    Handshake,
    decode_loss_list,
    encode_loss_list,
    parse,
    seq_add,
    seq_diff,
)


@pytest.mark.parametrize("packet", [
    DataPacket(12345, 7, 1_000_000, 42, b"\x47" * 188),
    DataPacket(0x7FFFFFFF, 0x03FFFFFF, 0xFFFFFFFF, 1, b"", position=2, in_order=True, kk=2,
               retransmitted=True),
    ControlPacket(KEEPALIVE, 5, 9),
    ControlPacket(ACK, 5, 9, info=3, cif=Ack(100, 20_000, 5_000, 8192, 500, 1000, 640_000)
                  .encode()),
    ControlPacket(ACK, 5, 9, info=0, cif=Ack(100).encode()),
    ControlPacket(NAK, 5, 9, cif=encode_loss_list([(5, 5), (10, 20)])),
    ControlPacket(CONGESTION, 5, 9),
    ControlPacket(SHUTDOWN, 5, 9, cif=bytes(4)),
    ControlPacket(ACKACK, 5, 9, info=77),
    ControlPacket(DROPREQ, 5, 9, info=3, cif=struct.pack(">II", 10, 12)),
    ControlPacket(PEERERROR, 5, 9, info=4000),
    ControlPacket(USER, 5, 9, subtype=3, cif=b"\x12\x20\x29\x01" + bytes(52)),
    ControlPacket(HANDSHAKE, 5, 0, cif=Handshake(
        5, 2, 7, 1234, 1500, 8192, 0xFFFFFFFF, 99, 0xDEADBEEF, bytes(16),
        ((1, bytes(12)), (5, b"ERTS\x00\x00MA"))).encode()),
])
def test_built_packets_parse_back(packet: DataPacket | ControlPacket) -> None:
    assert parse(packet.encode()) == packet


def test_handshake_round_trip_and_extension_lookup() -> None:
    hs = Handshake(5, 0, 0x4A17, 77, 1500, 25600, 1, 1234, 0x80000001, b"\x01\x00\x00\x7f" +
                   bytes(12), ((1, b"\x00\x01\x05\x01\x00\x00\x00\xbf\x00\x78\x00\x00"),))
    parsed = Handshake.parse(hs.encode())
    assert parsed == hs
    assert parsed.extension_body(1) is not None and parsed.extension_body(5) is None


def test_ack_forms() -> None:
    assert Ack.parse(Ack(5).encode()) == Ack(5)
    small = Ack(5, 1, 2, 3)
    assert Ack.parse(small.encode()) == small


def test_loss_list_coding() -> None:
    ranges = [(1, 1), (3, 9), (0x7FFFFFFE, 0x7FFFFFFF)]
    cif = encode_loss_list(ranges)
    assert struct.unpack(">5I", cif) == (1, 0x80000003, 9, 0xFFFFFFFE, 0x7FFFFFFF)
    assert decode_loss_list(cif) == ranges


def test_sequence_arithmetic_wraps_at_31_bits() -> None:
    assert seq_add(0x7FFFFFFF, 1) == 0
    assert seq_diff(0, 0x7FFFFFFF) == 1
    assert seq_diff(0x7FFFFFFF, 0) == -1
    assert seq_diff(100, 50) == 50


@given(st.binary(max_size=200))
def test_random_datagrams_raise_only_protocol_errors(data: bytes) -> None:
    try:
        packet = parse(data)
        if isinstance(packet, ControlPacket):
            if packet.type == HANDSHAKE:
                Handshake.parse(packet.cif)
            elif packet.type == ACK:
                Ack.parse(packet.cif)
            elif packet.type == NAK:
                decode_loss_list(packet.cif)
    except ProtocolError:
        pass
