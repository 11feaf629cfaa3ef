"""Chat fan-out: 100 messages per second to N WebSocket viewers of one stream.

For each N (1000, 5000, 10000; ``--quick``: 1000 and 5000), the viewers run in their own
process (``bench/ws_clients.py``, raw asyncio WebSockets, every 10th a latency probe), a
sender posts 100 chat messages per second through mediad's HTTP API as the stream's
creator, each stamped with its send time; we report p50/p99 delivery latency (send to a
viewer's decode) and mediad's CPU. The peer, same clients and same load, same run: the
minimal aiohttp broadcast loop (``bench/ws_baseline.py``: ``for ws in sockets: await
ws.send_str(...)`` per message). Target: p99 under 250 ms at 5000 viewers.

    python -m bench.chat_fanout [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.harness import CpuMeter, DaemonProcess, free_port, parse_args, print_result
from mediad.auth import Tokens
from mediad.store.users import User

RATE = 100
JWT_SECRET = "bench-chat-fanout-secret-0123456789abcdef"
CONFIG = f'[auth]\njwt_secret = "{JWT_SECRET}"\n[transcode]\nenabled = false\n'


@dataclass
class Run:
    clients: int
    connected: int
    p50_ms: float
    p99_ms: float
    samples: int
    delivered_share: float
    cpu_s: float
    sent: int
    clients_cpu_share: float
    closed_by_server: int
    ack_p50_ms: float
    """Send to the HTTP reply (the message stored and published)."""
    ack_p99_ms: float


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def send_messages(url: str, headers: dict[str, str], seconds: float,
                        acked_ms: list[float]) -> int:
    """Post RATE messages a second on a fixed schedule, open loop: a slow server does not
    slow the sender down (that would hide its delay), requests just overlap."""
    sent = 0
    refused: list[str] = []
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as http:

        async def post(text: str) -> None:
            began = time.monotonic()
            async with http.post(url, json={"text": text}) as response:
                if response.status not in (200, 201):
                    refused.append(f"{response.status} {await response.text()}")
            acked_ms.append((time.monotonic() - began) * 1000)

        tasks = []
        start = time.monotonic()
        while (due := start + sent / RATE) < start + seconds:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            tasks.append(asyncio.create_task(post(f"bench:{time.time_ns()}")))
            sent += 1
        await asyncio.gather(*tasks)
    if refused:
        raise RuntimeError(f"chat posts refused: {refused[:3]}")
    return sent


def run_load(ws_url: str, post_url: str, headers: dict[str, str], server_pid: int,
             clients: int, seconds: float, out: Path) -> Run:
    viewers = subprocess.Popen(
        [sys.executable, "-m", "bench.ws_clients", ws_url, "--clients", str(clients),
         "--seconds", str(seconds + 3), "--out", str(out), "--probe-every", "10"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert viewers.stdout is not None
        ready = viewers.stdout.readline().split()
        if not ready or ready[0] != "READY":
            raise RuntimeError(f"viewers did not connect: {ready}")
        time.sleep(1.0)  # joins settle (hello, history) before the clock starts
        meter = CpuMeter(server_pid).start()
        acked_ms: list[float] = []
        sent = asyncio.run(send_messages(post_url, headers, seconds, acked_ms))
        meter.stop()
        viewers.wait(timeout=seconds + 120)
    finally:
        if viewers.poll() is None:
            viewers.kill()
            viewers.wait()
    report: dict[str, Any] = json.loads(out.read_text())
    latencies = report["latencies_ms"]
    probes = max(1, report["probes"])
    return Run(clients, report["connected"], percentile(latencies, 0.5),
               percentile(latencies, 0.99), len(latencies),
               len(latencies) / (probes * sent) if sent else 0.0, meter.seconds, sent,
               report["cpu_share"], report["closed_by_server"] + report["lost"],
               percentile(acked_ms, 0.5), percentile(acked_ms, 0.99))


class Baseline:
    """The peer: ``bench/ws_baseline.py`` in its own process."""

    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> Baseline:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.ws_baseline", "--port", str(self.port)],
            stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("LISTENING"):
            raise RuntimeError(f"baseline did not start: {line!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)


def show(name: str, run: Run) -> None:
    print(f"{name:<9} N={run.clients:<6} connected {run.connected:<6} sent {run.sent:<5} "
          f"p50 {run.p50_ms:8.1f} ms  p99 {run.p99_ms:8.1f} ms  "
          f"delivered {run.delivered_share * 100:5.1f} %  server CPU {run.cpu_s:6.2f} s  "
          f"(viewers' process {run.clients_cpu_share:.2f} CPU/s, "
          f"{run.closed_by_server} cut off); post acknowledged p50 {run.ack_p50_ms:.1f} ms "
          f"p99 {run.ack_p99_ms:.1f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=lambda v: tuple(int(n) for n in v.split(",")),
                        help="viewer counts to run instead of the default (for a look at one)")
    args = parse_args(__doc__ or "", parser=parser)
    sizes, seconds = ((1000, 5000), 10.0) if args.quick else ((1000, 5000, 10000), 30.0)
    sizes = args.sizes or sizes
    ours: dict[int, Run] = {}
    peer: dict[int, Run] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            # A fresh daemon per N: the sockets of the last N leave garbage whose collection
            # would land in this N's window.
            data_dir = Path(tmp) / f"mediad{n}"
            with DaemonProcess(extra_config=CONFIG, data_dir=data_dir) as daemon:
                stream = daemon.banner.stream_id
                assert daemon.proc is not None
                admin = User(1, "admin", "admin", "admin", "", 0)
                token = Tokens(JWT_SECRET.encode(), 3600, 3600).issue_access(admin)
                ours[n] = run_load(f"ws://127.0.0.1:{daemon.http_port}/ws/streams/{stream}",
                                   f"{daemon.base_url}/api/streams/{stream}/chat",
                                   {"Authorization": f"Bearer {token}"}, daemon.proc.pid, n,
                                   seconds, Path(tmp) / f"ours{n}.json")
                show("mediad", ours[n])
        for n in [n for n in sizes if n == 5000 or not args.quick]:
            with Baseline() as baseline:
                assert baseline.proc is not None
                base = f"127.0.0.1:{baseline.port}/"
                peer[n] = run_load(f"ws://{base}ws/streams/bench",
                                   f"http://{base}api/streams/bench/chat", {},
                                   baseline.proc.pid, n, seconds, Path(tmp) / f"peer{n}.json")
                show("baseline", peer[n])
    if 1000 not in ours or 5000 not in ours or 5000 not in peer:
        return
    for n in sizes:
        if n in peer:
            ratio = ours[n].p99_ms / peer[n].p99_ms if peer[n].p99_ms else float("inf")
            print(f"N={n}: p99 mediad {ours[n].p99_ms:.1f} ms, minimal aiohttp loop "
                  f"{peer[n].p99_ms:.1f} ms, ratio {ratio:.3f}; CPU {ours[n].cpu_s:.2f} s vs "
                  f"{peer[n].cpu_s:.2f} s")
    target = "met" if ours[5000].p99_ms < 250 else "NOT met"
    print(f"target p99 < 250 ms at 5000 viewers: {target}")
    print_result(p99_ms_1000=round(ours[1000].p99_ms, 1), p99_ms_5000=round(ours[5000].p99_ms, 1),
                 baseline_p99_ms_5000=round(peer[5000].p99_ms, 1),
                 ratio=round(ours[5000].p99_ms / peer[5000].p99_ms, 3))


if __name__ == "__main__":
    main()
