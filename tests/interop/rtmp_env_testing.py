"""An in-process RTMP ingest (store, registry, server on a free port) that real publishers
push to, with a reader that records everything the stream delivers."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ingest.media import Frame
from ingest.rtmp.config import RtmpServerConfig
from ingest.rtmp.server import RtmpServer
from mediad.fanout import Reader, ReaderItem
from mediad.store import Store
from mediad.streams import LiveStream, StreamRegistry
from mediad.testing import free_port
from tests.interop.reader_testing import collect_until_end


@dataclass
class RtmpEnv:
    store: Store
    registry: StreamRegistry
    server: RtmpServer
    port: int
    stream_id: str
    primary: str
    backup: str
    live: LiveStream
    reader: Reader
    items: list[ReaderItem] = field(default_factory=list)

    def url(self, key: str | None = None) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live/{self.primary if key is None else key}"

    async def collect_until_end(self, within: float = 30.0) -> list[ReaderItem]:
        return await collect_until_end(self.reader, self.items, within)

    async def wait_frames(self, count: int, within: float = 15.0) -> None:
        async with asyncio.timeout(within):
            while sum(isinstance(i, Frame) for i in self.items) < count:
                self.items.append(await self.reader.get())

    def frames(self, kind: str) -> list[Frame]:
        return [i for i in self.items if isinstance(i, Frame) and i.track.kind == kind]


@asynccontextmanager
async def rtmp_env(tmp_path: Path) -> AsyncIterator[RtmpEnv]:
    store = await Store.open(tmp_path / "db.sqlite3")
    registry = StreamRegistry(store)
    user = await store.users.create("streamer", "Streamer", "creator", "x")
    stream = await store.streams.create(user.id, "Interop")
    primary = await store.keys.issue(stream.id, "primary")
    backup = await store.keys.issue(stream.id, "backup")
    server = RtmpServer(RtmpServerConfig(host="127.0.0.1", port=free_port()), registry)
    port = await server.start()
    live = await registry.live_stream(stream.id)
    assert live is not None
    reader = live.add_reader("interop", capacity=1_000_000)
    try:
        yield RtmpEnv(store, registry, server, port, stream.id, primary.secret, backup.secret,
                      live, reader)
    finally:
        await server.stop()
        await registry.close()
        await store.close()


@dataclass(frozen=True)
class Packet:
    dts: int
    pts: int
    key: bool


def probe_packets(path: Path, stream: str) -> list[Packet]:
    """Packets of one stream (``v`` or ``a``) as ffprobe reads them, in ms."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", stream, "-show_entries",
         "packet=pts,dts,flags", "-of", "json", str(path)],
        capture_output=True, check=True, text=True,
    ).stdout
    return [Packet(int(p["dts"]), int(p["pts"]), "K" in p["flags"])
            for p in json.loads(out)["packets"]]


async def run_peer(*args: str, within: float = 60.0) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *args, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT)
    try:
        async with asyncio.timeout(within):
            out, _ = await proc.communicate()
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(errors="replace")
