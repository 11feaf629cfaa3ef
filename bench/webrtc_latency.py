"""Glass-to-glass latency of WebRTC and LL-HLS in Chromium, and WHEP viewers per core.

Every picture carries the wall clock at the moment it was drawn, before it is encoded
(``bench/clock_stamp.py``: 32 bits of milliseconds and a CRC-8 as 40 black/white blocks);
the viewer, Debian's headless Chromium (``player-web/e2e/webrtc-latency.mjs``), draws each
decoded frame into a canvas on ``requestVideoFrameCallback``, reads the stamp and subtracts
it from its ``Date.now()``: one machine, one clock, the same reading for every path.

Paths, in one run against one mediad (passthrough: the publishers send no B-frames):
- RTMP -> LL-HLS: a PyAV publisher (``bench/stamp_publisher.py``: 640x360, 30 fps,
  libx264 zerolatency, 1 s GOP, AAC) and hls.js in low-latency mode on
  ``/hls/{stream}/index.m3u8``; beside it hls.js's own ``Date.now() - playingDate``, the
  figure ``bench/llhls_latency.py`` holds to 1.0 s.
- RTMP -> WHEP: the same publish, ``POST /whep/{stream}`` from ``RTCPeerConnection``.
- WHIP -> WHEP: Chromium publishes a 640x360 canvas at 30 fps (the stamp drawn from
  ``Date.now()`` each frame) and an oscillator over WHIP (``Authorization: Bearer <key>``),
  held at 1.0-1.5 Mbit/s and its size like a set encoder (its bandwidth estimate would start
  near 300 kbit/s and scale the picture down); another Chromium watches over WHEP.
Then WHEP viewer load: 10, 50, 100 aiortc viewers in another process
(``bench/webrtc_load_clients.py``) on the RTMP publish; the daemon's CPU over a steady window
(all its threads, ``CpuMeter``), less its CPU with no viewer in the same run, per viewer.

Targets (issue 17, this 2-core machine): WHIP -> WHEP p50 < 300 ms, RTMP -> WHEP p50 < 500 ms,
LL-HLS as before, >= 50 WHEP viewers per core.

    python -m bench.webrtc_latency [--quick]
Last line: RESULT whep_whip_p50_ms=<n> whep_rtmp_p50_ms=<n> llhls_p50_ms=<n>
           whep_viewers_per_core=<n>
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.harness import (
    CpuMeter,
    DaemonProcess,
    parse_args,
    print_comparison,
    print_result,
    raise_open_files_limit,
    require,
)
from bench.llhls_latency import percentile

ROOT = Path(__file__).resolve().parents[1]
PLAYER_WEB = ROOT / "player-web"
DRIVER = PLAYER_WEB / "e2e" / "webrtc-latency.mjs"
WHIP_WHEP_TARGET_MS = 300.0
RTMP_WHEP_TARGET_MS = 500.0
HLSJS_LIMIT_MS = 1000.0
VIEWERS_PER_CORE_TARGET = 50.0


class PathFailed(RuntimeError):
    """A path could not be measured; the message says where it stopped."""


@dataclass
class Latency:
    name: str
    latencies: list[float]
    frames: int
    misreads: int
    start_ms: float | None
    hlsjs: list[float]
    stats: dict[str, dict[str, float]] | None
    """WHEP: the viewer's inbound-rtp statistics per kind at the end."""

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 95)

    def describe(self) -> str:
        return (f"{self.name:<16} p50 {self.p50:7.0f} ms  p95 {self.p95:7.0f} ms  "
                f"({len(self.latencies)} stamps read, {self.frames} frames, "
                f"{self.misreads} unreadable, first frame {self.start_ms} ms)"
                + (f"\n{'':<16} {self.jitter_buffer()}" if self.stats else ""))

    def jitter_buffer(self) -> str:
        """What Chromium's receiver says of the WHEP path: loss, NACKs, its buffering."""
        assert self.stats is not None
        video = self.stats.get("video", {})
        emitted = video.get("jitterBufferEmittedCount") or 0
        delay = 1000 * video.get("jitterBufferDelay", 0.0) / emitted if emitted else 0.0
        return (f"video: {video.get('framesDecoded')} decoded, {video.get('packetsLost')} "
                f"packets lost, {video.get('nackCount')} NACKs, jitter buffer {delay:.0f} ms "
                f"on average; audio packets {self.stats.get('audio', {}).get('packetsReceived')}")


def view(node: str, name: str, kind: str, url: str, seconds: float) -> Latency:
    run = subprocess.run([node, str(DRIVER), "view", "--kind", kind, "--url", url,
                          "--seconds", str(seconds)], cwd=PLAYER_WEB, capture_output=True,
                         text=True, timeout=seconds + 120, check=False)
    lines = run.stdout.strip().splitlines()
    if run.returncode != 0 or not lines:
        raise PathFailed(f"{name}: the viewer exited with {run.returncode}:\n"
                         f"{run.stdout[-1500:]}\n{run.stderr[-1500:]}")
    report = json.loads(lines[-1])
    if not report["latencies"]:
        raise PathFailed(f"{name}: no stamp read (started {report['started']}, "
                         f"{report['frames']} frames, errors {report['fatalErrors']} "
                         f"{report['pageErrors']})")
    return Latency(name, report["latencies"], report["frames"], report["misreads"],
                   report["startMs"], report.get("hlsjsLatencies", []), report["stats"])


