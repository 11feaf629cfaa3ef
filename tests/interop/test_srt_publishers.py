"""libsrt publishers we did not write push MPEG-TS to our SRT listener: the ffmpeg CLI
(libsrt caller) and srt-live-transmit, clear and encrypted, at 120 ms and 1000 ms latency;
every frame arrives with its timestamps; a wrong passphrase and a wrong key are refused."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest

from ingest.media import Frame
from ingest.srt.config import SrtServerConfig
from ingest.srt.server import SrtServer
from mediad.fanout import Reader, ReaderItem
from mediad.store import Store
from mediad.streams import LiveStream, StreamRegistry
from mediad.testing import free_port
from tests.interop.reader_testing import collect_until_end
from tests.interop.rtmp_env_testing import Packet, probe_packets, run_peer
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

PASSPHRASE = "interop-passphrase-1"


@dataclass
class SrtEnv:
    server: SrtServer
    port: int
    key: str
    live: LiveStream
    reader: Reader
    items: list[ReaderItem] = field(default_factory=list)

    def url(self, *, key: str | None = None, passphrase: str | None = PASSPHRASE,
            latency_ms: int = 120, ffmpeg: bool = True) -> str:
        sid = f"#!::r=live/{key or self.key},m=publish"
        # ffmpeg percent-decodes URL options; srt-live-transmit does not (takes them as is).
        sid = quote(sid, safe="") if ffmpeg else sid
        url = f"srt://127.0.0.1:{self.port}?streamid={sid}"
        # ffmpeg 5.1 takes latency in microseconds, libsrt's own tools in milliseconds.
        url += f"&latency={latency_ms * 1000 if ffmpeg else latency_ms}"
        if ffmpeg:
            # libsrt's live-mode default linger is 0: without this, ffmpeg's close discards
            # the last packets still queued in its sender (the stream's final frames).
            url += "&linger=2"
        if passphrase:
            url += f"&passphrase={quote(passphrase)}&pbkeylen=16"
        return url

    async def collect_until_end(self, within: float = 40.0) -> list[ReaderItem]:
        return await collect_until_end(self.reader, self.items, within)

    def frames(self, kind: str) -> list[Frame]:
        return [i for i in self.items if isinstance(i, Frame) and i.track.kind == kind]


@asynccontextmanager
async def srt_env(tmp_path: Path, passphrase: str = PASSPHRASE,
                  host: str = "127.0.0.1") -> AsyncIterator[SrtEnv]:
    store = await Store.open(tmp_path / "db.sqlite3")
    registry = StreamRegistry(store)
    user = await store.users.create("streamer", "Streamer", "creator", "x")
    stream = await store.streams.create(user.id, "SRT", srt_passphrase=passphrase)
    key = await store.keys.issue(stream.id, "primary")

    async def passphrase_for(candidate: str) -> str | None:
        found = await store.keys.find(candidate)
        if found is None:
            return None
        row = await store.streams.get(found.stream_id)
        return None if row is None else row.srt_passphrase

    server = SrtServer(SrtServerConfig(host=host, port=free_port()), registry, passphrase_for)
    port = await server.start()
    live = await registry.live_stream(stream.id)
    assert live is not None
    reader = live.add_reader("interop", capacity=1_000_000)
    try:
        yield SrtEnv(server, port, key.secret, live, reader)
    finally:
        await server.stop()
        await registry.close()
        await store.close()


@pytest.fixture(scope="module")
def reference_ts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5 s of H.264 (with B-frames) + AAC in MPEG-TS: what the publishers send."""
    ffmpeg = require_tool("ffmpeg")
    require_tool("ffprobe")
    path = tmp_path_factory.mktemp("media") / "ref.ts"
    subprocess.run([
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
        "-t", "5", "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "30",
        "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k", "-f", "mpegts", str(path),
    ], check=True)
    return path


def relative(packets: list[Packet]) -> list[Packet]:
    base = packets[0].dts
    return [Packet(p.dts - base, p.pts - base, p.key) for p in packets]


def received(frames: list[Frame]) -> list[Packet]:
    return relative([Packet(f.dts, f.pts, f.keyframe) for f in frames])


def assert_every_frame(env: SrtEnv, reference: Path) -> None:
    video = probe_packets(reference, "v")
    audio = probe_packets(reference, "a")
    got_video, got_audio = env.frames("video"), env.frames("audio")
    assert got_video and got_video[0].track.codec == "h264"
    assert (got_video[0].track.width, got_video[0].track.height) == (320, 240)
    assert received(got_video) == relative(video)
    assert len(got_audio) == len(audio)


@pytest.mark.parametrize(("encrypted", "latency_ms"), [
    (False, 120), (True, 120), (True, 1000)])
async def test_ffmpeg_publishes_every_frame(tmp_path: Path, reference_ts: Path,
                                            encrypted: bool, latency_ms: int) -> None:
    ffmpeg = require_tool("ffmpeg")
    async with srt_env(tmp_path, PASSPHRASE if encrypted else "") as env:
        code, out = await run_peer(
            ffmpeg, "-hide_banner", "-loglevel", "error", "-re", "-i", str(reference_ts),
            "-c", "copy", "-f", "mpegts",
            env.url(passphrase=PASSPHRASE if encrypted else None, latency_ms=latency_ms))
        assert code == 0, out
        await env.collect_until_end()
        assert_every_frame(env, reference_ts)


