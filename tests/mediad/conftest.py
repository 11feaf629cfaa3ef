"""Fixtures of the daemon's tests: a real store in the test's own directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mediad.store import Store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "mediad.sqlite3")
    try:
        yield opened
    finally:
        await opened.close()
