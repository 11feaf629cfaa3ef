"""RtmpConnection: a scripted ffmpeg-like publish, the server's replies, every split of the
input, flow control, rejections, and hostile input."""

from __future__ import annotations

import hashlib
import hmac
import random
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.errors import ProtocolError
from ingest.rtmp import amf0
from ingest.rtmp.amf0 import UNDEFINED
from ingest.rtmp.connection import RtmpConnection
from ingest.rtmp.events import (
    ConnectionClosed,
    ConnectRequested,
    FrameReceived,
    HandshakeCompleted,
    MetadataReceived,
    PingResponse,
    PublishEnded,
    PublishRequested,
    RtmpEvent,
    TrackAnnounced,
)
from tests.ingest.rtmp.rtmp_testing import (
    ASC_22050_MONO,
    AVCC_160X120,
    Publisher,
    ServerOutput,
    avc_frame,
    byte_by_byte,
    client_handshake,
    commands,
    drive,
    ffmpeg_like_session,
    random_splits,
    server_messages,
)


def kinds(events: list[RtmpEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def frames(events: list[RtmpEvent]) -> list[FrameReceived]:
    return [e for e in events if isinstance(e, FrameReceived)]


def test_ffmpeg_like_session_events() -> None:
    events, _ = drive(ffmpeg_like_session())
    assert kinds(events) == [
        "HandshakeCompleted", "ConnectRequested", "PublishRequested", "MetadataReceived",
        "TrackAnnounced", "TrackAnnounced", "FrameReceived", "FrameReceived", "FrameReceived",
        "FrameReceived", "FrameReceived", "PublishEnded", "ConnectionClosed"]
    connect = events[1]
    assert isinstance(connect, ConnectRequested)
    assert (connect.app, connect.tc_url) == ("live", "rtmp://127.0.0.1:1935/live")
    assert connect.properties["flashVer"] == "FMLE/3.0 (compatible; Lavf59.27.100)"
    assert events[2] == PublishRequested("live", "streamkey123", "live", 1, "")
    meta = events[3]
    assert isinstance(meta, MetadataReceived) and meta.metadata["width"] == 160.0
    video, audio = (e.track for e in events[4:6] if isinstance(e, TrackAnnounced))
    assert (video.codec, video.codec_string, video.width, video.height, video.config) == (
        "h264", "avc1.64000c", 160, 120, AVCC_160X120)
    assert (audio.codec, audio.sample_rate, audio.channels, audio.config) == (
        "aac", 22050, 1, ASC_22050_MONO)
    got = [(f.frame.track.kind, f.frame.dts, f.frame.pts, f.frame.keyframe)
           for f in frames(events)]
    assert got == [("video", 0, 80, True), ("audio", 23, 23, True), ("video", 66, 66, False),
                   ("audio", 46, 46, True), ("video", 133, 173, False)]
    key = frames(events)[0].frame.payload
    assert key[:4] == (21).to_bytes(4, "big") and len(key) == 4 + 21 + 4 + 1 + 256 * 30
    assert events[-2] == PublishEnded("FCUnpublish")
    assert events[-1] == ConnectionClosed("eof")


def test_ffmpeg_like_session_replies() -> None:
    _, out = drive(ffmpeg_like_session())
    assert out[0] == 3 and out[5:9] == bytes(4)  # S0, plain S1
    messages = server_messages(out)
    control = [(m.csid, m.type_id, m.stream_id, bytes(m.payload)) for m in messages
               if m.type_id != 20]
    assert control == [
        (2, 5, 0, struct.pack(">I", 2_500_000)),
        (2, 6, 0, struct.pack(">IB", 2_500_000, 2)),
        (2, 1, 0, struct.pack(">I", 4096)),
        (2, 4, 0, b"\x00\x00" + struct.pack(">I", 0)),
        (2, 4, 0, b"\x00\x00" + struct.pack(">I", 1)),
    ]
    replies = commands(messages)
    assert replies[0] == (0, ["_result", 1.0,
                              {"fmsVer": "FMS/3,0,1,123", "capabilities": 31.0, "mode": 1.0},
                              {"level": "status", "code": "NetConnection.Connect.Success",
                               "description": "Connection succeeded.", "objectEncoding": 0.0}])
    assert replies[1:4] == [(0, ["_result", 2.0, None, UNDEFINED]),
                            (0, ["_result", 3.0, None, UNDEFINED]),
                            (0, ["_result", 4.0, None, 1.0])]
    stream_id, status = replies[4]
    assert stream_id == 1 and status[:3] == ["onStatus", 0.0, None]
    info = status[3]
    assert isinstance(info, dict)
    assert (info["level"], info["code"]) == ("status", "NetStream.Publish.Start")
    assert len(replies) == 5


def test_any_split_gives_identical_events() -> None:
    data = b"".join(ffmpeg_like_session())
    expected, _ = drive(ffmpeg_like_session())
    assert drive([data])[0] == expected
    assert drive(byte_by_byte(data))[0] == expected
    for seed in range(20):
        assert drive(random_splits(data, seed))[0] == expected


def test_input_waits_for_the_application_answers() -> None:
    """Commands and media pipelined behind connect/publish are parsed only once accepted."""
    conn = RtmpConnection()
    conn.receive_data(b"".join(ffmpeg_like_session()))
    assert [type(conn.next_event()) for _ in range(2)] == [HandshakeCompleted,
                                                          ConnectRequested]
    assert conn.next_event() is None
    conn.accept_connect()
    assert isinstance(conn.next_event(), PublishRequested) and conn.next_event() is None
    conn.accept_publish()
    rest = []
    while (event := conn.next_event()) is not None:
        rest.append(event)
    assert kinds(rest)[-1] == "PublishEnded" and len(frames(rest)) == 5


def test_paused_connection_buffer_is_bounded() -> None:
    pub = Publisher()
    pub.connect()
    conn = RtmpConnection(max_message_size=1000)
    conn.receive_data(client_handshake() + pub.take())
    with pytest.raises(ProtocolError):
        conn.receive_data(bytes(70_000))


def test_fp9_digest_handshake_through_connection() -> None:
    crud = bytes.fromhex("F0EEC24A8068BEE82E00D0D1029E7E576EEC5D2D29806FAB93B8E636CFEB31AE")
    fp_key = b"Genuine Adobe Flash Player 001" + crud
    fms_key = b"Genuine Adobe Flash Media Server 001" + crud
    c1 = bytearray(random.Random(5).randbytes(1536))
    c1[4:8] = b"\x80\x00\x07\x02"
    at = 12 + sum(c1[8:12]) % 728
    digest = hmac.new(fp_key[:30], bytes(c1[:at] + c1[at + 32:]), hashlib.sha256).digest()
    c1[at:at + 32] = digest
    conn = RtmpConnection()
    conn.receive_data(b"\x03" + bytes(c1))
    out = conn.data_to_send()
    s1, s2 = out[1:1537], out[1537:]
    s1_at = 12 + sum(s1[8:12]) % 728
    assert s1[s1_at:s1_at + 32] == hmac.new(fms_key[:36], s1[:s1_at] + s1[s1_at + 32:],
                                            hashlib.sha256).digest()
    key = hmac.new(fms_key, digest, hashlib.sha256).digest()
    assert s2[1504:] == hmac.new(key, s2[:1504], hashlib.sha256).digest()
    assert conn.next_event() is None
    conn.receive_data(bytes(1536))
    assert conn.next_event() == HandshakeCompleted()


def connected() -> tuple[RtmpConnection, Publisher, ServerOutput]:
    """A connection with connect and publish accepted, and the client's view of its output."""
    pub = Publisher()
    pub.connect()
    conn = RtmpConnection()
    output = ServerOutput()
    conn.receive_data(client_handshake() + pub.take())
    conn.accept_connect()
    pub.start_publish()
    conn.receive_data(pub.take())
    conn.accept_publish()
    while conn.next_event() is not None:
        pass
    output.feed(conn.data_to_send())
    pub.set_chunk_size(4096)
    return conn, pub, output


def events_of(conn: RtmpConnection, data: bytes) -> list[RtmpEvent]:
    conn.receive_data(data)
    events = []
    while (event := conn.next_event()) is not None:
        events.append(event)
    return events


def test_extended_timestamps_and_32bit_wrap_through_connection() -> None:
    conn, pub, _output = connected()
    pub.video(0, b"\x17\x00\x00\x00\x00" + AVCC_160X120)
    big = avc_frame(True, 0, [b"\x65" + bytes(9000)])  # > 2 chunks: fmt 3 continuations
    pub.video(0xFFFFFF00, big)
    pub.video(0xFFFFFFF0, avc_frame(False, 0, [b"\x41" + bytes(9000)]))
    pub.video(0x20, avc_frame(False, 0, [b"\x41" + bytes(10)]))  # wrapped: fmt 0 header
    got = [f.frame.dts for f in frames(events_of(conn, pub.take()))]
    assert got == [0xFFFFFF00, 0xFFFFFFF0, (1 << 32) + 0x20]


def test_extended_timestamp_omitted_on_continuations_is_accepted() -> None:
    conn, pub, _output = connected()
    pub.video(0, b"\x17\x00\x00\x00\x00" + AVCC_160X120)
    body = avc_frame(True, 0, [b"\x65" + bytes(300)])
    ts = 0x01000000
    header = (b"\x06\xff\xff\xff" + len(body).to_bytes(3, "big") + b"\x09"
              + (1).to_bytes(4, "little") + ts.to_bytes(4, "big"))
    data = pub.take() + header + body[:4096]  # chunk size is 4096: one chunk
    data_small = header + body[:128]
    for start in range(128, len(body), 128):
        data_small += b"\xc6" + body[start:start + 128]  # no repeated extended timestamp
    conn.receive_data(data)
    while conn.next_event() is not None:
        pass
    pub.set_chunk_size(128)
    assert [f.frame.dts for f in frames(events_of(conn, pub.take() + data_small))] == [ts]


def test_client_set_chunk_size_takes_effect_immediately() -> None:
    conn, pub, _output = connected()
    pub.set_chunk_size(1)
    pub.audio(0, b"\xaf\x00\x12\x10")
    pub.set_chunk_size(70000)
    pub.audio(10, b"\xaf\x01" + bytes(65000))
    got = frames(events_of(conn, pub.take()))
    assert len(got) == 1 and len(got[0].frame.payload) == 65000


def test_abort_message() -> None:
    conn, pub, _output = connected()
    pub.audio(0, b"\xaf\x00\x12\x10")
    head = pub.take()
    partial = pub.writer.chunks(7, 0, 8, 1, b"\xaf\x01" + bytes(5000))[0]  # 1st of 2 chunks
    pub.message(2, 0, 2, 0, struct.pack(">I", 7))
    pub.message(7, 5, 8, 1, b"\xaf\x01ok")
    got = frames(events_of(conn, head + partial + pub.take()))
    assert [f.frame.payload for f in got] == [b"ok"]


def test_acknowledgements_follow_the_peer_window() -> None:
    conn, pub, output = connected()
    pub.message(2, 0, 5, 0, struct.pack(">I", 10_000))
    conn.receive_data(pub.take())
    assert conn.bytes_received < 10_000 and server_acks(conn, output) == []
    pub.audio(0, b"\xaf\x00\x12\x10")
    for i in range(12):
        pub.audio(i * 20, b"\xaf\x01" + bytes(3000))
    acks = []
    for piece in random_splits(pub.take(), 1, max_piece=2000):
        conn.receive_data(piece)
        acks += server_acks(conn, output)
    # An ACK each time a window's worth arrived since the last one, carrying the total.
    assert len(acks) >= 3
    assert all(b - a >= 10_000 for a, b in zip([0, *acks], acks, strict=False))
    assert acks[-1] <= conn.bytes_received < acks[-1] + 10_000


def server_acks(conn: RtmpConnection, output: ServerOutput) -> list[int]:
    return [struct.unpack(">I", m.payload)[0] for m in output.feed(conn.data_to_send())
            if m.type_id == 3]


def test_ping_both_ways() -> None:
    conn, pub, output = connected()
    pub.message(2, 0, 4, 0, b"\x00\x06" + struct.pack(">I", 1234))  # client PingRequest
    pub.message(2, 0, 4, 0, b"\x00\x07" + struct.pack(">I", 99))     # answer to ours
    pub.message(2, 0, 4, 0, b"\x00\x03" + bytes(8))                  # SetBufferLength
    events = events_of(conn, pub.take())
    assert events == [PingResponse(99)]
    conn.send_ping(0x1_0000_0005)
    replies = output.feed(conn.data_to_send())
    assert [bytes(m.payload) for m in replies] == [b"\x00\x07" + struct.pack(">I", 1234),
                                                   b"\x00\x06" + struct.pack(">I", 5)]


def test_set_peer_bandwidth_answered_with_window_ack_size() -> None:
    conn, pub, output = connected()
    pub.message(2, 0, 6, 0, struct.pack(">IB", 5_000_000, 2))
    conn.receive_data(pub.take())
    [reply] = output.feed(conn.data_to_send())
    assert (reply.type_id, bytes(reply.payload)) == (5, struct.pack(">I", 5_000_000))


def test_aggregate_message_is_split() -> None:
    conn, pub, _output = connected()

    def tag(type_id: int, ts: int, body: bytes) -> bytes:
        head = bytes([type_id]) + len(body).to_bytes(3, "big") + (ts & 0xFFFFFF).to_bytes(
            3, "big") + bytes([ts >> 24]) + bytes(3)
        return head + body + (11 + len(body)).to_bytes(4, "big")

    payload = (tag(9, 1000, b"\x17\x00\x00\x00\x00" + AVCC_160X120)
               + tag(9, 1000, avc_frame(True, 0, [b"\x65a"]))
               + tag(8, 1000, b"\xaf\x00\x12\x10") + tag(8, 1021, b"\xaf\x01x")
               + tag(9, 1040, avc_frame(False, 0, [b"\x41b"])))
    pub.message(6, 50, 22, 1, payload)  # sub-message times shift by 50 - 1000
    got = [(f.frame.track.kind, f.frame.dts) for f in frames(events_of(conn, pub.take()))]
    assert got == [("video", 50), ("audio", 71), ("video", 90)]


def test_reject_connect() -> None:
    pub = Publisher()
    pub.connect()
    conn = RtmpConnection()
    conn.receive_data(client_handshake() + pub.take())
    conn.reject_connect("unknown application")
    assert conn.closed
    [(_msid, reply)] = commands(server_messages(conn.data_to_send()))
    assert reply[:3] == ["_error", 1.0, None]
    assert reply[3] == {"level": "error", "code": "NetConnection.Connect.Rejected",
                        "description": "unknown application"}
    conn.receive_data(b"anything")  # ignored once closed
    conn.accept_connect()  # a late answer is a no-op, not a crash


def test_reject_publish() -> None:
    pub = Publisher()
    pub.connect()
    conn = RtmpConnection()
    conn.receive_data(client_handshake() + pub.take())
    conn.accept_connect()
    pub.start_publish("wrong?token=1")
    conn.receive_data(pub.take())
    events = []
    while (event := conn.next_event()) is not None:
        events.append(event)
    assert events[-1] == PublishRequested("live", "wrong", "live", 1, "token=1")
    conn.reject_publish("NetStream.Publish.BadName", "unknown stream key")
    assert conn.closed
    msid, reply = commands(server_messages(conn.data_to_send()))[-1]
    assert msid == 1 and reply[:3] == ["onStatus", 0.0, None]
    assert reply[3] == {"level": "error", "code": "NetStream.Publish.BadName",
                        "description": "unknown stream key"}


def test_fail_publish_tells_the_publisher_why_and_closes() -> None:
    conn, _, output = connected()
    with pytest.raises(RuntimeError):
        RtmpConnection().fail_publish("not publishing")
    conn.fail_publish("vp9 cannot be packaged: publish H.264, HEVC or AV1")
    assert conn.closed
    [(msid, reply)] = commands(output.feed(conn.data_to_send()))
    assert msid == 1 and reply[3] == {
        "level": "error", "code": "NetStream.Publish.Failed",
        "description": "vp9 cannot be packaged: publish H.264, HEVC or AV1"}
    conn.fail_publish("again")  # closed: a no-op
    assert conn.data_to_send() == b""


def test_close_while_publishing_sends_unpublish() -> None:
    conn, _, output = connected()
    conn.close("replaced by the backup")
    [(msid, reply)] = commands(output.feed(conn.data_to_send()))
    info = reply[3]
    assert msid == 1 and isinstance(info, dict)
    assert (info["code"], info["description"]) == ("NetStream.Unpublish.Success",
                                                   "replaced by the backup")
    assert conn.closed


def test_close_with_an_error_code_refuses_the_publish_first() -> None:
    """A publish dropped because it may not go on (taken over, key rotated) hears an
    error status before the close, in the same output."""
    conn, _, output = connected()
    conn.close("the primary key was rotated", error_code="NetStream.Publish.BadName")
    assert conn.closed
    [(msid, reply)] = commands(output.feed(conn.data_to_send()))
    assert msid == 1 and reply[:3] == ["onStatus", 0.0, None]
    assert reply[3] == {"level": "error", "code": "NetStream.Publish.BadName",
                        "description": "the primary key was rotated"}
    conn.close("again", error_code="NetStream.Publish.BadName")
    assert conn.data_to_send() == b""


def test_enhanced_connect_and_amf3_object_encoding() -> None:
    pub = Publisher()
    props = {"app": "live", "tcUrl": "rtmp://h/live", "objectEncoding": 3.0,
             "fourCcList": ["hvc1", "av01"], "capsEx": 4.0}
    pub.message(3, 0, 17, 0, b"\x00" + amf0.encode("connect", 1.0, props))
    conn = RtmpConnection()
    events = events_of(conn, client_handshake() + pub.take())
    assert events[1] == ConnectRequested("live", "rtmp://h/live", props)
    conn.accept_connect()
    [(_, reply)] = commands(server_messages(conn.data_to_send()))
    properties, info = reply[2], reply[3]
    assert isinstance(properties, dict) and isinstance(info, dict)
    assert info["objectEncoding"] == 3.0
    assert properties["fourCcList"] == ["avc1", "hvc1", "av01", "vp09", "mp4a", "Opus"]
    assert properties["capsEx"] == 4.0


def test_unknown_commands_are_ignored() -> None:
    conn, pub, output = connected()
    pub.command("getStreamLength", None, "x")
    pub.command("_checkbw", None)
    pub.command("someVendorThing", {"a": 1.0}, [1.0, 2.0])
    pub.message(2, 0, 19, 0, b"\x00\x01")  # shared object: ignored
    pub.message(2, 0, 3, 0, struct.pack(">I", 1000))  # Acknowledgement from the client
    assert events_of(conn, pub.take()) == []
    assert output.feed(conn.data_to_send()) == []


def test_create_stream_ids_increase() -> None:
    conn, pub, output = connected()
    pub.command("createStream", None, txn=9.0)
    pub.command("createStream", None, txn=10.0)
    conn.receive_data(pub.take())
    assert commands(output.feed(conn.data_to_send())) == [
        (0, ["_result", 9.0, None, 2.0]), (0, ["_result", 10.0, None, 3.0])]


def test_republish_after_unpublish() -> None:
    conn, pub, _output = connected()
    pub.end()
    pub.command("publish", None, "again", "live", csid=8, stream_id=1)
    events = events_of(conn, pub.take())
    assert events == [PublishEnded("FCUnpublish"),
                      PublishRequested("live", "again", "live", 1, "")]


@pytest.mark.parametrize("script", ["publish_first", "create_first", "connect_twice",
                                    "double_publish", "no_name", "bad_command"])
def test_command_order_violations(script: str) -> None:
    pub = Publisher()
    conn = RtmpConnection()
    if script == "publish_first":
        pub.command("publish", None, "k", "live", csid=8, stream_id=1)
    elif script == "create_first":
        pub.command("createStream", None)
    elif script == "bad_command":
        pub.message(3, 0, 20, 0, amf0.encode(1.0, 2.0))
    else:
        pub.connect()
    data = client_handshake() + pub.take()
    with pytest.raises(ProtocolError):
        conn.receive_data(data)
        while (event := conn.next_event()) is not None:
            if isinstance(event, ConnectRequested):
                conn.accept_connect()
                if script == "connect_twice":
                    pub.connect()
                elif script == "no_name":
                    pub.command("publish", None, csid=8, stream_id=1)
                elif script == "double_publish":
                    pub.start_publish()
                    pub.command("publish", None, "k", "live", csid=8, stream_id=1)
                conn.receive_data(pub.take())
            elif isinstance(event, PublishRequested):
                conn.accept_publish()
    assert conn.closed


def test_eof_during_handshake() -> None:
    conn = RtmpConnection()
    conn.receive_data(b"\x03" + bytes(100))
    conn.receive_data(b"")
    assert conn.next_event() == ConnectionClosed("eof during handshake")
    assert conn.closed and conn.bytes_received == 101


# -- hostile input --------------------------------------------------------------------------

def feed_hostile(prefix: bytes, data: bytes, pieces: int) -> None:
    conn = RtmpConnection(max_message_size=64 << 10)
    try:
        conn.receive_data(prefix)
        for piece in random_splits(data, pieces, max_piece=max(1, len(data) // pieces + 1)):
            conn.receive_data(piece)
            while (event := conn.next_event()) is not None:
                if isinstance(event, ConnectRequested):
                    conn.accept_connect()
                elif isinstance(event, PublishRequested):
                    conn.accept_publish()
    except ProtocolError:
        assert conn.closed


@settings(max_examples=300, deadline=2000)
@given(st.binary(max_size=3000), st.integers(1, 5))
def test_random_bytes_without_handshake(data: bytes, pieces: int) -> None:
    feed_hostile(b"", data, pieces)


@settings(max_examples=300, deadline=2000)
@given(st.binary(max_size=3000), st.integers(1, 5))
def test_random_bytes_after_handshake(data: bytes, pieces: int) -> None:
    feed_hostile(client_handshake(), data, pieces)


def session_prefix() -> bytes:
    pub = Publisher()
    pub.connect()
    pub.start_publish()
    pub.video(0, b"\x17\x00\x00\x00\x00" + AVCC_160X120)
    pub.audio(0, b"\xaf\x00\x12\x10")
    return client_handshake() + pub.take()


PREFIX = session_prefix()


@st.composite
def hostile_messages(draw: st.DrawFn) -> bytes:
    """Well-chunked messages with hostile payloads, so fuzzing reaches every handler."""
    pub = Publisher()
    for _ in range(draw(st.integers(1, 6))):
        type_id = draw(st.sampled_from([1, 2, 3, 4, 5, 6, 8, 9, 15, 17, 18, 20, 22]))
        payload = draw(st.binary(max_size=200))
        if type_id in (8, 9) and payload and draw(st.booleans()):
            payload = bytes([draw(st.sampled_from([0x17, 0x27, 0xAF, 0x90, 0x91, 0x93,
                                                   0x96, 0x97, 0x95]))]) + payload
        if type_id == 1:
            payload = struct.pack(">I", draw(st.integers(0, 0xFFFFFFFF)))
        if type_id in (18, 20) and draw(st.booleans()):
            payload = amf0.encode(draw(st.sampled_from(
                ["publish", "createStream", "deleteStream", "FCUnpublish", "@setDataFrame",
                 "onMetaData", "connect", "releaseStream"])), 5.0) + payload
        pub.message(draw(st.integers(3, 400)), draw(st.integers(0, 0xFFFFFFFF)), type_id,
                    draw(st.sampled_from([0, 1, 7])), payload)
    return pub.take()


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_messages(), st.integers(1, 4))
def test_hostile_messages_in_a_publish(data: bytes, pieces: int) -> None:
    feed_hostile(PREFIX, data, pieces)