@pytest.mark.parametrize("encrypted", [False, True])
async def test_srt_live_transmit_publishes_every_frame(tmp_path: Path, reference_ts: Path,
                                                       encrypted: bool) -> None:
    ffmpeg, slt = require_tool("ffmpeg"), require_tool("srt-live-transmit")
    udp = free_port(__import__("socket").SOCK_DGRAM)
    async with srt_env(tmp_path, PASSPHRASE if encrypted else "") as env:
        relay = await asyncio.create_subprocess_exec(
            slt, "-q", f"udp://127.0.0.1:{udp}",
            env.url(passphrase=PASSPHRASE if encrypted else None, ffmpeg=False),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL)
        try:
            await asyncio.sleep(0.5)
            code, out = await run_peer(
                ffmpeg, "-hide_banner", "-loglevel", "error", "-re", "-i", str(reference_ts),
                "-c", "copy", "-f", "mpegts", f"udp://127.0.0.1:{udp}?pkt_size=1316")
            assert code == 0, out
            await asyncio.sleep(1.0)  # the relay's buffer drains
        finally:
            relay.terminate()
            await relay.wait()
        await env.collect_until_end()
        assert_every_frame(env, reference_ts)


async def test_wrong_passphrase_and_wrong_key_are_refused(tmp_path: Path,
                                                          reference_ts: Path) -> None:
    ffmpeg = require_tool("ffmpeg")
    async with srt_env(tmp_path) as env:
        for url in (env.url(passphrase="not-the-passphrase"), env.url(key="live_nope"),
                    env.url(passphrase=None)):
            code, out = await run_peer(
                ffmpeg, "-hide_banner", "-loglevel", "error", "-i", str(reference_ts),
                "-t", "1", "-c", "copy", "-f", "mpegts", url, within=30)
            assert code != 0, out
            assert not env.live.publishing


NETNS = "mediad-srt-loss"
NETNS_HOST, NETNS_PEER = "10.231.77.1", "10.231.77.2"


def netem_link(loss: str = "5%", delay: str = "20ms") -> bool:
    """A network namespace joined by a veth pair whose far end has ``tc netem`` loss and
    delay (both directions). False where namespaces or netem are unavailable."""
    steps = [
        ["ip", "netns", "add", NETNS],
        ["ip", "link", "add", "mdsrt0", "type", "veth", "peer", "name", "mdsrt1"],
        ["ip", "link", "set", "mdsrt1", "netns", NETNS],
        ["ip", "addr", "add", f"{NETNS_HOST}/24", "dev", "mdsrt0"],
        ["ip", "link", "set", "mdsrt0", "up"],
        ["ip", "netns", "exec", NETNS, "ip", "addr", "add", f"{NETNS_PEER}/24", "dev", "mdsrt1"],
        ["ip", "netns", "exec", NETNS, "ip", "link", "set", "mdsrt1", "up"],
        ["ip", "netns", "exec", NETNS, "tc", "qdisc", "add", "dev", "mdsrt1", "root", "netem",
         "loss", loss, "delay", delay],
        ["tc", "qdisc", "add", "dev", "mdsrt0", "root", "netem", "loss", loss, "delay", delay],
    ]
    for step in steps:
        if subprocess.run(step, capture_output=True).returncode != 0:
            remove_netem_link()
            return False
    return True


def remove_netem_link() -> None:
    subprocess.run(["ip", "link", "del", "mdsrt0"], capture_output=True)
    subprocess.run(["ip", "netns", "del", NETNS], capture_output=True)


async def test_no_frame_lost_through_a_lossy_link(tmp_path: Path, reference_ts: Path) -> None:
    """5 % loss and 20 ms delay each way at 200 ms latency: a network namespace with
    ``tc netem`` where the kernel has it, else a loopback relay that drops datagrams."""
    from tests.interop.lossy_relay_testing import LossyRelay

    ffmpeg = require_tool("ffmpeg")
    use_netem = netem_link()
    print(f"\nlossy link: {'network namespace + tc netem' if use_netem else 'loopback relay'}")
    relay: LossyRelay | None = None
    try:
        async with srt_env(tmp_path, host=NETNS_HOST if use_netem else "127.0.0.1") as env:
            if use_netem:
                url = env.url(latency_ms=200).replace("127.0.0.1", NETNS_HOST)
                command = ["ip", "netns", "exec", NETNS, ffmpeg]
            else:
                relay = LossyRelay(("127.0.0.1", env.port), loss=0.05, delay=0.02, seed=7)
                relay_port = await relay.start()
                url = env.url(latency_ms=200).replace(f":{env.port}?", f":{relay_port}?")
                command = [ffmpeg]
            code, out = await run_peer(
                *command, "-hide_banner", "-loglevel", "error", "-re", "-i", str(reference_ts),
                "-c", "copy", "-f", "mpegts", url)
            assert code == 0, out
            await env.collect_until_end()
            if relay is not None:
                relay.close()
                print(f"relay dropped {relay.dropped} of {relay.dropped + relay.forwarded}")
                assert relay.dropped > 20
            # A packet lost at the very end is undetectable (no later packet shows the gap,
            # and live-mode senders retransmit only on NAK): the last half second is excused.
            video, audio = probe_packets(reference_ts, "v"), probe_packets(reference_ts, "a")
            end = video[-1].dts - 45_000
            got = received(env.frames("video"))
            want = [p for p in relative(video) if p.dts <= end - video[0].dts]
            assert got[:len(want)] == want
            assert len(env.frames("audio")) >= len([p for p in audio if p.dts <= end])
    finally:
        if use_netem:
            remove_netem_link()
