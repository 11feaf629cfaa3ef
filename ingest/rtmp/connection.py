"""``RtmpConnection``: the sans-IO server side of one RTMP publisher connection.

The owner feeds socket bytes to ``receive_data()``, drains ``next_event()``, answers
``ConnectRequested``/``PublishRequested`` with the accept/reject methods and writes
``data_to_send()`` to the socket. No sockets, clocks or tasks here (STYLE.md, aioquic).

States (rtmp.md §5.1):

    HANDSHAKE ──C2──▶ AWAIT_CONNECT ──connect──▶ CONNECT_PENDING ──accept_connect()──▶ CONNECTED
    CONNECTED: releaseStream/FCPublish/createStream answered; publish → PublishRequested
               (publish pending until accept_publish()), then media → frames.
    Any state ──EOF / reject_*() / close()──▶ CLOSED (further input is ignored).

While a connect or publish awaits the application's answer, input is buffered unparsed
(bounded) and parsed by ``accept_connect()``/``accept_publish()``, which can therefore raise
``ProtocolError`` too. So a client pipelining commands or media behind them is served in
order, no media event ever precedes the publish being accepted, and any command but
``connect`` reaching the core before the connect (``publish`` included) is a protocol error.

Until a publish is accepted the peer has proved nothing, so it gets small caps: messages of
at most ``pre_auth_message_size`` bytes (connect, createStream and publish take a few hundred)
and ``pre_auth_buffer`` bytes in all, partial messages and input held during a decision
together. Going past either is a ``ProtocolError`` (code ``limit``); ``accept_publish()`` lifts
them to ``max_message_size`` (twice that for partial messages) for good: a peer that once
published with a valid key keeps them.
"""

from __future__ import annotations

import enum
import struct
from collections import deque
from typing import Final

from ingest.rtmp import amf0
from ingest.rtmp.chunk import Buffer, ChunkReader, ChunkWriter, Message
from ingest.rtmp.errors import RtmpError
from ingest.rtmp.events import (
    ConnectionClosed,
    ConnectRequested,
    HandshakeCompleted,
    MetadataReceived,
    PingResponse,
    PublishEnded,
    PublishRequested,
    RtmpEvent,
)
from ingest.rtmp.flv import FlvDemuxer
from ingest.rtmp.handshake import ServerHandshake

# Message types (§3).
SET_CHUNK_SIZE, ABORT, ACKNOWLEDGEMENT, USER_CONTROL = 1, 2, 3, 4
WINDOW_ACK_SIZE, SET_PEER_BANDWIDTH = 5, 6
AUDIO, VIDEO = 8, 9
DATA_AMF3, SHARED_OBJECT_AMF3, COMMAND_AMF3 = 15, 16, 17
DATA_AMF0, SHARED_OBJECT_AMF0, COMMAND_AMF0 = 18, 19, 20
AGGREGATE = 22

# User control events (§3.1).
STREAM_BEGIN, PING_REQUEST, PING_RESPONSE = 0, 6, 7

CONTROL_CSID: Final = 2
COMMAND_CSID: Final = 3
STREAM_CSID: Final = 5
MAX_STREAMS: Final = 64
"""createStream calls allowed per connection (one is all a publisher needs)."""

SUPPORTED_FOURCCS: Final = ("avc1", "hvc1", "av01", "vp09", "mp4a", "Opus")
CAPS_EX_MODEX: Final = 0x04

PRE_AUTH_MESSAGE_SIZE: Final = 8 << 10
PRE_AUTH_BUFFER: Final = 64 << 10

_U32 = struct.Struct(">I")
_MASK32: Final = 0xFFFFFFFF


class _State(enum.Enum):
    HANDSHAKE = enum.auto()
    AWAIT_CONNECT = enum.auto()
    CONNECT_PENDING = enum.auto()
    CONNECTED = enum.auto()
    CLOSED = enum.auto()


class _Publish(enum.Enum):
    NONE = enum.auto()
    PENDING = enum.auto()
    ACTIVE = enum.auto()


def _fail(message: str) -> RtmpError:
    return RtmpError(message, "command")


