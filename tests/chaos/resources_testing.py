"""The daemon's resident memory and open descriptors, read from /proc as an operator
would, and the bounds a fresh process after a crash must come back within."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

RSS_FACTOR = 1.5
"""A restarted daemon, live with the same publisher and viewers, stays within this factor
of the first start's resident memory (plus RSS_SLACK_KB)."""
RSS_SLACK_KB = 16 * 1024
FD_SLACK = 24


@dataclass(frozen=True)
class Usage:
    rss_kb: int
    fds: int

    @classmethod
    def of(cls, pid: int) -> Usage:
        status = Path(f"/proc/{pid}/status").read_text()
        rss = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return cls(int(rss.split()[1]), sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir()))

    def within(self, baseline: Usage) -> list[str]:
        wrong = []
        if self.rss_kb > baseline.rss_kb * RSS_FACTOR + RSS_SLACK_KB:
            wrong.append(f"RSS {self.rss_kb} kB against {baseline.rss_kb} kB at the first start")
        if self.fds > baseline.fds + FD_SLACK:
            wrong.append(f"{self.fds} open descriptors against {baseline.fds} at the first start")
        return wrong
