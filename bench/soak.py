"""Soak: an hour (``--quick``: 3 minutes) of a busy channel, watching for slow leaks.

One 6 Mbit/s 720p30 stream published by ffmpeg (libx264 ultrafast, real time) and
transcoded by mediad (an ultrafast ladder, ``--ladder``), watched by 200 LL-HLS viewers
(``bench/soak_viewers.py``: blocking reloads + part fetches, in their own process) and
1,000 WebSocket chat clients (``bench/ws_clients.py``, in their own process) while the
creator posts 20 chat messages a second. Every 5 minutes (``--quick``: every minute) the
publisher reconnects; every minute (``--quick``: 30 s) a new stream is created, published
(320x180), played and deleted. Every 10 s: the daemon's RSS, open descriptors and threads
(/proc), the time it takes to answer ``/healthz`` on a fresh connection (its event-loop lag
as a client sees it: a trivial request waits for whatever the loop is doing), and the
viewers' part latency (wall clock at the blocking reload's answer minus the part's program
date time, from its segment's EXT-X-PROGRAM-DATE-TIME and the parts before it).

Targets (the issue's): after the first DVR window, RSS flat (least-squares slope under
1 MB per 10 minutes) and descriptors flat; part latency p99 of the last ten minutes that
of the first ten (``--quick``: the first and last minute).

    python -m bench.soak [--quick] [--viewers N] [--chat-clients N] [--chat-rate R] ...
Last line: RESULT rss_slope_mb_per_10min=<n> fd_delta=<n> part_p99_ms_first=<n>
           part_p99_ms_last=<n>
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.harness import (
    DaemonProcess,
    ffmpeg_publish,
    parse_args,
    print_comparison,
    print_result,
    raise_open_files_limit,
)

SAMPLE_EVERY_SEC = 10.0
RSS_SLOPE_LIMIT_MB = 1.0
HEALTHZ_LIMIT_MS = 100.0
ONE_ADDRESS = {"MEDIAD_SERVER_MAX_CONNECTIONS_PER_ADDRESS": "0"}
"""Every simulated client comes from 127.0.0.1, as behind a reverse proxy: no per-address
cap ([server] is the section DaemonProcess writes itself)."""


@dataclass(frozen=True)
class Sample:
    t: float
    """Seconds since the load started."""
    rss_kb: int
    fds: int
    threads: int
    healthz_ms: float


@dataclass
class Churn:
    """What the publisher reconnects and the stream cycle did."""

    reconnects: int = 0
    streams: int = 0
    joins_s: list[float] = field(default_factory=list)
    not_played: int = 0
    deleted_still_public: int = 0
    failures: list[str] = field(default_factory=list)


def proc_figures(pid: int) -> tuple[int, int, int]:
    """(VmRSS kB, open descriptors, threads) from /proc."""
    status = dict(line.split(":", 1) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    fds = sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())
    return int(status["VmRSS"].split()[0]), fds, int(status["Threads"])


def config_text(args: argparse.Namespace) -> str:
    text = (f"[auth]\naccess_token_ttl_sec = {int(args.seconds) + 3600}\n"
            f"[hls]\ndvr_window_sec = {args.dvr_window}\n"
            "[api]\nwrites_per_minute_per_user = 100000\n"

            "[streams]\nreconnect_grace_sec = 30\n")
    for rung in args.ladder.split(","):
        height, kbps = rung.split(":")
        text += (f'[[transcode.ladder]]\nname = "{height}p"\nheight = {height}\n'
                 f'bitrate_kbps = {kbps}\npreset = "ultrafast"\n')
    return text


def least_squares_slope(points: list[tuple[float, float]]) -> float:
    n = len(points)
    if n < 2:
        return float("nan")
    mean_x = sum(x for x, _ in points) / n
    mean_y = sum(y for _, y in points) / n
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else 0.0


def histogram_percentile(histogram: Counter[int], q: float) -> float:
    total = sum(histogram.values())
    if not total:
        return float("nan")
    rank, seen = q * (total - 1), 0
    for ms in sorted(histogram):
        seen += histogram[ms]
        if seen > rank:
            return float(ms)
    return float(max(histogram))


def window(buckets: dict[str, dict[str, int]], start: float, end: float) -> Counter[int]:
    merged: Counter[int] = Counter()
    for at, histogram in buckets.items():
        if start <= float(at) < end:
            merged.update({int(ms): n for ms, n in histogram.items()})
    return merged


async def sample_loop(daemon: DaemonProcess, started: float, until: float,
                      samples: list[Sample]) -> None:
    assert daemon.proc is not None
    while (now := time.monotonic()) < until:
        began = time.monotonic()
        try:
            async with aiohttp.ClientSession() as fresh, \
                    fresh.get(daemon.base_url + "/healthz") as response:
                await response.read()
                healthz_ms = (time.monotonic() - began) * 1000
                if response.status != 200:
                    healthz_ms = float("inf")
        except aiohttp.ClientError:
            healthz_ms = float("inf")  # a failed health check: the worst figure there is
        rss, fds, threads = proc_figures(daemon.proc.pid)
        sample = Sample(now - started, rss, fds, threads, healthz_ms)
        samples.append(sample)
        print(f"t={sample.t:6.0f} s  RSS {rss / 1024:7.1f} MB  fds {fds:5d}  threads "
              f"{threads:3d}  /healthz {healthz_ms:6.1f} ms", flush=True)
        await asyncio.sleep(max(0.0, now + SAMPLE_EVERY_SEC - time.monotonic()))


async def chat_sender(session: aiohttp.ClientSession, url: str, rate: float, until: float
                      ) -> tuple[int, list[str]]:
    """Open loop, like chat_fanout's sender: a slow server does not slow it down."""
    sent, refused = 0, list[str]()
    tasks: set[asyncio.Task[None]] = set()

    async def post() -> None:
        try:
            async with session.post(url, json={"text": f"bench:{time.time_ns()}"}) as response:
                if response.status != 201 and len(refused) < 5:
                    refused.append(f"{response.status} {await response.text()}")
        except aiohttp.ClientError as exc:
            if len(refused) < 5:
                refused.append(f"{type(exc).__name__}: {exc}")

    start = time.monotonic()
    while (due := start + sent / rate) < until:
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        task = asyncio.create_task(post())
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        sent += 1
    await asyncio.gather(*tasks, return_exceptions=True)
    return sent, refused


