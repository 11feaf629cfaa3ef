"""asyncio glue for the RTMP core: the listener, one protocol object per connection,
timeouts, caps and honest logs.

The core (``RtmpConnection``) never sees a socket. Each connection is an
``asyncio.Protocol`` that feeds the core what the socket delivers, writes what it answers
and hands publishes to the sink (the daemon's stream registry); only the key check, which
awaits the store, runs as a task. Measured in ``bench/rtmp_ingest.py``: a stream-reader
task per connection, with a timeout armed around every read, cost about twice the CPU of
this at 6 Mbit/s. Timeouts are one watchdog per server instead of a timer per read.
Every disconnect is logged with its reason and reported to the sink; refusals go through a
``RefusalLog``, so an encoder retrying a wrong key or app makes one line an interval.

Caps (issue 16): connections whose publish is not accepted yet are *unauthenticated*; they
are capped per address (more are refused) and overall (a new one closes the oldest, so a
flood of idle connections renewed every few seconds cannot lock a real encoder out: it
needs milliseconds to publish). Publishing connections only count against
``max_connections``. Each cap hit goes through a ``CapLog``: one line per cap an interval.

RTMPS (``rtmps://``, what OBS sends to services over TLS) is a second listener on
``tls_port`` with the context the daemon gives (the daemon reloads its certificate); its
connections are the same ``RtmpProtocol`` under the same caps, admitted once the TLS
handshake is done, which must finish within ``handshake_timeout_sec``; a close waits at most
``TLS_SHUTDOWN_SEC`` for the peer's close_notify.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections import Counter
from collections.abc import Callable
from typing import cast

from ingest.cap_log import CapHits, CapLog
from ingest.errors import ProtocolError
from ingest.refusals import RefusalLog, RepeatedRefusals
from ingest.rtmp.config import RtmpServerConfig
from ingest.rtmp.connection import RtmpConnection
from ingest.rtmp.events import (
    ConnectionClosed,
    ConnectRequested,
    FrameReceived,
    MetadataReceived,
    PublishEnded,
    PublishRequested,
    TrackAnnounced,
)
from ingest.sink import (
    TRACK_REFUSED,
    Dropped,
    PublishRefused,
    PublishSession,
    PublishSink,
    TrackRefused,
)

log = logging.getLogger("mediad.rtmp")

WARNINGS = ("protocol error", TRACK_REFUSED)
"""Close reasons logged as warnings: the publisher's fault, or a stream it cannot have."""
REFUSED = ("refused", "publish refused", "evicted")
"""Close reasons of a connection or publish that was refused (counted by ``RefusalLog``)."""

# Status codes librtmp (OBS), ffmpeg and GStreamer understand as "this name cannot publish".
REFUSAL_CODES = {
    "bad_key": "NetStream.Publish.BadName",
    "busy": "NetStream.Publish.BadName",
    "unavailable": "NetStream.Publish.Failed",
}
TLS_SHUTDOWN_SEC = 5.0
"""Past this, an RTMPS close stops waiting for the peer's close_notify (asyncio: 30 s)."""
DROPPED_CODE = "NetStream.Publish.BadName"
"""A publish the daemon drops because it may not go on (taken over, its key rotated); one
the daemon ends (creator, shutdown, no media) hears ``NetStream.Unpublish.Success``."""


