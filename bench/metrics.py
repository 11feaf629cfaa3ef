"""The cost of ``GET /metrics`` on a busy daemon: 20 live streams, 1,000 LL-HLS viewers,
a Prometheus-like scrape every 5 s.

One daemon (mediad's CLI wrapped by ``bench/metrics_daemon.py``, which times each render of
the registry and each collector in it) runs passthrough streams (no transcode: 20 ladders
do not fit two cores), each published by ffmpeg copying a short pre-encoded 360p file in
real time (``-re -stream_loop -1 -c copy``). The viewers are ``bench/metrics_viewers.py``,
another process (their CPU is not the daemon's): ``bench/llhls_clients.py``'s blocking
playlist request and part fetch per part, dealt over the streams, each a player of its own
to the daemon (a User-Agent and a CMCD session, as hls.js sends). Parts are 1 s by default
(``--part-ms``): at the daemon's default 200 ms, 1,000 direct viewers alone keep its event
loop's core busy on this machine (``bench/llhls_edge.py``: 1.00 cores at 1,000), and a
saturated daemon cannot show what scraping adds, only what it displaces.

The run alternates windows without and with scraping (without first and last, so each
window with scraping is paired with the mean of its neighbours and a linear drift cancels)
and reports, for the daemon process alone (``/proc``, every thread):

- the window difference: CPU with scraping minus without, in % of one core, with its
  standard error over the pairs (the other helpers' tests share this machine: noisy);
- the per-scrape figure: the CPU of the event loop's thread in each scrape's handler (the
  probe; the handler never awaits, so nothing else runs on the loop meanwhile), once per
  5 s; beside it the render alone, and the daemon's whole CPU (``/proc``) while each scrape
  was in flight, an upper bound that also counts the viewers the loop served while the
  request waited for it;
- the scrape time from the scraper's side, p50/p99/max, and for the slowest where it went
  (waiting for the loop, which answers 1,000 viewers at once at each new part; the handler;
  sending), the body's size, its series, the largest families, and what each collector
  costs per scrape (the probe).

``RESULT`` reports the per-scrape figure unless the window difference is significantly
larger (then scraping costs more than the scrapes: the difference is reported); the output
says which and why.

    python -m bench.metrics [--quick] [--streams 20] [--viewers 1000] [--part-ms 1000]
Last line: RESULT metrics_cpu_pct=<n> scrape_ms=<n>
  (metrics_cpu_pct: the daemon's extra CPU with scraping every 5 s, % of one core;
   scrape_ms: the scrape's p99 wall time, request sent to the body's last byte)
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.harness import (
    DaemonProcess,
    api_request,
    encode_test_file,
    ffmpeg_publish,
    media_playlist_url,
    parse_args,
    print_comparison,
    print_result,
    raise_open_files_limit,
)
from bench.llhls_edge import part_seconds
from bench.llhls_edge_measures import busy_ticks
from bench.llhls_latency import percentile
from bench.metrics_daemon import SCRAPES_ENV
from bench.metrics_measures import (
    SCRAPE_INTERVAL_S,
    Difference,
    RenderCosts,
    Scrape,
    Window,
    alternating,
    answers_during,
    chosen_cpu_pct,
    handler_cpu_s,
    label_values,
    paired_difference,
    per_scrape_pct,
    render_costs,
    sample_sum,
    schedstat,
    series_by_family,
    series_count,
    thread_cpu_seconds,
)
from mediad.testing import process_cpu_seconds

CACHE = Path(__file__).resolve().parent / "out"
CPU_LIMIT_PCT = 2.0
SCRAPE_LIMIT_MS = 100.0
SCRAPE_OFFSET_S = 0.5
"""A window's first scrape this long after its start (its CPU reading is taken)."""
STAT = Path("/proc/stat")
TICKS = os.sysconf("SC_CLK_TCK")
PROMETHEUS_HEADERS = {
    # What Prometheus 2.x sends: the text format, gzip if offered (mediad answers plain).
    "Accept": "text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    "Accept-Encoding": "gzip",
    "User-Agent": "Prometheus/2.45.3",
    "X-Prometheus-Scrape-Timeout-Seconds": "5",
}


