"""Our listener core against our test caller, back to back with an injected clock and
scripted loss: handshake, rejections, every payload delivered in order through loss,
too-late drops counted, keepalive and idle timeout, encryption."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ingest.srt.connection import (
    REJ_BADSECRET,
    REJ_UNSECURE,
    REJX_FORBIDDEN,
    ConnectionClosed,
    ConnectRequested,
    PayloadReceived,
    Rejected,
    SrtConnection,
    SrtListener,
)
from ingest.srt.packet import DataPacket, parse
from tests.ingest.srt.srt_caller import SrtCaller

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


def payload(i: int) -> bytes:
    return bytes([0x47]) + i.to_bytes(4, "big") + bytes(183)


def test_handshake_negotiates_latency_and_answers_repeats_the_same() -> None:
    link = Link(SrtCaller(STREAM_ID, latency_ms=400), latency_ms=120)
    connection = link.connect()
    assert connection.latency == pytest.approx(0.4)  # the larger of both sides
    first = connection.conclusion
    link.to_listener([link.caller._conclusion(0)])  # a repeat, even with a stale cookie
    assert len(link.requests) == 1, "never a second connection"
    assert connection.conclusion == first


def test_conclusion_without_our_cookie_is_ignored() -> None:
    link = Link(SrtCaller(STREAM_ID))
    link.to_listener([link.caller._conclusion(12345)])
    assert link.requests == [] and not link.caller.connected


def test_rejection_reaches_the_caller_with_its_code() -> None:
    link = Link(SrtCaller(STREAM_ID))
    link.to_listener([link.caller.induction()])
    link.listener.reject(link.requests[0].request_id, REJX_FORBIDDEN)
    link.pump()
    assert link.caller.rejection == REJX_FORBIDDEN


def test_every_payload_arrives_in_order_through_loss() -> None:
    dropped_once: set[int] = set()

    def lose(direction: str, datagram: bytes) -> bool:
        packet = parse(datagram)
        if direction == "up" and isinstance(packet, DataPacket) and packet.seq % 7 == 3:
            if packet.seq not in dropped_once:  # first transmission lost, retransmission ok
                dropped_once.add(packet.seq)
                return True
        return False

    link = Link(SrtCaller(STREAM_ID), drop=lose)
    connection = link.connect()
    for i in range(500):
        link.to_listener([link.caller.data(payload(i), 10_000 + i * 2000)])
        link.advance(0.002)
    link.advance(1.0)
    assert link.payloads == [payload(i) for i in range(500)]
    assert connection.dropped == 0 and connection.recovered == len(dropped_once) > 50
    assert link.caller.retransmissions >= len(dropped_once)
    assert connection.rtt < 0.1, "RTT measured from ACK/ACKACK"


def test_a_packet_lost_for_good_is_dropped_at_its_deadline_and_counted() -> None:
    def lose(direction: str, datagram: bytes) -> bool:
        packet = parse(datagram)
        return direction == "up" and isinstance(packet, DataPacket) and packet.seq == 1010

    link = Link(SrtCaller(STREAM_ID), drop=lose)
    connection = link.connect()
    for i in range(40):
        link.to_listener([link.caller.data(payload(i), 10_000 + i * 2000)])
        link.advance(0.002)
    assert len(link.payloads) == 10, "held at the gap while a retransmission may come"
    link.advance(0.3)  # past the latency of the packet after the gap
    assert link.payloads == [payload(i) for i in range(40) if i != 10]
    assert connection.dropped == 1


def test_idle_peer_times_out_and_keepalives_are_sent() -> None:
    link = Link(SrtCaller(STREAM_ID))
    link.connect()
    link.advance(1.5)
    assert not link.closed
    link.advance(5.0)
    assert link.closed == ["peer idle timeout"]


def test_encrypted_publish_is_decrypted() -> None:
    link = Link(SrtCaller(STREAM_ID, passphrase="correct horse battery"))
    connection = link.connect(passphrase="correct horse battery")
    assert connection.cipher is not None
    for i in range(20):
        link.to_listener([link.caller.data(payload(i), 10_000 + i * 2000)])
    link.advance(0.05)
    assert link.payloads == [payload(i) for i in range(20)]


@pytest.mark.parametrize(("caller_pass", "listener_pass", "reason"), [
    ("correct horse battery", "wrong horse battery", REJ_BADSECRET),
    ("correct horse battery", None, REJ_UNSECURE),
    (None, "correct horse battery", REJ_UNSECURE),
])
def test_crypto_mismatch_is_rejected_with_the_right_code(
        caller_pass: str | None, listener_pass: str | None, reason: int) -> None:
    link = Link(SrtCaller(STREAM_ID, passphrase=caller_pass))
    link.to_listener([link.caller.induction()])
    request = link.requests[0]
    assert link.listener.check(request.request_id, listener_pass) == reason
    with pytest.raises(Rejected):
        link.listener.accept(request.request_id, passphrase=listener_pass)
    link.pump()
    assert link.caller.rejection == reason
