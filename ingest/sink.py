"""Where ingest servers deliver a publish: the contract between ``ingest/`` and the daemon.

The daemon's stream registry implements ``PublishSink``; ingest servers only know this
protocol, so ``ingest/`` never imports ``mediad/``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from ingest.media import Frame, TrackInfo

RefusalReason = Literal["bad_key", "busy", "unavailable"]


@dataclass(frozen=True, slots=True)
class PublishRefused(Exception):
    reason: RefusalReason
    description: str


TRACK_REFUSED: Final = "track refused"
"""How a close for a ``TrackRefused`` begins, in logs and ``detach`` reasons."""


@dataclass(frozen=True, slots=True)
class TrackRefused(Exception):
    """Raised by ``announce_track`` for a track the daemon cannot serve (a codec it cannot
    package): the ingest tells the publisher why and closes that connection."""

    description: str

    @property
    def reason(self) -> str:
        """How ingest servers log the close and report it to ``detach``."""
        return f"{TRACK_REFUSED}: {self.description}"


@dataclass(frozen=True, slots=True)
class Dropped:
    """Why the daemon drops an accepted publisher: what the ingest tells it, where its
    protocol can (an RTMP ``onStatus``), before closing the connection."""

    description: str
    refused: bool = False
    """The publish may not go on under this key (another connection took it over, the key
    was rotated), rather than ended (by the creator, the server, a publish sending no
    media)."""


class PublishSession(Protocol):
    """One accepted publisher. Calls never block: the registry queues to its readers."""

    stream_id: str

    def announce_track(self, track: TrackInfo) -> None:
        """A track or its new parameters; raises ``TrackRefused`` for one that cannot be
        served."""

    def push_frame(self, frame: Frame) -> None: ...

    def set_metadata(self, metadata: Mapping[str, object]) -> None: ...

    def count_bytes(self, received: int) -> None: ...

    def detach(self, reason: str) -> None:
        """The publisher is gone (clean end, reset, timeout, protocol error: ``reason``)."""


class PublishSink(Protocol):
    async def start_publish(
        self, *, protocol: str, key: str, peer: str, disconnect: Callable[[Dropped], None]
    ) -> PublishSession:
        """Check ``key`` and attach the publisher, or raise ``PublishRefused``.

        ``disconnect(dropped)`` lets the registry drop this publisher later (a stale
        connection replaced, a rotated key, no media, the creator ending the stream).
        """
        ...