def main_publisher(daemon: DaemonProcess, args: argparse.Namespace, seconds: float
                   ) -> subprocess.Popen[bytes]:
    return ffmpeg_publish(daemon.rtmp_url(), seconds, width=args.width, height=args.height,
                          fps=args.fps, bitrate_kbps=args.kbps)


async def publisher_loop(daemon: DaemonProcess, args: argparse.Namespace, every: float,
                         until: float, churn: Churn, first: subprocess.Popen[bytes]) -> None:
    """The main publisher; it reconnects (a new ffmpeg, within the grace) every ``every``."""
    publisher: subprocess.Popen[bytes] | None = first
    while time.monotonic() < until:
        publisher = publisher or main_publisher(daemon, args, every + 30)
        try:
            await asyncio.sleep(min(every, max(0.0, until - time.monotonic())))
        finally:
            publisher.kill()
            await asyncio.to_thread(publisher.wait)
            publisher = None
        churn.reconnects += time.monotonic() < until


async def hls_status(session: aiohttp.ClientSession, url: str) -> int:
    async with session.get(url) as response:
        await response.read()
        return response.status


async def one_stream(session: aiohttp.ClientSession, daemon: DaemonProcess, n: int,
                     life: float, churn: Churn) -> None:
    """Create a stream, publish it, play it, delete it: all through the API."""
    async with session.post(daemon.base_url + "/api/streams",
                            json={"title": f"soak {n}"}) as response:
        stream = (await response.json())["id"]
    async with session.post(f"{daemon.base_url}/api/streams/{stream}/keys/primary/reveal"
                            ) as response:
        key = (await response.json())["key"]
    publisher = ffmpeg_publish(daemon.rtmp_url(key), life + 10, width=320, height=180, fps=15,
                               bitrate_kbps=300)
    url = f"{daemon.base_url}/hls/{stream}/index.m3u8"
    began = time.monotonic()
    try:
        while await hls_status(session, url) != 200:
            if time.monotonic() - began > life:
                churn.not_played += 1
                break
            await asyncio.sleep(0.2)
        else:
            churn.joins_s.append(time.monotonic() - began)
        await asyncio.sleep(max(0.0, began + life - time.monotonic()))
        async with session.delete(f"{daemon.base_url}/api/streams/{stream}") as response:
            if response.status != 204:
                churn.failures.append(f"delete {response.status}")
        churn.deleted_still_public += await hls_status(session, url) != 404
        churn.streams += 1
    finally:
        publisher.kill()
        await asyncio.to_thread(publisher.wait)


