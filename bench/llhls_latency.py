"""LL-HLS latency and viewer fan-out, each beside its target.

(a) Server latency: ffmpeg publishes a pre-encoded 720p30 file in real time over RTMP to an
    in-process mediad (RTMP server, registry, packager, HTTP on uvloop); one viewer in a
    separate process long-polls with blocking playlist requests. For every part: the time
    from the arrival at ingest of its first frame (and of its last frame) to the blocking
    response that lists it. Target: p99 under the part duration + 100 ms.
(b) End-to-end latency in hls.js (lowLatencyMode) in headless Chromium against the daemon
    (`Date.now() - hls.playingDate`, PDT being the ingest wall clock), p50. Target: < 1.0 s.
(c) Fan-out: N = 100, 500, 1000, 2000 simulated viewers (``bench/llhls_clients.py``, one
    process) each looping blocking playlist request + part fetch; server CPU and the p99
    delay from a part's publication to each viewer's response. Target at N = 1000: < 100 ms.

    python -m bench.llhls_latency [--quick]
Last line: RESULT part_ms=<n> server_latency_p50_ms=<n> server_latency_p99_ms=<n>
           hlsjs_latency_p50_s=<n> wake_p99_ms_1000=<n>
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import (
    DaemonProcess,
    encode_test_file,
    ffmpeg_publish,
    parse_args,
    print_comparison,
    print_result,
    require,
)

CACHE = Path(__file__).resolve().parent / "out"
HLSJS = Path(__file__).resolve().parents[1] / "tests" / "interop" / "hlsjs" / "play.mjs"


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


@dataclass
class Published:
    """When each part became fetchable, in the server process (CLOCK_MONOTONIC)."""

    parts: dict[tuple[int, int], tuple[float, float, float]] = field(default_factory=dict)
    """(msn, index) -> (published at, first frame arrival, last frame arrival)."""


def record_publications(published: Published) -> None:
    from packager.llhls import MediaPlaylist, Part

    original = MediaPlaylist.add_part

    def timed(self: MediaPlaylist, *args: object, **kwargs: object) -> Part:
        part = original(self, *args, **kwargs)  # type: ignore[arg-type]
        published.parts[(part.msn, part.index)] = (
            time.monotonic(), part.first_arrival, part.last_arrival)
        return part

    MediaPlaylist.add_part = timed  # type: ignore[method-assign]


async def run_clients(url: str, clients: int, seconds: float, parts: bool = True
                      ) -> dict[str, object]:
    with tempfile.NamedTemporaryFile(suffix=".json") as report:
        args = [sys.executable, "-m", "bench.llhls_clients", url, "--clients", str(clients),
                "--seconds", str(seconds), "--out", report.name]
        if not parts:
            args.append("--no-parts")
        proc = await asyncio.create_subprocess_exec(*args)
        if await proc.wait() != 0:
            sys.exit(f"viewer process failed with {proc.returncode}")
        result: dict[str, object] = json.loads(report.read())  # closed by the child already
    return result


async def in_process(source: Path, publish_seconds: float, latency_seconds: float,
                     fanout: list[int], fanout_seconds: float, tmp: Path
                     ) -> tuple[float, list[float], list[float], dict[int, tuple[float, float]]]:
    from aiohttp import web

    from ingest.rtmp.config import RtmpServerConfig
    from ingest.rtmp.server import RtmpServer
    from mediad.config import Config
    from mediad.http.app import create_app
    from mediad.http.hls import setup_hls
    from mediad.store import Store
    from mediad.stream_pipelines import StreamPipelines
    from mediad.streams import StreamRegistry
    from mediad.testing import free_port

    published = Published()
    record_publications(published)
    config = Config()
    store = await Store.open(tmp / "bench.sqlite3")
    registry = StreamRegistry(store)
    rtmp = RtmpServer(RtmpServerConfig(host="127.0.0.1", port=free_port()), registry)
    rtmp_port = await rtmp.start()
    pipelines = StreamPipelines(config.hls, registry, store)
    await pipelines.start()
    app = create_app(config, store, registry)
    setup_hls(app, pipelines)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    http_port = free_port()
    await web.TCPSite(runner, "127.0.0.1", http_port, backlog=4096).start()
    user = await store.users.create("bench", "Bench", "creator", "x")
    stream = await store.streams.create(user.id, "bench")
    key = await store.keys.issue(stream.id, "primary")
    publisher = ffmpeg_publish(f"rtmp://127.0.0.1:{rtmp_port}/live/{key.secret}",
                               publish_seconds, source=source)
    try:
        base = f"http://127.0.0.1:{http_port}/hls/{stream.id}"
        async with asyncio.timeout(20):
            while pipelines.get(stream.id) is None:  # noqa: ASYNC110 -- ffmpeg connecting
                await asyncio.sleep(0.05)
        pipeline = await pipelines.wait_pipeline(stream.id, 20)
        if pipeline is None:
            sys.exit("the stream never became ready")
        media = f"{base}/{pipeline.session}/source/index.m3u8"
        part_ms = pipeline.settings.part_target * 1000

        result = await run_clients(media, 1, latency_seconds)
        first_frame: list[float] = []
        beyond_part: list[float] = []
        for msn, index, at in result["received"]:  # type: ignore[attr-defined]
            known = published.parts.get((msn, index))
            if known is not None:
                first_frame.append((at - known[1]) * 1000)
                beyond_part.append((at - known[2]) * 1000)

        fanout_figures: dict[int, tuple[float, float]] = {}
        for clients in fanout:
            cpu0, wall0 = time.process_time(), time.monotonic()
            result = await run_clients(media, clients, fanout_seconds)
            cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0)
            delays = [(at - published.parts[(msn, index)][0]) * 1000
                      for msn, index, at in result["received"]  # type: ignore[attr-defined]
                      if (msn, index) in published.parts]
            fanout_figures[clients] = (percentile(delays, 99), cpu)
            print(f"  {clients:5d} viewers: {len(delays):6d} wake-ups, p50 "
                  f"{percentile(delays, 50):6.1f} ms, p99 {percentile(delays, 99):6.1f} ms, "
                  f"server CPU {cpu:.2f} cores, errors {result['errors']} "
                  f"{result['first_errors']}", flush=True)
        return part_ms, first_frame, beyond_part, fanout_figures
    finally:
        publisher.kill()
        publisher.wait()
        await pipelines.stop()
        await rtmp.stop()
        await registry.close()
        await runner.cleanup()
        await store.close()


def hlsjs_latency(source: Path, seconds: float) -> float:
    """p50 of hls.js's end-to-end latency, playing from the daemon as a viewer would."""
    node = require("node")
    if not (HLSJS.parent / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HLSJS.parent, check=True)
    with DaemonProcess(extra_config="[transcode]\nenabled = false\n") as daemon:
        publisher = ffmpeg_publish(daemon.rtmp_url(), seconds + 30, source=source)
        try:
            daemon.wait_for_log("publisher attached", timeout=20)
            url = f"{daemon.base_url}/hls/{daemon.banner.stream_id}/index.m3u8"
            run = subprocess.run([node, str(HLSJS), url, "--seconds", str(seconds)],
                                 capture_output=True, text=True, timeout=seconds + 90)
            if run.returncode != 0:
                sys.exit(f"hls.js player failed:\n{run.stderr[-2000:]}")
            report = json.loads(run.stdout)
            if report.get("fatalErrors"):
                sys.exit(f"hls.js fatal errors: {report['fatalErrors']}")
            return float(report["latencyP50"])
        finally:
            publisher.kill()
            publisher.wait()


