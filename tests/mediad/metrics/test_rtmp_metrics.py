"""RTMP listener metrics from a real RTMP server over real sockets, driven by our scripted
publisher: publishing and pending connections, admissions and refusals (a wrong key, a
connection over the per-address cap)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ingest.rtmp.config import RtmpServerConfig
from ingest.rtmp.server import RtmpServer
from mediad.metrics.ingest import add_ingest_collectors
from mediad.metrics.registry import DaemonMetrics
from mediad.store import Store
from mediad.streams import StreamRegistry
from tests.ingest.rtmp.rtmp_testing import Publisher, client_handshake
from tests.mediad.registry_testing import make_stream


def publish_pieces(key: str) -> bytes:
    """A publish; its media do not matter here."""
    publisher = Publisher()
    publisher.connect("live")
    publisher.start_publish(key)
    return client_handshake() + publisher.take()


async def until(check: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 -- the server exposes no event for this
            await asyncio.sleep(0.01)


async def test_connections_by_state_and_what_was_accepted_or_refused(store: Store) -> None:
    registry = StreamRegistry(store)
    stream_id, key, _ = await make_stream(store)
    config = RtmpServerConfig(host="127.0.0.1", port=0, max_unauthenticated_per_address=2)
    server = RtmpServer(config, registry)
    port = await server.start()
    metrics = DaemonMetrics()
    add_ingest_collectors(metrics, registry, [server])

    def sample(name: str, **labels: str) -> float | None:
        return metrics.registry.get_sample_value(name, labels)

    writers: list[asyncio.StreamWriter] = []

    async def connect(data: bytes) -> None:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(data)
        writers.append(writer)

    try:
        await connect(publish_pieces(key))
        await until(lambda: sample("mediad_rtmp_connections", state="publishing") == 1)
        live = registry.get(stream_id)
        assert live is not None and live.publishing
        assert sample("mediad_rtmp_connections", state="publishing") == 1
        assert sample("mediad_rtmp_connections", state="pending") == 0
        assert sample("mediad_rtmp_connections_accepted_total") == 1

        await connect(publish_pieces("not-a-key"))
        await until(lambda: sample("mediad_rtmp_connections_refused_total") == 1)
        await until(lambda: server.connections == 1)
        await connect(client_handshake())  # handshakes, never publishes
        await connect(client_handshake())
        await until(lambda: sample("mediad_rtmp_connections", state="pending") == 2)
        await connect(client_handshake())  # a third from this address: over the cap
        await until(lambda: sample("mediad_rtmp_connections_refused_total") == 2)
        assert sample("mediad_rtmp_connections_accepted_total") == 4
        assert sample("mediad_rtmp_connections", state="publishing") == 1
        assert sample("mediad_rtmp_connections", state="pending") == 2
    finally:
        for writer in writers:
            writer.close()
        await server.stop()
        await registry.close()