@contextmanager
def rtmp_publisher(url: str, seconds: float) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen([sys.executable, "-m", "bench.stamp_publisher", url,
                             "--seconds", str(seconds)], cwd=ROOT)
    try:
        yield proc
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def whip_publisher(node: str, url: str, key: str) -> Iterator[subprocess.Popen[str]]:
    """Chromium publishing over WHIP until the block ends (stdin closed: it DELETEs)."""
    proc = subprocess.Popen([node, str(DRIVER), "publish-whip", "--url", url, "--key", key],
                            cwd=PLAYER_WEB, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    try:
        line = proc.stdout.readline()  # '{"event":"publishing"}' or nothing when it failed
        if '"publishing"' not in line:
            proc.wait(30)
            raise PathFailed(f"WHIP publish failed ({proc.returncode}): {line}"
                             f"{proc.stderr.read()[-2000:] if proc.stderr else ''}")
        yield proc
    finally:
        if proc.poll() is None:
            proc.stdin.close()
            try:
                ended = proc.stdout.readline()
                proc.wait(30)
                if ended:
                    print(f"  WHIP publisher: {json.loads(ended)['stats']}")
            except (subprocess.TimeoutExpired, ValueError, KeyError):
                proc.kill()
                proc.wait()


@dataclass
class Load:
    clients: int
    cores: float
    report: dict[str, object]


def load(daemon: DaemonProcess, url: str, clients: int, seconds: float) -> Load:
    """``clients`` WHEP viewers connected, then the daemon's CPU over ``seconds``."""
    assert daemon.proc is not None
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bench.webrtc_load_clients", url,
                                 "--clients", str(clients), "--seconds", str(seconds),
                                 "--out", out.name], cwd=ROOT, stdout=subprocess.PIPE,
                                text=True)
        assert proc.stdout is not None
        ready = proc.stdout.readline()  # "ready <connected> <failed>"
        if not ready.startswith("ready"):
            raise PathFailed(f"WHEP load with {clients} viewers: the viewer process exited "
                             f"with {proc.wait(30)} before its viewers were ready")
        meter = CpuMeter(daemon.proc.pid).start()
        viewers_meter = CpuMeter(proc.pid).start()
        time.sleep(seconds)
        meter.stop()
        viewers_meter.stop()
        if proc.wait(120) != 0:
            raise PathFailed(f"WHEP load with {clients} viewers: the viewer process exited "
                             f"with {proc.returncode} ({ready.strip()!r})")
        report: dict[str, object] = json.loads(Path(out.name).read_text())
    report["viewer_process_cores"] = viewers_meter.seconds / viewers_meter.wall
    return Load(clients, meter.seconds / meter.wall, report)


def idle_cores(daemon: DaemonProcess, seconds: float) -> float:
    assert daemon.proc is not None
    meter = CpuMeter(daemon.proc.pid).start()
    time.sleep(seconds)
    meter.stop()
    return meter.seconds / meter.wall


@dataclass
class Figures:
    hls: Latency | None = None
    rtmp_whep: Latency | None = None
    whip_whep: Latency | None = None
    baseline_cores: float = float("nan")
    loads: tuple[Load, ...] = ()


