"""RTMPS: the second listener of ``RtmpServer`` with a TLS context. A publish over it
reaches the stream like one over plain RTMP, both listeners share the caps, and a peer
that never completes its TLS handshake is closed within the handshake timeout."""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.media import Frame
from ingest.rtmp.config import RtmpServerConfig
from ingest.rtmp.server import RtmpServer
from mediad.fanout import Reader, ReaderItem, TrackChange
from mediad.store import Store
from mediad.streams import LiveStream, StreamRegistry
from mediad.tls import ServerTls
from tests.ingest.rtmp.rtmp_testing import AVCC_160X120, Publisher, avc_frame, client_handshake
from tests.interop.tls_testing import TestCa

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass
class Env:
    server: RtmpServer
    live: LiveStream
    key: str
    port: int
    client: ssl.SSLContext

    async def open_tls(self, source: str = "127.0.0.1") -> Connection:
        assert self.server.tls is not None
        return await asyncio.open_connection(
            "127.0.0.1", self.server.tls_port, local_addr=(source, 0), ssl=self.client,
            server_hostname="localhost")

    async def open_plain(self, source: str = "127.0.0.1") -> Connection:
        return await asyncio.open_connection("127.0.0.1", self.port, local_addr=(source, 0))


@asynccontextmanager
async def rtmps_env(tmp_path: Path, **options: float) -> AsyncIterator[Env]:
    ca = TestCa(tmp_path / "tls")
    cert = ca.issue("server")
    tls = ServerTls(str(cert.cert), str(cert.key))
    store = await Store.open(tmp_path / "db.sqlite3")
    registry = StreamRegistry(store)
    user = await store.users.create("streamer", "Streamer", "creator", "x")
    stream = await store.streams.create(user.id, "Over TLS")
    key = await store.keys.issue(stream.id, "primary")
    config = RtmpServerConfig(host="127.0.0.1", port=0, **options)  # type: ignore[arg-type]
    server = RtmpServer(config, registry, tls=tls.rtmp, tls_port=0)
    port = await server.start()
    assert server.tls_port not in (0, port)
    live = await registry.live_stream(stream.id)
    assert live is not None
    try:
        yield Env(server, live, key.secret, port, ca.client_context())
    finally:
        await server.stop()
        await registry.close()
        await store.close()


def publish_pieces(key: str) -> bytes:
    pub = Publisher()
    pub.connect("live")
    pub.set_chunk_size(4096)
    pub.start_publish(key)
    pub.video(0, b"\x17\x00\x00\x00\x00" + AVCC_160X120)
    pub.video(0, avc_frame(True, 0, [b"\x65" + bytes(3000)]))
    pub.video(33, avc_frame(False, 0, [b"\x41" + bytes(500)]))
    return client_handshake() + pub.take()


async def wait_for(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 -- the server exposes no event for this
            await asyncio.sleep(0.01)


async def next_frame(reader: Reader) -> ReaderItem:
    async with asyncio.timeout(5):
        while isinstance(item := await reader.get(), TrackChange):
            pass
    return item


async def closed(reader: asyncio.StreamReader, within: float = 5.0) -> bool:
    async with asyncio.timeout(within):
        try:
            await reader.read()
        except (ConnectionError, ssl.SSLError):
            pass
    return True


def closed_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, bool]]:
    return [(getattr(r, "fields")["reason"], getattr(r, "fields")["tls"])  # noqa: B009
            for r in caplog.records if r.getMessage() == "rtmp connection closed"]


async def test_a_publish_over_rtmps_reaches_the_stream(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with rtmps_env(tmp_path) as env:
        frames = env.live.add_reader("test", capacity=100)
        _, writer = await env.open_tls()
        writer.write(publish_pieces(env.key))
        first = await next_frame(frames)
        assert isinstance(first, Frame) and first.keyframe
        assert env.live.publishing
        writer.close()
        await wait_for(lambda: env.server.connections == 0)
    assert closed_lines(caplog) and all(tls for _, tls in closed_lines(caplog))


async def test_both_listeners_share_the_per_address_cap(tmp_path: Path) -> None:
    async with rtmps_env(tmp_path, max_unauthenticated_per_address=2) as env:
        held = [await env.open_plain("127.0.0.2"), await env.open_tls("127.0.0.2")]
        await wait_for(lambda: env.server.unauthenticated == 2)
        reader, writer = await env.open_tls("127.0.0.2")
        assert await closed(reader)
        assert env.server.refused_connections == 1
        writer.close()
        for _, held_writer in held:
            held_writer.close()


async def test_a_tls_handshake_that_never_ends_is_closed(tmp_path: Path) -> None:
    async with rtmps_env(tmp_path, handshake_timeout_sec=0.3) as env:
        reader, writer = await asyncio.open_connection("127.0.0.1", env.server.tls_port)
        writer.write(b"\x16\x03\x01")  # a ClientHello's first bytes, and no more
        assert await closed(reader, within=5)
        writer.close()
        assert env.server.connections == 0


async def test_an_rtmp_handshake_that_never_ends_over_tls_times_out(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with rtmps_env(tmp_path, handshake_timeout_sec=0.3) as env:
        reader, writer = await env.open_tls()
        writer.write(client_handshake()[:10])  # TLS done, RTMP's own handshake never is
        assert await closed(reader)
        writer.close()
        await wait_for(lambda: env.server.connections == 0)
    assert closed_lines(caplog) == [("handshake timeout", True)]
