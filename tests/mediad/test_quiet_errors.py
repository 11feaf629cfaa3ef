"""A request with an oversized header (or another malformed one) is logged as one WARNING
line, at most one per interval, instead of aiohttp's ERROR with a traceback."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp import web
from aiohttp.log import server_logger
from aiohttp.test_utils import TestServer

from mediad.http.quiet_errors import MalformedRequestFilter
from mediad.logs import setup_logging


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    app = web.Application()
    app.router.add_get("/", _ok)
    test_server = TestServer(app)
    await test_server.start_server()
    try:
        yield test_server
    finally:
        await test_server.close()


@pytest.fixture
def daemon_logging() -> Iterator[io.StringIO]:
    """What the daemon's logging setup writes (to a buffer instead of stderr); undone
    afterwards (handlers, level, filters)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    filters = server_logger.filters[:]
    setup_logging("human", "info")
    written = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(written)
    try:
        yield written
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        server_logger.filters[:] = filters


async def _send(server: TestServer, request: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(request)
    await writer.drain()
    reply = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    return reply


OVERSIZED = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n"


async def test_an_oversized_header_is_one_warning_line(
        server: TestServer, daemon_logging: io.StringIO) -> None:
    reply = await _send(server, OVERSIZED)
    assert b" 400 " in reply.split(b"\r\n", 1)[0]
    for _ in range(4):  # within the interval: counted, not logged
        await _send(server, OVERSIZED)
    await _send(server, b"NOT-HTTP\x00\x01 / HTTP/1.1\r\n\r\n")
    assert (await _send(server, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            ).startswith(b"HTTP/1.1 200")
    lines = [line for line in daemon_logging.getvalue().splitlines() if "aiohttp" in line
             or line.startswith((" ", "Traceback"))]
    assert len(lines) == 1, lines
    assert lines[0].split()[1] == "warning"
    assert "malformed HTTP request from 127.0.0.1" in lines[0]
    assert "LineTooLong" in lines[0] and "Traceback" not in lines[0]


def test_the_next_line_counts_what_was_not_reported() -> None:
    now = [0.0]
    quiet = MalformedRequestFilter(interval_sec=10.0, clock=lambda: now[0])
    logger = logging.getLogger("tests.quiet_errors")
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger.addHandler(Keep())
    logger.addFilter(quiet)
    logger.propagate = False
    from aiohttp.http_exceptions import LineTooLong

    for at in (0.0, 1.0, 2.0, 10.5):
        now[0] = at
        logger.error("Error handling request from %s", "192.0.2.1",
                     exc_info=LineTooLong("Header", "8190", "9000"))
    logger.error("something else entirely")
    assert [r.levelname for r in records] == ["WARNING", "WARNING", "ERROR"]
    assert vars(records[1])["fields"]["not_reported_since_last"] == 2
    assert records[0].exc_info is None
