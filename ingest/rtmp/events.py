"""Events an ``RtmpConnection`` hands to its owner through ``next_event()``."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.media import Frame, TrackInfo


@dataclass(frozen=True, slots=True)
class RtmpEvent:
    """Base class of every RTMP event."""


@dataclass(frozen=True, slots=True)
class HandshakeCompleted(RtmpEvent):
    """C0-C2 exchanged; commands may follow."""


@dataclass(frozen=True, slots=True)
class ConnectRequested(RtmpEvent):
    """The client sent ``connect``; answer with ``accept_connect()`` or ``reject_connect()``."""

    app: str
    tc_url: str
    properties: dict[str, object]
    """The whole command object (flashVer, fourCcList, objectEncoding, ...)."""


@dataclass(frozen=True, slots=True)
class PublishRequested(RtmpEvent):
    """The client sent ``publish``; answer with ``accept_publish()`` or ``reject_publish()``."""

    app: str
    stream_name: str
    """The publishing name without any ``?query``."""
    publish_type: str
    """``live``, ``record`` or ``append`` as the client sent it."""
    stream_id: int
    query: str = ""
    """What followed the first ``?`` of the publishing name, without the ``?``."""


@dataclass(frozen=True, slots=True)
class MetadataReceived(RtmpEvent):
    """``@setDataFrame``/``onMetaData`` properties; advisory (sequence headers win)."""

    metadata: dict[str, object]


@dataclass(frozen=True, slots=True)
class TrackAnnounced(RtmpEvent):
    """A sequence header announced a track, or changed it (new resolution, codec...)."""

    track: TrackInfo


@dataclass(frozen=True, slots=True)
class FrameReceived(RtmpEvent):
    frame: Frame


@dataclass(frozen=True, slots=True)
class PublishEnded(RtmpEvent):
    """The client ended the publish (``FCUnpublish``, ``deleteStream``, ``closeStream``)."""

    reason: str


@dataclass(frozen=True, slots=True)
class ConnectionClosed(RtmpEvent):
    """The peer closed the TCP stream (``receive_data(b"")``)."""

    reason: str


@dataclass(frozen=True, slots=True)
class PingResponse(RtmpEvent):
    """The client answered ``send_ping(timestamp)``."""

    timestamp: int
