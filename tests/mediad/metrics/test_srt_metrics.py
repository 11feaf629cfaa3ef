"""SRT link metrics from a real SRT server on a real UDP socket: our test caller publishes
real MPEG-TS with a packet held back (the server reports the gap, the caller retransmits
it) and answers the server's ACKs (the RTT); the series go with the connection."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from ingest.srt.config import SrtServerConfig
from ingest.srt.server import SrtServer
from mediad.metrics.ingest import add_ingest_collectors
from mediad.metrics.registry import DaemonMetrics
from mediad.store import Store
from mediad.streams import StreamRegistry
from tests.ingest.srt.srt_socket_testing import open_caller
from tests.mediad.registry_testing import make_stream

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mpegts"


def ts_payloads() -> list[bytes]:
    data = next(iter(sorted(FIXTURES.glob("*.ts")))).read_bytes()
    return [data[i:i + 1316] for i in range(0, len(data), 1316)][:200]


async def until(check: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 -- the link's counters move on datagrams
            await asyncio.sleep(0.01)


async def test_an_srt_publishers_link_figures_then_none_once_it_left(store: Store) -> None:
    registry = StreamRegistry(store)
    stream_id, key, _ = await make_stream(store)

    async def no_passphrase(candidate: str) -> str | None:
        return "" if candidate == key else None

    config = SrtServerConfig(host="127.0.0.1", port=0, peer_idle_timeout_sec=1.0)
    server = SrtServer(config, registry, no_passphrase)
    port = await server.start()
    metrics = DaemonMetrics()
    add_ingest_collectors(metrics, registry, [server])

    def sample(name: str) -> float | None:
        return metrics.registry.get_sample_value(name, {"stream": stream_id})

    try:
        sock = await open_caller(port, f"#!::r=live/{key},m=publish", None)
        caller = sock.caller
        assert caller.connected
        live = registry.get(stream_id)
        assert live is not None and live.publishing
        payloads = ts_payloads()
        for i, payload in enumerate(payloads):
            datagram = caller.data(payload, 10_000 + i * 1000)
            if i != 10:  # held back: a gap the server reports with a NAK
                sock.send(datagram)
        await until(lambda: caller.retransmissions >= 1)
        await until(lambda: (sample("mediad_srt_packets_received_total") or 0)
                    >= len(payloads))
        await until(lambda: (sample("mediad_srt_rtt_seconds") or 1) < 0.1)  # ACKACKs came
        assert sample("mediad_srt_packets_lost_total") == 1
        assert sample("mediad_srt_packets_retransmitted_total") == caller.retransmissions
        assert sample("mediad_srt_packets_received_total") == (
            len(payloads) - 1 + caller.retransmissions)
        assert sample("mediad_srt_packets_dropped_late_total") == 0, "recovered in time"

        assert sock.transport is not None
        sock.transport.close()  # the caller goes silent: the server times it out
        await until(lambda: not server.publishes, within=10)
        assert sample("mediad_srt_rtt_seconds") is None
        assert sample("mediad_srt_packets_received_total") is None
    finally:
        await server.stop()
        await registry.close()
