"""The SRT core's one error type: anything malformed a peer sends."""

from __future__ import annotations

from ingest.errors import ProtocolError


class SrtError(ProtocolError):
    """Malformed or unacceptable SRT input; ``code`` names the part (packet, handshake,
    km, ...)."""

    def __init__(self, message: str, code: str = "srt") -> None:
        super().__init__(message, code)