def main() -> None:
    args = parse_args(__doc__ or "")
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # thousands of sockets
    latency_seconds = 10.0 if args.quick else 30.0
    fanout_seconds = 6.0 if args.quick else 15.0
    hlsjs_seconds = 20.0 if args.quick else 60.0
    fanout = [100, 500, 1000, 2000]
    CACHE.mkdir(exist_ok=True)
    print("encoding the test file (cached in bench/out/) ...", flush=True)
    source = encode_test_file(CACHE / "720p30_2M_60s.flv", 60, width=1280, height=720, fps=30,
                              bitrate_kbps=2000)
    publish_seconds = 20 + latency_seconds + len(fanout) * (fanout_seconds + 5)

    import uvloop

    with tempfile.TemporaryDirectory() as tmp:
        part_ms, first_frame, beyond_part, figures = uvloop.run(in_process(
            source, publish_seconds, latency_seconds, fanout, fanout_seconds, Path(tmp)))
    p50, p99 = percentile(first_frame, 50), percentile(first_frame, 99)
    print(f"server latency over {len(first_frame)} parts (first frame's arrival to listed): "
          f"p50 {p50:.1f} ms, p99 {p99:.1f} ms; last frame's: p50 "
          f"{percentile(beyond_part, 50):.1f} ms, p99 {percentile(beyond_part, 99):.1f} ms")
    print_comparison("server latency p99 (ms)", p99, part_ms + 100, "limit")
    wake_1000 = figures[1000][0]
    print_comparison("wake-up p99 at 1000 viewers (ms)", wake_1000, 100.0, "limit")

    hlsjs = hlsjs_latency(source, hlsjs_seconds)
    print_comparison("hls.js latency p50 (s)", hlsjs, 1.0, "limit")
    print_result(part_ms=round(part_ms), server_latency_p50_ms=p50, server_latency_p99_ms=p99,
                 hlsjs_latency_p50_s=hlsjs, wake_p99_ms_1000=wake_1000,
                 **{f"wake_p99_ms_{n}": figures[n][0] for n in figures if n != 1000},
                 **{f"server_cpu_cores_{n}": figures[n][1] for n in figures},
                 server_latency_mean_ms=statistics.fmean(first_frame))


if __name__ == "__main__":
    main()
