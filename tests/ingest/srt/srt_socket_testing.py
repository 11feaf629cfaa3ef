"""Our test SRT caller (``srt_caller_testing.SrtCaller``) on a UDP socket of its own, for
tests of a real ``SrtServer``: it answers what the server sends (ACKACKs, retransmissions
on NAK) as a caller would."""

from __future__ import annotations

import asyncio
from typing import cast

from tests.ingest.srt.srt_caller_testing import SrtCaller


class CallerSocket(asyncio.DatagramProtocol):
    def __init__(self, caller: SrtCaller) -> None:
        self.caller = caller
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        assert self.transport is not None
        for answer in self.caller.receive(data):
            self.transport.sendto(answer)

    def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.sendto(data)


async def open_caller(port: int, stream_id: str, passphrase: str | None) -> CallerSocket:
    """Our test caller on a socket of its own, once the server accepted or rejected it."""
    caller = SrtCaller(stream_id, passphrase=passphrase)
    loop = asyncio.get_running_loop()
    _, protocol = await loop.create_datagram_endpoint(
        lambda: CallerSocket(caller), remote_addr=("127.0.0.1", port))
    protocol.send(caller.induction())
    async with asyncio.timeout(5):
        while not caller.connected and caller.rejection is None:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    return protocol