def measure(node: str, quick: bool, figures: Figures, failures: list[str]) -> None:
    view_s = 8.0 if quick else 30.0
    load_s = 5.0 if quick else 15.0
    counts = (10, 50) if quick else (10, 50, 100)
    config = ("[transcode]\nenabled = false\n"
              f"[webrtc]\nmax_sessions_per_address = {max(counts) + 10}\n")
    with DaemonProcess(extra_config=config) as daemon:
        stream, key = daemon.banner.stream_id, daemon.banner.primary_key
        hls_url = f"{daemon.base_url}/hls/{stream}/index.m3u8"
        whep_url = f"{daemon.base_url}/whep/{stream}"
        with rtmp_publisher(daemon.rtmp_url(), 600):
            daemon.wait_for_log("publisher attached", timeout=20)
            time.sleep(2.0)  # a few parts exist, as for any viewer joining a live show
            for name, kind, url, slot in (("RTMP -> LL-HLS", "hls", hls_url, "hls"),
                                          ("RTMP -> WHEP", "whep", whep_url, "rtmp_whep")):
                try:
                    setattr(figures, slot, view(node, name, kind, url, view_s))
                    print(getattr(figures, slot).describe(), flush=True)
                except PathFailed as exc:
                    failures.append(str(exc))
                    print(f"{name}: FAILED: {exc}", flush=True)
            figures.baseline_cores = idle_cores(daemon, load_s)
            print(f"daemon CPU with the RTMP publish and no viewer: "
                  f"{figures.baseline_cores:.3f} cores", flush=True)
            loads = []
            for clients in counts if figures.rtmp_whep is not None else ():
                try:
                    loads.append(load(daemon, whep_url, clients, load_s))
                except PathFailed as exc:
                    failures.append(str(exc))
                    break
                report = loads[-1].report
                print(f"  {clients:4d} WHEP viewers: daemon {loads[-1].cores:.3f} cores; "
                      f"{report['connected']} connected in {report['setup_s']:.1f} s, "
                      f"{report['failed']} failed {report['errors']}", flush=True)
            figures.loads = tuple(loads)
        attached = sum(1 for line in daemon.stderr_lines if "publisher attached" in line)
        try:
            with whip_publisher(node, f"{daemon.base_url}/whip/{stream}", key):
                daemon.wait_for_log("publisher attached", timeout=20, after=attached)
                time.sleep(1.0)
                figures.whip_whep = view(node, "WHIP -> WHEP", "whep", whep_url, view_s)
                print(figures.whip_whep.describe(), flush=True)
        except (PathFailed, TimeoutError) as exc:
            failures.append(f"WHIP -> WHEP: {exc}")
            print(f"WHIP -> WHEP: FAILED: {exc}", flush=True)


def kept_up(load: Load) -> bool:
    return load.report["stalled"] == 0 and load.report["failed"] == 0


def viewers_per_core(figures: Figures) -> tuple[float, Load | None]:
    """At the largest load whose every viewer kept receiving (a load some viewers stalled
    at is not one the server serves, whatever its CPU says): viewers one core serves at
    the marginal cost; nan when no load kept up."""
    served = [load for load in figures.loads if kept_up(load)]
    if not served:
        return float("nan"), figures.loads[0] if figures.loads else None
    top = served[-1]
    extra = top.cores - figures.baseline_cores
    return (top.clients / extra if extra > 0 else float("inf")), top


def main() -> None:
    args = parse_args(__doc__ or "")
    node = require("node")
    require("chromium")
    raise_open_files_limit()
    figures = Figures()
    failures: list[str] = []
    measure(node, args.quick, figures, failures)
    print()
    hls, rtmp_whep, whip_whep = figures.hls, figures.rtmp_whep, figures.whip_whep
    for path in (hls, rtmp_whep, whip_whep):
        if path is not None:
            print(path.describe())
    if whip_whep is not None:
        print_comparison("WHIP -> WHEP p50 (ms)", whip_whep.p50, WHIP_WHEP_TARGET_MS, "limit")
    if rtmp_whep is not None:
        print_comparison("RTMP -> WHEP p50 (ms)", rtmp_whep.p50, RTMP_WHEP_TARGET_MS, "limit")
    if hls is not None:
        hlsjs = percentile(hls.hlsjs, 50)
        print_comparison("LL-HLS glass-to-glass p50 (ms)", hls.p50, hlsjs,
                         "hls.js playingDate")
        print_comparison("hls.js playingDate p50 (ms)", hlsjs, HLSJS_LIMIT_MS, "limit")
        for path in (rtmp_whep, whip_whep):
            if path is not None:
                print_comparison(f"{path.name} / LL-HLS p50 (ms)", path.p50, hls.p50,
                                 "LL-HLS")
    per_core, top = viewers_per_core(figures)
    for item in figures.loads:
        extra = item.cores - figures.baseline_cores
        print(f"{item.clients:4d} WHEP viewers: daemon {item.cores:.3f} cores "
              f"({extra:.3f} over no viewer, {1000 * extra / item.clients:.2f} ms CPU/s a "
              f"viewer); connected {item.report['connected']}, stalled "
              f"{item.report['stalled']}, {item.report['video_frames_per_viewer_per_s']:.1f} "
              f"frames/s a viewer (slowest {item.report['slowest_viewer_frames_per_s']:.1f}); "
              f"viewer process {item.report['viewer_process_cores']:.2f} cores")
    for item in figures.loads:
        print(f"every one of the {item.clients} viewers kept receiving frames: "
              f"{'yes' if kept_up(item) else 'NO'}")
    if top is not None:
        print_comparison(f"WHEP viewers per core (at {top.clients})", per_core,
                         VIEWERS_PER_CORE_TARGET, "target")
    for failure in failures:
        print(f"NOT MEASURED: {failure}", file=sys.stderr)

    def ms(path: Latency | None) -> int | str:
        return round(path.p50) if path is not None else "nan"

    print_result(whep_whip_p50_ms=ms(whip_whep), whep_rtmp_p50_ms=ms(rtmp_whep),
                 llhls_p50_ms=ms(hls), whep_viewers_per_core=round(per_core, 1))
    if failures:
        sys.exit(1)


if __name__ == "__main__":
    main()