def config_text(part_ms: int) -> str:
    segment_ms = max(1000, 4 * part_ms)  # four parts a segment, keyframes every second
    return ("[transcode]\nenabled = false\n[webrtc]\nenabled = false\n"
            "[recording]\nenabled = false\n"
            f"[hls]\npart_duration_ms = {part_ms}\nsegment_duration_ms = {segment_ms}\n")


class Api:
    """The control room's API as the admin."""

    def __init__(self, daemon: DaemonProcess) -> None:
        self.base = daemon.base_url
        status, body = api_request(self.base, "POST", "/api/auth/login", {
            "handle": "admin", "password": daemon.banner.admin_password})
        if status != 200:
            sys.exit(f"sign-in answered {status}: {body}")
        self.token = str(body["accessToken"])

    def new_stream(self, title: str) -> tuple[str, str]:
        """(stream id, primary key) of a stream made for the benchmark."""
        status, body = api_request(self.base, "POST", "/api/streams", {"title": title},
                                   self.token)
        if status not in (200, 201):
            sys.exit(f"POST /api/streams answered {status}: {body}")
        stream = str(body["id"])
        status, body = api_request(self.base, "POST",
                                   f"/api/streams/{stream}/keys/primary/reveal",
                                   token=self.token)
        if status != 200:
            sys.exit(f"revealing {stream}'s key answered {status}: {body}")
        return stream, str(body["key"])


def stream_media_url(daemon: DaemonProcess, stream: str) -> str:
    url = media_playlist_url(daemon, stream=stream)
    if url is None:
        sys.exit(f"stream {stream} never listed a media playlist")
    return url


@dataclass
class Scraper:
    """A Prometheus-like scraper: one keep-alive connection, the whole body read."""

    port: int
    pid: int
    conn: http.client.HTTPConnection | None = None
    last_body: bytes = b""

    def scrape(self) -> Scrape:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        cpu, wait = schedstat(self.pid)
        at = time.monotonic()
        started = time.perf_counter()
        self.conn.request("GET", "/metrics", headers=PROMETHEUS_HEADERS)
        response = self.conn.getresponse()
        body = response.read()
        wall = time.perf_counter() - started
        cpu_after, wait_after = schedstat(self.pid)
        if response.status != 200:
            sys.exit(f"/metrics answered {response.status}: {body[:200]!r}")
        self.last_body = body
        return Scrape(at, wall * 1000, (cpu_after - cpu) * 1000, response.status, len(body),
                      series_count(body), (wait_after - wait) * 1000)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()


def sleep_until(at: float) -> None:
    time.sleep(max(0.0, at - time.monotonic()))


def run_window(window: Window, pid: int, scraper: Scraper, seconds: float) -> None:
    busy0, _ = busy_ticks(STAT.read_text())
    cpu0, loop0 = process_cpu_seconds(pid), thread_cpu_seconds(pid, pid)
    window.start = time.monotonic()
    end = window.start + seconds
    next_scrape = window.start + SCRAPE_OFFSET_S
    while window.scraped and next_scrape < end:
        sleep_until(next_scrape)
        window.scrapes.append(scraper.scrape())
        next_scrape += SCRAPE_INTERVAL_S
    sleep_until(end)
    window.end = time.monotonic()
    window.daemon_cpu_s = process_cpu_seconds(pid) - cpu0
    window.loop_cpu_s = thread_cpu_seconds(pid, pid) - loop0
    busy1, _ = busy_ticks(STAT.read_text())
    window.machine_cores = (busy1 - busy0) / TICKS / window.wall


@dataclass
class Run:
    """What one run recorded."""

    part_s: float = 0.0
    first: Scrape | None = None
    windows: list[Window] = field(default_factory=list)
    body: bytes = b""
    answers: list[list[float]] = field(default_factory=list)
    viewer_errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    viewer_cpu_s: float = 0.0
    publisher_cpu_s: float = 0.0
    probe: dict[str, Any] = field(default_factory=dict)

    @property
    def scrapes(self) -> list[Scrape]:
        return [s for w in self.windows for s in w.scrapes]

    @property
    def measured(self) -> tuple[float, float]:
        return self.windows[0].start, self.windows[-1].end


