"""RTMP ingest: a sans-IO protocol core (handshake, chunk stream, AMF0, FLV bodies) that turns
a publisher's byte stream into ``TrackInfo``/``Frame`` events. ``RtmpConnection`` is the entry
point; the asyncio server feeding it lives beside it."""

from ingest.rtmp.connection import RtmpConnection
from ingest.rtmp.errors import RtmpError
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

__all__ = [
    "ConnectRequested",
    "ConnectionClosed",
    "FrameReceived",
    "HandshakeCompleted",
    "MetadataReceived",
    "PingResponse",
    "PublishEnded",
    "PublishRequested",
    "RtmpConnection",
    "RtmpError",
    "RtmpEvent",
    "TrackAnnounced",
]
