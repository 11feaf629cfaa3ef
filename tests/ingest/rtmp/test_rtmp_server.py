"""The asyncio glue over real sockets: a scripted publisher (our own chunk writer) drives the
real server, stream registry and store, over plain RTMP and over RTMPS (the second listener,
with a test CA's certificate). Real third-party publishers are in tests/interop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import ssl
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.media import Frame
from ingest.rtmp import amf0
from ingest.rtmp.config import RtmpServerConfig
from ingest.rtmp.server import RtmpServer
from mediad.fanout import Reader, ReaderItem, StreamEnd, TrackChange
from mediad.store import Store
from mediad.streams import LiveStream, StreamRegistry
from mediad.tls import ServerTls
from tests.ingest.rtmp.rtmp_testing import (
    AVCC_160X120,
    Publisher,
    ServerOutput,
    avc_frame,
    client_handshake,
)
from tests.ingest.sink_testing import RefusingSink
from tests.interop.tls_testing import TestCa


@dataclass
class Env:
    server: RtmpServer
    registry: StreamRegistry
    live: LiveStream
    key: str
    port: int
    client: ssl.SSLContext | None = None
    """With ``tls``: a client that trusts the server's certificate."""

    async def open(self, source: str = "127.0.0.1"
                   ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection from ``source`` (any 127/8 address is this host on Linux)."""
        return await asyncio.open_connection("127.0.0.1", self.port, local_addr=(source, 0))

    async def open_tls(self, source: str = "127.0.0.1"
                       ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """An RTMPS connection (``server_env(tls=True)``), its handshake done."""
        assert self.client is not None
        return await asyncio.open_connection(
            "127.0.0.1", self.server.tls_port, local_addr=(source, 0), ssl=self.client,
            server_hostname="localhost")


@asynccontextmanager
async def server_env(tmp_path: Path, refusal_interval: float = 10.0, *, tls: bool = False,
                     **options: float) -> AsyncIterator[Env]:
    store = await Store.open(tmp_path / "db.sqlite3")
    registry = StreamRegistry(store)
    user = await store.users.create("streamer", "Streamer", "creator", "x")
    stream = await store.streams.create(user.id, "Glue")
    key = await store.keys.issue(stream.id, "primary")
    config = RtmpServerConfig(host="127.0.0.1", port=0, **options)  # type: ignore[arg-type]
    ca = TestCa(tmp_path / "tls") if tls else None
    certificate = ca.issue("server") if ca else None
    server = RtmpServer(config, registry, refusal_interval=refusal_interval, tls_port=0,
                        tls=ServerTls(str(certificate.cert), str(certificate.key)).rtmp
                        if certificate else None)
    port = await server.start()
    live = await registry.live_stream(stream.id)
    assert live is not None
    try:
        yield Env(server, registry, live, key.secret, port,
                  ca.client_context() if ca else None)
    finally:
        await server.stop()
        await registry.close()
        await store.close()


def publish_pieces(key: str, app: str = "live") -> bytes:
    pub = Publisher()
    pub.connect(app)
    pub.set_chunk_size(4096)
    pub.start_publish(key)
    pub.video(0, b"\x17\x00\x00\x00\x00" + AVCC_160X120)
    pub.video(0, avc_frame(True, 0, [b"\x65" + bytes(3000)]))
    pub.video(33, avc_frame(False, 0, [b"\x41" + bytes(500)]))
    return client_handshake() + pub.take()


async def status_infos(reader: asyncio.StreamReader, within: float = 5.0,
                       until: str | None = None) -> list[dict[str, object]]:
    """Every onStatus info object the server sends until it closes the connection (or
    until one with the code ``until``)."""
    parsed = ServerOutput()
    infos: list[dict[str, object]] = []
    async with asyncio.timeout(within):
        while data := await reader.read(65536):
            for message in parsed.feed(data):
                if message.type_id != 20:
                    continue
                values = amf0.decode(message.payload)
                if values[0] == "onStatus" and isinstance(values[3], dict):
                    infos.append(values[3])
                    if values[3].get("code") == until:
                        return infos
    return infos


async def statuses(reader: asyncio.StreamReader, within: float = 5.0,
                   until: str | None = None) -> list[str]:
    """Every onStatus code the server sends until it closes the connection (or ``until``)."""
    return [str(info["code"]) for info in await status_infos(reader, within, until)]


async def next_item(reader: Reader) -> ReaderItem:
    """The next frame or end, past track announcements."""
    async with asyncio.timeout(5):
        while isinstance(item := await reader.get(), TrackChange):
            pass
    return item


def closed_reasons(caplog: pytest.LogCaptureFixture, field: str = "reason") -> list[str]:
    return [r.fields[field] for r in caplog.records  # type: ignore[attr-defined]
            if r.getMessage() == "rtmp connection closed"]


async def wait_for(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 -- the server exposes no event for this
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("tls", [False, True], ids=["rtmp", "rtmps"])
async def test_publish_over_a_socket_reaches_the_stream(tmp_path: Path, tls: bool,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with server_env(tmp_path, tls=tls) as env:
        reader = env.live.add_reader("test", capacity=100)
        client_reader, writer = await (env.open_tls() if tls else env.open())
        writer.write(publish_pieces(env.key))
        frames = [await next_item(reader), await next_item(reader)]
        assert all(isinstance(f, Frame) for f in frames)
        assert [f.keyframe for f in frames if isinstance(f, Frame)] == [True, False]
        assert env.live.publishing
        if tls:  # no half-close in TLS: its close_notify is the EOF the server sees
            started = "NetStream.Publish.Start"
            assert started in await statuses(client_reader, until=started)
        else:
            writer.write_eof()  # a clean close: the server sees EOF, then closes its side
            assert "NetStream.Publish.Start" in await statuses(client_reader)
        writer.close()
        assert isinstance(await next_item(reader), StreamEnd)
        await wait_for(lambda: env.server.connections == 0)
    assert closed_reasons(caplog) == ["closed by peer"]
    assert closed_reasons(caplog, "tls") == [tls]


async def test_garbage_closes_only_that_connection(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    async with server_env(tmp_path) as env:
        reader = env.live.add_reader("test", capacity=100)
        _, good = await env.open()
        good.write(publish_pieces(env.key))
        assert isinstance(await next_item(reader), Frame)

        bad_reader, bad = await env.open()
        bad.write(b"\x06" + bytes(1536))  # an RTMPE (encrypted) version byte
        assert await statuses(bad_reader) == []  # closed by the server
        bad.close()

        # The publisher is undisturbed: still publishing, still delivering.
        assert env.live.publishing
        assert isinstance(await next_item(reader), Frame)
        good.close()
    reasons = closed_reasons(caplog)
    assert any(r.startswith("protocol error (handshake)") for r in reasons), reasons
    assert [r.levelno for r in caplog.records if r.getMessage() == "rtmp connection closed"
            and r.fields["reason"].startswith("protocol error")] == [  # type: ignore[attr-defined]
        logging.WARNING]


async def test_unknown_key_gets_badname(tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with server_env(tmp_path) as env:
        reader, writer = await env.open()
        writer.write(publish_pieces("not-a-key"))
        assert await statuses(reader) == ["NetStream.Publish.BadName"]
        writer.close()
        assert not env.live.publishing
    assert closed_reasons(caplog) == ["publish refused: unknown stream key"]


async def test_second_publisher_on_a_busy_key_is_refused(tmp_path: Path) -> None:
    async with server_env(tmp_path) as env:
        reader = env.live.add_reader("test", capacity=100)
        _, first = await env.open()
        first.write(publish_pieces(env.key))
        assert isinstance(await next_item(reader), Frame)
        second_reader, second = await env.open()
        second.write(publish_pieces(env.key))
        assert await statuses(second_reader) == ["NetStream.Publish.BadName"]
        second.close()
        assert env.live.publishing
        first.close()


@pytest.mark.parametrize(("drop", "level", "code", "description"), [
    ("rotate", "error", "NetStream.Publish.BadName", "the primary key was rotated"),
    ("end", "status", "NetStream.Unpublish.Success", "ended by the creator"),
])
async def test_a_dropped_publisher_hears_why_before_the_close(
        tmp_path: Path, drop: str, level: str, code: str, description: str) -> None:
    async with server_env(tmp_path) as env:
        reader = env.live.add_reader("test", capacity=100)
        client_reader, writer = await env.open()
        writer.write(publish_pieces(env.key))
        assert isinstance(await next_item(reader), Frame)
        if drop == "rotate":
            assert env.registry.disconnect_key(env.live.stream_id, "primary", description)
        else:
            await env.registry.end(env.live.stream_id, description)
        infos = await status_infos(client_reader)  # until the server closes
        assert infos[-1] == {"level": level, "code": code, "description": description}
        writer.close()
        await wait_for(lambda: env.server.connections == 0)


async def test_wrong_application_is_refused(tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with server_env(tmp_path) as env:
        reader, writer = await env.open()
        writer.write(publish_pieces(env.key, app="vod"))
        assert await statuses(reader) == []
        writer.close()
        assert not env.live.publishing
    assert closed_reasons(caplog) == ["refused: unknown application 'vod'"]


async def test_connection_cap(tmp_path: Path) -> None:
    # Every slot publishes: there is nothing to make room with, the newcomer is refused.
    async with server_env(tmp_path, max_connections=1) as env:
        frames = env.live.add_reader("test", capacity=100)
        _, publishing = await env.open()
        publishing.write(publish_pieces(env.key))
        assert isinstance(await next_item(frames), Frame)
        reader, writer = await env.open()
        async with asyncio.timeout(5):
            assert await reader.read() == b""  # refused at once
        writer.close()
        assert env.server.refused_connections == 1
        assert env.live.publishing
        publishing.close()


async def test_a_newcomer_closes_the_oldest_unauthenticated_connection(tmp_path: Path) -> None:
    # Issue 16: idle connections renewed every few seconds held every slot, and a real
    # publisher was reset. Now the oldest idle one makes room, and the publish goes on.
    async with server_env(tmp_path, max_connections=3, max_unauthenticated=2) as env:
        frames = env.live.add_reader("test", capacity=100)
        idle = [await env.open(f"127.0.0.{i}") for i in (2, 3)]
        await wait_for(lambda: env.server.unauthenticated == 2)
        _, publisher = await env.open()
        async with asyncio.timeout(5):
            assert await idle[0][0].read() == b""  # the oldest was closed for it
        publisher.write(publish_pieces(env.key))
        assert isinstance(await next_item(frames), Frame)
        assert env.server.evicted_connections == 1
        await wait_for(lambda: env.server.unauthenticated == 1)  # the publisher left the count
        late = [await env.open(f"127.0.0.{i}") for i in (4, 5, 6)]
        async with asyncio.timeout(5):
            assert await idle[1][0].read() == b""
        assert env.live.publishing  # a publishing connection is never the one closed
        for _, writer in [*idle, *late]:
            writer.close()
        publisher.close()


async def test_unauthenticated_connections_are_capped_per_address(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with server_env(tmp_path, max_unauthenticated_per_address=2,
                          refusal_interval=0.5) as env:
        frames = env.live.add_reader("test", capacity=100)
        flood = [await env.open("127.0.0.2") for _ in range(2)]
        await wait_for(lambda: env.server.unauthenticated == 2)
        refused = [await env.open("127.0.0.2") for _ in range(20)]
        async with asyncio.timeout(5):
            for reader, _ in refused:
                assert await reader.read() == b""
        assert env.server.refused_connections == 20
        _, publisher = await env.open("127.0.0.1")  # another address is not held back
        publisher.write(publish_pieces(env.key))
        assert isinstance(await next_item(frames), Frame)
        for _, writer in [*flood, *refused]:
            writer.close()
        publisher.close()
        await wait_for(lambda: any("more times" in r.getMessage() for r in caplog.records))
    cap_lines = [r.getMessage() for r in caplog.records if "cap" in r.getMessage()]
    assert len(cap_lines) == 2  # one line at the first hit, one summary an interval
    assert cap_lines[0] == "connection cap reached: rtmp unauthenticated per address (limit 2)"
    assert re.fullmatch(r"rtmp unauthenticated per address cap hit 19 more times in the last "
                        r"\d+ s from 1 address \(most from 127\.0\.0\.2: 19\)", cap_lines[1])


async def test_handshake_timeout_even_for_a_trickle(tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with server_env(tmp_path, handshake_timeout_sec=0.3) as env:
        reader, writer = await env.open()
        hello = client_handshake()
        async with asyncio.timeout(5):
            for i in range(100):  # a byte every 50 ms never completes the handshake
                if reader.at_eof():
                    break
                writer.write(hello[i:i + 1])
                await asyncio.sleep(0.05)
                if env.server.connections == 0:
                    break
        assert env.server.connections == 0
        writer.close()
    assert closed_reasons(caplog) == ["handshake timeout"]


async def test_silent_publisher_times_out_and_stream_stops(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with server_env(tmp_path, read_timeout_sec=0.3) as env:
        reader = env.live.add_reader("test", capacity=100)
        _, writer = await env.open()
        writer.write(publish_pieces(env.key))
        assert isinstance(await next_item(reader), Frame)
        assert isinstance(await next_item(reader), Frame)
        async with asyncio.timeout(3):
            assert isinstance(await next_item(reader), StreamEnd)
        assert not env.live.publishing
        writer.close()
    assert closed_reasons(caplog) == ["read timeout"]


async def test_stop_closes_publishers_with_a_reason(tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with server_env(tmp_path) as env:
        reader = env.live.add_reader("test", capacity=100)
        client_reader, writer = await env.open()
        writer.write(publish_pieces(env.key))
        assert isinstance(await next_item(reader), Frame)
        await env.server.stop()
        assert env.server.connections == 0
        assert not env.live.publishing
        async with asyncio.timeout(5):
            while await client_reader.read(65536):
                pass
        writer.close()
    assert closed_reasons(caplog) == ["server shutting down"]


async def test_a_refused_track_fails_the_publish_with_the_reason(
        caplog: pytest.LogCaptureFixture) -> None:
    """The daemon cannot package the track: the publisher hears why, the connection closes,
    one warning says so, and nothing reaches a catch-all."""
    caplog.set_level(logging.INFO)
    sink = RefusingSink("h264")
    server = RtmpServer(RtmpServerConfig(host="127.0.0.1", port=0), sink)
    port = await server.start()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(publish_pieces("any-key"))
        infos = await status_infos(reader)
        writer.close()
        await wait_for(lambda: server.connections == 0)
    finally:
        await server.stop()
    why = "h264 cannot be packaged; publish H.264 or HEVC"
    assert [(i["level"], i["code"]) for i in infos] == [
        ("status", "NetStream.Publish.Start"), ("error", "NetStream.Publish.Failed")]
    assert infos[1]["description"] == why
    [session] = sink.sessions
    assert session.detached == [f"track refused: {why}"] and session.frames == []
    assert closed_reasons(caplog) == [f"track refused: {why}"]
    assert [r.levelno for r in caplog.records] == [logging.WARNING]  # that one line


# -- RTMPS: the second listener, under the same caps and timeouts -------------------------


async def test_both_listeners_share_the_per_address_cap(tmp_path: Path) -> None:
    async with server_env(tmp_path, tls=True, max_unauthenticated_per_address=2) as env:
        held = [await env.open("127.0.0.2"), await env.open_tls("127.0.0.2")]
        await wait_for(lambda: env.server.unauthenticated == 2)
        reader, writer = await env.open_tls("127.0.0.2")
        async with asyncio.timeout(5):
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await reader.read()
        assert env.server.refused_connections == 1
        for _, held_writer in [*held, (reader, writer)]:
            held_writer.close()


async def test_a_tls_handshake_that_never_ends_is_closed(tmp_path: Path) -> None:
    async with server_env(tmp_path, tls=True, handshake_timeout_sec=0.3) as env:
        reader, writer = await asyncio.open_connection("127.0.0.1", env.server.tls_port)
        writer.write(b"\x16\x03\x01")  # a ClientHello's first bytes, and no more
        async with asyncio.timeout(5):
            assert await reader.read() == b""
        writer.close()
        assert env.server.connections == 0


async def test_an_rtmp_handshake_that_never_ends_over_tls_times_out(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with server_env(tmp_path, tls=True, handshake_timeout_sec=0.3) as env:
        reader, writer = await env.open_tls()
        writer.write(client_handshake()[:10])  # TLS done, RTMP's own handshake never is
        async with asyncio.timeout(5):
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await reader.read()
        writer.close()
        await wait_for(lambda: env.server.connections == 0)
    assert closed_reasons(caplog) == ["handshake timeout"]
    assert closed_reasons(caplog, "tls") == [True]
