"""One thread that does every recording's disk writes, in order, from a bounded queue.

The event loop hands it jobs and never waits: ``submit`` refuses a job once the bytes
queued would pass the capacity (the caller counts what it left out). A job whose owner
already failed is skipped, so that a recording whose disk filled up does not go on with
holes in its journal; the owner hears of the failure, and of each job done, on the loop.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from mediad.recording.disk import Disk

log = logging.getLogger("mediad.recording")

THREAD_NAME = "mediad-recorder"

Report = Callable[[Callable[[], None]], object]
"""Runs a callback on the event loop from the writer thread (``loop.call_soon_threadsafe``)."""


@dataclass(eq=False)
class WriteOwner:
    """What jobs belong to (a recording): the first failure stops the rest of its jobs."""

    name: str
    failed: OSError | None = None
    on_failure: Callable[[OSError], None] | None = None


@dataclass(eq=False)
class Job:
    owner: WriteOwner
    run: Callable[[Disk], None]
    size: int = 0
    """Bytes it holds: what counts against the queue's capacity."""
    done: Callable[[], None] | None = None
    """Called on the loop once ``run`` succeeded."""
    must: bool = field(default=False)
    """Accepted even past the capacity (small bookkeeping: manifests, closing a recording)."""


class DiskWriter:
    def __init__(self, disk: Disk, capacity_bytes: int, report: Report) -> None:
        self.disk = disk
        self.capacity_bytes = capacity_bytes
        self.report = report
        self.queued_bytes = 0
        self.written_bytes = 0
        self.refused = 0
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._idle = threading.Condition(self._lock)
        self._pending = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=THREAD_NAME, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish what is queued (at most ``timeout`` seconds), then end the thread."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._queue.put(None)
        thread.join(timeout)
        if thread.is_alive():
            log.error("recording writer did not finish in time", extra={"fields": {
                "queued_bytes": self.queued_bytes}})

    def submit(self, job: Job) -> bool:
        """Queue ``job``; False (and nothing queued) when the disk is too far behind."""
        with self._lock:
            if not job.must and self.queued_bytes + job.size > self.capacity_bytes:
                self.refused += 1
                return False
            self.queued_bytes += job.size
            self._pending += 1
        self._queue.put(job)
        return True

    def wait_idle(self, timeout: float) -> bool:
        """Blocking (tests, shutdown): True once every queued job is done."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            try:
                self._do(job)
            finally:
                with self._idle:
                    self.queued_bytes -= job.size
                    self._pending -= 1
                    self._idle.notify_all()

    def _do(self, job: Job) -> None:
        owner = job.owner
        if owner.failed is not None:
            return
        try:
            job.run(self.disk)
        except OSError as exc:
            owner.failed = exc
            if owner.on_failure is not None:
                self._tell(owner.on_failure, exc)
            return
        except Exception:  # a bug in a job must not end the thread for every recording
            log.exception("recording write failed", extra={"fields": {"owner": owner.name}})
            owner.failed = OSError("internal error while writing")
            if owner.on_failure is not None:
                self._tell(owner.on_failure, owner.failed)
            return
        self.written_bytes += job.size
        if job.done is not None:
            self._tell(job.done)

    def _tell(self, callback: Callable[..., None], *args: object) -> None:
        try:
            self.report(lambda: callback(*args))
        except RuntimeError:  # the loop is closed: shutting down
            pass