class RtmpServer:
    name = "rtmp"

    def __init__(self, config: RtmpServerConfig, sink: PublishSink,
                 clock: Callable[[], float] = time.monotonic, *,
                 refusal_interval: float = 10.0, tls: ssl.SSLContext | None = None,
                 tls_port: int = 1936) -> None:
        self.config = config
        self.sink = sink
        self.clock = clock
        self.tls = tls
        """RTMPS on ``tls_port`` (0: a free port) beside plain RTMP; None: plain only."""
        self.tls_port = tls_port
        """After ``start``, the RTMPS port bound."""
        self._server: asyncio.Server | None = None
        self._tls_server: asyncio.Server | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._connections: set[RtmpProtocol] = set()
        self._closed: asyncio.Event = asyncio.Event()
        self.accepted_connections = 0
        """Connections admitted under the caps (their publish may still be refused)."""
        self.refused_connections = 0
        """Connections refused at once: over a cap."""
        self.refused_publishes = 0
        """Admitted connections closed because their application or key was refused."""
        self.evicted_connections = 0
        self.refusals = RefusalLog(refusal_interval)
        self.caps = CapLog(refusal_interval)
        self._unauthenticated: dict[RtmpProtocol, None] = {}
        """Connections without an accepted publish, oldest first."""
        self._unauthenticated_by_host: Counter[str] = Counter()

    @property
    def connections(self) -> int:
        return len(self._connections)

    @property
    def unauthenticated(self) -> int:
        return len(self._unauthenticated)

    @property
    def publishing(self) -> int:
        """Connections whose publish was accepted and goes on."""
        return sum(1 for conn in self._connections if conn.session is not None)

    async def start(self) -> int:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: RtmpProtocol(self), self.config.host, self.config.port, reuse_address=True)
        if self.tls is not None:
            try:
                self._tls_server = await loop.create_server(
                    lambda: RtmpProtocol(self, tls=True), self.config.host, self.tls_port,
                    reuse_address=True, ssl=self.tls,
                    ssl_handshake_timeout=self.config.handshake_timeout_sec,
                    ssl_shutdown_timeout=TLS_SHUTDOWN_SEC)
            except OSError:
                self._server.close()
                raise
            self.tls_port = int(self._tls_server.sockets[0].getsockname()[1])
        self._watchdog = loop.create_task(self._watch())
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        listeners = [s for s in (self._server, self._tls_server) if s is not None]
        for listener in listeners:
            listener.close()
        if self._watchdog is not None:
            self._watchdog.cancel()
        self._log_repeated(self.refusals.flush(self.clock()))
        self._log_cap_hits(self.caps.flush(self.clock()))
        for conn in list(self._connections):
            conn.close("server shutting down")
        if self._connections:
            self._closed.clear()
            try:
                async with asyncio.timeout(5):
                    await self._closed.wait()
            except TimeoutError:
                for conn in list(self._connections):
                    conn.abort()
        for listener in listeners:
            await listener.wait_closed()

    def _added(self, conn: RtmpProtocol) -> bool:
        """Admit a new (unauthenticated) connection, or say no (logged by cap)."""
        config = self.config
        if self._unauthenticated_by_host[conn.host] >= config.max_unauthenticated_per_address:
            return self._refuse(conn, "rtmp unauthenticated per address",
                                config.max_unauthenticated_per_address)
        total_full = len(self._connections) >= config.max_connections
        if total_full or len(self._unauthenticated) >= config.max_unauthenticated:
            oldest = next(iter(self._unauthenticated), None)
            if oldest is None:  # every connection publishes
                return self._refuse(conn, "rtmp connections", config.max_connections)
            cap, limit = (("rtmp connections", config.max_connections) if total_full
                          else ("rtmp unauthenticated", config.max_unauthenticated))
            self._cap_hit(cap, conn, limit)
            self.evicted_connections += 1
            oldest.close("evicted: too many unauthenticated connections")
            self._removed(oldest)  # its slot is free now, not when the close completes
        self._connections.add(conn)
        self.accepted_connections += 1
        self._unauthenticated_again(conn)
        return True

    def _refuse(self, conn: RtmpProtocol, cap: str, limit: int) -> bool:
        self.refused_connections += 1
        self._cap_hit(cap, conn, limit)
        return False

    def _cap_hit(self, cap: str, conn: RtmpProtocol, limit: int) -> None:
        if self.caps.hit(cap, conn.host, self.clock()):
            log.warning(f"connection cap reached: {cap} (limit {limit})", extra={"fields": {
                "cap": cap, "limit": limit, "peer": conn.peer}})

    def _authenticated(self, conn: RtmpProtocol) -> None:
        """``conn``'s publish was accepted: it no longer counts as unauthenticated."""
        if self._unauthenticated.pop(conn, False) is None:
            self._unauthenticated_by_host[conn.host] -= 1
            if not self._unauthenticated_by_host[conn.host]:
                del self._unauthenticated_by_host[conn.host]

    def _unauthenticated_again(self, conn: RtmpProtocol) -> None:
        """A new connection, or one whose publish ended (it must publish again, with a key,
        within the handshake timeout)."""
        if conn not in self._unauthenticated and conn in self._connections:
            self._unauthenticated[conn] = None
            self._unauthenticated_by_host[conn.host] += 1

    def _removed(self, conn: RtmpProtocol) -> None:
        self._authenticated(conn)
        self._connections.discard(conn)
        if not self._connections:
            self._closed.set()

    async def _watch(self) -> None:
        """Close connections that went quiet: one timer for the server, not one per read."""
        period = min(1.0, self.config.handshake_timeout_sec / 2, self.config.read_timeout_sec / 2)
        while True:
            await asyncio.sleep(period)
            now = self.clock()
            for conn in list(self._connections):
                conn.check_idle(now)
            self._log_repeated(self.refusals.due(now))
            self._log_cap_hits(self.caps.due(now))

    def log_refusal(self, host: str, reason: str) -> bool:
        """Count a refusal; True: log it now (the first from ``host`` in an interval)."""
        return self.refusals.refused(host, reason, self.clock())

    @staticmethod
    def _log_cap_hits(summaries: list[CapHits]) -> None:
        for hits in summaries:
            log.warning(hits.describe(), extra={"fields": {
                "cap": hits.cap, "count": hits.count, "addresses": hits.addresses,
                "top_address": hits.top_address}})

    @staticmethod
    def _log_repeated(summaries: list[RepeatedRefusals]) -> None:
        for repeated in summaries:
            log.info(repeated.describe(), extra={"fields": {
                "peer": repeated.peer, "reason": repeated.reason, "count": repeated.count}})


