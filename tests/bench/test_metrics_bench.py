"""The metrics benchmark reads what it claims without running its load: its arguments, the
series of a real exposition, the alternating windows' difference (a linear drift cancels),
which CPU figure the RESULT line reports, the daemon-side probe's timings, and the report's
last line."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
from multidict import CIMultiDict
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bench.metrics import Run, parse, report
from bench.metrics_daemon import SCRAPES_ENV
from bench.metrics_measures import (
    Difference,
    Scrape,
    Window,
    alternating,
    chosen_cpu_pct,
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
from bench.metrics_viewers import deal, player_headers
from mediad.metrics.cmcd import request_cmcd
from mediad.testing import DaemonProcess

ROOT = Path(__file__).resolve().parents[2]
RESULT = re.compile(r"^RESULT metrics_cpu_pct=-?\d+\.\d{3} scrape_ms=\d+\.\d{3}$")


def test_arguments() -> None:
    quick = parse(["--quick"])
    assert (quick.streams, quick.viewers, quick.windows, quick.window_s) == (20, 1000, 7, 10.0)
    full = parse([])
    assert (full.windows, full.window_s, full.part_ms) == (13, 30.0, 1000)
    assert parse(["--window-s", "7"]).window_s == 10.0  # whole scrape intervals
    with pytest.raises(SystemExit):
        parse(["--windows", "4"])  # each scraped window needs a neighbour on both sides


def test_windows_alternate_without_first_and_last() -> None:
    assert alternating(5) == [False, True, False, True, False]
    with pytest.raises(ValueError):
        alternating(1)


def exposition() -> bytes:
    registry = CollectorRegistry()
    info = Gauge("mediad_stream_info", "i", ["stream", "protocol"], registry=registry)
    info.labels("a", "rtmp").set(1)
    info.labels("b", "srt").set(1)
    viewers = Gauge("mediad_viewers", "v", ["stream", "protocol"], registry=registry)
    viewers.labels("a", "hls").set(30)
    viewers.labels("b", "hls").set(20)
    viewers.labels("a", "websocket").set(7)
    Counter("mediad_chat_messages", "c", registry=registry).inc()
    Histogram("mediad_wait_seconds", "w", buckets=(0.1, 1.0), registry=registry).observe(0.5)
    return generate_latest(registry)


def test_series_of_a_real_exposition() -> None:
    body = exposition()
    families = series_by_family(body)
    # The histogram: three buckets (+Inf included), _sum, _count; the counter: _total and
    # _created (the test's registry keeps what mediad's disables).
    assert families["mediad_wait_seconds"] == 5
    assert families["mediad_stream_info"] == 2
    assert series_count(body) == sum(families.values())
    assert label_values(body, "mediad_stream_info", "stream") == {"a", "b"}
    assert sample_sum(body, "mediad_viewers", protocol="hls") == 50.0
    assert sample_sum(body, "mediad_viewers") == 57.0
    assert sample_sum(body, "mediad_missing") != sample_sum(body, "mediad_missing")  # nan


def test_a_scrape_less_its_waits_for_a_core() -> None:
    waited = Scrape(0.0, 50.0, 8.0, 200, 1, 1, daemon_wait_ms=38.0)
    assert waited.uncontended_ms == 12.0
    assert Scrape(0.0, 10.0, 8.0, 200, 1, 1, daemon_wait_ms=9.0).uncontended_ms == 8.0
    spent, _ = schedstat(os.getpid())
    until = time.thread_time() + 0.05
    while time.thread_time() < until:
        pass
    assert schedstat(os.getpid())[0] - spent >= 0.05
    main_thread = thread_cpu_seconds(os.getpid(), os.getpid())  # the test runs in it
    assert 0.05 <= main_thread <= schedstat(os.getpid())[0]


def windows(percents: list[float], seconds: float = 10.0) -> list[Window]:
    return [Window(i % 2 == 1, start=10.0 * i, end=10.0 * i + seconds,
                   daemon_cpu_s=pct / 100 * seconds) for i, pct in enumerate(percents)]


def test_a_linear_drift_cancels_in_the_pairs() -> None:
    # 20 % rising 1 % a window, plus 0.5 % in every window with scraping.
    drifting = windows([20 + i + (0.5 if i % 2 else 0.0) for i in range(7)])
    difference = paired_difference(drifting)
    assert difference.pairs == 3
    assert difference.pct == pytest.approx(0.5)
    assert difference.stderr_pct == pytest.approx(0.0, abs=1e-9)


def test_the_per_scrape_figure_is_reported_unless_the_windows_show_more() -> None:
    assert per_scrape_pct([0.004, 0.006]) == pytest.approx(0.1)  # 5 ms every 5 s
    value, why = chosen_cpu_pct(0.1, Difference(-0.3, 0.4, 3))
    assert value == 0.1 and why.startswith("the per-scrape figure") and "within its noise" \
        in why
    value, why = chosen_cpu_pct(0.1, Difference(-3.0, 0.4, 3))
    assert value == 0.1 and "is below it" in why
    value, why = chosen_cpu_pct(0.1, Difference(1.5, 0.2, 3))
    assert value == 1.5 and why.startswith("the window difference")
    value, _ = chosen_cpu_pct(0.1, Difference(1.5, float("nan"), 1))  # no noise estimate
    assert value == 0.1
    # Three pairs: 1.4 above is 3.5 standard errors, short of Student's 4.30 for 2 dof.
    value, _ = chosen_cpu_pct(0.1, Difference(1.5, 0.4, 3))
    assert value == 0.1
    assert chosen_cpu_pct(0.1, Difference(1.5, 0.4, 30))[0] == 1.5


def test_render_costs_split_collectors_from_formatting() -> None:
    renders = [
        [1.0, 0.010, 0.012, 100, {"A": 0.004, "B": 0.002}],  # before the windows
        [5.0, 0.003, 0.004, 100, {"A": 0.001, "B": 0.0005}],
        [6.0, 0.005, 0.006, 100, {"A": 0.003, "B": 0.0005}],
    ]
    costs = render_costs(renders, 2.0, 10.0)
    assert costs.cpu_ms == pytest.approx([3.0, 5.0])
    assert list(costs.collectors_ms) == ["A", "B"]
    assert costs.collectors_ms["A"] == pytest.approx(2.0)
    assert costs.formatting_ms == pytest.approx(1.5)  # 4 ms a render, 2.5 in collectors


def test_viewers_are_dealt_over_the_streams() -> None:
    assert deal(["a", "b", "c"], 1000) == [334, 333, 333]


def test_each_viewer_is_a_player_of_its_own() -> None:
    players = []
    for number in range(50):
        lines = player_headers(number).split("\r\n")
        assert lines[-1] == ""  # every line ends CRLF: the request's blank line follows
        headers = dict(line.split(": ", 1) for line in lines[:-1])
        cmcd = request_cmcd(CIMultiDict(headers), {})  # the daemon's own CMCD parser
        assert cmcd is not None and cmcd.buffer_ms and cmcd.throughput_kbps
        players.append((headers["User-Agent"], cmcd.session_id))
    assert len({agent for agent, _ in players}) == len({sid for _, sid in players}) == 50


def test_the_probe_times_each_collector_of_the_daemon_registry_alone() -> None:
    script = textwrap.dedent("""
        import json
        from dataclasses import dataclass
        from prometheus_client import Counter
        from prometheus_client.core import GaugeMetricFamily
        from prometheus_client.registry import Collector
        from bench.metrics_daemon import ScrapeProbe, time_collectors, time_renders
        from mediad.metrics.registry import EVENTS, DaemonMetrics

        probe = ScrapeProbe()
        time_collectors(probe, EVENTS)
        time_renders(probe)

        @dataclass(frozen=True, slots=True)
        class Slotted(Collector):
            def collect(self):
                family = GaugeMetricFamily("bench_probe_slotted", "s")
                family.add_metric([], 1.0)
                yield family

        Counter("bench_probe_events", "e", registry=EVENTS).inc()  # not timed alone
        metrics = DaemonMetrics()
        metrics.add_collector(Slotted())
        body = metrics.render()
        at, cpu, wall, size, collectors = probe.renders[0]
        print(json.dumps({"renders": len(probe.renders), "size": size == len(body),
                          "collectors": sorted(collectors), "slotted": b"bench_probe_slotted"
                          in body, "events": b"bench_probe_events_total 1.0" in body}))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    seen = json.loads(done.stdout)
    assert seen["renders"] == 1 and seen["size"] and seen["slotted"] and seen["events"]
    assert "EVENTS (event instruments)" in seen["collectors"]
    assert "__main__.Slotted" in seen["collectors"]
    assert "prometheus_client.process_collector.ProcessCollector" in seen["collectors"]
    assert not any("bench_probe_events" in name for name in seen["collectors"])


