"""RTMP's protocol error: a ``ProtocolError`` whose ``code`` names the layer that failed."""

from __future__ import annotations

from ingest.errors import ProtocolError


class RtmpError(ProtocolError):
    """Bad RTMP input; ``code`` is one of ``handshake``, ``chunk``, ``amf``, ``flv``,
    ``command``, ``limit`` (a size/budget cap was exceeded)."""

    def __init__(self, message: str, code: str = "rtmp") -> None:
        super().__init__(message, code)