async def stream_cycle(session: aiohttp.ClientSession, daemon: DaemonProcess, every: float,
                       until: float, churn: Churn) -> None:
    n = 0
    while time.monotonic() + every <= until:
        began = time.monotonic()
        try:
            await one_stream(session, daemon, n, every * 0.6, churn)
        except (aiohttp.ClientError, KeyError) as exc:
            churn.failures.append(f"stream {n}: {type(exc).__name__}: {exc}")
        n += 1
        await asyncio.sleep(max(0.0, began + every - time.monotonic()))


async def start_chat_clients(daemon: DaemonProcess, args: argparse.Namespace, seconds: float,
                             out: Path) -> asyncio.subprocess.Process:
    url = f"ws://127.0.0.1:{daemon.http_port}/ws/streams/{daemon.banner.stream_id}"
    clients = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.ws_clients", url, "--clients", str(args.chat_clients),
        "--seconds", str(seconds), "--out", str(out), "--probe-every", "20",
        stdout=subprocess.PIPE)
    assert clients.stdout is not None
    ready = (await clients.stdout.readline()).decode().split()
    if not ready or ready[0] != "READY":
        sys.exit(f"chat clients did not connect: {ready}")
    print(f"{ready[1]} of {args.chat_clients} chat clients connected", flush=True)
    return clients


async def soak(daemon: DaemonProcess, args: argparse.Namespace, tmp: Path
               ) -> tuple[list[Sample], dict[str, Any], dict[str, Any], Churn, int, float]:
    async with aiohttp.ClientSession() as anonymous, anonymous.post(
            daemon.base_url + "/api/auth/login",
            json={"handle": "admin", "password": daemon.banner.admin_password}) as response:
        token = (await response.json())["accessToken"]
    headers = {"Authorization": f"Bearer {token}"}
    reconnect_every = 60.0 if args.quick else 300.0
    stream_every = 30.0 if args.quick else 60.0
    churn = Churn()
    samples: list[Sample] = []
    first_publish = main_publisher(daemon, args, reconnect_every + 120)
    try:
        await asyncio.to_thread(daemon.wait_for_log, "publisher attached", 30)
        chat = await start_chat_clients(daemon, args, args.seconds + 5, tmp / "chat.json")
        viewers = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.soak_viewers", "127.0.0.1", str(daemon.http_port),
            daemon.banner.stream_id, "--clients", str(args.viewers),
            "--seconds", str(args.seconds), "--out", str(tmp / "viewers.json"))
    except BaseException:
        first_publish.kill()
        raise
    started = time.monotonic()
    until = started + args.seconds
    wall_start = time.time()
    try:
        async with aiohttp.ClientSession(headers=headers) as session:
            sent, refused = (await asyncio.gather(
                chat_sender(session,
                            f"{daemon.base_url}/api/streams/{daemon.banner.stream_id}/chat",
                            args.chat_rate, until),
                publisher_loop(daemon, args, reconnect_every, until, churn, first_publish),
                stream_cycle(session, daemon, stream_every, until, churn),
                sample_loop(daemon, started, until, samples)))[0]
    except BaseException:
        for child in (viewers, chat):  # no orphans writing into a removed directory
            with contextlib.suppress(ProcessLookupError):
                child.kill()
        first_publish.kill()
        raise
    if refused:
        churn.failures.append(f"chat posts refused: {refused}")
    for child in (viewers, chat):
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(120):
                await child.wait()
        if child.returncode is None:
            child.kill()
    viewer_report = json.loads((tmp / "viewers.json").read_text())
    chat_report = json.loads((tmp / "chat.json").read_text())
    return samples, viewer_report, chat_report, churn, sent, wall_start


