"""What ``bench/metrics.py`` computes from what it recorded: series in a scrape's body, the
alternating windows' CPU difference and its noise, the per-scrape CPU estimate, and which
of the two the RESULT line reports."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCRAPE_INTERVAL_S = 5.0
"""Prometheus's scrape interval the benchmark stands for (a common ``scrape_interval``)."""
_T_975 = (12.71, 4.30, 3.18, 2.78, 2.57, 2.45, 2.36, 2.31, 2.26, 2.23)
"""Student's t, two-sided 95 %, for 1 to 10 degrees of freedom (beyond: about 2)."""


def significant_errors(pairs: int) -> float:
    """How many standard errors of a mean of ``pairs`` differences make it significant (95 %):
    with a handful of pairs the standard error is itself a rough estimate."""
    return _T_975[pairs - 2] if 2 <= pairs <= len(_T_975) + 1 else 2.0


@dataclass(frozen=True)
class Scrape:
    """One ``GET /metrics``, as the scraper saw it."""

    at: float
    """When it was sent (CLOCK_MONOTONIC)."""
    wall_ms: float
    """Request sent to the last byte of the body received."""
    daemon_cpu_ms: float
    """The daemon's CPU (every thread, ``/proc``) while the scrape was in flight."""
    status: int
    body_bytes: int
    series: int
    daemon_wait_ms: float = 0.0
    """The daemon's threads' time ready to run but waiting for a core meanwhile (other
    processes had the cores): part of ``wall_ms`` that is the machine's, not the scrape's."""

    @property
    def uncontended_ms(self) -> float:
        """The wall time less the daemon's waits for a core (never below its CPU)."""
        return max(self.daemon_cpu_ms, self.wall_ms - self.daemon_wait_ms)


@dataclass
class Window:
    """A stretch of the run with or without scraping, and the daemon's CPU over it."""

    scraped: bool
    start: float = 0.0
    end: float = 0.0
    daemon_cpu_s: float = 0.0
    machine_cores: float = 0.0
    """Every process's CPU over the window (``/proc/stat``), ours and others'."""
    loop_cpu_s: float = 0.0
    """The daemon's main thread alone: its event loop, where requests and scrapes run."""
    scrapes: list[Scrape] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return self.end - self.start

    @property
    def daemon_pct(self) -> float:
        """The daemon's CPU in % of one core."""
        return 100.0 * self.daemon_cpu_s / self.wall if self.wall > 0 else float("nan")

    @property
    def loop_pct(self) -> float:
        return 100.0 * self.loop_cpu_s / self.wall if self.wall > 0 else float("nan")


def schedstat(pid: int) -> tuple[float, float]:
    """(CPU s, run-queue wait s) of every thread of a live process, from the scheduler's
    nanosecond counters (``/proc/PID/task/TID/schedstat``: on CPU, waiting, timeslices)."""
    run = wait = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "schedstat").read_text().split()
            run, wait = run + int(fields[0]), wait + int(fields[1])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended between listing and reading
    return run / 1e9, wait / 1e9


def thread_cpu_seconds(pid: int, tid: int) -> float:
    """CPU of one thread of a live process (the scheduler's nanoseconds)."""
    return int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0]) / 1e9


def alternating(count: int) -> list[bool]:
    """Whether each window scrapes: without first and last, so that every window with
    scraping has a window without on both sides (a linear drift cancels in the pair)."""
    if count < 3 or count % 2 == 0:
        raise ValueError(f"windows must be odd and at least 3, not {count}")
    return [index % 2 == 1 for index in range(count)]


def series_count(body: bytes) -> int:
    """Samples in a text-format exposition: every line but comments and blank ones."""
    return sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))


def series_by_family(body: bytes) -> Counter[str]:
    """Samples per metric family (the name its ``# TYPE`` line gives), for the largest."""
    families: Counter[str] = Counter()
    family = ""
    for line in body.splitlines():
        if line.startswith(b"# TYPE "):
            family = line.split()[2].decode()
        elif line and not line.startswith(b"#"):
            families[family] += 1
    return families


def label_values(body: bytes, name: str, label: str) -> set[str]:
    """The values one label takes on a metric's samples (``mediad_stream_info``'s
    ``stream``: the streams the scrape lists)."""
    values = set()
    prefix = name.encode() + b"{"
    key = label.encode() + b'="'
    for line in body.splitlines():
        if line.startswith(prefix) and key in line:
            values.add(line.split(key, 1)[1].split(b'"', 1)[0].decode())
    return values


