"""Shared benchmark plumbing: arguments, real publishers, CPU meters, peers, the RESULT line.

Every benchmark takes ``--quick`` (a run under two minutes) and ends with one line
``RESULT key=value ...`` that a script can read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from mediad.testing import DaemonProcess, free_port, process_cpu_seconds

__all__ = [
    "CpuMeter",
    "DaemonProcess",
    "NginxRtmp",
    "api_request",
    "ffmpeg_publish",
    "free_port",
    "media_playlist_url",
    "parse_args",
    "print_comparison",
    "print_result",
    "require",
    "serve_writing_report",
]


def parse_args(description: str, argv: list[str] | None = None,
               parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    parser = parser or argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a run under two minutes")
    return parser.parse_args(argv)


T = TypeVar("T")


def raise_open_files_limit() -> None:
    """One descriptor per simulated viewer: thousands do not fit a soft limit of 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError) as exc:
            print(f"could not raise RLIMIT_NOFILE to {hard}: {exc}", file=sys.stderr)


def run_on_uvloop(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop (what the daemon runs on), or asyncio's loop without it."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"{tool} is not installed: run `make bench-deps`")
    return path


def ffmpeg_publish(url: str, seconds: float, *, width: int = 1280, height: int = 720,
                   fps: int = 30, bitrate_kbps: int = 2500, codec: str = "libx264",
                   realtime: bool = True, source: Path | None = None,
                   extra_output_args: tuple[str, ...] = ()) -> subprocess.Popen[bytes]:
    """Publish a test signal (or a pre-encoded ``source`` file, copied) over RTMP with the
    ffmpeg CLI, the way OBS-like encoders do: H.264 + AAC in FLV, 1 s GOP."""
    args = [require("ffmpeg"), "-hide_banner", "-loglevel", "error", "-nostdin"]
    if realtime:
        args.append("-re")
    if source is not None:
        args += ["-stream_loop", "-1", "-i", str(source), "-t", f"{seconds}", "-c", "copy"]
    else:
        args += [
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
            "-t", f"{seconds}", "-c:v", codec, "-preset", "ultrafast", "-tune", "zerolatency",
            "-b:v", f"{bitrate_kbps}k", "-maxrate", f"{bitrate_kbps}k",
            "-bufsize", f"{bitrate_kbps}k", "-g", str(fps), "-pix_fmt", "yuv420p",
            "-c:a", "aac", "-b:a", "128k",
        ]
    args += [*extra_output_args, "-f", "flv", url]
    return subprocess.Popen(args, stdin=subprocess.DEVNULL)


def encode_test_file(path: Path, seconds: float, *, width: int, height: int, fps: int,
                     bitrate_kbps: int) -> Path:
    """Encode a test signal once, so publishers in the benchmark only copy (cheap and equal
    for every server measured)."""
    if path.exists():
        return path
    subprocess.run([
        require("ffmpeg"), "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", f"{seconds}",
        "-c:v", "libx264", "-preset", "veryfast", "-b:v", f"{bitrate_kbps}k",
        "-maxrate", f"{bitrate_kbps}k", "-bufsize", f"{2 * bitrate_kbps}k", "-g", str(fps),
        "-bf", "0", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "128k", "-f", "flv",
        str(path),
    ], check=True)
    return path


def media_playlist_url(daemon: DaemonProcess, within: float = 30.0,
                       stream: str | None = None) -> str | None:
    """The first media playlist of the daemon's stream (or of ``stream``) once its
    multivariant playlist lists one (the source rendition), or None after ``within``
    seconds."""
    url = f"{daemon.base_url}/hls/{stream or daemon.banner.stream_id}/index.m3u8"
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                text = str(response.read().decode())
            uri = next(line for line in text.splitlines() if line and not line.startswith("#"))
            return urllib.parse.urljoin(url, uri)
        except (OSError, StopIteration):
            time.sleep(0.2)
    return None


def api_request(base_url: str, method: str, path: str, body: object = None,
                token: str = "") -> tuple[int, Any]:
    """(status, decoded JSON or None) of one call to the daemon's API, errors included."""
    request = urllib.request.Request(
        base_url + path, method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json",
                 **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def serve_writing_report(report_env: str, report: Callable[[], object]) -> int:
    """mediad's command line (``sys.argv``), then ``report()`` as JSON to the file
    ``$report_env`` names, once the daemon has stopped: for a benchmark's wrapped daemon."""
    from mediad.cli import main as mediad_main

    try:
        return mediad_main(sys.argv[1:])
    finally:
        out = os.environ.get(report_env)
        if out:
            with open(out, "w") as file:
                json.dump(report(), file)


@dataclass
class CpuMeter:
    """CPU seconds (user + system) a process spent between ``start()`` and ``stop()``."""

    pid: int
    _start: float = 0.0
    seconds: float = 0.0
    wall: float = 0.0
    _t0: float = 0.0

    def start(self) -> CpuMeter:
        self._start = process_cpu_seconds(self.pid)
        self._t0 = time.monotonic()
        return self

    def stop(self) -> float:
        self.seconds = process_cpu_seconds(self.pid) - self._start
        self.wall = time.monotonic() - self._t0
        return self.seconds

    @property
    def per_minute(self) -> float:
        return self.seconds * 60.0 / self.wall if self.wall else 0.0


class NginxRtmp:
    """nginx with Debian's ``libnginx-mod-rtmp``: the ingest peer we are measured against.

    The worker process does the RTMP work, so its pid is the one to meter.
    """

    MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self._tmp = tempfile.TemporaryDirectory(prefix="nginx-rtmp-")
        self.proc: subprocess.Popen[bytes] | None = None

    def url(self, key: str) -> str:
        return f"rtmp://127.0.0.1:{self.port}/live/{key}"

    def start(self) -> NginxRtmp:
        nginx = require("nginx")
        if not self.MODULE.exists():
            sys.exit("libnginx-mod-rtmp is not installed: run `make bench-deps`")
        prefix = Path(self._tmp.name)
        (prefix / "logs").mkdir()
        conf = prefix / "nginx.conf"
        conf.write_text(
            f"load_module {self.MODULE};\n"
            "daemon off;\nmaster_process on;\nworker_processes 1;\n"
            f"pid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            f"rtmp {{ server {{ listen 127.0.0.1:{self.port}; chunk_size 4096;\n"
            "  application live { live on; record off; } } }\n"
        )
        self.proc = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(conf)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.worker_pid() is not None:
                return self
            time.sleep(0.05)
        raise RuntimeError("nginx did not start its worker")

    def worker_pid(self) -> int | None:
        if self.proc is None:
            return None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            pids = children.read_text().split()
        except OSError:
            return None
        return int(pids[0]) if pids else None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self._tmp.cleanup()

    def __enter__(self) -> NginxRtmp:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def print_comparison(label: str, ours: float, peer: float, peer_name: str,
                     unit: str = "") -> float:
    """One line per figure: ours, the peer's, and ours/peer."""
    # Both idle at zero is a tie, not a division by zero.
    ratio = ours / peer if peer else (1.0 if ours == 0 else float("inf"))
    print(f"{label:<40} mediad {ours:10.3f}{unit}   {peer_name} {peer:10.3f}{unit}"
          f"   ratio {ratio:6.2f}")
    return ratio


def print_result(**values: float | int | str) -> None:
    def fmt(v: float | int | str) -> str:
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    print("RESULT " + " ".join(f"{k}={fmt(v)}" for k, v in values.items()), flush=True)