class RtmpConnection:
    def __init__(self, *, max_message_size: int = 8 << 20, window_ack_size: int = 2_500_000,
                 out_chunk_size: int = 4096, pre_auth_message_size: int = PRE_AUTH_MESSAGE_SIZE,
                 pre_auth_buffer: int = PRE_AUTH_BUFFER) -> None:
        self._window_ack_size = window_ack_size
        self._out_chunk_size = out_chunk_size
        self._handshake = ServerHandshake()
        self._max_message_size = max_message_size
        pre_auth_message_size = min(pre_auth_message_size, max_message_size)
        self._reader = ChunkReader(max_message_size=pre_auth_message_size,
                                   reassembly_budget=max(pre_auth_buffer, pre_auth_message_size))
        self._writer = ChunkWriter()
        self._out = bytearray()
        self._events: deque[RtmpEvent] = deque()
        self._state = _State.HANDSHAKE
        self._now = 0.0
        self.bytes_received = 0
        self._peer_window = 0  # the peer's Window Acknowledgement Size; 0 = never announced
        self._acked = 0
        self._sent_window = 0
        self._connect_txn = 0.0
        self._object_encoding = 0.0
        self._app = ""
        self._enhanced = False
        self._next_stream_id = 1
        self._publish = _Publish.NONE
        self._publish_stream_id = 0
        self._publish_name = ""
        self._demux = FlvDemuxer()
        self._lifted = False
        self._pause_limit = max(pre_auth_buffer, pre_auth_message_size)
        """Unparsed input a pending decision may hold (lifted with the publish)."""

    # -- input ------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._state is _State.CLOSED

    def receive_data(self, data: bytes, now: float = 0.0) -> None:
        """Bytes from the socket (``b""`` = EOF). Raises ``ProtocolError`` on bad input."""
        if self._state is _State.CLOSED:
            return
        if not data:
            reason = "eof during handshake" if self._state is _State.HANDSHAKE else "eof"
            self._state = _State.CLOSED
            self._events.append(ConnectionClosed(reason))
            return
        self.bytes_received += len(data)
        self._now = now
        try:
            self._receive(data)
        except RtmpError:
            self._state = _State.CLOSED
            raise

    def _receive(self, data: bytes) -> None:
        rest: Buffer = data
        if self._state is _State.HANDSHAKE:
            used = self._handshake.receive_data(data)
            self._out += self._handshake.data_to_send()
            if not self._handshake.complete:
                return
            self._state = _State.AWAIT_CONNECT
            self._events.append(HandshakeCompleted())
            rest = memoryview(data)[used:]
        self._reader.feed(rest)
        self._parse()
        window = self._peer_window
        if window and self.bytes_received - self._acked >= window:
            self._acked = self.bytes_received
            self._control(ACKNOWLEDGEMENT, _U32.pack(self.bytes_received & _MASK32))

    def _parse(self) -> None:
        reader = self._reader
        dispatch = self._dispatch
        # Paused while the application decides on a connect or publish (h11's PAUSED): a
        # client that pipelines commands or media behind them is served in order once
        # accepted. The cap keeps a paused connection from buffering without bound.
        while self._state is not _State.CLOSED:
            if self._state is _State.CONNECT_PENDING or self._publish is _Publish.PENDING:
                if reader.buffered > self._pause_limit:
                    raise RtmpError("too much data before the application answered", "limit")
                return
            message = reader.next_message()
            if message is None:
                return
            dispatch(message)

    def next_event(self) -> RtmpEvent | None:
        return self._events.popleft() if self._events else None

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    # -- messages ---------------------------------------------------------------------------

    def _dispatch(self, message: Message) -> None:
        type_id = message.type_id
        payload = message.payload
        if type_id == VIDEO or type_id == AUDIO:
            self._media(type_id, message.timestamp, payload)
        elif type_id == COMMAND_AMF0:
            self._command(message.stream_id, amf0.decode(payload))
        elif type_id == COMMAND_AMF3:
            self._command(message.stream_id, self._amf3_body(payload))
        elif type_id == DATA_AMF0:
            self._data(amf0.decode(payload))
        elif type_id == DATA_AMF3:
            self._data(self._amf3_body(payload))
        elif type_id == AGGREGATE:
            self._aggregate(message.timestamp, payload)
        elif SET_CHUNK_SIZE <= type_id <= SET_PEER_BANDWIDTH:
            self._protocol_control(type_id, payload)
        # Shared objects (16, 19) and unknown types: nothing a publisher needs.

    @staticmethod
    def _amf3_body(payload: Buffer) -> list[object]:
        if not payload:
            raise RtmpError("AMF3 message without its format byte", "amf")
        return amf0.decode(memoryview(payload)[1:], amf3=True)

    def _protocol_control(self, type_id: int, payload: Buffer) -> None:
        if type_id == USER_CONTROL:
            self._user_control(payload)
            return
        if len(payload) < 4:
            raise RtmpError(f"protocol control message {type_id} truncated", "chunk")
        value = _U32.unpack_from(payload)[0]
        if type_id == SET_CHUNK_SIZE:
            self._reader.set_chunk_size(value & 0x7FFFFFFF)
        elif type_id == ABORT:
            self._reader.abort(value)
        elif type_id == WINDOW_ACK_SIZE:
            self._peer_window = value
        elif type_id == SET_PEER_BANDWIDTH:
            if value != self._sent_window:
                self._send_window(value)
        # ACKNOWLEDGEMENT: we send too little to ever wait for the peer's.

    def _user_control(self, payload: Buffer) -> None:
        if len(payload) < 2:
            raise RtmpError("user control message truncated", "chunk")
        event = (payload[0] << 8) | payload[1]
        if event in (PING_REQUEST, PING_RESPONSE):
            if len(payload) < 6:
                raise RtmpError("ping without its timestamp", "chunk")
            if event == PING_REQUEST:
                self._user_event(PING_RESPONSE, bytes(payload[2:6]))
            else:
                self._events.append(PingResponse(_U32.unpack_from(payload, 2)[0]))
        # SetBufferLength, BufferEmpty/Ready and unknown events: ignore.

    def _media(self, type_id: int, timestamp: int, payload: Buffer) -> None:
        if self._publish is _Publish.NONE:
            return  # no publish (or it ended): nowhere to deliver
        demux = self._demux
        if type_id == VIDEO:
            self._events.extend(demux.video(timestamp, payload, self._now))
        else:
            self._events.extend(demux.audio(timestamp, payload, self._now))

    def _data(self, values: list[object]) -> None:
        if self._publish is _Publish.NONE:
            return
        if values and values[0] == "@setDataFrame":
            values = values[1:]
        if len(values) >= 2 and values[0] == "onMetaData" and isinstance(values[1], dict):
            metadata = dict(values[1])
            self._demux.set_metadata(metadata)
            self._events.append(MetadataReceived(metadata))

    def _aggregate(self, timestamp: int, payload: Buffer) -> None:
        # Sub-messages are FLV tags (11-byte header, body, 4-byte back-pointer); their
        # times are shifted so the first equals the aggregate's own timestamp.
        data = memoryview(payload)
        end = len(data)
        pos = 0
        shift: int | None = None
        while pos < end:
            if end - pos < 11:
                raise RtmpError("aggregate sub-message header truncated", "chunk")
            head = _U32.unpack_from(data, pos)[0]
            sub_type, size = head >> 24, head & 0xFFFFFF
            ts = (_U32.unpack_from(data, pos + 3)[0] & 0xFFFFFF) | (data[pos + 7] << 24)
            pos += 11
            if size > end - pos:
                raise RtmpError("aggregate sub-message overruns the message", "chunk")
            body = data[pos:pos + size]
            pos = min(pos + size + 4, end)  # lenient about a missing last back-pointer
            if shift is None:
                shift = timestamp - ts
            sub_ts = (ts + shift) & _MASK32
            if sub_type == VIDEO or sub_type == AUDIO:
                self._media(sub_type, sub_ts, body)
            elif sub_type == DATA_AMF0:
                self._data(amf0.decode(body))

    # -- commands ---------------------------------------------------------------------------

    def _command(self, stream_id: int, values: list[object]) -> None:
        if not values or not isinstance(values[0], str):
            raise _fail("command message without a command name")
        name = values[0]
        txn = values[1] if len(values) > 1 and isinstance(values[1], float) else 0.0
        command_object = values[2] if len(values) > 2 else None
        args = values[3:]

        if name == "connect":
            if self._state is not _State.AWAIT_CONNECT:
                raise _fail("connect sent twice")
            if not isinstance(command_object, dict):
                raise _fail("connect without a command object")
            self._connect(txn, dict(command_object))
            return
        if self._state is not _State.CONNECTED:
            raise _fail(f"{name} before the connect was accepted")
        if name in ("releaseStream", "FCPublish"):
            self._result(txn, amf0.UNDEFINED)
        elif name == "createStream":
            if self._next_stream_id > MAX_STREAMS:
                raise RtmpError("too many createStream calls", "limit")
            stream = self._next_stream_id
            self._next_stream_id += 1
            self._result(txn, float(stream))
        elif name == "publish":
            self._publish_command(stream_id, args)
        elif name in ("FCUnpublish", "deleteStream", "closeStream"):
            if self._publish is not _Publish.NONE:
                if name == "deleteStream" and args and args[0] != float(self._publish_stream_id):
                    return  # some other stream
                self._publish = _Publish.NONE
                self._demux = FlvDemuxer()
                self._events.append(PublishEnded(name))
        # getStreamLength, play, _checkbw, _result, onBWDone, ...: nothing to do.

    def _connect(self, txn: float, properties: dict[str, object]) -> None:
        app = properties.get("app")
        tc_url = properties.get("tcUrl")
        encoding = properties.get("objectEncoding")
        self._connect_txn = txn
        self._app = app if isinstance(app, str) else ""
        self._object_encoding = 3.0 if encoding == 3.0 else 0.0
        self._enhanced = any(key in properties for key in
                             ("fourCcList", "videoFourCcInfoMap", "audioFourCcInfoMap",
                              "capsEx"))
        self._state = _State.CONNECT_PENDING
        self._events.append(ConnectRequested(
            self._app, tc_url if isinstance(tc_url, str) else "", properties))

    def _publish_command(self, stream_id: int, args: list[object]) -> None:
        if self._publish is not _Publish.NONE:
            raise _fail("publish while already publishing")
        if not args or not isinstance(args[0], str):
            raise _fail("publish without a publishing name")
        name, _, query = args[0].partition("?")
        kind = args[1] if len(args) > 1 and isinstance(args[1], str) else "live"
        self._publish = _Publish.PENDING
        self._publish_stream_id = stream_id
        self._publish_name = name
        self._events.append(PublishRequested(self._app, name, kind, stream_id, query))

    # -- application answers ----------------------------------------------------------------

    def accept_connect(self) -> None:
        if self._state is _State.CLOSED:
            return
        if self._state is not _State.CONNECT_PENDING:
            raise RuntimeError("accept_connect() without a pending connect")
        self._send_window(self._window_ack_size)
        self._control(SET_PEER_BANDWIDTH, _U32.pack(self._window_ack_size) + b"\x02")
        self._control(SET_CHUNK_SIZE, _U32.pack(self._out_chunk_size))
        self._writer.chunk_size = self._out_chunk_size
        self._user_event(STREAM_BEGIN, _U32.pack(0))
        properties: dict[str, object] = {"fmsVer": "FMS/3,0,1,123", "capabilities": 31.0,
                                         "mode": 1.0}
        if self._enhanced:
            # E-RTMP: declare what we ingest; ModEx is understood (and nano offsets dropped).
            properties["fourCcList"] = list(SUPPORTED_FOURCCS)
            properties["capsEx"] = float(CAPS_EX_MODEX)
        self._send_command(0, "_result", self._connect_txn, properties, {
            "level": "status", "code": "NetConnection.Connect.Success",
            "description": "Connection succeeded.", "objectEncoding": self._object_encoding})
        self._state = _State.CONNECTED
        self._resume()

    @property
    def authenticated(self) -> bool:
        """A publish was accepted on this connection: it has the full message budget."""
        return self._lifted

    def _lift_limits(self) -> None:
        size = self._max_message_size
        self._reader.set_limits(size, 2 * size)
        self._pause_limit = size + (64 << 10)
        self._lifted = True

    def _resume(self) -> None:
        """Parse what arrived while paused; raises ProtocolError like receive_data()."""
        if self._reader.buffered:
            try:
                self._parse()
            except RtmpError:
                self._state = _State.CLOSED
                raise

    def reject_connect(self, description: str) -> None:
        if self._state is _State.CLOSED:
            return
        if self._state is not _State.CONNECT_PENDING:
            raise RuntimeError("reject_connect() without a pending connect")
        self._send_command(0, "_error", self._connect_txn, None, {
            "level": "error", "code": "NetConnection.Connect.Rejected",
            "description": description})
        self._state = _State.CLOSED

    def accept_publish(self) -> None:
        if self._state is _State.CLOSED:
            return
        if self._publish is not _Publish.PENDING:
            raise RuntimeError("accept_publish() without a pending publish")
        self._user_event(STREAM_BEGIN, _U32.pack(self._publish_stream_id))
        self._on_status("status", "NetStream.Publish.Start",
                        f"{self._publish_name} is now published.")
        self._publish = _Publish.ACTIVE
        self._lift_limits()
        self._resume()

    def reject_publish(self, code: str, description: str) -> None:
        self._end_publish(_Publish.PENDING, code, description)

    def fail_publish(self, description: str, code: str = "NetStream.Publish.Failed") -> None:
        """End an accepted publish the application cannot serve (a track it cannot
        package): an ``onStatus`` error with ``description``, then closed."""
        self._end_publish(_Publish.ACTIVE, code, description)

    def _end_publish(self, expected: _Publish, code: str, description: str) -> None:
        if self._state is _State.CLOSED:
            return
        if self._publish is not expected:
            raise RuntimeError(f"no {expected.name.lower()} publish to end")
        self._on_status("error", code, description)
        self._publish = _Publish.NONE
        self._state = _State.CLOSED

    def send_ping(self, timestamp: int) -> None:
        if self._state is _State.CLOSED:
            return
        self._user_event(PING_REQUEST, _U32.pack(timestamp & _MASK32))

    def close(self, description: str = "", *, error_code: str | None = None) -> None:
        """End the connection; an active publish first hears why in an ``onStatus``: an
        error with ``error_code`` (e.g. ``NetStream.Publish.BadName``: this name may not
        publish any more), else ``NetStream.Unpublish.Success``."""
        if self._state is _State.CLOSED:
            return
        if self._publish is _Publish.ACTIVE:
            if error_code is not None:
                self._on_status("error", error_code, description)
            else:
                self._on_status("status", "NetStream.Unpublish.Success",
                                description or f"{self._publish_name} is now unpublished.")
        self._publish = _Publish.NONE
        self._state = _State.CLOSED

    # -- output -----------------------------------------------------------------------------

    def _control(self, type_id: int, payload: bytes) -> None:
        self._writer.write(self._out, CONTROL_CSID, 0, type_id, 0, payload)

    def _send_window(self, size: int) -> None:
        self._sent_window = size
        self._control(WINDOW_ACK_SIZE, _U32.pack(size))

    def _user_event(self, event: int, data: bytes) -> None:
        self._control(USER_CONTROL, event.to_bytes(2, "big") + data)

    def _send_command(self, stream_id: int, *values: object) -> None:
        csid = COMMAND_CSID if stream_id == 0 else STREAM_CSID
        self._writer.write(self._out, csid, 0, COMMAND_AMF0, stream_id, amf0.encode(*values))

    def _result(self, txn: float, value: object) -> None:
        if txn:  # transaction 0 expects no answer
            self._send_command(0, "_result", txn, None, value)

    def _on_status(self, level: str, code: str, description: str) -> None:
        self._send_command(self._publish_stream_id, "onStatus", 0.0, None,
                           {"level": level, "code": code, "description": description})
