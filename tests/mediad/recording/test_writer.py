"""The writer thread: jobs in order, a bounded queue that refuses rather than waits, and a
failure that stops its owner's later jobs and nobody else's."""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from pathlib import Path

from mediad.recording.disk import Disk, LocalDisk
from mediad.recording.writer import THREAD_NAME, DiskWriter, Job, WriteOwner


def inline(callback: Callable[[], None]) -> None:
    callback()


def test_jobs_run_in_order_on_the_writer_thread(tmp_path: Path) -> None:
    writer = DiskWriter(LocalDisk(), 1 << 20, inline)
    seen: list[tuple[int, str]] = []
    owner = WriteOwner("a")
    writer.start()
    for number in range(20):
        def run(disk: Disk, number: int = number) -> None:
            seen.append((number, threading.current_thread().name))
            disk.append(tmp_path / "log", f"{number}\n".encode())
        assert writer.submit(Job(owner, run, 10))
    assert writer.wait_idle(10)
    writer.stop()
    assert [n for n, _ in seen] == list(range(20))
    assert {name for _, name in seen} == {THREAD_NAME}
    assert (tmp_path / "log").read_text().split() == [str(n) for n in range(20)]
    assert writer.written_bytes == 200 and writer.queued_bytes == 0


def test_a_full_queue_refuses_instead_of_waiting() -> None:
    gate = threading.Event()
    writer = DiskWriter(LocalDisk(), 100, inline)
    owner = WriteOwner("a")
    writer.start()
    def held(disk: Disk) -> None:
        gate.wait(10)

    assert writer.submit(Job(owner, held, 60))
    assert not writer.submit(Job(owner, lambda disk: None, 60))  # past the capacity
    assert writer.refused == 1
    assert writer.submit(Job(owner, lambda disk: None, 60, must=True))  # bookkeeping
    gate.set()
    assert writer.wait_idle(10)
    assert writer.submit(Job(owner, lambda disk: None, 60))
    writer.stop()


def test_a_failure_stops_its_owner_only() -> None:
    failures: list[OSError] = []
    done: list[str] = []
    writer = DiskWriter(LocalDisk(), 1 << 20, inline)
    failing = WriteOwner("full", on_failure=failures.append)
    other = WriteOwner("fine")

    def full(disk: Disk) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    writer.start()
    writer.submit(Job(failing, full))
    writer.submit(Job(failing, lambda disk: None, done=lambda: done.append("late")))
    writer.submit(Job(other, lambda disk: None, done=lambda: done.append("other")))
    assert writer.wait_idle(10)
    writer.stop()
    assert [f.errno for f in failures] == [errno.ENOSPC]
    assert failing.failed is not None and other.failed is None
    assert done == ["other"]


def test_a_bug_in_a_job_does_not_end_the_thread() -> None:
    failures: list[OSError] = []
    writer = DiskWriter(LocalDisk(), 1 << 20, inline)
    writer.start()
    writer.submit(Job(WriteOwner("bug", on_failure=failures.append),
                      lambda disk: [][0]))
    later: list[bool] = []
    writer.submit(Job(WriteOwner("next"), lambda disk: None, done=lambda: later.append(True)))
    assert writer.wait_idle(10)
    writer.stop()
    assert len(failures) == 1 and later == [True]
