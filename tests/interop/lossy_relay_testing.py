"""A loopback UDP relay that loses and delays datagrams: the lossy link of the SRT loss
tests and benchmark where a network namespace with ``tc netem`` is not available.

The publisher sends to the relay; the relay forwards to the server from one socket per
publisher and sends the server's answers back. Each direction drops with probability
``loss`` (seeded, so runs repeat) and delays by ``delay`` seconds.
"""

from __future__ import annotations

import asyncio
import random
from typing import cast

Address = tuple[str, int]


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, relay: LossyRelay, client: Address) -> None:
        self.relay = relay
        self.client = client
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.relay._forward(data, self.client, downstream=True)


class LossyRelay(asyncio.DatagramProtocol):
    def __init__(self, target: Address, *, loss: float, delay: float = 0.0,
                 seed: int = 1) -> None:
        self.target = target
        self.loss = loss
        self.delay = delay
        self.random = random.Random(seed)
        self.transport: asyncio.DatagramTransport | None = None
        self.upstreams: dict[Address, _Upstream] = {}
        self.forwarded = 0
        self.dropped = 0
        self._opening: set[asyncio.Task[object]] = set()

    async def start(self, port: int = 0) -> int:
        loop = asyncio.get_running_loop()
        self.transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=("127.0.0.1", port))
        return int(self.transport.get_extra_info("sockname")[1])

    def close(self) -> None:
        for upstream in self.upstreams.values():
            if upstream.transport is not None:
                upstream.transport.close()
        if self.transport is not None:
            self.transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if addr not in self.upstreams:
            upstream = _Upstream(self, addr)
            self.upstreams[addr] = upstream
            loop = asyncio.get_running_loop()
            task = loop.create_task(loop.create_datagram_endpoint(
                lambda: upstream, remote_addr=self.target))
            self._opening.add(task)
            task.add_done_callback(self._opening.discard)
        self._forward(data, addr, downstream=False)

    def _forward(self, data: bytes, client: Address, *, downstream: bool) -> None:
        if self.random.random() < self.loss:
            self.dropped += 1
            return
        self.forwarded += 1
        if self.delay:
            asyncio.get_running_loop().call_later(self.delay, self._send, data, client,
                                                  downstream)
        else:
            self._send(data, client, downstream)

    def _send(self, data: bytes, client: Address, downstream: bool) -> None:
        if downstream:
            if self.transport is not None:
                self.transport.sendto(data, client)
            return
        upstream = self.upstreams.get(client)
        if upstream is not None and upstream.transport is not None:
            upstream.transport.sendto(data)
