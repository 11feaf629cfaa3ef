"""Start-up and idle cost of the daemon, beside nginx-rtmp's.

A self-hoster restarts mediad on every upgrade; start-up to a healthy ``/healthz`` (store
opened and migrated, listeners up) should be quick, and an idle daemon should cost nothing.

    python -m bench.startup [--quick]
"""

from __future__ import annotations

import socket
import statistics
import tempfile
import time
from pathlib import Path

from bench.harness import (
    CpuMeter,
    DaemonProcess,
    NginxRtmp,
    parse_args,
    print_comparison,
    print_result,
)


def wait_listening(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.005)
    raise TimeoutError(f"nothing listening on {port}")


def mediad_start(data_dir: Path) -> tuple[float, DaemonProcess]:
    t0 = time.monotonic()
    daemon = DaemonProcess(data_dir=data_dir).start()
    return time.monotonic() - t0, daemon


def nginx_start() -> tuple[float, NginxRtmp]:
    t0 = time.monotonic()
    nginx = NginxRtmp().start()
    wait_listening(nginx.port)
    return time.monotonic() - t0, nginx


def main() -> None:
    args = parse_args(__doc__ or "")
    repeats, idle_s = (3, 5.0) if args.quick else (10, 30.0)

    with tempfile.TemporaryDirectory() as tmp:
        cold, daemon = mediad_start(Path(tmp) / "cold")
        daemon.stop()
        warm_times = []
        for _ in range(repeats):
            took, daemon = mediad_start(Path(tmp) / "cold")
            warm_times.append(took)
            daemon.stop()
        nginx_times = []
        for _ in range(repeats):
            took, nginx = nginx_start()
            nginx_times.append(took)
            nginx.stop()

        took, daemon = mediad_start(Path(tmp) / "cold")
        _, nginx = nginx_start()
        try:
            ours = CpuMeter(daemon.proc.pid if daemon.proc else 0).start()
            worker = nginx.worker_pid()
            assert worker is not None
            peer = CpuMeter(worker).start()
            time.sleep(idle_s)
            ours.stop()
            peer.stop()
        finally:
            daemon.stop()
            nginx.stop()

    warm = statistics.median(warm_times)
    peer_start = statistics.median(nginx_times)
    print(f"cold start (migrations + first-start bootstrap): {cold:.3f} s")
    ratio = print_comparison("start to listening (median, s)", warm, peer_start, "nginx-rtmp")
    print_comparison("idle CPU (s per minute)", ours.per_minute, peer.per_minute, "nginx-rtmp")
    print_result(startup_s=warm, nginx_startup_s=peer_start, ratio=ratio, cold_start_s=cold,
                 idle_cpu_s_per_min=ours.per_minute, nginx_idle_cpu_s_per_min=peer.per_minute)


if __name__ == "__main__":
    main()
