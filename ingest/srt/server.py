"""asyncio glue for the SRT core: one UDP socket for every caller, datagrams routed by
destination socket id inside ``SrtListener``, one re-armed timer (aioquic's pattern).

A conclusion becomes a publish decision: the stream id names the key; the stream's SRT
passphrase (looked up by the daemon) must match the caller's key material before the
stream registry is asked, so a wrong passphrase never makes a stream live, not even for a
moment. A stream id that names an application (``#!::r=APP/KEY``) must name ours
(``config.app``), as an RTMP URL must: another is refused as SRT_REJX_NOTFOUND. Accepted
payloads (MPEG-TS) go through a per-connection ``TsDemuxer`` into the same registry as RTMP.
Every close is logged with its reason and reported to the registry; refusals go through a
``RefusalLog``, so a caller retrying ten times a second makes one line an interval.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast
from urllib.parse import unquote

from ingest.errors import ProtocolError
from ingest.mpegts.demux import TsDemuxer
from ingest.mpegts.events import FrameReceived, TrackAnnounced
from ingest.refusals import RefusalLog, RepeatedRefusals
from ingest.sink import (
    TRACK_REFUSED,
    Dropped,
    PublishRefused,
    PublishSession,
    PublishSink,
    TrackRefused,
)
from ingest.srt.config import SrtServerConfig
from ingest.srt.connection import (
    REJX_BAD_MODE,
    REJX_BAD_REQUEST,
    REJX_CONFLICT,
    REJX_FORBIDDEN,
    REJX_NOTFOUND,
    REJX_OVERLOAD,
    ConnectionClosed,
    ConnectRequested,
    PayloadReceived,
    Rejected,
    SrtConnection,
    SrtListener,
)
from ingest.srt.errors import SrtError
from ingest.srt.streamid import parse_stream_id

log = logging.getLogger("mediad.srt")

PassphraseLookup = Callable[[str], Awaitable[str | None]]
"""Stream key -> that stream's SRT passphrase ("" for none), or None for an unknown key."""

REFUSALS = {"bad_key": REJX_FORBIDDEN, "busy": REJX_CONFLICT, "unavailable": REJX_OVERLOAD}
WARNINGS = ("protocol error", TRACK_REFUSED)
"""Close reasons logged as warnings: the publisher's fault, or a stream it cannot have."""


@dataclass
class _Publish:
    connection: SrtConnection
    session: PublishSession
    demuxer: TsDemuxer
    key: str


