"""Before its publish is accepted an RTMP connection has proved nothing: the core holds at
most a few KB per message and a small total for it (issue 16: 60 connections that never
published held 1.1 GB of reassembly buffers). The full message budget comes with the
accepted publish."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.errors import ProtocolError
from ingest.rtmp.connection import PRE_AUTH_BUFFER, PRE_AUTH_MESSAGE_SIZE, RtmpConnection
from ingest.rtmp.events import ConnectRequested, FrameReceived, PublishRequested
from tests.ingest.rtmp.rtmp_testing import (
    AVCC_160X120,
    Publisher,
    avc_frame,
    byte_by_byte,
    client_handshake,
    drive,
    random_splits,
)

BIG = 4 << 20
"""A declared message size the full budget (8 MiB) allows and the pre-publish cap does not."""


def declared_video_header(size: int, csid: int = 6) -> bytes:
    """A fmt 0 chunk header of a video message of ``size`` bytes; its body never follows."""
    return (bytes([csid]) + bytes(3) + size.to_bytes(3, "big") + b"\x09"
            + (1).to_bytes(4, "little"))


def connected(chunk_size: int = 4096) -> bytes:
    pub = Publisher()
    pub.connect()
    pub.set_chunk_size(chunk_size)
    return client_handshake() + pub.take()


def refused_at(pieces: list[bytes]) -> tuple[int, ProtocolError]:
    """Feed ``pieces`` to an accepting core; the number of bytes fed when it refused."""
    conn = RtmpConnection()
    fed = 0
    with pytest.raises(ProtocolError) as raised:
        for piece in pieces:
            fed += len(piece)
            conn.receive_data(piece)
            while (event := conn.next_event()) is not None:
                if isinstance(event, ConnectRequested):
                    conn.accept_connect()
    return fed, raised.value


def test_a_large_message_before_publish_is_refused_at_its_header() -> None:
    start = connected()
    fed, error = refused_at([start, declared_video_header(BIG)])
    assert error.code == "limit"
    assert fed == len(start) + 12  # nothing of the body was needed, so nothing is held


@pytest.mark.parametrize("split", ["whole", "byte by byte", "random"])
def test_the_refusal_does_not_depend_on_how_the_input_is_cut(split: str) -> None:
    data = connected() + declared_video_header(PRE_AUTH_MESSAGE_SIZE + 1) + bytes(3000)
    pieces = {"whole": [data], "byte by byte": byte_by_byte(data),
              "random": random_splits(data, seed=16)}[split]
    fed, error = refused_at(pieces)
    assert error.code == "limit"
    header_end = len(data) - 3000
    if split == "byte by byte":
        assert fed == header_end  # at the header's last byte: no body is ever held
    elif split == "random":
        assert fed < header_end + 700  # in the piece that completed the header


@settings(max_examples=40, deadline=None)
@given(size=st.integers(PRE_AUTH_MESSAGE_SIZE + 1, 0xFFFFFF),
       cuts=st.lists(st.integers(1, 400), min_size=1, max_size=30))
def test_any_oversized_declaration_in_any_split_is_a_limit_error(size: int,
                                                                 cuts: list[int]) -> None:
    data = connected() + declared_video_header(size) + bytes(500)
    pieces, pos = [], 0
    for cut in cuts:
        pieces.append(data[pos:pos + cut])
        pos += cut
    pieces.append(data[pos:])
    _, error = refused_at([p for p in pieces if p])
    assert error.code == "limit"


def test_partial_messages_together_are_capped_before_publish() -> None:
    # Each message is under the per-message cap; their unfinished bodies together are not.
    pub = Publisher()
    pub.connect()
    pub.set_chunk_size(128)
    data = bytearray(client_handshake() + pub.take())
    size = PRE_AUTH_MESSAGE_SIZE - 100
    per_message = size - 128  # all chunks but the last
    for csid in range(10, 10 + PRE_AUTH_BUFFER // per_message + 2):
        data += declared_video_header(size, csid)[:12] + bytes(128)
        for _ in range(per_message // 128 - 1):
            data += bytes([0xC0 | csid]) + bytes(128)
    _, error = refused_at(random_splits(bytes(data), seed=3, max_piece=4000))
    assert error.code == "limit"
    assert "reassembly budget" in str(error)


def test_media_pipelined_behind_a_pending_publish_is_capped() -> None:
    pub = Publisher()
    pub.connect()
    pub.set_chunk_size(4096)
    pub.start_publish("key")
    for ts in range(40):
        pub.video(ts * 33, avc_frame(ts == 0, 0, [b"\x41" + bytes(4000)]))
    # The publish is never answered (the key check still runs): the media waits, capped.
    _, error = refused_at([client_handshake() + pub.take()])
    assert error.code == "limit"


@pytest.mark.parametrize("split", ["whole", "byte by byte"])
def test_the_full_budget_applies_once_the_publish_is_accepted(split: str) -> None:
    pub = Publisher()
    pub.connect()
    pub.set_chunk_size(65536)
    pub.start_publish("key")
    head = client_handshake() + pub.take()
    keyframe = avc_frame(True, 0, [b"\x65" + bytes(BIG // 4)])
    pub.video(0, b"\x17\x00\x00\x00\x00" + AVCC_160X120)
    pub.video(0, keyframe)
    media = pub.take()
    pieces = [head, media] if split == "whole" else [head, *byte_by_byte(media[:200]),
                                                     media[200:]]
    conn = RtmpConnection()
    events, _ = drive(pieces, conn=conn)
    assert any(isinstance(e, PublishRequested) for e in events)
    assert conn.authenticated
    pictures = [e for e in events if isinstance(e, FrameReceived)]
    assert len(pictures) == 1 and len(pictures[0].frame.payload) > PRE_AUTH_BUFFER
