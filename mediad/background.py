"""A service's background work: a call repeated at an interval, and one-off tasks, each
ended (cancelled and awaited) when the service stops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any


class Periodic:
    """Calls ``action`` every ``interval_sec`` from ``start`` until ``stop``: first at once
    when ``at_start``, else after one interval. A call that fails is logged with
    ``failure`` and the next one comes on time."""

    def __init__(self, action: Callable[[], Awaitable[None]], interval_sec: float, *,
                 log: logging.Logger, failure: str, at_start: bool = False) -> None:
        self._action = action
        self.interval_sec = interval_sec
        self._log = log
        self._failure = failure
        self._at_start = at_start
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        if not self._at_start:
            await asyncio.sleep(self.interval_sec)
        while True:
            try:
                await self._action()
            except Exception:
                self._log.exception(self._failure)
            await asyncio.sleep(self.interval_sec)


class Tasks:
    """One-off tasks a service started and has not seen finish."""

    def __init__(self) -> None:
        self._running: set[asyncio.Task[Any]] = set()

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def cancel_all(self) -> None:
        tasks = list(self._running)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
