"""The SRT server glue over a real UDP socket: our test caller publishes real MPEG-TS
(from the ffmpeg fixtures) to the server and stream registry; refusals, a malformed datagram
and shutdown. libsrt publishers are in tests/interop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest.media import Frame
from ingest.srt.config import SrtServerConfig
from ingest.srt.connection import REJ_BADSECRET, REJX_BAD_MODE, REJX_FORBIDDEN, REJX_NOTFOUND
from ingest.srt.server import SrtServer
from mediad.fanout import Reader, StreamEnd, TrackChange
from mediad.store import Store
from mediad.streams import LiveStream, StreamRegistry
from tests.ingest.sink_testing import RefusingSink
from tests.ingest.srt.srt_socket_testing import CallerSocket, open_caller

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mpegts"
PASSPHRASE = "server-test-passphrase"


@dataclass
class Env:
    server: SrtServer
    port: int
    key: str
    live: LiveStream

    async def caller(self, stream_id: str, passphrase: str | None = PASSPHRASE
                     ) -> CallerSocket:
        return await open_caller(self.port, stream_id, passphrase)


@asynccontextmanager
async def server_env(tmp_path: Path, app: str = "live",
                     refusal_interval: float = 10.0) -> AsyncIterator[Env]:
    store = await Store.open(tmp_path / "db.sqlite3")
    registry = StreamRegistry(store)
    user = await store.users.create("streamer", "Streamer", "creator", "x")
    stream = await store.streams.create(user.id, "SRT", srt_passphrase=PASSPHRASE)
    key = await store.keys.issue(stream.id, "primary")

    async def passphrase_for(candidate: str) -> str | None:
        return PASSPHRASE if candidate == key.secret else None

    config = SrtServerConfig(host="127.0.0.1", port=0, app=app, peer_idle_timeout_sec=1.0)
    server = SrtServer(config, registry, passphrase_for, refusal_interval=refusal_interval)
    port = await server.start()
    live = await registry.live_stream(stream.id)
    assert live is not None
    try:
        yield Env(server, port, key.secret, live)
    finally:
        await server.stop()
        await registry.close()
        await store.close()


def ts_payloads() -> list[bytes]:
    data = next(iter(sorted(FIXTURES.glob("*.ts")))).read_bytes()
    return [data[i:i + 1316] for i in range(0, len(data), 1316)]


async def next_frame(reader: Reader) -> Frame | StreamEnd:
    async with asyncio.timeout(5):
        while True:
            item = await reader.get()
            if isinstance(item, Frame | StreamEnd):
                return item
            assert isinstance(item, TrackChange)


async def test_publish_reaches_the_registry_then_idle_timeout(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    async with server_env(tmp_path) as env:
        reader = env.live.add_reader("test", capacity=100_000)
        sock = await env.caller(f"#!::r=live/{env.key},m=publish")
        assert sock.caller.connected and env.live.publishing
        for i, payload in enumerate(ts_payloads()):
            sock.send(sock.caller.data(payload, 10_000 + i * 1000))
        first = await next_frame(reader)
        assert isinstance(first, Frame) and first.keyframe
        # The caller goes silent (no keepalives): the server times it out.
        assert isinstance(await next_frame_or_end(reader), StreamEnd)
        assert not env.live.publishing
    closed = [r for r in caplog.records if r.getMessage() == "srt connection closed"]
    assert [r.fields["reason"] for r in closed] == ["peer idle timeout"]  # type: ignore[attr-defined]


async def next_frame_or_end(reader: Reader) -> StreamEnd:
    async with asyncio.timeout(5):
        while not isinstance(item := await reader.get(), StreamEnd):
            pass
    return item


@pytest.mark.parametrize(("stream_id", "passphrase", "reason"), [
    ("#!::r=live/not-a-key,m=publish", PASSPHRASE, REJX_FORBIDDEN),
    ("#!::r=live/{key},m=request", PASSPHRASE, REJX_BAD_MODE),
    ("#!::r=live/{key},m=publish", "a-wrong-passphrase", REJ_BADSECRET),
    ("#!::r=other/{key},m=publish", PASSPHRASE, REJX_NOTFOUND),  # not our application
    ("live/extra/{key}", PASSPHRASE, REJX_NOTFOUND),
])
async def test_refusals_carry_their_codes(tmp_path: Path, stream_id: str, passphrase: str,
                                          reason: int) -> None:
    async with server_env(tmp_path) as env:
        sock = await env.caller(stream_id.format(key=env.key), passphrase)
        assert sock.caller.rejection == reason
        assert not env.live.publishing


async def test_garbage_datagrams_disturb_nobody(tmp_path: Path) -> None:
    async with server_env(tmp_path) as env:
        sock = await env.caller(f"{env.key}")
        assert sock.caller.connected
        sock.send(b"\x80\x7f\x00\x00" + bytes(12))  # an unknown control type
        sock.send(b"short")
        await asyncio.sleep(0.1)
        assert env.server.malformed == 2 and env.live.publishing


async def test_a_refused_track_closes_the_connection_with_the_reason(
        caplog: pytest.LogCaptureFixture) -> None:
    """The daemon cannot package the track: the caller is shut down, one warning says why,
    and nothing reaches a catch-all."""
    caplog.set_level(logging.INFO)
    sink = RefusingSink("h264")

    async def passphrase_for(candidate: str) -> str | None:
        return ""

    server = SrtServer(SrtServerConfig(host="127.0.0.1", port=0), sink, passphrase_for)
    port = await server.start()
    try:
        sock = await open_caller(port, "#!::r=live/any-key,m=publish", None)
        assert sock.caller.connected
        for i, payload in enumerate(ts_payloads()):
            sock.send(sock.caller.data(payload, 10_000 + i * 1000))
        async with asyncio.timeout(5):
            while server.publishes:  # noqa: ASYNC110 -- the server exposes no event for this
                await asyncio.sleep(0.01)
        assert not server.core.connections
    finally:
        await server.stop()
    why = "h264 cannot be packaged; publish H.264 or HEVC"
    [session] = sink.sessions
    assert session.detached == [f"track refused: {why}"]
    assert all(frame.track.kind == "audio" for frame in session.frames)  # no video, ever
    closed = [r for r in caplog.records if r.getMessage() == "srt connection closed"]
    assert [(r.levelno, r.fields["reason"]) for r in closed] == [  # type: ignore[attr-defined]
        (logging.WARNING, f"track refused: {why}")]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("stream_id", [
    "#!::r=live/{key},m=publish", "#!::r={key},m=publish", "live/{key}", "publish:{key}"])
async def test_our_application_or_none_is_accepted(tmp_path: Path, stream_id: str) -> None:
    async with server_env(tmp_path) as env:
        sock = await env.caller(stream_id.format(key=env.key))
        assert sock.caller.connected and env.live.publishing


async def test_another_configured_application_is_the_one_accepted(tmp_path: Path) -> None:
    async with server_env(tmp_path, app="studio") as env:
        refused = await env.caller(f"#!::r=live/{env.key},m=publish")
        assert refused.caller.rejection == REJX_NOTFOUND
        sock = await env.caller(f"#!::r=studio/{env.key},m=publish")
        assert sock.caller.connected


async def test_a_retrying_caller_makes_one_line_an_interval(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Twenty refusals of one host within an interval: the first is said with its reason,
    the rest in one summary, which says how many."""
    caplog.set_level(logging.INFO, logger="mediad.srt")
    async with server_env(tmp_path, refusal_interval=0.5) as env:
        for _ in range(20):
            sock = await env.caller(f"#!::r=wrong/{env.key},m=publish")
            assert sock.caller.rejection == REJX_NOTFOUND
        async with asyncio.timeout(5):
            while not [r for r in caplog.records if "more refusal" in r.getMessage()]:  # noqa: ASYNC110 -- logs have no event
                await asyncio.sleep(0.05)
    lines = [r for r in caplog.records if r.name == "mediad.srt"]
    first = lines[0]
    assert first.getMessage() == "srt publish refused"
    assert first.fields["reason"] == "unknown application 'wrong'"  # type: ignore[attr-defined]
    counted = [r.fields["count"] for r in lines[1:]]  # type: ignore[attr-defined]
    assert sum(counted) == 19 and len(lines) <= 1 + 3
    assert all("from 127.0.0.1 in the last" in r.getMessage() for r in lines[1:])