class SrtServer(asyncio.DatagramProtocol):
    name = "srt"

    def __init__(self, config: SrtServerConfig, sink: PublishSink,
                 passphrase_for: PassphraseLookup,
                 clock: Callable[[], float] = time.monotonic, *,
                 refusal_interval: float = 10.0) -> None:
        self.config = config
        self.sink = sink
        self.passphrase_for = passphrase_for
        self.clock = clock
        self.core = SrtListener(secret=os.urandom(16), latency_ms=config.latency_ms,
                                socket_id_seed=int.from_bytes(os.urandom(4), "big"),
                                peer_idle_timeout=config.peer_idle_timeout_sec)
        self.transport: asyncio.DatagramTransport | None = None
        self.publishes: dict[int, _Publish] = {}
        self._timer: asyncio.Handle | None = None
        self._timer_at = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self.malformed = 0
        self.refusals = RefusalLog(refusal_interval)
        self._refusal_summary: asyncio.TimerHandle | None = None

    # -- service ---------------------------------------------------------------------------

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(self.config.host, self.config.port))
        return int(self.transport.get_extra_info("sockname")[1])

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for publish in list(self.publishes.values()):
            self.core.close(publish.connection, "server shutting down")
            self._closed(publish.connection, "server shutting down")
        self._flush()
        if self._timer is not None:
            self._timer.cancel()
        if self._refusal_summary is not None:
            self._refusal_summary.cancel()
        self._log_repeated(self.refusals.flush(self.clock()))
        if self.transport is not None:
            self.transport.close()

    def publishing(self) -> list[tuple[PublishSession, SrtConnection]]:
        """Every accepted publish and its connection (whose counters the daemon reads)."""
        return [(publish.session, publish.connection) for publish in self.publishes.values()]

    # -- datagrams ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            self.core.receive_datagram(data, (addr[0], addr[1]), self.clock())
        except ProtocolError as exc:
            self.malformed += 1
            self._close_for(data, addr, f"protocol error ({exc.code}): {exc}")
        self._process()

    def _close_for(self, data: bytes, addr: tuple[str, int], reason: str) -> None:
        """A malformed datagram on an established connection closes that connection only."""
        if len(data) >= 16:
            dest = int.from_bytes(data[12:16], "big")
            connection = self.core.connections.get(dest)
            if connection is not None and connection.addr == (addr[0], addr[1]):
                self.core.close(connection, reason)
                return
        log.debug("malformed datagram dropped", extra={"fields": {
            "peer": f"{addr[0]}:{addr[1]}", "reason": reason}})

    def _on_timer(self) -> None:
        self._timer = None
        self.core.handle_timer(self.clock())
        self._process()

    def _process(self) -> None:
        while (event := self.core.next_event()) is not None:
            if isinstance(event, PayloadReceived):
                self._payload(event)
            elif isinstance(event, ConnectRequested):
                task = asyncio.get_running_loop().create_task(self._decide(event))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            elif isinstance(event, ConnectionClosed):
                self._closed(event.connection, event.reason)
        self._flush()
        self._rearm()

    def _flush(self) -> None:
        if self.transport is None:
            return
        for data, addr in self.core.datagrams_to_send():
            self.transport.sendto(data, addr)

    def _rearm(self) -> None:
        deadline = self.core.get_timer()
        if self._timer is not None:
            if deadline is not None and abs(self._timer_at - deadline) < 0.001:
                return
            self._timer.cancel()
            self._timer = None
        if deadline is not None:
            loop = asyncio.get_running_loop()
            # uvloop's call_at returns a plain Handle (no .when()): keep the deadline here.
            self._timer_at = deadline
            self._timer = loop.call_at(max(deadline, loop.time()), self._on_timer)

    # -- publishing --------------------------------------------------------------------------

    async def _decide(self, request: ConnectRequested) -> None:
        peer = f"{request.addr[0]}:{request.addr[1]}"
        core = self.core
        stream_id = request.stream_id
        if "%" in stream_id:
            # ffmpeg 5.1 and srt-live-transmit pass a percent-encoded streamid= URL option
            # through as is; keys never contain '%', so decoding is unambiguous.
            stream_id = unquote(stream_id)
        try:
            wanted = parse_stream_id(stream_id)
        except SrtError as exc:
            self._refuse(request, REJX_BAD_REQUEST, f"bad stream id: {exc}")
            return
        if wanted.mode != "publish":
            self._refuse(request, REJX_BAD_MODE, f"mode {wanted.mode!r} is not served")
            return
        if wanted.app and wanted.app != self.config.app:
            # What RTMP answers to a wrong app: the resource does not exist here.
            self._refuse(request, REJX_NOTFOUND, f"unknown application {wanted.app!r}")
            return
        if len(self.publishes) >= self.config.max_connections:
            self._refuse(request, REJX_OVERLOAD, "too many connections")
            return
        passphrase = await self.passphrase_for(wanted.key)
        if passphrase is None:
            self._refuse(request, REJX_FORBIDDEN, "unknown stream key")
            return
        reason = core.check(request.request_id, passphrase or None)
        if reason is not None:
            core.reject(request.request_id, reason)
            self._log_refusal(request.addr, f"passphrase refused (SRT reject reason {reason})")
            self._process()
            return
        connection_holder: list[SrtConnection] = []

        def kick(dropped: Dropped) -> None:  # SRT has no status channel: just closed
            why = dropped.description
            if connection_holder:
                publish = self.publishes.pop(connection_holder[0].socket_id, None)
                core.close(connection_holder[0], why)
                if publish is not None:
                    log.info("srt connection closed", extra={"fields": {
                        "peer": peer, "stream": publish.session.stream_id, "reason": why}})
                self._process()

        try:
            session = await self.sink.start_publish(protocol="srt", key=wanted.key, peer=peer,
                                                    disconnect=kick)
        except PublishRefused as refused:
            self._refuse(request, REFUSALS[refused.reason], refused.description)
            return
        try:
            connection = core.accept(request.request_id, passphrase=passphrase or None)
        except (Rejected, KeyError) as exc:
            session.detach(f"handshake failed: {exc}")
            self._process()
            return
        connection_holder.append(connection)
        self.publishes[connection.socket_id] = _Publish(connection, session, TsDemuxer(),
                                                        wanted.key)
        log.info("srt publisher connected", extra={"fields": {
            "peer": peer, "stream": session.stream_id,
            "latency_ms": int(connection.latency * 1000),
            "encrypted": connection.cipher is not None}})
        self._process()

    def _refuse(self, request: ConnectRequested, reason: int, why: str) -> None:
        self.core.reject(request.request_id, reason)
        self._log_refusal(request.addr, why)
        self._process()

    def _log_refusal(self, addr: tuple[str, int], why: str) -> None:
        if self.refusals.refused(addr[0], why, self.clock()):
            log.info("srt publish refused", extra={"fields": {
                "peer": f"{addr[0]}:{addr[1]}", "reason": why}})
        if self._refusal_summary is None and (due := self.refusals.next_due()) is not None:
            self._refusal_summary = asyncio.get_running_loop().call_later(
                max(0.0, due - self.clock()), self._summarise_refusals)

    def _summarise_refusals(self) -> None:
        """One line per peer and reason for the refusals counted in the interval that ended."""
        self._refusal_summary = None
        self._log_repeated(self.refusals.due(self.clock()))
        if (due := self.refusals.next_due()) is not None:
            self._refusal_summary = asyncio.get_running_loop().call_later(
                max(0.0, due - self.clock()), self._summarise_refusals)

    @staticmethod
    def _log_repeated(summaries: list[RepeatedRefusals]) -> None:
        for repeated in summaries:
            log.info(repeated.describe(), extra={"fields": {
                "peer": repeated.peer, "reason": repeated.reason, "count": repeated.count}})

    def _payload(self, event: PayloadReceived) -> None:
        publish = self.publishes.get(event.connection.socket_id)
        if publish is None:
            return
        publish.session.count_bytes(len(event.payload))
        try:
            publish.demuxer.receive_data(event.payload, event.arrival)
        except ProtocolError as exc:
            self.core.close(event.connection, f"protocol error ({exc.code}): {exc}")
            self._closed(event.connection, f"protocol error ({exc.code}): {exc}")
            return
        refused = self._forward(publish)
        if refused is not None:  # logged once (the close line); the caller gets a SHUTDOWN
            self.core.close(event.connection, refused.reason)
            self._closed(event.connection, refused.reason, drain=False)

    @staticmethod
    def _forward(publish: _Publish) -> TrackRefused | None:
        """Hand the demuxer's events to the session; stops at a track it refuses."""
        while (item := publish.demuxer.next_event()) is not None:
            if isinstance(item, FrameReceived):
                publish.session.push_frame(item.frame)
            elif isinstance(item, TrackAnnounced):
                try:
                    publish.session.announce_track(item.track)
                except TrackRefused as refused:
                    return refused
        return None

    def _closed(self, connection: SrtConnection, reason: str, *, drain: bool = True) -> None:
        publish = self.publishes.pop(connection.socket_id, None)
        if publish is None:
            return
        if drain:
            # The last access unit ends with the stream, not a new PES. A track refused
            # now changes nothing: the connection is going anyway.
            publish.demuxer.flush()
            self._forward(publish)
        publish.session.detach(reason)
        level = logging.WARNING if reason.startswith(WARNINGS) else logging.INFO
        log.log(level, "srt connection closed", extra={"fields": {
            "peer": f"{connection.addr[0]}:{connection.addr[1]}",
            "stream": publish.session.stream_id, "reason": reason,
            "packets": connection.packets, "retransmitted": connection.retransmitted,
            "dropped": connection.dropped, "rtt_ms": round(connection.rtt * 1000, 1)}})
