"""HTTP connection limits: timeouts before a request, a per-address cap, and a descriptor
reserve that HTTP never takes (issue 16: 20,000 slow connections from one address ran the
daemon out of descriptors, and slowloris connections were never closed).

aiohttp closes an idle keep-alive connection, but not one that never sends a request or
sends its headers a byte at a time, and it has no connection caps. Bounding descriptors
has to happen where they are spent, at accept, so the HTTP listener's protocol factory is
``GuardedConnection``: it admits or refuses a connection before aiohttp's ``RequestHandler``
exists (a refused one is reset at once: its descriptor is back before the next accept),
then forwards every transport callback to the handler untouched. A middleware tells it when
a request starts and ends, so the timeouts follow aiohttp's own request boundaries instead
of a second HTTP parser:

- idle: no request in flight and nothing received for ``idle_timeout`` (before the first
  request, between keep-alive ones): closed;
- header: bytes of a request arrived but its headers were not complete within
  ``header_timeout``: answered 408, closed;
- per address: more than ``per_address`` open connections from one host: reset at once;
- descriptor reserve: once fewer than ``reserve`` descriptors are left under the soft
  ``RLIMIT_NOFILE``, a new connection is admitted on probation (a few, short timeouts) and
  may ask for ``/healthz`` only; anything else gets 503 and a close. RTMP, SRT and the
  store keep the rest.

Each cap hit goes through one ``CapLog``: a line at the first hit, then one an interval.

With TLS (``GuardedSite(tls=...)``) the connection reaches ``GuardedConnection`` once its
handshake is done, and all of the above applies to it then; the handshake itself must finish
within ``handshake_timeout`` (a client that never completes one is closed by asyncio), and a
close waits at most ``TLS_SHUTDOWN_SEC`` for the client's close_notify (asyncio's 30 s would
let a client that never answers hold the descriptor on after every timeout above).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import ssl
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

from aiohttp import web
from aiohttp.typedefs import Middleware

from ingest.cap_log import CapHits, CapLog
from mediad.descriptors import open_descriptors
from mediad.http.app import Handler, json_error

log = logging.getLogger("mediad.http")

HEALTH_PATH = "/healthz"
PER_ADDRESS = "http per address"
RESERVE = "http descriptor reserve"
REQUEST_TIMEOUT = (b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n"
                   b"Content-Type: application/json\r\nContent-Length: 35\r\n\r\n"
                   b'{"error": "request header timeout"}')
BUSY_RETRY_SEC = 5
TLS_SHUTDOWN_SEC = 5.0


@dataclass(frozen=True, slots=True)
class HttpLimitSettings:
    header_timeout: float = 10.0
    """Seconds from a request's first byte to its complete headers."""
    idle_timeout: float = 60.0
    """Seconds without a request (before the first one, between keep-alive ones)."""
    per_address: int = 256
    """Open connections from one host; 0: no cap."""
    uncapped: Callable[[str], bool] = lambda host: False
    """Hosts the per-address cap does not apply to (trusted edges: every viewer behind
    one comes from its address)."""
    descriptor_limit: int = 1024
    """The soft ``RLIMIT_NOFILE`` in force."""
    reserve: int = 256
    """Descriptors HTTP leaves to everything else."""
    log_interval: float = 10.0

    @property
    def probation_slots(self) -> int:
        """Connections admitted inside the reserve at once (``/healthz`` only)."""
        return max(4, self.reserve // 8)


class _Phase(enum.Enum):
    IDLE = enum.auto()
    HEADERS = enum.auto()
    REQUEST = enum.auto()


class GuardedConnection(asyncio.Protocol):
    """One HTTP connection: admitted (or not) by the limits, then aiohttp's handler."""

    def __init__(self, limits: HttpConnectionLimits) -> None:
        self.limits = limits
        self.inner: asyncio.Protocol | None = None
        self.transport: asyncio.Transport | None = None
        self.host = "?"
        self.probation = False
        """Admitted inside the descriptor reserve: ``/healthz`` only, then closed."""
        self._phase = _Phase.IDLE
        self._since = limits.clock()
        self._requests = 0  # in flight (pipelined requests are handled one at a time)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple):
            self.host = str(peer[0])
        if not self.limits.admit(self):
            self.transport.abort()
            return
        self.inner = self.limits.handler()
        self.inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self.inner is None:
            return
        if self._phase is _Phase.IDLE:
            self._phase, self._since = _Phase.HEADERS, self.limits.clock()
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received() if self.inner is not None else None

    def pause_writing(self) -> None:
        if self.inner is not None:
            self.inner.pause_writing()

    def resume_writing(self) -> None:
        if self.inner is not None:
            self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.inner is None:
            return  # refused: never counted
        self.limits.removed(self)
        self.inner.connection_lost(exc)

    # -- told by the middleware -------------------------------------------------------------

    def request_started(self) -> None:
        self._requests += 1
        self._phase = _Phase.REQUEST

    def request_finished(self) -> None:
        self._requests -= 1
        if not self._requests:
            self._phase, self._since = _Phase.IDLE, self.limits.clock()

    # -- told by the sweep ------------------------------------------------------------------

    def check(self, now: float, header_timeout: float, idle_timeout: float) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self._phase is _Phase.HEADERS and now - self._since > header_timeout:
            self.limits.header_timeouts += 1
            transport.write(REQUEST_TIMEOUT)
            transport.close()
        elif (self._phase is _Phase.IDLE and now - self._since > idle_timeout
              and not transport.get_write_buffer_size()):
            self.limits.idle_timeouts += 1
            transport.close()

    def fileno(self) -> int:
        """The socket's descriptor number, -1 if the transport has none."""
        sock = self.transport.get_extra_info("socket") if self.transport else None
        try:
            return int(sock.fileno()) if sock is not None else -1
        except (OSError, ValueError):
            return -1


class HttpConnectionLimits:
    """Admission and timeouts of every HTTP connection; ``protocol_factory`` is what the
    listener creates per accepted socket."""

    def __init__(self, settings: HttpLimitSettings, handler: Callable[[], asyncio.Protocol],
                 *, clock: Callable[[], float] = time.monotonic,
                 count_descriptors: Callable[[], int] = open_descriptors) -> None:
        self.settings = settings
        self.handler = handler
        self.clock = clock
        self._count_descriptors = count_descriptors
        self._connections: dict[object, GuardedConnection] = {}
        """By transport, so the middleware finds a request's connection."""
        self._by_host: Counter[str] = Counter()
        self._probation = 0
        self._others = 0
        """Descriptors open that are not HTTP connections, as of the last count."""
        self.caps = CapLog(settings.log_interval)
        self.refused = Counter[str]()
        self.header_timeouts = 0
        self.idle_timeouts = 0
        self._sweep: asyncio.Task[None] | None = None

    @property
    def connections(self) -> int:
        return len(self._connections)

    def protocol_factory(self) -> GuardedConnection:
        return GuardedConnection(self)

    def connection_of(self, transport: object) -> GuardedConnection | None:
        return self._connections.get(transport)

    # -- admission --------------------------------------------------------------------------

    def admit(self, conn: GuardedConnection) -> bool:
        settings = self.settings
        if (settings.per_address and self._by_host[conn.host] >= settings.per_address
                and not settings.uncapped(conn.host)):
            return self._refuse(conn, PER_ADDRESS, f"limit {settings.per_address}")
        if self._in_reserve(conn):
            if self._probation >= settings.probation_slots:
                return self._refuse(conn, RESERVE, self._reserve_note())
            self._hit(conn, RESERVE, self._reserve_note())
            conn.probation = True
            self._probation += 1
        self._connections[conn.transport] = conn
        self._by_host[conn.host] += 1
        return True

    def _in_reserve(self, conn: GuardedConnection) -> bool:
        """Fewer than ``reserve`` descriptors would be left with this connection open. The
        kernel hands out the lowest free number, so a socket numbered n means n are open
        below it: exact at once, while the periodic count also sees descriptors above."""
        ceiling = self.settings.descriptor_limit - self.settings.reserve
        return (conn.fileno() >= ceiling
                or self._others + len(self._connections) + 1 > ceiling)

    def _reserve_note(self) -> str:
        settings = self.settings
        return f"{settings.reserve} of {settings.descriptor_limit} descriptors kept"

    def _refuse(self, conn: GuardedConnection, cap: str, note: str) -> bool:
        self.refused[cap] += 1
        self._hit(conn, cap, note)
        return False

    def _hit(self, conn: GuardedConnection, cap: str, note: str) -> None:
        if self.caps.hit(cap, conn.host, self.clock()):
            log.warning(f"connection cap reached: {cap} ({note})", extra={"fields": {
                "cap": cap, "peer": conn.host, "connections": len(self._connections)}})

    def removed(self, conn: GuardedConnection) -> None:
        if self._connections.pop(conn.transport, None) is None:
            return
        self._by_host[conn.host] -= 1
        if not self._by_host[conn.host]:
            del self._by_host[conn.host]
        if conn.probation:
            self._probation -= 1

    # -- the sweep: timeouts, the descriptor count, cap summaries ---------------------------

    async def start(self) -> None:
        self.count_descriptors()
        self._sweep = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._sweep is not None:
            self._sweep.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweep
        _log_summaries(self.caps.flush(self.clock()))

    def count_descriptors(self) -> None:
        total = self._count_descriptors()
        if total >= 0:
            self._others = max(0, total - len(self._connections))

    async def _run(self) -> None:
        settings = self.settings
        period = min(1.0, settings.header_timeout / 4)
        recount = self.clock()
        while True:
            await asyncio.sleep(period)
            now = self.clock()
            for conn in list(self._connections.values()):
                if conn.probation:  # it must ask at once, and only for health
                    timeout = min(settings.header_timeout, 2.0)
                    conn.check(now, timeout, timeout)
                else:
                    conn.check(now, settings.header_timeout, settings.idle_timeout)
            if now - recount >= 1.0:
                recount = now
                self.count_descriptors()
            _log_summaries(self.caps.due(now))


def _log_summaries(summaries: list[CapHits]) -> None:
    for hits in summaries:
        log.warning(hits.describe(), extra={"fields": {
            "cap": hits.cap, "count": hits.count, "addresses": hits.addresses,
            "top_address": hits.top_address}})


def limits_middleware(limits: HttpConnectionLimits) -> Middleware:
    """Tells each connection when its requests start and end; a connection on probation
    gets ``/healthz`` only, then is closed."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        conn = limits.connection_of(request.transport)
        if conn is None:  # not from the guarded listener (tests' own servers)
            return await handler(request)
        conn.request_started()
        try:
            if conn.probation and request.path != HEALTH_PATH:
                response: web.StreamResponse = json_error(503, "server busy")
                response.headers["Retry-After"] = str(BUSY_RETRY_SEC)
            else:
                response = await handler(request)
            if conn.probation:
                response.force_close()
            return response
        finally:
            conn.request_finished()

    return middleware


class GuardedSite(web.BaseSite):
    """A TCP listener like ``web.TCPSite`` whose connections go through ``limits``; with
    ``tls``, HTTPS (and WSS), each handshake bounded by ``handshake_timeout``."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int,
                 limits: HttpConnectionLimits, *, backlog: int = 128,
                 tls: ssl.SSLContext | None = None, handshake_timeout: float = 10.0) -> None:
        super().__init__(runner, backlog=backlog, ssl_context=tls)
        self._host = host
        self._port = port
        self.limits = limits
        self.handshake_timeout = handshake_timeout

    @property
    def name(self) -> str:
        scheme = "https" if self._ssl_context else "http"
        return f"{scheme}://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self.limits.protocol_factory, self._host, self._port, backlog=self._backlog,
            reuse_address=True, ssl=self._ssl_context,
            ssl_handshake_timeout=self.handshake_timeout if self._ssl_context else None,
            ssl_shutdown_timeout=TLS_SHUTDOWN_SEC if self._ssl_context else None)
        await self.limits.start()

    async def stop(self) -> None:
        await self.limits.stop()
        await super().stop()
