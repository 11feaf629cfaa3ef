"""Our SRT listener core and test caller wired back to back (``Link``): an injected clock and
scripted loss, for the connection tests and any test that needs an accepted connection."""

from __future__ import annotations

from collections.abc import Callable

from ingest.srt.connection import (
    ConnectionClosed,
    ConnectRequested,
    PayloadReceived,
    SrtConnection,
    SrtListener,
)
from tests.ingest.srt.srt_caller_testing import SrtCaller

ADDR = ("127.0.0.1", 40000)
STREAM_ID = "#!::r=live/key123,m=publish"


class Link:
    """Caller and listener wired together; ``drop(direction, packet)`` decides losses."""

    def __init__(self, caller: SrtCaller, *, latency_ms: int = 120,
                 drop: Callable[[str, bytes], bool] | None = None) -> None:
        self.caller = caller
        self.listener = SrtListener(secret=b"k" * 16, latency_ms=latency_ms)
        self.now = 100.0
        self.drop = drop or (lambda direction, datagram: False)
        self.payloads: list[bytes] = []
        self.requests: list[ConnectRequested] = []
        self.closed: list[str] = []

    def to_listener(self, datagrams: list[bytes]) -> None:
        for datagram in datagrams:
            if not self.drop("up", datagram):
                self.listener.receive_datagram(datagram, ADDR, self.now)
        self.pump()

    def pump(self) -> None:
        while True:
            while (event := self.listener.next_event()) is not None:
                if isinstance(event, PayloadReceived):
                    self.payloads.append(event.payload)
                elif isinstance(event, ConnectRequested):
                    self.requests.append(event)
                elif isinstance(event, ConnectionClosed):
                    self.closed.append(event.reason)
            answers: list[bytes] = []
            for datagram, addr in self.listener.datagrams_to_send():
                assert addr == ADDR
                if not self.drop("down", datagram):
                    answers += self.caller.receive(datagram)
            if not answers:
                return
            for datagram in answers:
                if not self.drop("up", datagram):
                    self.listener.receive_datagram(datagram, ADDR, self.now)

    def advance(self, seconds: float) -> None:
        """Let time pass, firing the listener's timers as they come due."""
        end = self.now + seconds
        while True:
            timer = self.listener.get_timer()
            if timer is None or timer > end:
                break
            self.now = max(self.now, timer)
            self.listener.handle_timer(self.now)
            self.pump()
        self.now = end

    def connect(self, passphrase: str | None = None) -> SrtConnection:
        self.to_listener([self.caller.induction()])
        assert len(self.requests) == 1 and self.requests[0].stream_id == STREAM_ID
        connection = self.listener.accept(self.requests[0].request_id, passphrase=passphrase)
        self.pump()
        assert self.caller.connected
        return connection
