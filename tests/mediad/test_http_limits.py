"""HTTP connection limits over real loopback sockets: the timeouts before a request, the
per-address cap, the descriptor reserve, and their log lines (issue 16), over plain HTTP and
over TLS (issue 20). aiohttp serves the requests; ``GuardedSite`` and the middleware are the
daemon's own."""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiohttp import web

from mediad.descriptors import open_descriptors
from mediad.http.forwarded import TrustedProxies
from mediad.http.limits import (
    PER_ADDRESS,
    RESERVE,
    GuardedSite,
    HttpConnectionLimits,
    HttpLimitSettings,
    limits_middleware,
)
from mediad.tls import ServerTls
from tests.interop.tls_testing import TestCa

FAST = HttpLimitSettings(header_timeout=0.4, idle_timeout=0.6, per_address=0,
                         descriptor_limit=1 << 20, reserve=16, log_interval=0.5)

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass
class Env:
    limits: HttpConnectionLimits
    port: int

    async def open(self, source: str = "127.0.0.1") -> Connection:
        return await asyncio.open_connection("127.0.0.1", self.port, local_addr=(source, 0))


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(float(request.query.get("s", "0")))
    return web.Response(text="ok over TLS" if request.secure else "ok")


@asynccontextmanager
async def guarded(settings: HttpLimitSettings, tls: ServerTls | None = None
                  ) -> AsyncIterator[Env]:
    app = web.Application()
    app.router.add_get("/", slow)
    app.router.add_get("/healthz", slow)
    runner = web.AppRunner(app, access_log=None)

    def handler() -> asyncio.Protocol:
        assert runner.server is not None
        return runner.server()

    limits = HttpConnectionLimits(settings, handler)
    app.middlewares.insert(0, limits_middleware(limits))
    await runner.setup()
    site = GuardedSite(runner, "127.0.0.1", 0, limits, tls=tls.http if tls else None,
                       handshake_timeout=settings.header_timeout)
    await site.start()
    try:
        yield Env(limits, int(runner.addresses[0][1]))
    finally:
        await runner.cleanup()


