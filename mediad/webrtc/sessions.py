"""Every open WHIP and WHEP session of this process: the caps, the ids in ``Location``, and
the end of a session whatever ends it (DELETE, ICE failure or consent lost, a setup that
never connects, the stream ending, shutdown). Closing is idempotent and always frees the
peer connection, so nothing of a session outlives it."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Literal, Protocol

from aiortc import RTCPeerConnection

from mediad.config import WebRtcConfig
from mediad.descriptors import open_descriptors
from mediad.metrics.realtime import RATELIMIT_REFUSALS
from mediad.webrtc.sdp_http import sdp_error

log = logging.getLogger("mediad.webrtc")

SessionKind = Literal["whip", "whep"]


class Session(Protocol):
    id: str
    kind: SessionKind
    stream_id: str
    address: str
    pc: RTCPeerConnection

    async def close(self, reason: str) -> None:
        """Free what the session holds (the peer connection included); called once."""


DESCRIPTORS_PER_SESSION = 4
"""A session's sockets: one UDP socket per bound address (two on a dual-stack host), with
room to spare."""


class WebRtcSessions:
    def __init__(self, settings: WebRtcConfig, *, descriptor_ceiling: int = 0,
                 count_descriptors: Callable[[], int] = open_descriptors) -> None:
        """``descriptor_ceiling``: descriptors this process may use before the reserve kept
        for ingest, the store and ``/healthz`` (0: unchecked)."""
        self.settings = settings
        self.descriptor_ceiling = descriptor_ceiling
        self._count_descriptors = count_descriptors
        self._sessions: dict[str, Session] = {}
        self._per_address: Counter[str] = Counter()
        self._admitted = 0
        """Sessions admitted and not yet added (their answer is being made)."""
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._closing: dict[str, asyncio.Task[bool]] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    def count(self, kind: SessionKind, stream_id: str | None = None) -> int:
        return sum(1 for s in self._sessions.values()
                   if s.kind == kind and (stream_id is None or s.stream_id == stream_id))

    def of_stream(self, stream_id: str, kind: SessionKind | None = None) -> list[Session]:
        return [s for s in self._sessions.values()
                if s.stream_id == stream_id and (kind is None or s.kind == kind)]

    def admit(self, address: str) -> Slot:
        """Room for one more session from ``address`` (503 past ``max_sessions``, 429 past
        ``max_sessions_per_address``), held while its answer is made: ``add`` the session
        or ``release`` the slot."""
        if len(self._sessions) + self._admitted >= self.settings.max_sessions:
            sdp_error(503, "too many WebRTC sessions on this server: try again later")
        if self._per_address[address] >= self.settings.max_sessions_per_address:
            RATELIMIT_REFUSALS.labels("webrtc_address").inc()
            sdp_error(429, "too many WebRTC sessions from this address")
        if self.descriptor_ceiling and (self._count_descriptors() + DESCRIPTORS_PER_SESSION
                                        > self.descriptor_ceiling):
            sdp_error(503, "the server is out of file descriptors for WebRTC: try again later")
        self._admitted += 1
        self._per_address[address] += 1
        return Slot(self, address)

    def new_id(self) -> str:
        return secrets.token_urlsafe(12)

    def add(self, session: Session, slot: Slot) -> None:
        """Take ``session`` into ``slot``: its peer connection failing or closing, or a
        setup past the timeout, close it; its address stays counted until then."""
        slot.taken = True
        self._admitted -= 1
        self._sessions[session.id] = session
        pc = session.pc

        @pc.on("connectionstatechange")
        def state_changed() -> None:
            state = pc.connectionState
            if state == "connected":
                self._cancel_timer(session.id)
            elif state in ("failed", "closed"):
                self.close_soon(session.id, f"connection {state}")

        loop = asyncio.get_running_loop()
        self._timers[session.id] = loop.call_later(
            self.settings.session_setup_timeout_sec, self.close_soon, session.id,
            "ICE/DTLS did not connect in time")

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get(session_id)

    def close_soon(self, session_id: str, reason: str) -> None:
        if session_id in self._sessions and session_id not in self._closing:
            self._closing[session_id] = asyncio.ensure_future(self.close(session_id, reason))

    async def close(self, session_id: str, reason: str) -> bool:
        """End a session; False when there is none by that id (already closed)."""
        session = self._sessions.pop(session_id, None)
        if session is None:
            task = self._closing.get(session_id)
            if task is not None and task is not asyncio.current_task():
                await asyncio.shield(task)
            return False
        self._cancel_timer(session_id)
        self._forget_address(session.address)
        log.info("webrtc session closed", extra={"fields": {
            "session": session.id, "kind": session.kind, "stream": session.stream_id,
            "peer": session.address, "reason": reason}})
        try:
            await session.close(reason)
        except Exception:
            log.exception("error closing a webrtc session", extra={"fields": {
                "session": session.id}})
        finally:
            self._closing.pop(session_id, None)
        return True

    async def close_stream(self, stream_id: str, reason: str,
                           kind: SessionKind | None = None) -> None:
        await _all([self.close(s.id, reason) for s in self.of_stream(stream_id, kind)])

    async def close_all(self, reason: str = "server shutting down") -> None:
        await _all([self.close(session_id, reason) for session_id in list(self._sessions)])
        pending = list(self._closing.values())
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def _cancel_timer(self, session_id: str) -> None:
        timer = self._timers.pop(session_id, None)
        if timer is not None:
            timer.cancel()

    def _forget_address(self, address: str) -> None:
        self._per_address[address] -= 1
        if self._per_address[address] <= 0:
            del self._per_address[address]


class Slot:
    """An admitted session not yet added."""

    def __init__(self, sessions: WebRtcSessions, address: str) -> None:
        self._sessions = sessions
        self.address = address
        self.taken = False

    def release(self) -> None:
        """The session was not made after all (a refused offer): free its place. Does
        nothing once it was added."""
        if not self.taken:
            self.taken = True
            self._sessions._admitted -= 1
            self._sessions._forget_address(self.address)


async def _all(closes: list[Awaitable[bool]]) -> None:
    if closes:
        await asyncio.gather(*closes)