class RtmpProtocol(asyncio.Protocol):
    def __init__(self, server: RtmpServer, *, tls: bool = False) -> None:
        self.server = server
        self.tls = tls
        """Came over RTMPS (the close line says so)."""
        self.config = server.config
        self.clock = server.clock
        self.core = RtmpConnection(max_message_size=self.config.max_message_bytes,
                                   pre_auth_message_size=self.config.pre_auth_message_bytes,
                                   pre_auth_buffer=self.config.pre_auth_buffer_bytes)
        self.transport: asyncio.Transport | None = None
        self.session: PublishSession | None = None
        self.peer = self.host = "?"
        self.stream = ""
        self.opened = self.started = self.last_data = self.clock()
        self.reason: str | None = None
        self._deciding = False  # a connect or publish awaits the sink; the core holds input
        self._task: asyncio.Task[None] | None = None

    # -- transport callbacks --------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        peername = transport.get_extra_info("peername")
        if isinstance(peername, tuple):
            self.host, self.peer = str(peername[0]), f"{peername[0]}:{peername[1]}"
        if not self.server._added(self):
            self.reason = "refused"
            self.transport.abort()
            return
        self.transport.set_write_buffer_limits(high=self.config.max_write_buffer)

    def data_received(self, data: bytes) -> None:
        if self.reason is not None:
            return
        self.last_data = now = self.clock()
        try:
            self.core.receive_data(data, now)
        except ProtocolError as exc:
            self.close(f"protocol error ({exc.code}): {exc}")
            return
        if self.session is not None:
            self.session.count_bytes(len(data))
        if not self._deciding:
            self._drain()

    def eof_received(self) -> bool:
        self.close("closed by peer")
        return False

    def pause_writing(self) -> None:
        # We only write acks and replies: a peer that lets them pile up is not reading.
        self.close("peer stopped reading")

    def connection_lost(self, exc: Exception | None) -> None:
        if self.reason == "refused":
            return
        if self.reason is None:
            self.reason = f"connection reset ({exc.__class__.__name__})" if exc else "closed"
        if self._task is not None:
            self._task.cancel()
        session, self.session = self.session, None
        if session is not None:
            session.detach(self.reason)
        self.server._removed(self)
        if self.reason.startswith(REFUSED) and not self.server.log_refusal(self.host,
                                                                          self.reason):
            return
        level = logging.WARNING if self.reason.startswith(WARNINGS) else logging.INFO
        log.log(level, "rtmp connection closed", extra={"fields": {
            "peer": self.peer, "stream": self.stream, "reason": self.reason,
            "tls": self.tls, "bytes": self.core.bytes_received,
            "seconds": round(self.clock() - self.opened, 3)}})

    # -- driving the core -----------------------------------------------------------------

    def _drain(self) -> None:
        """Act on every event the core has; stop at a decision that needs the sink."""
        core = self.core
        while (event := core.next_event()) is not None:
            session = self.session
            if isinstance(event, FrameReceived):
                if session is not None:
                    session.push_frame(event.frame)
            elif isinstance(event, TrackAnnounced):
                if session is not None:
                    try:
                        session.announce_track(event.track)
                    except TrackRefused as refused:
                        # Said to the publisher, logged once (the close line), then closed.
                        self.core.fail_publish(refused.description)
                        self.close(refused.reason)
                        return
            elif isinstance(event, MetadataReceived):
                if session is not None:
                    session.set_metadata(event.metadata)
            elif isinstance(event, ConnectRequested):
                app = event.app.split("?", 1)[0].strip("/")
                if app != self.config.app:
                    core.reject_connect(f"unknown application {app!r}")
                    self.server.refused_publishes += 1
                    self.close(f"refused: unknown application {app!r}")
                    return
                core.accept_connect()
            elif isinstance(event, PublishRequested):
                self._deciding = True
                if self.transport is not None:  # hold the rest in the kernel, not in memory
                    self.transport.pause_reading()
                self._task = asyncio.get_running_loop().create_task(self._publish(event))
                break
            elif isinstance(event, PublishEnded):
                if session is not None:
                    self.session = None
                    self.started = self.clock()  # the idle clock for a new publish restarts
                    session.detach(f"unpublished ({event.reason})")
                    self.server._unauthenticated_again(self)
            elif isinstance(event, ConnectionClosed):
                self.close("closed by peer")
                return
        self._flush()

    async def _publish(self, event: PublishRequested) -> None:
        if self.session is not None:
            self.close("protocol error (command): publish while already publishing")
            return
        self.stream = event.stream_name[:5] + "…"  # never log a whole key
        try:
            session = await self.server.sink.start_publish(
                protocol="rtmp", key=event.stream_name, peer=self.peer, disconnect=self.kick)
        except PublishRefused as refused:
            self.core.reject_publish(REFUSAL_CODES[refused.reason], refused.description)
            self.server.refused_publishes += 1
            self.close(f"publish refused: {refused.description}")
            return
        finally:
            self._task = None
        if self.reason is not None:  # the peer left while the key was being checked
            session.detach(self.reason)
            return
        self.session = session
        self.stream = session.stream_id
        self._deciding = False
        if self.transport is not None:
            self.transport.resume_reading()
        self.server._authenticated(self)
        try:
            self.core.accept_publish()  # parses what the client pipelined behind publish
        except ProtocolError as exc:
            self.close(f"protocol error ({exc.code}): {exc}")
            return
        self._drain()

    def kick(self, dropped: Dropped) -> None:
        """The registry drops this publisher: it hears why in an ``onStatus``, flushed
        before the close (a taken-over or rotated publish as an error, an end as an
        unpublish)."""
        self.session = None
        self.core.close(dropped.description,
                        error_code=DROPPED_CODE if dropped.refused else None)
        self.close(dropped.description)

    def check_idle(self, now: float) -> None:
        if self.session is not None:
            if now - self.last_data > self.config.read_timeout_sec:
                self.close("read timeout")
        elif now - self.started > self.config.handshake_timeout_sec:
            # Measured from the start: a trickle of bytes must not hold a slot forever.
            self.close("handshake timeout")

    def close(self, reason: str) -> None:
        """Send what the core still has to say, then close; the first reason is kept."""
        if self.reason is not None:
            return
        self.reason = reason
        self._flush()
        if self.transport is not None:
            self.transport.close()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def _flush(self) -> None:
        out = self.core.data_to_send()
        if out and self.transport is not None and not self.transport.is_closing():
            self.transport.write(out)