async def get(conn: Connection, path: str = "/") -> tuple[int, dict[str, str]]:
    """One keep-alive GET on ``conn``: its status and headers (the body is read too)."""
    reader, writer = conn
    writer.write(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
    async with asyncio.timeout(5):
        status = int((await reader.readline()).split()[1])
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers


async def closed_within(conn: Connection, seconds: float) -> bytes:
    """What the server still sent before it closed ``conn`` (fails if it stays open)."""
    reader, _ = conn
    async with asyncio.timeout(seconds):
        try:
            return await reader.read()
        except ConnectionResetError:
            return b""


async def test_an_idle_connection_is_closed_before_its_first_request() -> None:
    async with guarded(FAST) as env:
        conn = await env.open()
        assert await closed_within(conn, 3) == b""
        assert env.limits.idle_timeouts == 1 and env.limits.connections == 0


async def test_a_slow_header_connection_gets_408_and_is_closed() -> None:
    async with guarded(FAST) as env:
        conn = await env.open()
        writer = conn[1]
        writer.write(b"GET / HTTP/1.1\r\nHost: t\r\n")

        async def trickle() -> None:  # a header byte every 100 ms never ends the headers
            for byte in b"X-Slow: " + b"a" * 100:
                writer.write(bytes([byte]))
                await asyncio.sleep(0.1)

        trickling = asyncio.create_task(trickle())
        answer = await closed_within(conn, 3)
        trickling.cancel()
        # The 408 is best effort: bytes still trickling in after the close may turn it into
        # a reset before the client reads it.
        assert answer == b"" or answer.startswith(b"HTTP/1.1 408 ")
        assert env.limits.header_timeouts == 1 and env.limits.connections == 0


async def test_keep_alive_idle_time_counts_from_the_last_response() -> None:
    async with guarded(FAST) as env:
        conn = await env.open()
        for _ in range(4):  # 1.6 s of use in all, never 0.6 s without a request
            assert (await get(conn))[0] == 200
            await asyncio.sleep(0.4)
        assert (await get(conn, "/?s=1.5"))[0] == 200  # a long answer is not idle time
        assert await closed_within(conn, 3) == b""  # then idle: closed
        assert env.limits.idle_timeouts == 1 and env.limits.header_timeouts == 0


async def test_connections_per_address_are_capped(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "mediad.http")
    async with guarded(replace(FAST, per_address=20, idle_timeout=30)) as env:
        flood = [await env.open() for _ in range(300)]
        async with asyncio.timeout(5):
            while sum(not r.at_eof() for r, _ in flood) > 20:
                await asyncio.gather(*(_eof(r) for r, _ in flood))
        assert env.limits.connections == 20
        assert env.limits.refused[PER_ADDRESS] == 280
        other = await env.open("127.0.0.2")  # another address is served
        assert (await get(other, "/healthz"))[0] == 200
        async with asyncio.timeout(5):
            while not any("more times" in r.getMessage() for r in caplog.records):  # noqa: ASYNC110 -- logging has no event to await
                await asyncio.sleep(0.05)
        for _, writer in [*flood, other]:
            writer.close()
    lines = [r.getMessage() for r in caplog.records if PER_ADDRESS in r.getMessage()]
    assert lines[0] == "connection cap reached: http per address (limit 20)"
    assert re.fullmatch(r"http per address cap hit 279 more times in the last \d+ s from 1 "
                        r"address \(most from 127\.0\.0\.1: 279\)", lines[1])
    assert len(lines) == 2


async def test_a_trusted_edge_is_not_capped_per_address() -> None:
    trusted = TrustedProxies(["127.0.0.0/31"]).trusts
    async with guarded(replace(FAST, per_address=5, idle_timeout=30, uncapped=trusted)) as env:
        edge = [await env.open() for _ in range(30)]  # 127.0.0.1: an edge's many viewers
        other = [await env.open("127.0.0.2") for _ in range(8)]
        async with asyncio.timeout(5):
            while env.limits.refused[PER_ADDRESS] < 3:  # noqa: ASYNC110 -- refusals happen on accept
                await asyncio.sleep(0.02)
        assert env.limits.refused[PER_ADDRESS] == 3  # only the untrusted address is capped
        assert (await get(edge[-1], "/healthz"))[0] == 200
        for _, writer in [*edge, *other]:
            writer.close()


async def _eof(reader: asyncio.StreamReader) -> None:
    """Let a refused connection's reset or EOF reach its reader."""
    try:
        async with asyncio.timeout(0.05):
            await reader.read(1)
    except (TimeoutError, ConnectionResetError):
        pass


async def test_inside_the_descriptor_reserve_only_health_is_served(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "mediad.http")
    # 40 descriptors above what is open now, 30 of them kept: about ten more sockets fit
    # (client and server ends both count: the test is one process).
    settings = replace(FAST, descriptor_limit=open_descriptors() + 40, reserve=30,
                       idle_timeout=30, header_timeout=30)
    async with guarded(settings) as env:
        held: list[Connection] = []
        for _ in range(40):
            conn = await env.open()
            status, headers = await get(conn, "/healthz")
            assert status == 200
            if headers.get("connection") == "close":
                break  # admitted on probation: health only, then closed
            held.append(conn)
        else:
            pytest.fail("HTTP never reached the reserve")
        assert 0 < len(held) <= 10
        assert (await get(await env.open(), "/"))[0] == 503  # anything else: busy
        slots = settings.probation_slots
        waiting = [await env.open() for _ in range(slots)]
        refused = await env.open()  # every probation slot taken: reset at once
        assert await closed_within(refused, 3) == b""
        assert env.limits.refused[RESERVE] >= 1
        for _, writer in [*held, *waiting]:
            writer.close()
        await asyncio.sleep(1.2)  # the next descriptor count sees them gone
        assert (await get(await env.open(), "/"))[0] == 200
    lines = [r.getMessage() for r in caplog.records if RESERVE in r.getMessage()]
    assert lines[0] == ("connection cap reached: http descriptor reserve "
                        f"(30 of {settings.descriptor_limit} descriptors kept)")


# -- over TLS -----------------------------------------------------------------------------


@pytest.fixture
def tls(tmp_path: Path) -> tuple[ServerTls, ssl.SSLContext]:
    """The server's TLS and a client that trusts it."""
    ca = TestCa(tmp_path / "tls")
    cert = ca.issue("server")
    return ServerTls(str(cert.cert), str(cert.key)), ca.client_context()


async def open_tls(env: Env, client: ssl.SSLContext) -> Connection:
    return await asyncio.open_connection("127.0.0.1", env.port, ssl=client,
                                         server_hostname="localhost")


async def closed_over_tls(conn: Connection, seconds: float) -> bytes:
    """``closed_within`` for a TLS client, which may also see the close as an SSL error."""
    try:
        return await closed_within(conn, seconds)
    except ssl.SSLError:
        return b""


async def test_a_client_that_never_finishes_its_tls_handshake_is_closed(
        tls: tuple[ServerTls, ssl.SSLContext]) -> None:
    async with guarded(FAST, tls[0]) as env:
        conn = await env.open()  # TCP only
        conn[1].write(b"\x16\x03\x01")  # the first bytes of a ClientHello, then nothing
        assert await closed_within(conn, 3) == b""
        assert env.limits.connections == 0


async def test_header_and_idle_timeouts_hold_over_tls(
        tls: tuple[ServerTls, ssl.SSLContext]) -> None:
    async with guarded(FAST, tls[0]) as env:
        conn = await open_tls(env, tls[1])
        assert (await get(conn))[0] == 200
        conn[1].write(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
        async with asyncio.timeout(5):
            assert b"ok over TLS" in await conn[0].readuntil(b"TLS")
        assert await closed_over_tls(conn, 3) == b""  # then idle: closed
        assert env.limits.idle_timeouts == 1
        conn[1].close()
        conn = await open_tls(env, tls[1])
        conn[1].write(b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: aaa")  # headers never end
        answer = await closed_over_tls(conn, 3)
        assert answer.startswith(b"HTTP/1.1 408 ") or answer == b""
        conn[1].close()
        async with asyncio.timeout(5):  # the server's side goes once the TLS close is done
            while env.limits.connections:  # noqa: ASYNC110 -- no event for it
                await asyncio.sleep(0.01)
        assert env.limits.header_timeouts == 1
