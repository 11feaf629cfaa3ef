"""An encoder that retries a refused publish (a wrong app here) over real sockets: the first
refusal is logged with its reason, the retries in one summary line an interval."""

from __future__ import annotations

import asyncio
import logging

import pytest

from ingest.rtmp.config import RtmpServerConfig
from ingest.rtmp.server import RtmpServer
from tests.ingest.rtmp.rtmp_testing import Publisher, client_handshake
from tests.ingest.sink_testing import RefusingSink


async def connect_to(port: int, app: str) -> None:
    """One connect to ``app``; returns once the server has closed the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    pub = Publisher()
    pub.connect(app)
    writer.write(client_handshake() + pub.take())
    async with asyncio.timeout(5):
        while await reader.read(65536):
            pass
    writer.close()


async def test_retries_of_a_refused_app_make_one_line_an_interval(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mediad.rtmp")
    server = RtmpServer(RtmpServerConfig(host="127.0.0.1", port=0, handshake_timeout_sec=2),
                        RefusingSink(), refusal_interval=0.5)
    port = await server.start()
    try:
        for _ in range(15):
            await connect_to(port, "vod")
        async with asyncio.timeout(5):
            while not [r for r in caplog.records if "more refusal" in r.getMessage()]:  # noqa: ASYNC110 -- logs have no event
                await asyncio.sleep(0.05)
    finally:
        await server.stop()
    lines = [r for r in caplog.records if r.name == "mediad.rtmp"]
    first, summaries = lines[0], lines[1:]
    assert first.getMessage() == "rtmp connection closed"
    assert first.fields["reason"] == "refused: unknown application 'vod'"  # type: ignore[attr-defined]
    assert summaries and len(summaries) <= 3
    assert sum(r.fields["count"] for r in summaries) == 14  # type: ignore[attr-defined]
    assert all("from 127.0.0.1 in the last" in r.getMessage() for r in summaries)


async def test_other_closes_are_still_logged_each_time(caplog: pytest.LogCaptureFixture) -> None:
    """Only refusals are counted: a publisher that connects and leaves is one line a time."""
    caplog.set_level(logging.INFO, logger="mediad.rtmp")
    server = RtmpServer(RtmpServerConfig(host="127.0.0.1", port=0), RefusingSink())
    port = await server.start()
    try:
        for _ in range(3):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(client_handshake())
            writer.close()
        async with asyncio.timeout(5):
            while server.connections or len(caplog.records) < 3:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    finally:
        await server.stop()
    assert [r.getMessage() for r in caplog.records] == ["rtmp connection closed"] * 3