def start_streams(daemon: DaemonProcess, count: int, source: Path, seconds: float
                  ) -> tuple[list[str], list[subprocess.Popen[bytes]]]:
    api = Api(daemon)
    keys = [(daemon.banner.stream_id, daemon.banner.primary_key)]
    keys += [api.new_stream(f"metrics bench {n}") for n in range(1, count)]
    publishers = [ffmpeg_publish(daemon.rtmp_url(key), seconds, source=source)
                  for _, key in keys]
    return [stream for stream, _ in keys], publishers


def measure(args: argparse.Namespace, source: Path, work: Path) -> Run:
    run = Run()
    probe_path = work / "scrapes.json"
    viewing_s = args.ramp + args.windows * args.window_s + 5
    daemon = DaemonProcess(extra_config=config_text(args.part_ms), data_dir=work / "mediad",
                           module="bench.metrics_daemon", env={
                               "MEDIAD_SERVER_MAX_CONNECTIONS_PER_ADDRESS":
                                   str(2 * args.viewers + 512),
                               # Every publisher is 127.0.0.1 here, all connecting at once.
                               "MEDIAD_RTMP_MAX_UNAUTHENTICATED_PER_ADDRESS":
                                   str(args.streams + 8),
                               SCRAPES_ENV: str(probe_path)})
    with daemon:
        assert daemon.proc is not None
        pid = daemon.proc.pid
        streams, publishers = start_streams(daemon, args.streams, source, viewing_s + 60)
        viewers: subprocess.Popen[bytes] | None = None
        scraper = Scraper(daemon.http_port, pid)
        try:
            urls = [stream_media_url(daemon, stream) for stream in streams]
            run.part_s = part_seconds(urls[0])
            print(f"{len(streams)} streams live, parts of {run.part_s:.3f} s; "
                  f"{args.viewers} viewers connecting", flush=True)
            report = work / "viewers.json"
            viewers = subprocess.Popen([
                sys.executable, "-m", "bench.metrics_viewers", *urls,
                "--clients", str(args.viewers), "--seconds", str(viewing_s),
                "--out", str(report)])
            time.sleep(args.ramp)  # every viewer connected and in step with the parts
            run.first = scraper.scrape()  # the first scrape (imports, caches) apart
            viewer_cpu0 = process_cpu_seconds(viewers.pid)
            publisher_cpu0 = sum(process_cpu_seconds(p.pid) for p in publishers)
            for scraped in alternating(args.windows):
                window = Window(scraped)
                run_window(window, pid, scraper, args.window_s)
                run.windows.append(window)
                print(f"  window {len(run.windows):2d} {'with   ' if scraped else 'without'}"
                      f" scraping: daemon {window.daemon_pct:5.1f} % of a core (its event "
                      f"loop's thread {window.loop_pct:5.1f} %), machine "
                      f"{window.machine_cores:.2f} cores busy", flush=True)
            run.viewer_cpu_s = process_cpu_seconds(viewers.pid) - viewer_cpu0
            run.publisher_cpu_s = sum(process_cpu_seconds(p.pid) for p in publishers) \
                - publisher_cpu0
            run.body = scraper.last_body
            if viewers.wait(viewing_s + 60) != 0:
                sys.exit(f"the viewer process failed with {viewers.returncode}")
            data = json.loads(report.read_text())
            run.answers = [[float(at) for at in stream] for stream in data["answers"]]
            run.viewer_errors = int(data["errors"])
            run.first_errors = list(data["first_errors"])
        finally:
            scraper.close()
            if viewers is not None and viewers.poll() is None:
                viewers.kill()
                viewers.wait()
            for publisher in publishers:  # before the daemon: no broken-pipe noise
                publisher.kill()
                publisher.wait()
    # The daemon has stopped and written its probe.
    run.probe = json.loads(probe_path.read_text()) if probe_path.exists() else {}
    return run


