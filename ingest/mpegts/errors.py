"""The MPEG-TS demuxer's error type."""

from __future__ import annotations

from ingest.errors import ProtocolError


class MpegTsError(ProtocolError):
    """Input no loss can explain (an oversized PES); losses are counted, not raised."""

    def __init__(self, message: str, code: str = "mpegts") -> None:
        super().__init__(message, code)
