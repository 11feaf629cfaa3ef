"""Our listener core against our test caller, back to back with an injected clock and
scripted loss: handshake, rejections, every payload delivered in order through loss,
too-late drops counted, keepalive and idle timeout, encryption."""

from __future__ import annotations

import pytest

from ingest.srt.connection import (
    REJ_BADSECRET,
    REJ_UNSECURE,
    REJX_FORBIDDEN,
    Rejected,
)
from ingest.srt.packet import DataPacket, parse
from tests.ingest.srt.srt_caller_testing import SrtCaller
from tests.ingest.srt.srt_testing import STREAM_ID, Link


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