def sample_sum(body: bytes, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include ``labels`` (nan: none)."""
    total, found = 0.0, False
    wanted = [f'{k}="{v}"'.encode() for k, v in labels.items()]
    for line in body.splitlines():
        head, _, value = line.rpartition(b" ")
        metric = head.split(b"{", 1)[0]
        if metric == name.encode() and all(w in head for w in wanted):
            total += float(value)
            found = True
    return total if found else float("nan")


@dataclass(frozen=True)
class Difference:
    """With scraping minus without, in % of one core, paired with the neighbours."""

    pct: float
    stderr_pct: float
    """Standard error of the mean of the pairs (nan with a single pair)."""
    pairs: int


def paired_difference(windows: list[Window]) -> Difference:
    """Each scraped window against the mean of the windows either side of it."""
    deltas = [windows[i].daemon_pct - (windows[i - 1].daemon_pct + windows[i + 1].daemon_pct) / 2
              for i in range(1, len(windows) - 1)
              if windows[i].scraped and not windows[i - 1].scraped
              and not windows[i + 1].scraped]
    if not deltas:
        return Difference(float("nan"), float("nan"), 0)
    stderr = statistics.stdev(deltas) / math.sqrt(len(deltas)) if len(deltas) > 1 \
        else float("nan")
    return Difference(statistics.fmean(deltas), stderr, len(deltas))


def per_scrape_pct(cpu_seconds_per_scrape: list[float],
                   interval_s: float = SCRAPE_INTERVAL_S) -> float:
    """A scrape's mean CPU, once every ``interval_s``, in % of one core."""
    if not cpu_seconds_per_scrape:
        return float("nan")
    return 100.0 * statistics.fmean(cpu_seconds_per_scrape) / interval_s


def chosen_cpu_pct(per_scrape: float, difference: Difference) -> tuple[float, str]:
    """The figure the RESULT line reports, and why.

    The per-scrape figure (the CPU of each scrape's handler on the event loop) is precise;
    the window difference is the direct measure
    but carries the noise of every other load on the daemon and the machine. The difference
    is reported instead only when it is significantly larger: then scraping costs something
    outside the scrapes themselves (garbage collected later, work it displaces)."""
    if math.isnan(per_scrape):
        return difference.pct, "the window difference: no scrape was timed"
    excess = difference.pct - per_scrape
    errors = significant_errors(difference.pairs)
    if difference.pairs > 1 and not math.isnan(difference.stderr_pct) \
            and excess > errors * difference.stderr_pct:
        return difference.pct, (
            f"the window difference: it exceeds the per-scrape figure by {excess:.2f} % of "
            f"a core, more than {errors:.2f} standard errors ({difference.stderr_pct:.2f}, "
            f"{difference.pairs} pairs): scraping costs more than the scrapes themselves")
    if math.isnan(excess) or math.isnan(difference.stderr_pct):
        agreement = "has no noise estimate to be judged by (fewer than two pairs)"
    elif abs(excess) <= errors * difference.stderr_pct:
        agreement = "agrees with it within its noise"
    else:
        agreement = "is below it: the other load varied more than scraping adds"
    return per_scrape, (
        "the per-scrape figure: the CPU of the event loop's thread in each scrape's "
        "handler (nothing else runs on the loop meanwhile), once per 5 s; the window "
        "difference "
        f"({difference.pct:+.2f} +- {difference.stderr_pct:.2f} % of a core) {agreement}")


@dataclass(frozen=True)
class RenderCosts:
    """The daemon-side probe's renders inside the windows, per scrape."""

    cpu_ms: list[float]
    wall_ms: list[float]
    collectors_ms: dict[str, float]
    """Mean CPU of each collector's ``collect()`` per render, the costliest first."""
    formatting_ms: float
    """Mean CPU per render outside the collectors: prometheus_client writing the text."""


def render_costs(renders: list[list[Any]], start: float, end: float) -> RenderCosts:
    """From ``bench/metrics_daemon.py``'s renders (``[at, cpu_s, wall_s, bytes,
    {collector: cpu_s}]``), those that began in [start, end)."""
    inside = [r for r in renders if start <= float(r[0]) < end]
    if not inside:
        return RenderCosts([], [], {}, float("nan"))
    totals: Counter[str] = Counter()
    for render in inside:
        totals.update({name: 1000 * float(cpu) for name, cpu in render[4].items()})
    collectors = {name: total / len(inside) for name, total in totals.most_common()}
    cpu_ms = [1000 * float(r[1]) for r in inside]
    return RenderCosts(cpu_ms, [1000 * float(r[2]) for r in inside], collectors,
                       max(0.0, statistics.fmean(cpu_ms) - sum(collectors.values())))


def handler_cpu_s(handlers: list[list[float]], start: float, end: float) -> list[float]:
    """CPU of each timed ``GET /metrics`` handler that began in [start, end)."""
    return [float(cpu) for at, cpu, _ in handlers if start <= float(at) < end]


def answers_during(answers: list[list[float]], start: float, end: float) -> int:
    """Viewers' blocking answers received in [start, end): what the event loop was busy
    with while a scrape waited for it."""
    return sum(1 for stream in answers for at in stream if start <= at < end)
