"""RTMP ingest cost beside nginx-rtmp's, and 20 concurrent publishers without a lost frame.

(a) The same pre-encoded 6 Mbit/s 1080p30 H.264+AAC file is published in real time with
    the ffmpeg CLI (``-c copy``) to mediad (ingest only) and to nginx with Debian's
    libnginx-mod-rtmp, one after the other; the CPU seconds each server process spent are
    scaled to one minute. Target: mediad <= 1.5x nginx-rtmp.
(b) 20 ffmpeg publishers at 2 Mbit/s each push to one in-process mediad ingest (store,
    registry, RTMP server on uvloop); every frame the file holds must reach its stream.

    python -m bench.rtmp_ingest [--quick]
Last line: RESULT mediad_cpu_s=<n> nginx_cpu_s=<n> ratio=<n> frames_lost=<n>
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import (
    CpuMeter,
    DaemonProcess,
    NginxRtmp,
    encode_test_file,
    ffmpeg_publish,
    parse_args,
    print_comparison,
    print_result,
    require,
)

CACHE = Path(__file__).resolve().parent / "out"


def packet_count(path: Path) -> int:
    out = subprocess.run(
        [require("ffprobe"), "-v", "error", "-count_packets", "-show_entries",
         "stream=nb_read_packets", "-of", "csv=p=0", str(path)],
        capture_output=True, text=True, check=True).stdout
    return sum(int(x) for x in out.split())


def measure_cpu(pid: int, url: str, source: Path, seconds: float) -> float:
    """CPU seconds per minute that ``pid`` spends while ``source`` is published to ``url``."""
    publisher = ffmpeg_publish(url, seconds, source=source)
    time.sleep(2.0)  # connect + handshake out of the window: steady state only
    meter = CpuMeter(pid).start()
    code = publisher.wait()
    meter.stop()
    if code != 0:
        sys.exit(f"publisher to {url} failed with {code}")
    return meter.per_minute


def single_publisher(source: Path, seconds: float) -> tuple[float, float]:
    with DaemonProcess(extra_config="[transcode]\nenabled = false\n") as daemon:
        assert daemon.proc is not None
        ours = measure_cpu(daemon.proc.pid, daemon.rtmp_url(), source, seconds)
    with NginxRtmp() as nginx:
        worker = nginx.worker_pid()
        assert worker is not None
        peer = measure_cpu(worker, nginx.url("bench"), source, seconds)
    return ours, peer


async def concurrent_publishers(source: Path, count: int, tmp: Path) -> tuple[int, int]:
    """(frames expected, frames received) for ``count`` simultaneous publishers."""
    from ingest.rtmp.config import RtmpServerConfig
    from ingest.rtmp.server import RtmpServer
    from mediad.fanout import StreamEnd
    from mediad.store import Store
    from mediad.streams import StreamRegistry
    from mediad.testing import free_port

    store = await Store.open(tmp / "bench.sqlite3")
    registry = StreamRegistry(store)
    server = RtmpServer(RtmpServerConfig(host="127.0.0.1", port=free_port()), registry)
    port = await server.start()
    user = await store.users.create("bench", "Bench", "creator", "x")
    received = [0] * count

    async def run_one(index: int) -> None:
        stream = await store.streams.create(user.id, f"bench {index}")
        key = await store.keys.issue(stream.id, "primary")
        live = await registry.live_stream(stream.id)
        assert live is not None
        reader = live.add_reader("bench", capacity=1_000_000)
        proc = await asyncio.create_subprocess_exec(
            require("ffmpeg"), "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
            "-i", str(source), "-c", "copy", "-f", "flv",
            f"rtmp://127.0.0.1:{port}/live/{key.secret}")
        while not isinstance(await reader.get(), StreamEnd):
            pass
        await proc.wait()
        # Counted where the registry takes frames in: a reader starts at the first video
        # keyframe, so it never sees the audio ffmpeg sends ahead of it.
        received[index] = live.stats.frames

    try:
        await asyncio.gather(*(run_one(i) for i in range(count)))
    finally:
        await server.stop()
        await registry.close()
        await store.close()
    return packet_count(source) * count, sum(received)


def main() -> None:
    args = parse_args(__doc__ or "")
    require("nginx")
    seconds = 20.0 if args.quick else 60.0
    concurrent_seconds = 10 if args.quick else 30
    CACHE.mkdir(exist_ok=True)
    print("encoding the test files (cached in bench/out/) ...", flush=True)
    big = encode_test_file(CACHE / "1080p30_6M.flv", 20, width=1920, height=1080, fps=30,
                           bitrate_kbps=6000)
    small = encode_test_file(CACHE / f"720p30_2M_{concurrent_seconds}s.flv", concurrent_seconds,
                             width=1280, height=720, fps=30, bitrate_kbps=2000)

    ours, peer = single_publisher(big, seconds)
    ratio = print_comparison("CPU s per minute, 6 Mbit/s 1080p30", ours, peer, "nginx-rtmp")

    import uvloop

    with tempfile.TemporaryDirectory() as tmp:
        expected, got = uvloop.run(concurrent_publishers(small, 20, Path(tmp)))
    lost = expected - got
    print(f"20 concurrent 2 Mbit/s publishers: {got}/{expected} frames, {lost} lost")
    print_result(mediad_cpu_s=ours, nginx_cpu_s=peer, ratio=ratio, frames_lost=lost)


if __name__ == "__main__":
    main()
