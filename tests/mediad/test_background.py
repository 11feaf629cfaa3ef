"""A service's background work: repeated calls that survive a failure, and tasks that end
when the service stops."""

from __future__ import annotations

import asyncio
import logging

import pytest

from mediad.background import Periodic, Tasks

log = logging.getLogger("tests.background")


async def test_a_periodic_call_goes_on_after_a_failure_and_ends_at_stop(
        caplog: pytest.LogCaptureFixture) -> None:
    calls = 0
    third = asyncio.Event()

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            third.set()
        if calls == 1:
            raise RuntimeError("first call fails")

    periodic = Periodic(flaky, 0.01, log=log, failure="flaky failed", at_start=True)
    periodic.start()
    await asyncio.wait_for(third.wait(), 2.0)
    await periodic.stop()
    stopped_at = calls
    await asyncio.sleep(0.05)
    assert calls == stopped_at
    assert [r.getMessage() for r in caplog.records if r.name == log.name] == ["flaky failed"]


async def test_the_first_call_waits_one_interval_unless_at_start() -> None:
    calls: list[str] = []

    async def call(name: str) -> None:
        calls.append(name)

    eager = Periodic(lambda: call("eager"), 3600, log=log, failure="", at_start=True)
    patient = Periodic(lambda: call("patient"), 3600, log=log, failure="")
    eager.start()
    patient.start()
    await asyncio.sleep(0.05)
    await eager.stop()
    await patient.stop()
    assert calls == ["eager"]


async def test_tasks_still_running_are_cancelled_together() -> None:
    tasks = Tasks()
    finished: list[str] = []
    cancelled: list[str] = []

    async def work(name: str, seconds: float) -> None:
        try:
            await asyncio.sleep(seconds)
            finished.append(name)
        except asyncio.CancelledError:
            cancelled.append(name)
            raise

    tasks.spawn(work("quick", 0))
    tasks.spawn(work("slow", 3600))
    tasks.spawn(work("slower", 7200))
    await asyncio.sleep(0.02)
    await tasks.cancel_all()
    assert finished == ["quick"] and sorted(cancelled) == ["slow", "slower"]
