"""The MPEG-TS demuxer's error type."""

from __future__ import annotations

from typing import Final

from ingest.errors import ProtocolError

NO_SYNC: Final = "no_sync"
"""No sync byte pattern in ``PacketSplitter.max_unsynced`` bytes: not a transport stream
(or one decrypted with the wrong key). Loss of whole datagrams cannot explain it."""


class MpegTsError(ProtocolError):
    """Input no loss can explain. Losses (continuity jumps, a missing sync byte after a gap,
    truncated or oversized PES, bad CRCs) are counted on ``TsDemuxer``, never raised."""

    def __init__(self, message: str, code: str = "mpegts") -> None:
        super().__init__(message, code)
