"""The SRT listener core (sans-IO, aioquic's shape): datagrams and ``now`` in; datagrams to
send, one timer and events out. ``shared/specs/srt.md`` §4-§7.

``SrtListener`` answers inductions statelessly (a SYN cookie: an HMAC of the caller's
address and the minute), turns a valid conclusion into a ``ConnectRequested`` event and
waits for the application's ``accept``/``reject`` (the stream key is checked in the store,
asynchronously); retransmitted conclusions meanwhile are ignored, and once answered get
the same saved answer. ``SrtConnection`` is one accepted caller: loss detection with an
immediate NAK and periodic NAK reports, a full ACK every 10 ms with RTT from ACKACK,
in-order delivery as soon as packets are contiguous (TSBPD only bounds how long a gap is
waited for: at the packet after the gap's delivery time the gap is dropped and counted),
AES-CTR decryption and key refresh, keepalive and peer-idle timeout.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections import deque
from dataclasses import dataclass

from ingest.srt import crypto
from ingest.srt.errors import SrtError
from ingest.srt.packet import (
    ACK,
    ACKACK,
    CONCLUSION,
    DROPREQ,
    EXT_CONGESTION,
    EXT_HSREQ,
    EXT_HSRSP,
    EXT_KMREQ,
    EXT_KMRSP,
    EXT_SID,
    FLAG_HSREQ,
    FLAG_KMREQ,
    HANDSHAKE,
    HS_MAGIC,
    INDUCTION,
    KEEPALIVE,
    NAK,
    SEQ_MASK,
    SHUTDOWN,
    USER,
    Ack,
    ControlPacket,
    DataPacket,
    Handshake,
    encode_loss_list,
    parse,
    seq_add,
    seq_diff,
)
from ingest.srt.streamid import decode_sid

Address = tuple[str, int]

# Rejection reasons (srt.md §4.7): the wire value is 1000 + reason.
REJ_ROGUE, REJ_VERSION, REJ_BADSECRET, REJ_UNSECURE = 4, 8, 10, 11
REJ_MESSAGEAPI, REJ_CONGESTION, REJ_CRYPTO = 12, 13, 17
REJX_BAD_REQUEST, REJX_FORBIDDEN, REJX_NOTFOUND, REJX_BAD_MODE = 1400, 1403, 1404, 1405
REJX_CONFLICT, REJX_OVERLOAD = 1409, 1402

MIN_VERSION = 0x010300
SRT_VERSION = 0x010501
SRT_FLAGS = 0x01 | 0x02 | 0x04 | 0x08 | 0x10 | 0x20  # TSBPD snd/rcv, CRYPT, TLPKTDROP, NAK, REXMIT
STREAM_FLAG = 0x40
SYN_INTERVAL = 0.01
"""Full ACK period (10 ms)."""
KEEPALIVE_INTERVAL = 1.0
COOKIE_PERIOD = 60.0
MAX_PENDING_PACKETS = 8192
"""Packets held waiting for a gap to be filled: about 15 s at 6 Mbit/s."""


@dataclass(frozen=True, slots=True)
class ConnectRequested:
    """A valid conclusion: the application decides with ``accept`` or ``reject``."""

    request_id: int
    addr: Address
    stream_id: str
    encrypted: bool


@dataclass(frozen=True, slots=True)
class PayloadReceived:
    connection: SrtConnection
    payload: bytes | memoryview
    """Clear: a view into the datagram it came in; encrypted: the decrypted bytes."""
    arrival: float


@dataclass(frozen=True, slots=True)
class ConnectionClosed:
    connection: SrtConnection
    reason: str


Event = ConnectRequested | PayloadReceived | ConnectionClosed


@dataclass
class _Pending:
    request_id: int
    addr: Address
    hs: Handshake
    timestamp: int
    now: float
    stream_id: str


class SrtListener:
    def __init__(self, *, secret: bytes, latency_ms: int = 120, socket_id_seed: int = 1,
                 peer_idle_timeout: float = 5.0, mss: int = 1500) -> None:
        self.secret = secret
        self.latency_ms = latency_ms
        self.peer_idle_timeout = peer_idle_timeout
        self.mss = mss
        self.connections: dict[int, SrtConnection] = {}
        self._by_caller: dict[tuple[Address, int], SrtConnection] = {}
        self._pending: dict[tuple[Address, int], _Pending] = {}
        self._rejected: dict[tuple[Address, int], bytes] = {}
        self._out: list[tuple[bytes, Address]] = []
        self._events: deque[Event] = deque()
        self._next_id = socket_id_seed & 0x3FFFFFFF or 1
        self._next_request = 1

    # -- I/O surface -----------------------------------------------------------------------

    def datagrams_to_send(self) -> list[tuple[bytes, Address]]:
        out = self._out
        for connection in self.connections.values():
            out.extend((data, connection.addr) for data in connection.take_datagrams())
        self._out = []
        return out

    def next_event(self) -> Event | None:
        if self._events:
            return self._events.popleft()
        for connection in self.connections.values():
            if connection.events:
                return connection.events.popleft()
        return None

    def get_timer(self) -> float | None:
        timers = [c.get_timer() for c in self.connections.values()]
        return min((t for t in timers if t is not None), default=None)

    def handle_timer(self, now: float) -> None:
        for connection in list(self.connections.values()):
            connection.handle_timer(now)
            if connection.closed:
                self._forget(connection)

    def receive_datagram(self, data: bytes, addr: Address, now: float) -> None:
        """Raises ``SrtError`` for a malformed datagram (the caller drops it)."""
        packet = parse(data)
        if packet.dest:
            connection = self.connections.get(packet.dest)
            if connection is None or connection.addr != addr:
                # Some callers send the conclusion to the listener's id: treat as a handshake.
                if isinstance(packet, ControlPacket) and packet.type == HANDSHAKE:
                    self._handshake(packet, addr, now)
                return
            connection.receive_packet(packet, now)
            if connection.closed:
                self._forget(connection)
            return
        if isinstance(packet, ControlPacket) and packet.type == HANDSHAKE:
            self._handshake(packet, addr, now)
        # Data without a destination: nothing to deliver it to.

    # -- handshake ---------------------------------------------------------------------------

    def _cookie(self, addr: Address, now: float, period_offset: int = 0) -> int:
        minute = int(now // COOKIE_PERIOD) - period_offset
        mac = hmac.new(self.secret, f"{addr[0]}:{addr[1]}:{minute}".encode(), hashlib.sha256)
        return int.from_bytes(mac.digest()[:4], "big")

    def _handshake(self, packet: ControlPacket, addr: Address, now: float) -> None:
        hs = Handshake.parse(packet.cif)
        key = (addr, hs.socket_id)
        if hs.hs_type == INDUCTION:
            response = Handshake(5, 0, HS_MAGIC, hs.isn, self.mss, 8192, INDUCTION,
                                 self._allocate_id(peek=True), self._cookie(addr, now),
                                 hs.peer_ip)
            self._send_hs(response, hs.socket_id, addr, now)
            return
        if hs.hs_type != CONCLUSION:
            return  # AGREEMENT/DONE/WAVEAHAND: rendezvous, not served
        existing = self._by_caller.get(key)
        if existing is not None:
            existing.resend_conclusion()
            return
        if key in self._rejected:
            self._out.append((self._rejected[key], addr))
            return
        if key in self._pending:
            return  # the application is still deciding
        if hs.cookie not in (self._cookie(addr, now), self._cookie(addr, now, 1)):
            return  # not from an induction of ours (or too old): silently ignored
        reason = self._validate(hs)
        stream_id = ""
        sid = hs.extension_body(EXT_SID)
        if reason is None and sid is not None:
            try:
                stream_id = decode_sid(sid)
            except SrtError:
                reason = REJX_BAD_REQUEST
        if reason is not None:
            self._reject(hs, addr, now, reason)
            return
        request = _Pending(self._next_request, addr, hs, packet.timestamp, now, stream_id)
        self._next_request += 1
        self._pending[key] = request
        self._events.append(ConnectRequested(request.request_id, addr, stream_id,
                                             hs.extension_body(EXT_KMREQ) is not None))

    def _validate(self, hs: Handshake) -> int | None:
        if hs.version != 5:
            return REJ_VERSION
        hsreq = hs.extension_body(EXT_HSREQ)
        if hsreq is None or len(hsreq) < 12:
            return REJ_ROGUE
        version, flags, _ = struct.unpack_from(">III", hsreq)
        if version < MIN_VERSION:
            return REJ_VERSION
        if flags & STREAM_FLAG:
            return REJ_MESSAGEAPI
        congestion = hs.extension_body(EXT_CONGESTION)
        if congestion is not None:
            try:
                if decode_sid(congestion) not in ("live", ""):
                    return REJ_CONGESTION
            except SrtError:
                return REJ_ROGUE
        return None

    def _find(self, request_id: int) -> _Pending:
        for pending in self._pending.values():
            if pending.request_id == request_id:
                return pending
        raise KeyError(request_id)

    def check(self, request_id: int, passphrase: str | None) -> int | None:
        """The rejection reason the caller's crypto state earns with ``passphrase`` (None:
        acceptable), without answering anything yet (srt.md §7.4)."""
        return self._crypto(self._find(request_id).hs, passphrase)[1]

    @staticmethod
    def _crypto(hs: Handshake, passphrase: str | None
                ) -> tuple[crypto.PayloadCipher | None, int | None]:
        kmreq = hs.extension_body(EXT_KMREQ)
        if (kmreq is None) != (not passphrase):
            return None, REJ_UNSECURE  # one side has a passphrase, the other not
        if kmreq is None or not passphrase:
            return None, None
        try:
            cipher = crypto.PayloadCipher()
            cipher.install(crypto.parse_km(kmreq), passphrase)
        except crypto.BadSecret:
            return None, REJ_BADSECRET
        except crypto.UnsupportedCipher:
            return None, REJ_CRYPTO  # AES-GCM: not offered
        except SrtError:
            return None, REJ_ROGUE
        return cipher, None

    def accept(self, request_id: int, *, passphrase: str | None = None) -> SrtConnection:
        """Answer the conclusion; with a passphrase the caller's key material must unwrap
        with it, else the caller is rejected and ``Rejected`` raised."""
        pending = self._find(request_id)
        hs = pending.hs
        key = (pending.addr, hs.socket_id)
        kmreq = hs.extension_body(EXT_KMREQ)
        cipher, reason = self._crypto(hs, passphrase)
        if reason is not None:
            self._pending.pop(key, None)
            self._reject(hs, pending.addr, pending.now, reason)
            raise Rejected(reason, "crypto state does not match")
        self._pending.pop(key, None)
        hsreq = hs.extension_body(EXT_HSREQ) or bytes(12)
        _, _, delays = struct.unpack_from(">III", hsreq)
        caller_rcv, caller_snd = delays >> 16 & 0xFFFF, delays & 0xFFFF
        # Latency: the max of both sides' proposals, each direction (srt.md §4.3).
        rcv_latency = max(self.latency_ms, caller_snd)
        peer_latency = max(0, caller_rcv)
        socket_id = self._allocate_id()
        connection = SrtConnection(socket_id, hs.socket_id, pending.addr, isn=hs.isn,
                                   latency_ms=rcv_latency, hs_timestamp=pending.timestamp,
                                   now=pending.now, cipher=cipher,
                                   passphrase=passphrase or None,
                                   peer_idle_timeout=self.peer_idle_timeout)
        extensions = [(EXT_HSRSP, struct.pack(">III", SRT_VERSION, SRT_FLAGS,
                                              rcv_latency << 16 | peer_latency))]
        flags = FLAG_HSREQ
        if kmreq is not None:
            extensions.append((EXT_KMRSP, kmreq))  # the caller's keys serve both ways
            flags |= FLAG_KMREQ
        response = Handshake(5, hs.encryption if kmreq is not None else 0, flags, hs.isn,
                             min(self.mss, hs.mss or self.mss), 8192, CONCLUSION, socket_id, 0,
                             hs.peer_ip, tuple(extensions))
        connection.conclusion = ControlPacket(HANDSHAKE, 0, hs.socket_id,
                                              cif=response.encode()).encode()
        connection.resend_conclusion()
        self.connections[socket_id] = connection
        self._by_caller[key] = connection
        return connection

    def reject(self, request_id: int, reason: int) -> None:
        """Refuse the conclusion with ``reason`` (a REJ_* or a REJX_* value)."""
        pending = self._find(request_id)
        self._pending.pop((pending.addr, pending.hs.socket_id), None)
        self._reject(pending.hs, pending.addr, pending.now, reason)

    def _reject(self, hs: Handshake, addr: Address, now: float, reason: int) -> None:
        response = Handshake(5, 0, 0, hs.isn, self.mss, 8192, 1000 + reason, 0, 0, hs.peer_ip)
        data = ControlPacket(HANDSHAKE, 0, hs.socket_id, cif=response.encode()).encode()
        self._out.append((data, addr))
        if len(self._rejected) > 1024:
            self._rejected.clear()
        self._rejected[(addr, hs.socket_id)] = data

    def _send_hs(self, hs: Handshake, dest: int, addr: Address, now: float) -> None:
        self._out.append((ControlPacket(HANDSHAKE, 0, dest, cif=hs.encode()).encode(), addr))

    def _allocate_id(self, *, peek: bool = False) -> int:
        while self._next_id in self.connections or self._next_id == 0:
            self._next_id = (self._next_id + 1) & 0x3FFFFFFF
        socket_id = self._next_id
        if not peek:
            self._next_id = (self._next_id + 1) & 0x3FFFFFFF
        return socket_id

    def _forget(self, connection: SrtConnection) -> None:
        self._events.extend(connection.events)  # its last events (the close) still go out
        connection.events.clear()
        self.connections.pop(connection.socket_id, None)
        self._by_caller.pop((connection.addr, connection.peer_id), None)

    def close(self, connection: SrtConnection, reason: str) -> None:
        """Shut one connection down (server stop, kick): SHUTDOWN to the caller."""
        connection.shutdown(reason)
        self._out.extend((d, connection.addr) for d in connection.take_datagrams())
        self._forget(connection)


class Rejected(Exception):
    def __init__(self, reason: int, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class SrtConnection:
    """One accepted caller: the receiving half of SRT live mode."""

    def __init__(self, socket_id: int, peer_id: int, addr: Address, *, isn: int,
                 latency_ms: int, hs_timestamp: int, now: float,
                 cipher: crypto.PayloadCipher | None, passphrase: str | None,
                 peer_idle_timeout: float = 5.0) -> None:
        self.socket_id = socket_id
        self.peer_id = peer_id
        self.addr = addr
        self.latency = latency_ms / 1000
        self.cipher = cipher
        self.passphrase = passphrase
        self.peer_idle_timeout = peer_idle_timeout
        self.conclusion = b""
        self.events: deque[Event] = deque()
        self.closed = False
        self.close_reason = ""
        self._out: list[bytes] = []
        self._start = now
        # TSBPD: the caller's clock (µs) mapped onto ours at the conclusion (srt.md §6.4).
        self._time_base = now - hs_timestamp / 1e6
        self._ts_high = 0  # wrap-extended high part of the caller's 32-bit timestamps
        self._last_ts = hs_timestamp
        self._next = isn  # next sequence number to deliver
        self._max_seen = seq_add(isn, -1)
        # seq -> payload, due, arrival
        self._buffer: dict[int, tuple[bytes | memoryview, float, float]] = {}
        self._losses: dict[int, float] = {}  # missing seq -> when last reported
        self._last_received = now
        self._last_sent = now
        self._last_ack_point = -1
        self._ack_number = 0
        self._acks_sent: dict[int, float] = {}
        self._next_ack = now + SYN_INTERVAL
        self._next_nak = now + 0.02
        self._losses_reported = False
        self.rtt = 0.1
        self.rtt_var = 0.05
        # Counters for health and tests.
        self.packets = 0
        self.bytes = 0
        self.retransmitted = 0
        self.lost = 0
        """Sequence numbers found missing (a gap when a later packet came): the caller's
        retransmission recovers them (``recovered``) or they are ``dropped``."""
        self.recovered = 0
        self.dropped = 0
        self.duplicates = 0
        self.naks_sent = 0

    # -- input ---------------------------------------------------------------------------

    def receive_packet(self, packet: DataPacket | ControlPacket, now: float) -> None:
        if self.closed:
            return
        self._last_received = now
        if isinstance(packet, DataPacket):
            self._data(packet, now)
        else:
            self._control(packet, now)
        self._deliver(now)

    def _extend_ts(self, ts: int) -> float:
        """Caller timestamp (µs, wraps every 71 min) to seconds on one growing axis."""
        if ts < 0x40000000 and self._last_ts > 0xC0000000:
            self._ts_high += 1 << 32
        elif ts > 0xC0000000 and self._last_ts < 0x40000000 and self._ts_high:
            return (self._ts_high - (1 << 32) + ts) / 1e6  # a late packet from before a wrap
        self._last_ts = ts
        return (self._ts_high + ts) / 1e6

    def _data(self, packet: DataPacket, now: float) -> None:
        seq = packet.seq
        self.packets += 1
        if packet.retransmitted:
            self.retransmitted += 1
        behind = seq_diff(seq, self._next)
        if behind < 0 or seq in self._buffer:
            self.duplicates += 1
            return
        if len(self._buffer) >= MAX_PENDING_PACKETS:
            raise SrtError("too many packets waiting for a retransmission", "limit")
        payload = packet.payload
        if packet.kk:
            if self.cipher is None:
                raise SrtError("encrypted packet on a clear connection", "crypto")
            payload = self.cipher.decrypt(seq, packet.kk, payload)
        due = self._time_base + self._extend_ts(packet.timestamp) + self.latency
        self._buffer[seq] = (payload, due, now)
        self.bytes += len(payload)
        if seq in self._losses:
            del self._losses[seq]
            self.recovered += 1
        gap = seq_diff(seq, self._max_seen)
        if gap > 1:
            first = seq_add(self._max_seen, 1)
            last = seq_add(seq, -1)
            self.lost += gap - 1
            for i in range(gap - 1):
                self._losses[seq_add(first, i)] = now
            self._send_nak([(first, last)], now)
        if gap > 0:
            self._max_seen = seq

    def _control(self, packet: ControlPacket, now: float) -> None:
        kind = packet.type
        if kind == ACKACK:
            sent = self._acks_sent.pop(packet.info, None)
            if sent is not None:
                sample = now - sent
                self.rtt_var = 0.75 * self.rtt_var + 0.25 * abs(self.rtt - sample)
                self.rtt = 0.875 * self.rtt + 0.125 * sample
        elif kind == SHUTDOWN:
            self._deliver_all()  # what arrived is delivered; only the gaps are lost
            self._close("closed by peer")
        elif kind == DROPREQ:
            if len(packet.cif) >= 8:
                first, last = struct.unpack_from(">II", packet.cif)
                self._drop_range(first & SEQ_MASK, last & SEQ_MASK)
        elif kind == HANDSHAKE:
            self.resend_conclusion()  # our answer was lost: the caller repeats its request
        elif kind == USER and packet.subtype == 3:  # KMREQ: key refresh
            self._key_refresh(packet.cif, now)
        # KEEPALIVE, ACK, NAK (we send no data), CONGESTION, PEERERROR: nothing to do.

    def _key_refresh(self, cif: bytes, now: float) -> None:
        if self.cipher is None or self.passphrase is None:
            answer = struct.pack("<I", 3)  # NOSECRET, host order as libsrt sends it
        else:
            try:
                self.cipher.install(crypto.parse_km(cif), self.passphrase)
                answer = cif
            except crypto.BadSecret:
                answer = struct.pack("<I", 4)  # BADSECRET
        self._send(ControlPacket(USER, self._ts(now), self.peer_id, subtype=4, cif=answer), now)

    def _drop_range(self, first: int, last: int) -> None:
        n = seq_diff(last, first)
        if n < 0 or n > MAX_PENDING_PACKETS:
            return
        for i in range(n + 1):
            self._losses.pop(seq_add(first, i), None)
        if seq_diff(first, self._next) <= 0 <= seq_diff(last, self._next):
            self.dropped += seq_diff(last, self._next) + 1
            self._next = seq_add(last, 1)
            if seq_diff(self._max_seen, self._next) < -1:
                self._max_seen = seq_add(self._next, -1)

    # -- delivery ------------------------------------------------------------------------

    def _deliver(self, now: float) -> None:
        while True:
            entry = self._buffer.pop(self._next, None)
            if entry is not None:
                self.events.append(PayloadReceived(self, entry[0], entry[2]))
                self._next = seq_add(self._next, 1)
                continue
            if not self._buffer or seq_diff(self._max_seen, self._next) < 0:
                return
            # A gap at the head: wait for the retransmission until the first packet after
            # it is due (TSBPD), then drop the gap (too late) and go on.
            after = self._first_buffered()
            if after is None or now < self._buffer[after][1]:
                return
            skipped = seq_diff(after, self._next)
            for i in range(skipped):
                self._losses.pop(seq_add(self._next, i), None)
            self.dropped += skipped
            self._next = after

    def _deliver_all(self) -> None:
        while self._buffer:
            after = self._first_buffered()
            if after is None:
                return
            skipped = seq_diff(after, self._next)
            self.dropped += skipped
            self._next = after
            self._deliver(float("-inf"))
        self._losses.clear()

    def _first_buffered(self) -> int | None:
        best: int | None = None
        best_distance = 1 << 31
        for seq in self._buffer:
            distance = seq_diff(seq, self._next)
            if 0 <= distance < best_distance:
                best, best_distance = seq, distance
        return best

    # -- timers --------------------------------------------------------------------------

    def get_timer(self) -> float | None:
        if self.closed:
            return None
        timers = [self._next_ack, self._last_received + self.peer_idle_timeout,
                  self._last_sent + KEEPALIVE_INTERVAL]
        if self._losses:
            timers.append(self._next_nak)
        if self._buffer:
            head = self._first_buffered()
            if head is not None:
                timers.append(self._buffer[head][1])
        return min(timers)

    def handle_timer(self, now: float) -> None:
        if self.closed:
            return
        if now - self._last_received >= self.peer_idle_timeout:
            self._deliver_all()
            self._close("peer idle timeout")
            return
        self._deliver(now)
        if now >= self._next_ack:
            self._send_ack(now)
            self._next_ack = now + SYN_INTERVAL
        if self._losses and now >= self._next_nak:
            self._send_nak(self._loss_ranges(), now, periodic=True)
        elif not self._losses:
            self._losses_reported = False
        if now - self._last_sent >= KEEPALIVE_INTERVAL:
            self._send(ControlPacket(KEEPALIVE, self._ts(now), self.peer_id), now)

    def _ack_point(self) -> int:
        """The first sequence number not yet received contiguously."""
        seq = self._next
        while seq in self._buffer:
            seq = seq_add(seq, 1)
        return seq

    def _send_ack(self, now: float) -> None:
        point = self._ack_point()
        if point == self._last_ack_point:
            return  # nothing new: keepalives carry the liveness
        self._last_ack_point = point
        self._ack_number = (self._ack_number + 1) & 0xFFFFFFFF or 1
        self._acks_sent[self._ack_number] = now
        if len(self._acks_sent) > 64:
            self._acks_sent.pop(next(iter(self._acks_sent)))
        ack = Ack(point, int(self.rtt * 1e6), int(self.rtt_var * 1e6),
                  max(2, MAX_PENDING_PACKETS - len(self._buffer)), 0, 0, 0)
        self._send(ControlPacket(ACK, self._ts(now), self.peer_id, info=self._ack_number,
                                 cif=ack.encode()), now)

    def _loss_ranges(self) -> list[tuple[int, int]]:
        ordered = sorted(self._losses, key=lambda s: seq_diff(s, self._next))
        ranges: list[tuple[int, int]] = []
        for seq in ordered:
            if ranges and seq == seq_add(ranges[-1][1], 1):
                ranges[-1] = (ranges[-1][0], seq)
            else:
                ranges.append((seq, seq))
        return ranges

    def _send_nak(self, ranges: list[tuple[int, int]], now: float, *,
                  periodic: bool = False) -> None:
        if not ranges:
            return
        self.naks_sent += 1
        self._send(ControlPacket(NAK, self._ts(now), self.peer_id,
                                 cif=encode_loss_list(ranges[:300])), now)
        if periodic or not self._losses_reported:
            # Only the periodic report moves its own timer: the immediate NAKs of new gaps
            # (every few packets under heavy loss) must not postpone the re-reports of
            # older losses whose NAK or retransmission was lost.
            self._next_nak = now + max(0.02, (self.rtt + 4 * self.rtt_var) / 2)
        self._losses_reported = True

    # -- output --------------------------------------------------------------------------

    def _ts(self, now: float) -> int:
        return int((now - self._start) * 1e6) & 0xFFFFFFFF

    def _send(self, packet: ControlPacket, now: float) -> None:
        self._out.append(packet.encode())
        self._last_sent = now

    def resend_conclusion(self) -> None:
        if self.conclusion:
            self._out.append(self.conclusion)

    def take_datagrams(self) -> list[bytes]:
        out, self._out = self._out, []
        return out

    def shutdown(self, reason: str) -> None:
        if not self.closed:
            self._out.append(ControlPacket(SHUTDOWN, 0, self.peer_id, cif=bytes(4)).encode())
            self._close(reason)

    def _close(self, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        self.events.append(ConnectionClosed(self, reason))