def report(args: argparse.Namespace, samples: list[Sample], viewers: dict[str, Any],
           chat: dict[str, Any], churn: Churn, sent: int, wall_start: float) -> None:
    settled = [s for s in samples if s.t >= args.dvr_window] or samples[-2:]
    slope_mb = least_squares_slope([(s.t, s.rss_kb / 1024) for s in settled]) * 600
    fd_delta = settled[-1].fds - settled[0].fds
    span = min(600.0, args.seconds / 3)
    first = window(viewers["buckets"], wall_start, wall_start + span)
    last = window(viewers["buckets"], wall_start + args.seconds - span,
                  wall_start + args.seconds + SAMPLE_EVERY_SEC)
    p99_first, p99_last = histogram_percentile(first, 0.99), histogram_percentile(last, 0.99)
    chat_latencies = sorted(chat["latencies_ms"])
    chat_p99 = chat_latencies[int(0.99 * (len(chat_latencies) - 1))] if chat_latencies else 0.0
    print(f"\n{len(samples)} samples over {args.seconds:.0f} s; after the first DVR window "
          f"({args.dvr_window} s): RSS {settled[0].rss_kb / 1024:.1f} -> "
          f"{settled[-1].rss_kb / 1024:.1f} MB, descriptors {settled[0].fds} -> "
          f"{settled[-1].fds}, threads {settled[0].threads} -> {settled[-1].threads}")
    print(f"viewers: {args.viewers}, {viewers['parts']} parts fetched ({viewers['part_errors']}"
          f" failed), {viewers['restarts']} restarts from the multivariant playlist "
          f"{viewers['first_errors'][:3]}")
    print(f"chat: {chat['connected']} of {args.chat_clients} clients, {sent} messages sent, "
          f"delivery p99 {chat_p99:.0f} ms over {len(chat_latencies)} probe samples, "
          f"{chat['closed_by_server'] + chat['lost']} dropped by the server")
    print(f"churn: {churn.reconnects} publisher reconnects, {churn.streams} streams created, "
          f"published and deleted (join {min(churn.joins_s, default=0):.1f}-"
          f"{max(churn.joins_s, default=0):.1f} s, {churn.not_played} never played, "
          f"{churn.deleted_still_public} still public after delete) {churn.failures[:3]}")
    print_comparison("RSS slope after the DVR window (MB/10min)", slope_mb, RSS_SLOPE_LIMIT_MB,
                     "limit")
    print_comparison("descriptors, last vs first settled", settled[-1].fds, settled[0].fds,
                     "first")
    print_comparison(f"part latency p99, last {span:.0f} s (ms)", p99_last, p99_first,
                     "first")
    print_comparison("/healthz p99 (ms, loop lag as seen)",
                     sorted(s.healthz_ms for s in samples)[int(0.99 * (len(samples) - 1))],
                     HEALTHZ_LIMIT_MS, "limit")
    print_result(rss_slope_mb_per_10min=round(slope_mb, 3), fd_delta=fd_delta,
                 part_p99_ms_first=p99_first, part_p99_ms_last=p99_last)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", type=int, default=200, help="LL-HLS viewers")
    parser.add_argument("--chat-clients", type=int, default=1000)
    parser.add_argument("--chat-rate", type=float, default=20.0, help="messages a second")
    parser.add_argument("--kbps", type=int, default=6000, help="the publisher's video bitrate")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--ladder", default="480:1200,240:400",
                        help="transcode rungs HEIGHT:KBPS,... (libx264 ultrafast)")
    parser.add_argument("--dvr-window", type=int, help="seconds (default 120, --quick 30)")
    parser.add_argument("--seconds", type=float, help="length (default 3600, --quick 180)")
    args = parse_args(__doc__ or "", parser=parser)
    args.seconds = args.seconds or (180.0 if args.quick else 3600.0)
    args.dvr_window = args.dvr_window or (30 if args.quick else 120)
    raise_open_files_limit()  # the daemon inherits it: 1,200 clients' sockets
    with tempfile.TemporaryDirectory() as tmp, \
            DaemonProcess(extra_config=config_text(args), env=ONE_ADDRESS) as daemon:
        results = asyncio.run(soak(daemon, args, Path(tmp)))
    report(args, *results)


if __name__ == "__main__":
    main()