def describe_load(run: Run, args: argparse.Namespace) -> None:
    start, end = run.measured
    seconds = end - start
    answered = sum(1 for stream in run.answers for at in stream if start <= at < end)
    expected = args.viewers * seconds / run.part_s
    without = [w for w in run.windows if not w.scraped]
    print(f"load: {args.streams} streams, {args.viewers} viewers answered {answered / seconds:.0f}"
          f" blocking reloads/s of {expected / seconds:.0f} expected (one per viewer per part, "
          f"each followed by a part fetch); viewer errors {run.viewer_errors}"
          + (f" {run.first_errors[:2]}" if run.viewer_errors else ""))
    print(f"  daemon without scraping {sum(w.daemon_pct for w in without) / len(without):.1f}"
          f" % of a core; viewers' process {100 * run.viewer_cpu_s / seconds:.1f} %, the "
          f"{args.streams} publishers {100 * run.publisher_cpu_s / seconds:.1f} % (not the "
          "daemon's)")
    if any(w.loop_pct >= 90.0 for w in run.windows):
        print("  the daemon's event loop was near a whole core: the CPU difference shows what "
              "scraping displaced, not what it added")
    cores = float(os.cpu_count() or 1)
    if any(w.machine_cores >= 0.9 * cores for w in run.windows):
        print(f"  the machine's {cores:.0f} cores were all busy in some window (other "
              "processes included): the window difference is the noisier for it")


def describe_body(run: Run) -> None:
    body = run.body
    streams = label_values(body, "mediad_stream_info", "stream")
    hls_viewers = sample_sum(body, "mediad_viewers", protocol="hls")
    sessions = sample_sum(body, "mediad_player_sessions")
    families = series_by_family(body)
    largest = ", ".join(f"{name} {count}" for name, count in families.most_common(6))
    print(f"body: {len(body) / 1024:.1f} KiB, {series_count(body)} series in "
          f"{len(families)} families; streams listed {len(streams)}, LL-HLS viewers counted "
          f"{hls_viewers:.0f}, CMCD player sessions {sessions:.0f}")
    print(f"  largest families: {largest}")


def describe_probe(run: Run) -> RenderCosts:
    """Prints the daemon-side probe's figures over the windows' scrapes."""
    start, end = run.measured
    costs = render_costs(run.probe.get("renders", []), start, end)
    if not costs.cpu_ms:
        print("probe: no render timed inside the windows (did the daemon stop cleanly?)")
        return costs
    print(f"render in the daemon ({len(costs.cpu_ms)}): CPU p50 "
          f"{percentile(costs.cpu_ms, 50):.2f} ms, max {max(costs.cpu_ms):.2f} ms; wall p50 "
          f"{percentile(costs.wall_ms, 50):.2f} ms, max {max(costs.wall_ms):.2f} ms (the "
          "event loop is blocked that long)")
    for name, ms in costs.collectors_ms.items():
        print(f"  {'collector ' + name:<72} {ms:7.3f} ms CPU a scrape")
    print(f"  {'formatting the text (prometheus_client)':<72} {costs.formatting_ms:7.3f} ms "
          "CPU a scrape")
    return costs


def describe_waits(run: Run) -> None:
    """Where the slowest scrapes' time went: the handler (the probe), or waiting for the
    event loop while it answered the viewers (who all wake at each new part)."""
    handlers = run.probe.get("handlers", [])
    for scrape in sorted(run.scrapes, key=lambda s: -s.wall_ms)[:3]:
        done = scrape.at + scrape.wall_ms / 1000
        inside = [(float(at), 1000 * float(wall)) for at, _, wall in handlers
                  if scrape.at <= float(at) < done]
        if not inside:
            continue
        began, handler_ms = inside[0]
        print(f"  a scrape of {scrape.wall_ms:.1f} ms: {1000 * (began - scrape.at):.1f} ms "
              f"before its handler ran (the event loop answered "
              f"{answers_during(run.answers, scrape.at, began)} viewers' blocking requests "
              f"meanwhile), {handler_ms:.1f} ms in it, "
              f"{max(0.0, 1000 * (done - began) - handler_ms):.1f} ms sending the body")


