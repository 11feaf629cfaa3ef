"""Reading a daemon's metrics as a scrape would: its registry's rendering, parsed back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from mediad.config import ChatConfig
from mediad.metrics.registry import DaemonMetrics
from tests.mediad.realtime.conftest import Env, make_env


def samples(metrics: DaemonMetrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample called ``name`` in a rendering, keyed by its sorted labels."""
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(metrics: DaemonMetrics, name: str, **labels: str) -> float:
    """One sample's value; 0.0 when the rendering has none (a child not yet made)."""
    return samples(metrics, name).get(tuple(sorted(labels.items())), 0.0)


@asynccontextmanager
async def realtime_env(tmp_path: Path, chat: ChatConfig | None = None) -> AsyncIterator[Env]:
    """The real-time tests' daemon (a real server, store and sockets), closed after."""
    environment = await make_env(tmp_path, chat=chat)
    try:
        yield environment
    finally:
        for socket in environment.sockets:
            await socket.close()
        await environment.client.close()
        await environment.registry.close()
        await environment.store.close()
