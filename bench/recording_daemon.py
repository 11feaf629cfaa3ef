"""mediad's own command line with two probes, for ``bench/recording.py``'s daemons:

- every part's publication, as ``bench/llhls_latency.py`` times it in process: when
  ``MediaPlaylist.add_part`` listed it (CLOCK_MONOTONIC) and when its first and last frames
  arrived at ingest, per playlist; written as JSON to ``$MEDIAD_BENCH_PUBLICATIONS`` when
  the daemon has stopped;
- every Python thread's OS name (``/proc/PID/task/TID/comm``, 15 bytes) set to its Python
  name as it starts, so that the benchmark can meter the recorder's writer thread alone
  (Python 3.14 names OS threads itself; 3.11 does not).

    MEDIAD_BENCH_PUBLICATIONS=FILE python -m bench.recording_daemon --config X serve
"""

from __future__ import annotations

import ctypes
import sys
import threading
import time
from types import FrameType
from typing import Any

from bench.harness import serve_writing_report

PUBLICATIONS_ENV = "MEDIAD_BENCH_PUBLICATIONS"
PR_SET_NAME = 15
OS_NAME_BYTES = 15

Publication = tuple[int, int, float, float, float]
"""(msn, part index, listed at, first frame's arrival, last frame's arrival)."""


def os_thread_name(name: str) -> bytes:
    return name.encode(errors="replace")[:OS_NAME_BYTES]


def name_os_threads() -> None:
    """Each thread started from now on names itself, in its first traced call."""
    libc = ctypes.CDLL(None, use_errno=True)

    def first_call(frame: FrameType, event: str, arg: object) -> None:
        sys.setprofile(None)  # once per thread: no profiling cost after its first call
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(os_thread_name(threading.current_thread().name)),
                   0, 0, 0)

    threading.setprofile(first_call)


def record_publications() -> dict[int, list[Publication]]:
    """Parts as each playlist lists them, keyed by the playlist's identity."""
    from packager.llhls import MediaPlaylist, Part

    published: dict[int, list[Publication]] = {}
    original = MediaPlaylist.add_part

    def timed(self: MediaPlaylist, *args: Any, **kwargs: Any) -> Part:
        part = original(self, *args, **kwargs)
        published.setdefault(id(self), []).append(
            (part.msn, part.index, time.monotonic(), part.first_arrival, part.last_arrival))
        return part

    setattr(MediaPlaylist, "add_part", timed)  # noqa: B010 -- a probe, not a subclass
    return published


def main() -> int:
    name_os_threads()
    published = record_publications()
    return serve_writing_report(PUBLICATIONS_ENV,
                                lambda: {"playlists": list(published.values())})


if __name__ == "__main__":
    sys.exit(main())
