"""Shared helpers for the RTMP core tests: a scripted publisher built with our own chunk
writer, a driver that plays the application's part, and ways to split input."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from pathlib import Path

from ingest.rtmp import amf0
from ingest.rtmp.chunk import ChunkReader, ChunkWriter, Message
from ingest.rtmp.connection import RtmpConnection
from ingest.rtmp.events import ConnectRequested, PublishRequested, RtmpEvent

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "rtmp"
HANDSHAKE_REPLY = 1 + 2 * 1536

# avcC of ffmpeg 5.1/libx264 at 160x120 (High, level 1.2); its SPS has an emulation-prevention
# byte (00 00 03).
AVCC_160X120 = bytes.fromhex(
    "0164000cffe100196764000cacd942847e5c0440000003004000000783c50a658001000468efbcb0fdf8f800")
ASC_22050_MONO = bytes.fromhex("138856e500")


def load(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def client_handshake(version_field: bytes = bytes(4), c2: bytes | None = None) -> bytes:
    c1 = bytes(4) + version_field + random.Random(1).randbytes(1528)
    return b"\x03" + c1 + (c2 if c2 is not None else bytes(1536))


class Publisher:
    """The client side of a session, written with ``ChunkWriter`` like ffmpeg's rtmpproto."""

    def __init__(self) -> None:
        self.writer = ChunkWriter()
        self.out = bytearray()
        self.txn = 0

    def take(self) -> bytes:
        data = bytes(self.out)
        self.out.clear()
        return data

    def message(self, csid: int, timestamp: int, type_id: int, stream_id: int,
                payload: bytes) -> None:
        self.writer.write(self.out, csid, timestamp, type_id, stream_id, payload)

    def set_chunk_size(self, size: int) -> None:
        self.message(2, 0, 1, 0, size.to_bytes(4, "big"))
        self.writer.chunk_size = size

    def command(self, name: str, *args: object, csid: int = 3, stream_id: int = 0,
                txn: float | None = None) -> None:
        if txn is None:
            self.txn += 1
            txn = float(self.txn)
        self.message(csid, 0, 20, stream_id, amf0.encode(name, txn, *args))

    def connect(self, app: str = "live", **extra: object) -> None:
        props: dict[str, object] = {"app": app, "type": "nonprivate",
                                    "flashVer": "FMLE/3.0 (compatible; Lavf59.27.100)",
                                    "tcUrl": f"rtmp://127.0.0.1:1935/{app}"}
        props.update(extra)
        self.command("connect", props)

    def start_publish(self, name: str = "streamkey123") -> None:
        """What ffmpeg sends once the connect ``_result`` arrived (rtmp.md §8)."""
        self.command("releaseStream", None, name)
        self.command("FCPublish", None, name)
        self.command("createStream", None)
        self.command("publish", None, name, "live", csid=8, stream_id=1)

    def metadata(self, props: dict[str, object]) -> None:
        self.message(4, 0, 18, 1, amf0.encode("@setDataFrame", "onMetaData",
                                              amf0.EcmaArray(props)))

    def video(self, timestamp: int, body: bytes) -> None:
        self.message(6, timestamp, 9, 1, body)

    def audio(self, timestamp: int, body: bytes) -> None:
        self.message(4, timestamp, 8, 1, body)

    def end(self, name: str = "streamkey123") -> None:
        self.command("FCUnpublish", None, name)
        self.command("deleteStream", None, 1.0)


def avc_frame(key: bool, cts: int, nalus: Sequence[bytes], length_size: int = 4) -> bytes:
    body = bytes([0x17 if key else 0x27, 1]) + cts.to_bytes(3, "big", signed=True)
    return body + b"".join(len(n).to_bytes(length_size, "big") + n for n in nalus)


def ffmpeg_like_session() -> list[bytes]:
    """A whole publish as ffmpeg 5.1 sends it, in the pieces it writes before each wait."""
    pub = Publisher()
    pieces = [client_handshake(bytes.fromhex("09007c02"))]
    pub.connect()
    pub.set_chunk_size(4096)
    pieces.append(pub.take())
    pub.start_publish()
    pieces.append(pub.take())
    pub.metadata({"duration": 0.0, "width": 160.0, "height": 120.0, "videocodecid": 7.0,
                  "audiocodecid": 10.0, "encoder": "Lavf59.27.100", "stereo": False})
    pub.video(0, b"\x17\x00\x00\x00\x00" + AVCC_160X120)
    pub.audio(0, b"\xaf\x00" + ASC_22050_MONO)
    pub.video(0, avc_frame(True, 80, [b"\x06" + bytes(20), b"\x65" + bytes(range(256)) * 30]))
    pub.audio(23, b"\xaf\x01" + bytes(200))
    pub.video(66, avc_frame(False, 0, [b"\x41" + bytes(5000)]))
    pub.audio(46, b"\xaf\x01" + bytes(180))
    pub.video(133, avc_frame(False, 40, [b"\x01" + bytes(300)]))
    pub.end()
    pieces.append(pub.take())
    return pieces


def drive(pieces: Iterable[bytes], *, accept: bool = True, eof: bool = True,
          conn: RtmpConnection | None = None) -> tuple[list[RtmpEvent], bytes]:
    """Feed pieces to a connection, answering connect/publish as an accepting server would;
    returns all events and everything the server sent."""
    conn = conn or RtmpConnection()
    events: list[RtmpEvent] = []
    out = bytearray()

    def drain() -> None:
        while (event := conn.next_event()) is not None:
            events.append(event)
            if accept and isinstance(event, ConnectRequested):
                conn.accept_connect()
            elif accept and isinstance(event, PublishRequested):
                conn.accept_publish()

    for piece in pieces:
        conn.receive_data(piece)
        drain()
        out += conn.data_to_send()
    if eof:
        conn.receive_data(b"")
        drain()
    return events, bytes(out)


def byte_by_byte(data: bytes) -> list[bytes]:
    return [data[i:i + 1] for i in range(len(data))]


def random_splits(data: bytes, seed: int, max_piece: int = 700) -> list[bytes]:
    rng = random.Random(seed)
    pieces = []
    pos = 0
    while pos < len(data):
        size = rng.randint(1, max_piece)
        pieces.append(data[pos:pos + size])
        pos += size
    return pieces


class ServerOutput:
    """The client's view of what the server sends: one reader across calls, because the
    server's chunk headers are compressed against its earlier messages."""

    def __init__(self) -> None:
        self.reader = ChunkReader()
        self.skip = HANDSHAKE_REPLY

    def feed(self, out: bytes) -> list[Message]:
        take = min(self.skip, len(out))
        self.skip -= take
        self.reader.feed(out[take:])
        messages = []
        while (message := self.reader.next_message()) is not None:
            messages.append(message)
            if message.type_id == 1:
                self.reader.set_chunk_size(int.from_bytes(message.payload[:4], "big"))
        assert self.reader.buffered == 0
        return messages


def server_messages(out: bytes) -> list[Message]:
    """Parse what the server sent after S0+S1+S2, honouring its Set Chunk Size."""
    return ServerOutput().feed(out)


def client_messages(data: bytes) -> list[Message]:
    """Parse a publisher's bytes (after C0+C1+C2), honouring its Set Chunk Size."""
    return server_messages(data)  # C0+C1+C2 is as long as S0+S1+S2


def commands(messages: Iterable[Message]) -> list[tuple[int, list[object]]]:
    return [(m.stream_id, amf0.decode(m.payload)) for m in messages if m.type_id == 20]