def test_the_wrapped_daemon_serves_metrics_and_writes_its_probe(tmp_path: Path) -> None:
    log = tmp_path / "scrapes.json"
    with DaemonProcess(extra_config="[transcode]\nenabled = false\n[webrtc]\nenabled = false\n",
                       data_dir=tmp_path / "data", module="bench.metrics_daemon",
                       env={SCRAPES_ENV: str(log)}) as daemon:
        with urllib.request.urlopen(daemon.base_url + "/metrics", timeout=10) as response:
            body = response.read()
    probe = json.loads(log.read_text())
    renders = probe["renders"]
    assert len(renders) == 1
    assert len(probe["handlers"]) == 1  # the handler around the render
    assert probe["handlers"][0][2] >= renders[0][2]
    assert renders[0][3] == len(body)
    assert "EVENTS (event instruments)" in renders[0][4]


def test_the_report_ends_with_the_result_line(capsys: pytest.CaptureFixture[str]) -> None:
    body = exposition()
    run = Run(part_s=1.0, body=body, windows=windows([20.0, 20.5, 20.1, 19.8, 19.9]))
    for window in run.windows:
        if window.scraped:
            window.scrapes = [Scrape(window.start + 0.5 + 5 * i, 6.0 + i, 4.0, 200, len(body),
                                     series_count(body)) for i in range(2)]
    run.answers = [[window.start + 0.5 for window in run.windows]]
    run.probe = {"renders": [[s.at + 0.001, 0.003, 0.004, len(body), {"EVENTS": 0.001}]
                             for s in run.scrapes],
                 "handlers": [[s.at + 0.001, 0.002, 0.005] for s in run.scrapes]}
    args = argparse.Namespace(streams=1, viewers=1, window_s=10.0)
    report(run, args)
    lines = capsys.readouterr().out.strip().splitlines()
    assert RESULT.match(lines[-1]), lines[-1]
    # The handlers' 2 ms every 5 s, not the 4 ms of the daemon's whole CPU in flight.
    assert lines[-1] == "RESULT metrics_cpu_pct=0.040 scrape_ms=7.000"
    assert any("ratio" in line and "limit" in line for line in lines[:-1])
    assert any(line.startswith("metrics_cpu_pct is the per-scrape figure") for line in lines)
