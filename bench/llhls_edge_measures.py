"""What ``bench/llhls_edge.py`` computes from what it recorded: wake-up delays (a part's
publication at the origin to a viewer's blocking answer listing it), the parts published
in a window, the origin requests per part, and whether the viewers could drive the load."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.llhls_edge_nginx import OriginRequest

Receipt = tuple[int, int, float]
"""(msn, part index, when a viewer's blocking playlist answer listing it arrived)."""

_PART_URI = re.compile(r"/seg(\d+)\.(\d+)\.m4s$")
_BLOCKING = re.compile(r"/index\.m3u8\?.*_HLS_msn=(\d+)")

LOAD_LIMIT_CORE_SHARE = 0.9
"""A viewer process busier than this share of a core is the limit, not the server."""
LOAD_LIMIT_RATE_SHARE = 0.9
"""Viewers that made fewer than this share of their expected requests were held back."""


def viewed_publications(publications: Path, receipts: Iterable[Receipt]) -> dict[
        tuple[int, int], float]:
    """(msn, part) -> when the origin listed it (CLOCK_MONOTONIC), for the playlist the
    viewers watched: of every playlist the daemon logged, the one matching most receipts."""
    playlists = json.loads(publications.read_text())["playlists"]
    keys = {(msn, index) for msn, index, _ in receipts}
    best: dict[tuple[int, int], float] = {}
    best_matched = -1
    for playlist in playlists:
        listed = {(msn, index): at for msn, index, at, _, _ in playlist}
        matched = len(keys & listed.keys())
        if matched > best_matched:
            best, best_matched = listed, matched
    return best


def wake_delays_ms(listed: dict[tuple[int, int], float],
                   receipts: Iterable[Receipt]) -> list[float]:
    return [(at - listed[(msn, index)]) * 1000 for msn, index, at in receipts
            if (msn, index) in listed]


def parts_in(listed: dict[tuple[int, int], float], start: float, end: float) -> int:
    return sum(1 for at in listed.values() if start <= at < end)


@dataclass(frozen=True)
class OriginCounts:
    parts: int
    """Parts the origin published in the window."""
    part_requests: int
    """Requests for part files (``segM.P.m4s``) the edge passed to the origin."""
    playlist_requests: int
    """Blocking playlist requests (``_HLS_msn``) passed to the origin."""
    other_requests: int
    most_for_one_part: int
    """The most origin requests any one part file got."""

    @property
    def part_requests_per_part(self) -> float:
        return self.part_requests / self.parts if self.parts else float("nan")

    @property
    def playlist_requests_per_part(self) -> float:
        return self.playlist_requests / self.parts if self.parts else float("nan")

    @property
    def per_part(self) -> float:
        """Origin requests per part for the worse of a part's two URIs (its file and the
        blocking reload that lists it): 1.0 is full collapsing."""
        return max(self.part_requests_per_part, self.playlist_requests_per_part)


def count_origin_requests(requests: Iterable[OriginRequest], start: float, end: float,
                          parts: int) -> OriginCounts:
    """Origin requests that ended in [start, end) (wall clock), sorted by kind."""
    per_part: Counter[str] = Counter()
    playlists = other = 0
    for request in requests:
        if not start <= request.at < end:
            continue
        if _PART_URI.search(request.uri):
            per_part[request.uri] += 1
        elif _BLOCKING.search(request.uri):
            playlists += 1
        else:
            other += 1
    return OriginCounts(parts, sum(per_part.values()), playlists, other,
                        max(per_part.values(), default=0))


def busy_ticks(stat: str) -> tuple[int, int]:
    """(busy, total) clock ticks of all CPUs from ``/proc/stat``'s first line: everything
    but idle and iowait is busy (steal included: a core the guest did not get)."""
    fields = [int(v) for v in stat.split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])  # guest time is already counted in user and nice
    return total - idle, total


def delivered_share(receipts: int, viewers: int, parts: int) -> float:
    """Blocking answers received per viewer per part published: 1.0 when every viewer was
    answered for every part; a viewer answered late skips to the newest part."""
    return receipts / (viewers * parts) if viewers and parts else float("nan")


def expected_request_rate(viewers: int, part_seconds: float) -> float:
    """Requests a second that viewers each doing a blocking reload and a part fetch per
    part make."""
    return viewers * 2 / part_seconds


def load_generator_limits(viewer_cores: list[float], request_rate: float,
                          expected_rate: float, machine_cores: float,
                          busy_cores: float) -> list[str]:
    """Why the figures may measure the load generator rather than the server: empty when
    the viewers had CPU to spare. Fewer requests than expected count against the viewers
    only beside such a reason: a server that answers late holds its viewers back too (a
    viewer answered after the next part skips to the newest)."""
    reasons = []
    busiest = max(viewer_cores, default=0.0)
    if busiest >= LOAD_LIMIT_CORE_SHARE:
        reasons.append(f"a viewer process used {busiest:.2f} of a core")
    if busy_cores >= LOAD_LIMIT_CORE_SHARE * machine_cores:
        reasons.append(f"the machine was saturated ({busy_cores:.2f} of {machine_cores:.0f} "
                       f"cores busy, {sum(viewer_cores):.2f} of them the viewers')")
    if reasons and request_rate < LOAD_LIMIT_RATE_SHARE * expected_rate:
        reasons.append(f"viewers made {request_rate:.0f} requests/s of the "
                       f"{expected_rate:.0f} expected")
    return reasons
