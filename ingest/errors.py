"""The one error type every ingest parser raises on bad input."""

from __future__ import annotations


class ProtocolError(Exception):
    """Input that violates the protocol; the connection carrying it must be closed.

    ``code`` is a short machine-readable reason (logged and reported with the disconnect).
    """

    def __init__(self, message: str, code: str = "protocol_error") -> None:
        super().__init__(message)
        self.code = code
