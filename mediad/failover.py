"""When a standby publisher takes a stream over, and when a quiet publisher is let go.

A stream holds at most one primary-key and one backup-key publisher: the *active* one
feeds it, the other waits as the *standby*, warm from its last keyframe
(``mediad/warm_gop.py``). The standby takes over at once when the active publisher leaves
for a reason that does not end the broadcast, or has sent no media for ``after_sec`` (it
is then the standby in turn, not kicked); a returning primary takes back over at its
first keyframe when ``prefer_primary``. A publisher that sends no media for
``media_timeout_sec`` is dropped like a disconnect.
"""

from __future__ import annotations

from dataclasses import dataclass

from mediad.config import StreamsConfig


@dataclass(frozen=True, slots=True)
class Failover:
    after_sec: float = 1.0
    """No media this long: the publisher is stalled (the standby takes over; a new
    connection on its key replaces it)."""
    media_timeout_sec: float = 10.0
    """No media this long: the publisher is dropped."""
    prefer_primary: bool = True
    """A returning primary takes over from the backup at its first keyframe."""

    @classmethod
    def from_config(cls, config: StreamsConfig) -> Failover:
        return cls(config.failover_after_ms / 1000, config.media_timeout_sec,
                   config.prefer_primary)

    @property
    def check_interval_sec(self) -> float:
        """How often the registry looks for stalled and silent publishers: a stall is
        noticed within a tenth of ``after_sec`` (at most 100 ms) after it counts; a look
        costs a clock reading per publisher."""
        return min(0.1, max(0.02, self.after_sec / 10))
