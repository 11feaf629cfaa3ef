"""Wall-clock helpers for the daemon (the protocol cores never read a clock)."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    """Milliseconds since the epoch, UTC: how times are kept inside the store."""
    return time.time_ns() // 1_000_000


def iso_utc(ms: int) -> str:
    """ISO 8601 UTC, as times are shown at the API."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z"
    )
