"""SRT ingest cost beside libsrt's, and frames lost through a lossy link, for both.

(a) CPU: the same pre-encoded 6 Mbit/s 1080p30 MPEG-TS is published in real time by the
    ffmpeg CLI (libsrt caller, AES-128) to mediad's SRT listener (the daemon, transcoding
    off) and to ``srt-live-transmit`` (libsrt, C++) listening and relaying to a UDP sink, one
    after the other; the CPU seconds of each server process scaled to a minute.
(b) Loss: 0/2/5/10 % of datagrams dropped each way by a loopback relay (20 ms delay) at
    200 ms latency; mediad counts the frames its registry receives (in process), libsrt's
    relay writes the TS it delivers to a file that ffprobe counts. Frames lost = the
    reference file's packets minus those.

    python -m bench.srt_ingest [--quick]
Last line: RESULT mediad_cpu_s=<n> libsrt_cpu_s=<n> ratio=<n> frames_lost_5pct=<n>
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from bench.harness import (
    CpuMeter,
    DaemonProcess,
    encode_test_file,
    parse_args,
    print_comparison,
    print_result,
    require,
)

CACHE = Path(__file__).resolve().parent / "out"
PASSPHRASE = "bench-passphrase-01"
LOSSES = (0.0, 0.02, 0.05, 0.10)


def ts_file(seconds: int) -> Path:
    flv = encode_test_file(CACHE / "1080p30_6M.flv", 20, width=1920, height=1080, fps=30,
                           bitrate_kbps=6000)
    path = CACHE / f"1080p30_6M_{seconds}s.ts"
    if not path.exists():
        subprocess.run([require("ffmpeg"), "-hide_banner", "-loglevel", "error", "-y",
                        "-stream_loop", "-1", "-i", str(flv), "-t", str(seconds), "-c", "copy",
                        "-f", "mpegts", str(path)], check=True)
    return path


def packet_count(path: Path) -> int:
    """Audio and video packets ffprobe reads (one line per packet: MPEG-TS files list
    their streams twice, under the program and on their own, so no per-stream totals)."""
    out = subprocess.run(
        [require("ffprobe"), "-v", "error", "-show_entries", "packet=stream_index",
         "-of", "csv=p=0", str(path)], capture_output=True, text=True).stdout
    return len(out.split())


def srt_url(port: int, key: str, latency_ms: int, passphrase: str | None) -> str:
    url = (f"srt://127.0.0.1:{port}?streamid={quote(f'#!::r=live/{key},m=publish', safe='')}"
           f"&latency={latency_ms * 1000}&linger=2")  # live default linger 0 drops the tail
    if passphrase:
        url += f"&passphrase={quote(passphrase)}&pbkeylen=16"
    return url


def publish(url: str, source: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([require("ffmpeg"), "-hide_banner", "-loglevel", "error",
                             "-nostdin", "-re", "-i", str(source), "-c", "copy", "-f", "mpegts",
                             url])


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(pid: int, url: str, source: Path) -> float:
    publisher = publish(url, source)
    time.sleep(2.0)  # handshake out of the window
    meter = CpuMeter(pid).start()
    code = publisher.wait()
    meter.stop()
    if code != 0:
        sys.exit(f"publisher to {url} failed with {code}")
    return meter.per_minute


def cpu_figures(source: Path) -> tuple[float, float]:
    with DaemonProcess(extra_config="[transcode]\nenabled = false\n") as daemon:
        assert daemon.proc is not None
        url = daemon.banner.srt_url.replace("localhost", "127.0.0.1")
        ours = measure(daemon.proc.pid, url, source)
    port, sink = free_udp_port(), free_udp_port()
    relay = subprocess.Popen(
        [require("srt-live-transmit"), "-q",
         f"srt://:{port}?mode=listener&passphrase={quote(PASSPHRASE)}&latency=120",
         f"udp://127.0.0.1:{sink}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        peer = measure(relay.pid, srt_url(port, "x", 120, PASSPHRASE), source)
    finally:
        relay.terminate()
        relay.wait()
    return ours, peer


async def mediad_frames(source: Path, loss: float, tmp: Path) -> int:
    from ingest.srt.config import SrtServerConfig
    from ingest.srt.server import SrtServer
    from mediad.fanout import StreamEnd
    from mediad.store import Store
    from mediad.streams import StreamRegistry
    from mediad.testing import free_port
    from tests.interop.lossy_relay_testing import LossyRelay

    store = await Store.open(tmp / f"loss{loss}.sqlite3")
    registry = StreamRegistry(store)
    user = await store.users.create("bench", "Bench", "creator", "x")
    stream = await store.streams.create(user.id, "bench", srt_passphrase=PASSPHRASE)
    key = await store.keys.issue(stream.id, "primary")

    async def passphrase_for(candidate: str) -> str | None:
        return PASSPHRASE if candidate == key.secret else None

    server = SrtServer(SrtServerConfig(host="127.0.0.1", port=free_port(socket.SOCK_DGRAM)),
                       registry, passphrase_for)
    port = await server.start()
    relay = LossyRelay(("127.0.0.1", port), loss=loss, delay=0.02, seed=11)
    relay_port = await relay.start()
    live = await registry.live_stream(stream.id)
    assert live is not None
    reader = live.add_reader("bench", capacity=1_000_000)
    proc = await asyncio.create_subprocess_exec(
        require("ffmpeg"), "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
        "-i", str(source), "-c", "copy", "-f", "mpegts",
        srt_url(relay_port, key.secret, 200, PASSPHRASE))
    try:
        async with asyncio.timeout(120):
            while not isinstance(await reader.get(), StreamEnd):
                pass
        await proc.wait()
    finally:
        relay.close()
        await server.stop()
        await registry.close()
        await store.close()
    return live.stats.frames


async def libsrt_frames(source: Path, loss: float, tmp: Path) -> int:
    from tests.interop.lossy_relay_testing import LossyRelay

    port = free_udp_port()
    out = tmp / f"libsrt_{loss}.ts"
    sink = out.open("wb")  # srt-live-transmit writes files only as file://con (stdout)
    relay_proc = await asyncio.create_subprocess_exec(
        require("srt-live-transmit"), "-q",
        f"srt://:{port}?mode=listener&passphrase={quote(PASSPHRASE)}&latency=200",
        "file://con", stdout=sink, stderr=subprocess.DEVNULL)
    relay = LossyRelay(("127.0.0.1", port), loss=loss, delay=0.02, seed=11)
    relay_port = await relay.start()
    await asyncio.sleep(0.5)
    proc = await asyncio.create_subprocess_exec(
        require("ffmpeg"), "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
        "-i", str(source), "-c", "copy", "-f", "mpegts",
        srt_url(relay_port, "x", 200, PASSPHRASE))
    await proc.wait()
    await asyncio.sleep(1.0)
    if relay_proc.returncode is None:
        relay_proc.terminate()
    await relay_proc.wait()
    sink.close()
    relay.close()
    return packet_count(out) if out.exists() else 0


def main() -> None:
    args = parse_args(__doc__ or "")
    require("srt-live-transmit")
    CACHE.mkdir(exist_ok=True)
    print("preparing the test files (cached in bench/out/) ...", flush=True)
    cpu_source = ts_file(20 if args.quick else 60)
    loss_source = ts_file(8 if args.quick else 20)
    expected = packet_count(loss_source)
    ours, peer = cpu_figures(cpu_source)
    ratio = print_comparison("CPU s per minute, 6 Mbit/s SRT", ours, peer, "libsrt")

    import uvloop

    lost: dict[float, tuple[int, int]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for loss in LOSSES:
            got_ours = uvloop.run(mediad_frames(loss_source, loss, Path(tmp)))
            got_peer = uvloop.run(libsrt_frames(loss_source, loss, Path(tmp)))
            lost[loss] = (expected - got_ours, expected - got_peer)
            print(f"{round(loss * 100):3d} % loss: frames lost mediad {lost[loss][0]}, "
                  f"libsrt {lost[loss][1]} (of {expected})", flush=True)
    print_result(mediad_cpu_s=ours, libsrt_cpu_s=peer, ratio=ratio,
                 frames_lost_5pct=lost[0.05][0], libsrt_frames_lost_5pct=lost[0.05][1],
                 **{f"frames_lost_{round(x * 100)}pct": v[0] for x, v in lost.items()
                    if x != 0.05},
                 **{f"libsrt_frames_lost_{round(x * 100)}pct": v[1] for x, v in lost.items()
                    if x != 0.05})


if __name__ == "__main__":
    main()