def report(run: Run, args: argparse.Namespace) -> None:
    describe_load(run, args)
    scrapes = run.scrapes
    walls = [s.wall_ms for s in scrapes]
    p50, p99 = percentile(walls, 50), percentile(walls, 99)
    first = run.first
    print(f"scrapes: {len(scrapes)} every {SCRAPE_INTERVAL_S:.0f} s in the windows with "
          f"scraping: p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(walls):.1f} ms"
          + (" (a p99 of fewer than 51 is their maximum)" if len(scrapes) < 51 else "")
          + (f"; the first scrape, before the windows, {first.wall_ms:.1f} ms" if first else ""))
    uncontended = [s.uncontended_ms for s in scrapes]
    waits = [s.daemon_wait_ms for s in scrapes]
    print(f"  less the daemon's waits for a core (other processes on the cores; waits p50 "
          f"{percentile(waits, 50):.1f} ms, max {max(waits):.1f} ms): p50 "
          f"{percentile(uncontended, 50):.1f} ms, p99 {percentile(uncontended, 99):.1f} ms; "
          "scrape_ms is the wall time, waits included")
    describe_body(run)
    costs = describe_probe(run)
    start, end = run.measured
    handlers = handler_cpu_s(run.probe.get("handlers", []), start, end)
    describe_waits(run)
    difference: Difference = paired_difference(run.windows)
    in_flight = per_scrape_pct([s.daemon_cpu_ms / 1000 for s in scrapes])
    per_scrape = per_scrape_pct(handlers) if handlers else in_flight
    print(f"daemon CPU with minus without scraping ({difference.pairs} pairs of windows of "
          f"{args.window_s:.0f} s): {difference.pct:+.3f} +- {difference.stderr_pct:.3f} % "
          "of a core")
    print(f"per-scrape figure: the scrape's handler on the event loop, "
          f"{1000 * mean(handlers):.2f} ms CPU a scrape ({len(handlers)} timed in the daemon):"
          f" {per_scrape:.3f} % of a core at one scrape per {SCRAPE_INTERVAL_S:.0f} s")
    print(f"  beside it: the render alone {mean(costs.cpu_ms) / 10 / SCRAPE_INTERVAL_S:.3f} %;"
          f" the daemon's whole CPU (/proc) while a scrape was in flight "
          f"{mean([s.daemon_cpu_ms for s in scrapes]):.2f} ms a scrape, {in_flight:.3f} % (an "
          "upper bound: it counts the viewers the loop served while the request waited); the"
          f" scrape's wall time {mean(walls) / 10 / SCRAPE_INTERVAL_S:.3f} %")
    cpu_pct, why = chosen_cpu_pct(per_scrape, difference)
    print(f"metrics_cpu_pct is {why}")
    print_comparison("metrics CPU (% of a core, every 5 s)", cpu_pct, CPU_LIMIT_PCT, "limit")
    print_comparison("scrape time p99 (ms)", p99, SCRAPE_LIMIT_MS, "limit")
    print_result(metrics_cpu_pct=cpu_pct, scrape_ms=p99)


def mean(values: list[float]) -> float:
    return statistics.fmean(values) if values else float("nan")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=20, help="live streams")
    parser.add_argument("--viewers", type=int, default=1000, help="LL-HLS viewers in all")
    parser.add_argument("--part-ms", type=int, default=1000, help="LL-HLS part duration")
    parser.add_argument("--windows", type=int,
                        help="alternating windows, odd (default 13, quick 7)")
    parser.add_argument("--window-s", type=float,
                        help="seconds a window, a multiple of 5 (default 30, quick 10)")
    args = parse_args(__doc__ or "", argv, parser=parser)
    args.windows = args.windows or (7 if args.quick else 13)
    try:
        alternating(args.windows)
    except ValueError as exc:
        parser.error(f"--windows: {exc}")
    window_s = args.window_s or (10.0 if args.quick else 30.0)
    # Whole scrape intervals: a window with scraping holds window / 5 s scrapes.
    args.window_s = SCRAPE_INTERVAL_S * max(1, math.ceil(window_s / SCRAPE_INTERVAL_S - 1e-9))
    args.ramp = 6.0 if args.quick else 10.0
    if args.streams < 1 or args.viewers < 1:
        parser.error("--streams and --viewers must be at least 1")
    return args


def main() -> None:
    args = parse()
    raise_open_files_limit()
    CACHE.mkdir(exist_ok=True)
    print("encoding the test file (cached in bench/out/) ...", flush=True)
    source = encode_test_file(CACHE / "360p15_400k_10s.flv", 10, width=640, height=360,
                              fps=15, bitrate_kbps=400)
    with tempfile.TemporaryDirectory(prefix="bench-metrics-") as tmp:
        run = measure(args, source, Path(tmp))
    report(run, args)


if __name__ == "__main__":
    main()
