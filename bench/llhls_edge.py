"""Blocking LL-HLS viewers against mediad directly and through an nginx edge, same run.

One daemon (mediad's CLI wrapped by ``bench/recording_daemon.py``, which logs when each
part was listed, CLOCK_MONOTONIC) receives the 720p30 test file over RTMP (copied, no
transcode: one rendition). The edge is nginx with mediad's edge configuration
(``mediad.edge_config``; ``bench/llhls_edge_nginx.py`` starts it unprivileged, its cache on
tmpfs). Viewers are ``bench/llhls_clients.py`` processes (one per 1,000 viewers, at most
four): each viewer loops a blocking playlist reload for the hinted part and a fetch of that
part. Per phase (100 viewers direct as the reference, then N = 1,000, 2,000, 4,000 direct
and through the edge), over the same steady window:

- wake-up delay p50/p99: a part listed at the origin to a viewer's blocking answer that
  lists it (``bench/llhls_latency.py``'s measure);
- origin requests per part through the edge, counted by nginx: its log of the requests it
  passed upstream (``$upstream_addr`` set), part files and blocking reloads apart, per
  part the origin published in the window (1.0 is perfect collapsing);
- CPU (scheduler counters) of mediad, of nginx (master + workers), of each viewer process;
  nginx's CPU per request it answered, and the viewers one edge core serves at that cost;
- the share of parts each viewer was answered for (a viewer answered late skips to the
  newest part, so a p99 over the answers alone flatters a saturated server);
- whether the load generator is the limit: a viewer process near a whole core or the
  machine's cores all busy (``/proc/stat``: ours and other processes', both printed),
  with the viewers' request rate against N x 2 / part.

nginx's ``proxy_cache_lock`` waiters are not woken when the first request's answer is
cached: they poll every 500 ms (``ngx_http_file_cache_lock``). A blocking request arrives
before its part exists, so every waiter for it pays up to 500 ms; the figures show it. A
``proxy_cache_lock_timeout`` below 500 ms makes them poll sooner but sends every waiter
whose timeout passes to the origin, uncached: ``--lock-timeout-ms`` (default 100, 0 to
skip) runs the smallest N again through an edge set so, and both settings are reported.

    python -m bench.llhls_edge [--quick] [--viewers 1000,2000,4000] [--seconds S]
Last line: RESULT edge_p99_ms_4000=<n> direct_p99_ms_2000=<n> origin_requests_per_part=<n>
           mediad_cpu_cores_edge_4000=<n> mediad_cpu_cores_direct_100=<n>
           nginx_us_per_request=<n>  (the N in the keys are the run's own: --quick's smaller)
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import (
    CpuMeter,
    DaemonProcess,
    encode_test_file,
    ffmpeg_publish,
    media_playlist_url,
    parse_args,
    print_comparison,
    print_result,
    raise_open_files_limit,
)
from bench.llhls_edge_measures import (
    LOAD_LIMIT_RATE_SHARE,
    OriginCounts,
    Receipt,
    busy_ticks,
    count_origin_requests,
    delivered_share,
    expected_request_rate,
    load_generator_limits,
    parts_in,
    viewed_publications,
    wake_delays_ms,
)
from bench.llhls_edge_nginx import EdgeNginx, tree_cpu_seconds
from bench.llhls_latency import percentile
from bench.recording_daemon import PUBLICATIONS_ENV

CACHE = Path(__file__).resolve().parent / "out"
CONFIG = ("[transcode]\nenabled = false\n[webrtc]\nenabled = false\n"
          "[recording]\nenabled = false\n")
REFERENCE_VIEWERS = 100
VIEWERS_PER_PROCESS = 1000
MAX_VIEWER_PROCESSES = 4
EDGE_P99_LIMIT_MS = 150.0
FLUSH_S = 1.5
"""The origin log is flushed every second."""
STAT = Path("/proc/stat")
TICKS = os.sysconf("SC_CLK_TCK")
_PART_TARGET = re.compile(r"#EXT-X-PART-INF:PART-TARGET=([\d.]+)")


@dataclass
class Phase:
    """One set of viewers against one server, and what it measured over its window."""

    label: str
    viewers: int
    url: str
    edge: EdgeNginx | None = None
    start: float = 0.0
    """Window start and end, CLOCK_MONOTONIC."""
    end: float = 0.0
    receipts: list[Receipt] = field(default_factory=list)
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    mediad_cores: float = 0.0
    nginx_cores: float = 0.0
    viewer_cores: list[float] = field(default_factory=list)
    machine_cores: float = 0.0
    """Every process's CPU over the window (``/proc/stat``), ours and others'."""
    delivered: float = float("nan")
    delays: list[float] = field(default_factory=list)
    origin: OriginCounts | None = None
    limits: list[str] = field(default_factory=list)

    @property
    def window(self) -> float:
        return self.end - self.start

    @property
    def request_rate(self) -> float:
        """Each receipt is one blocking reload answered and one part fetched."""
        return 2 * len(self.receipts) / self.window if self.window else 0.0

    @property
    def nginx_us_per_request(self) -> float:
        rate = self.request_rate
        return self.nginx_cores / rate * 1e6 if rate else float("nan")

    def p(self, q: float) -> float:
        return percentile(self.delays, q)


def part_seconds(url: str) -> float:
    with urllib.request.urlopen(url, timeout=10) as response:
        found = _PART_TARGET.search(response.read().decode())
    if found is None:
        sys.exit(f"{url} has no EXT-X-PART-INF")
    return float(found[1])


def split_viewers(viewers: int) -> list[int]:
    processes = min(MAX_VIEWER_PROCESSES, max(1, math.ceil(viewers / VIEWERS_PER_PROCESS)))
    return [viewers // processes + (1 if i < viewers % processes else 0)
            for i in range(processes)]


def read_receipts(report: Path) -> tuple[list[Receipt], int, list[str]]:
    import json

    data = json.loads(report.read_text())
    return ([(int(m), int(p), float(at)) for m, p, at in data["received"]],
            int(data["errors"]), list(data["first_errors"]))


def run_phase(phase: Phase, daemon: DaemonProcess, ramp: float, window: float,
              work: Path) -> None:
    """Viewers for ``ramp + window`` s; everything metered over the window alone."""
    assert daemon.proc is not None
    reports = [work / f"{phase.label}-{phase.viewers}-{i}.json"
               for i in range(len(split_viewers(phase.viewers)))]
    procs = [subprocess.Popen([sys.executable, "-m", "bench.llhls_clients", phase.url,
                               "--clients", str(n), "--seconds", str(ramp + window + 0.5),
                               "--out", str(report)])
             for n, report in zip(split_viewers(phase.viewers), reports, strict=True)]
    try:
        time.sleep(ramp)  # every viewer connected and in step with the parts
        nginx_pids = phase.edge.pids() if phase.edge is not None else []
        mediad = CpuMeter(daemon.proc.pid).start()
        viewers = [CpuMeter(proc.pid).start() for proc in procs]
        nginx0 = tree_cpu_seconds(nginx_pids)
        busy0, _ = busy_ticks(STAT.read_text())
        phase.start = time.monotonic()
        time.sleep(window)
        phase.end = time.monotonic()
        busy1, _ = busy_ticks(STAT.read_text())
        phase.machine_cores = (busy1 - busy0) / TICKS / phase.window
        phase.nginx_cores = (tree_cpu_seconds(nginx_pids) - nginx0) / phase.window
        phase.mediad_cores = mediad.stop() / phase.window
        phase.viewer_cores = [meter.stop() / phase.window for meter in viewers]
        for proc in procs:
            if proc.wait(60) != 0:
                sys.exit(f"a viewer process failed with {proc.returncode}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    for report in reports:
        receipts, errors, first = read_receipts(report)
        phase.receipts += [r for r in receipts if phase.start <= r[2] < phase.end]
        phase.errors += errors
        phase.first_errors += first[:2]
    print(f"  {phase.label:<14} {phase.viewers:5d} viewers: done "
          f"({len(phase.receipts)} wake-ups in {phase.window:.1f} s)", flush=True)


def settle(phase: Phase, listed: dict[tuple[int, int], float], part_s: float,
           wall_offset: float) -> None:
    phase.delays = wake_delays_ms(listed, phase.receipts)
    parts = parts_in(listed, phase.start, phase.end)
    answered = sum(1 for msn, index, _ in phase.receipts  # for parts of the window only
                   if phase.start <= listed.get((msn, index), -1.0) < phase.end)
    phase.delivered = delivered_share(answered, phase.viewers, parts)
    if phase.edge is not None:
        phase.origin = count_origin_requests(
            phase.edge.origin_requests(), phase.start + wall_offset, phase.end + wall_offset,
            parts)
    phase.limits = load_generator_limits(
        phase.viewer_cores, phase.request_rate, expected_request_rate(phase.viewers, part_s),
        float(os.cpu_count() or 1), phase.machine_cores)


def describe(phase: Phase, part_s: float) -> None:
    viewers = "+".join(f"{c:.2f}" for c in phase.viewer_cores)
    line = (f"  {phase.label:<14} {phase.viewers:5d} viewers: {len(phase.delays):6d} "
            f"wake-ups, p50 {phase.p(50):6.1f} ms, p99 {phase.p(99):6.1f} ms; mediad "
            f"{phase.mediad_cores:.2f} cores")
    if phase.edge is not None:
        line += (f", nginx {phase.nginx_cores:.2f} cores "
                 f"({phase.nginx_us_per_request:.1f} us/request)")
    line += (f"; viewers {viewers} cores, {phase.request_rate:.0f} requests/s of "
             f"{expected_request_rate(phase.viewers, part_s):.0f}, answered for "
             f"{phase.delivered:.0%} of the parts; errors {phase.errors}")
    print(line + (f" {phase.first_errors[:2]}" if phase.errors else ""))
    ours = phase.mediad_cores + phase.nginx_cores + sum(phase.viewer_cores)
    print(f"  {'':<14} machine {phase.machine_cores:.2f} cores busy, "
          f"{max(0.0, phase.machine_cores - ours):.2f} of them other processes "
          "(the publisher included)")
    if phase.origin is not None:
        o = phase.origin
        print(f"  {'':<14} origin requests over {o.parts} parts: {o.part_requests} part "
              f"files ({o.part_requests_per_part:.2f}/part, at most {o.most_for_one_part} "
              f"for one), {o.playlist_requests} blocking reloads "
              f"({o.playlist_requests_per_part:.2f}/part), {o.other_requests} other")
    if phase.limits:
        print(f"  {'':<14} the load generator is the limit here: {'; '.join(phase.limits)}")
    elif phase.request_rate < LOAD_LIMIT_RATE_SHARE * expected_request_rate(phase.viewers,
                                                                             part_s):
        print(f"  {'':<14} fewer requests than expected with CPU to spare: the server's "
              "late answers made the viewers skip parts")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", help="comma-separated N (default 1000,2000,4000; "
                        "quick 250,500,1000)")
    parser.add_argument("--seconds", type=float, help="window per phase (default 15, quick 5)")
    parser.add_argument("--lock-timeout-ms", type=int, default=100,
                        help="also run the smallest N through an edge with this "
                        "proxy_cache_lock_timeout (0: skip)")
    args = parse_args(__doc__ or "", parser=parser)
    default = "250,500,1000" if args.quick else "1000,2000,4000"
    args.ns = [int(n) for n in (args.viewers or default).split(",")]
    args.seconds = args.seconds or (5.0 if args.quick else 15.0)
    args.ramp = 2.0 if args.quick else 4.0
    return args


def run(args: argparse.Namespace, source: Path, work: Path, cache_root: Path
        ) -> tuple[list[Phase], float]:
    publications = work / "publications.json"
    phases_count = 1 + 2 * len(args.ns) + (1 if args.lock_timeout_ms else 0)
    publish_s = 60 + phases_count * (args.ramp + args.seconds + 10)
    daemon = DaemonProcess(extra_config=CONFIG, data_dir=work / "mediad",
                           module="bench.recording_daemon", env={
                               "MEDIAD_SERVER_MAX_CONNECTIONS_PER_ADDRESS":
                                   str(2 * max(args.ns) + 512),
                               PUBLICATIONS_ENV: str(publications)})
    phases: list[Phase] = []
    with daemon:
        publisher = ffmpeg_publish(daemon.rtmp_url(), publish_s, source=source)
        try:
            daemon.wait_for_log("publisher attached", timeout=30)
            direct = media_playlist_url(daemon)
            if direct is None:
                sys.exit("the stream never listed a media playlist")
            part_s = part_seconds(direct)
            time.sleep(3.0)  # a few segments listed, as for a show under way
            origin = f"127.0.0.1:{daemon.http_port}"
            edge = EdgeNginx(origin, work / "nginx", cache_root / "cache",
                             worker_connections=2 * max(args.ns) + 1024)
            with edge:
                print(f"edge: nginx on :{edge.port} (mediad edge-config), origin {origin}",
                      flush=True)
                path = urllib.parse.urlsplit(direct).path
                through = edge.base_url + path
                part_seconds(through)  # the edge answers before it is measured
                plan = [Phase("direct", REFERENCE_VIEWERS, direct)]
                for n in args.ns:
                    plan += [Phase("direct", n, direct), Phase("edge", n, through, edge)]
                for phase in plan:
                    run_phase(phase, daemon, args.ramp, args.seconds, work)
                    phases.append(phase)
                    time.sleep(1.0)
                time.sleep(FLUSH_S)
            if args.lock_timeout_ms:
                short = EdgeNginx(origin, work / "nginx-short", cache_root / "cache-short",
                                  worker_connections=2 * max(args.ns) + 1024,
                                  lock_timeout_ms=args.lock_timeout_ms)
                with short:
                    phase = Phase(f"edge lock {args.lock_timeout_ms}ms", args.ns[0],
                                  short.base_url + path, short)
                    run_phase(phase, daemon, args.ramp, args.seconds, work)
                    phases.append(phase)
                    time.sleep(FLUSH_S)
        finally:
            publisher.kill()
            publisher.wait()
    # The daemon has stopped and written its publication log; nginx its origin logs.
    wall_offset = time.time() - time.monotonic()
    listed = viewed_publications(publications, (r for p in phases for r in p.receipts))
    for phase in phases:
        settle(phase, listed, part_s, wall_offset)
    return phases, part_s


def report(phases: list[Phase], args: argparse.Namespace, part_s: float) -> None:
    print(f"\nparts of {part_s * 1000:.0f} ms; each viewer: a blocking reload and a part "
          f"fetch per part; {args.seconds:.0f} s window per phase")
    for phase in phases:
        describe(phase, part_s)
    print()
    direct = {p.viewers: p for p in phases if p.label == "direct"}
    edge = {p.viewers: p for p in phases if p.label == "edge"}
    for n in args.ns:
        print_comparison(f"wake-up p99, {n} viewers (ms)", edge[n].p(99), direct[n].p(99),
                         "direct")
    top = max(args.ns)
    print_comparison(f"edge wake-up p99 at {top} (ms)", edge[top].p(99), EDGE_P99_LIMIT_MS,
                     "limit")
    worst = max((p.origin.per_part for p in edge.values() if p.origin is not None),
                default=float("nan"))
    print_comparison("origin requests per part, worst N", worst, 1.0, "limit")
    reference = direct[REFERENCE_VIEWERS]
    print_comparison(f"mediad CPU, {top} via edge (cores)", edge[top].mediad_cores,
                     reference.mediad_cores, f"{REFERENCE_VIEWERS} direct")
    us = edge[top].nginx_us_per_request
    per_core = 1e6 / (us * 2 / part_s) if us == us and us > 0 else float("nan")
    print(f"nginx CPU per request at {top} viewers: {us:.1f} us: one edge core would serve "
          f"about {per_core:.0f} viewers (2 requests per {part_s * 1000:.0f} ms part each)")
    short = next((p for p in phases if p.label.startswith("edge lock")), None)
    if short is not None and short.origin is not None:
        base = edge[short.viewers]
        assert base.origin is not None
        print_comparison(f"{short.label}: p99, {short.viewers} (ms)", short.p(99),
                         base.p(99), "default")
        print_comparison(f"{short.label}: origin req/part", short.origin.per_part,
                         base.origin.per_part, "default")
    limited = [f"{p.label} {p.viewers}" for p in phases if p.limits]
    print("the load generator was the limit in: " + (", ".join(limited) or "no phase"))
    mid = args.ns[len(args.ns) // 2] if len(args.ns) > 1 else top
    print_result(**{
        f"edge_p99_ms_{top}": edge[top].p(99),
        f"direct_p99_ms_{mid}": direct[mid].p(99),
        "origin_requests_per_part": worst,
        f"mediad_cpu_cores_edge_{top}": edge[top].mediad_cores,
        f"mediad_cpu_cores_direct_{REFERENCE_VIEWERS}": reference.mediad_cores,
        "nginx_us_per_request": us,
    })


def main() -> None:
    args = parse()
    raise_open_files_limit()
    CACHE.mkdir(exist_ok=True)
    print("encoding the test file (cached in bench/out/) ...", flush=True)
    source = encode_test_file(CACHE / "720p30_2M_60s.flv", 60, width=1280, height=720, fps=30,
                              bitrate_kbps=2000)
    shm = Path("/dev/shm")
    with tempfile.TemporaryDirectory(prefix="bench-edge-") as tmp, \
            tempfile.TemporaryDirectory(prefix="bench-edge-cache-",
                                        dir=shm if shm.is_dir() else None) as cache:
        phases, part_s = run(args, source, Path(tmp), Path(cache))
    report(phases, args, part_s)


if __name__ == "__main__":
    main()
