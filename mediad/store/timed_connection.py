"""The store's connection, timing each round trip to its thread.

Every statement, fetch, commit and close of an aiosqlite connection is queued to its one
thread through ``Connection._execute``: the one place all of them pass, so timing it there
covers the repositories without touching any of them."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite

from mediad.metrics.store import STORE_QUERY_SECONDS

ITER_CHUNK_SIZE = 64
"""Rows fetched per round trip when a cursor is iterated (aiosqlite's default)."""


class TimedConnection(aiosqlite.Connection):
    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        queued: Callable[..., Awaitable[Any]] = super()._execute
        started = time.perf_counter()
        try:
            return await queued(fn, *args, **kwargs)
        finally:
            STORE_QUERY_SECONDS.observe(time.perf_counter() - started)


def connect(path: str | Path) -> TimedConnection:
    """Like ``aiosqlite.connect(path, isolation_level=None)``: autocommit, transactions
    explicit (``Store.transaction``)."""
    location = str(path)
    return TimedConnection(lambda: sqlite3.connect(location, isolation_level=None),
                           ITER_CHUNK_SIZE)
