"""How many times a picture is copied between the socket's bytes and its ``Frame``: at most
twice (reassembly of the message or PES, then the sample), for RTMP and for SRT.

Measured, not read off the code: every byte allocated while the ingest works (tracemalloc,
bytecode by bytecode, temporaries included), divided by the picture's size. The meter is
checked on code with a known number of copies, so an added copy fails here."""

from __future__ import annotations

import sys
import tracemalloc
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from ingest.media import Frame
from ingest.mpegts.demux import TsDemuxer
from ingest.mpegts.events import FrameReceived as TsFrameReceived
from ingest.rtmp.connection import RtmpConnection
from ingest.rtmp.events import FrameReceived
from ingest.srt.connection import SrtConnection
from tests.ingest.mpegts.mpegts_testing import Muxer
from tests.ingest.rtmp.rtmp_testing import (
    AVCC_160X120,
    Publisher,
    avc_frame,
    client_handshake,
    drive,
)
from tests.ingest.srt.srt_caller_testing import SrtCaller
from tests.ingest.srt.srt_testing import ADDR, STREAM_ID, Link

PICTURE = 256 << 10
"""The size of the picture sent: large enough that headers and bookkeeping are noise."""
MOST_COPIES = 2


NOISE = 512
"""Bytes one bytecode may allocate that are bookkeeping, not payload (a memoryview, an event,
a header): a copy of a chunk, a datagram or a picture is larger. Per-bytecode peaks below it
are not counted."""


def allocated(run: Callable[[], None]) -> int:
    """Bytes allocated while ``run`` runs, frees not subtracted: for each bytecode, how far
    tracemalloc's peak rose above where it started (so a temporary made and freed within
    one operation, ``bytes(x)[1:]``, counts as well)."""
    total = 0
    start = 0

    def count() -> None:
        nonlocal total
        rise = tracemalloc.get_traced_memory()[1] - start
        if rise >= NOISE:
            total += rise

    def trace(frame: FrameType, event: str, arg: Any) -> Callable[..., Any]:
        nonlocal start
        count()
        frame.f_trace_opcodes = True
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()  # after the tuple just read is freed: the tracer is not ours
        return trace

    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        sys.settrace(trace)
        try:
            run()
        finally:
            sys.settrace(None)
        count()
        return total
    finally:
        tracemalloc.stop()


def copies(run: Callable[[], None]) -> float:
    return allocated(run) / PICTURE


def picture() -> bytes:
    """An IDR slice NAL unit with no start code in it (so Annex B leaves it whole)."""
    return b"\x65" + bytes(range(1, 256)) * (PICTURE // 255) + b"\x01" * (PICTURE % 255 - 1)


def test_the_meter_counts_copies_and_only_copies() -> None:
    data = picture()
    assert copies(lambda: None) < 0.01
    assert 2.99 < copies(lambda: [bytes(bytearray(data))[1:]][0] and None) < 3.01
    view = memoryview(data)

    def views() -> None:  # slicing a view copies nothing
        for _ in range(1000):
            view[1:]
    assert copies(views) < 0.01

    def datagram_by_datagram() -> None:  # a copy made piece by piece counts as one
        for pos in range(0, PICTURE, 1316):
            bytes(view[pos:pos + 1316])
    assert 0.99 < copies(datagram_by_datagram) < 1.05

    def grow() -> None:  # reassembly: many small appends, one buffer at the end
        buf = bytearray()
        for pos in range(0, PICTURE, 184):
            buf += view[pos:pos + 184]
        bytes(buf)
    assert 1.99 < copies(grow) < 2.2


# -- RTMP -----------------------------------------------------------------------------------

def rtmp_session(chunk_size: int) -> tuple[RtmpConnection, list[bytes]]:
    """A connection that has accepted a publish and its sequence header, and the socket reads
    (64 KiB, as asyncio hands them over) that carry one keyframe of ``PICTURE`` bytes."""
    pub = Publisher()
    pub.connect()
    pub.set_chunk_size(chunk_size)
    pub.start_publish()
    pub.video(0, b"\x17\x00\x00\x00\x00" + AVCC_160X120)
    conn = RtmpConnection(max_message_size=PICTURE + 1024)
    drive([client_handshake() + pub.take()], eof=False, conn=conn)
    pub.video(40, avc_frame(True, 0, [picture()]))
    media = pub.take()
    return conn, [media[i:i + 65536] for i in range(0, len(media), 65536)]


@pytest.mark.parametrize("chunk_size", [4096, 128, 0xFFFFFF])
def test_rtmp_copies_a_picture_at_most_twice(chunk_size: int) -> None:
    conn, reads = rtmp_session(chunk_size)
    frames: list[Frame] = []

    def ingest() -> None:
        for data in reads:
            conn.receive_data(data)
            while (event := conn.next_event()) is not None:
                if isinstance(event, FrameReceived):
                    frames.append(event.frame)

    measured = copies(ingest)
    [frame] = frames
    assert frame.payload[4:] == picture() and frame.keyframe
    assert measured < MOST_COPIES + 0.5, f"{measured:.2f} copies"


# -- SRT (MPEG-TS) --------------------------------------------------------------------------

def srt_session(encrypted: bool) -> tuple[Link, SrtConnection, list[bytes]]:
    """An accepted SRT connection and the datagrams (7 TS packets each) that carry one
    keyframe of ``PICTURE`` bytes, its parameter sets in front, then the next PES start."""
    passphrase = "copy-count passphrase" if encrypted else None
    link = Link(SrtCaller(STREAM_ID, passphrase=passphrase))
    connection = link.connect(passphrase)
    sps, pps = AVCC_160X120[8:8 + 25], AVCC_160X120[-8:-4]
    mux = Muxer()
    unit = b"".join(b"\x00\x00\x00\x01" + nal for nal in (b"\x09\xf0", sps, pps, picture()))
    ts = (mux.pat() + mux.pmt([(0x1B, 0x100)]) + mux.pes(0x100, 0xE0, unit, 90000, 90000)
          + mux.pes(0x100, 0xE0, b"\x00\x00\x00\x01\x09\xf0", 93000, 93000))
    datagrams = [link.caller.data(ts[i:i + 1316], 10_000 + i) for i in range(0, len(ts), 1316)]
    return link, connection, datagrams


@pytest.mark.parametrize("encrypted", [False, True])
def test_srt_copies_a_picture_at_most_twice(encrypted: bool) -> None:
    link, connection, datagrams = srt_session(encrypted)
    demuxer = TsDemuxer()
    frames: list[Frame] = []
    listener = link.listener

    def ingest() -> None:
        for datagram in datagrams:
            listener.receive_datagram(datagram, ADDR, link.now)
            while (event := listener.next_event()) is not None:
                demuxer.receive_data(event.payload, 0.0)  # type: ignore[union-attr]
                while (item := demuxer.next_event()) is not None:
                    if isinstance(item, TsFrameReceived):
                        frames.append(item.frame)

    measured = copies(ingest)
    [frame] = frames
    assert frame.payload[-PICTURE:] == picture() and frame.track.codec == "h264"
    # Decryption writes the clear text once: that one is not a copy of the socket's bytes.
    assert measured < MOST_COPIES + encrypted + 0.5, f"{measured:.2f} copies"
    assert connection.dropped == 0
