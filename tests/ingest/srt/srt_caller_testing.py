"""A minimal SRT caller for back-to-back tests of our listener: induction, conclusion with
HSREQ, stream id and key material, live data packets, ACKACK and retransmission on NAK.
Written from the spec like the listener, so the interop tests (libsrt) stay the judge."""

from __future__ import annotations

import os
import struct

from ingest.srt import crypto
from ingest.srt.packet import (
    ACK,
    ACKACK,
    CONCLUSION,
    EXT_HSREQ,
    EXT_KMREQ,
    EXT_SID,
    FLAG_CONFIG,
    FLAG_HSREQ,
    FLAG_KMREQ,
    HANDSHAKE,
    INDUCTION,
    NAK,
    ControlPacket,
    DataPacket,
    Handshake,
    decode_loss_list,
    parse,
    seq_add,
)
from ingest.srt.streamid import encode_sid


class SrtCaller:
    def __init__(self, stream_id: str, *, socket_id: int = 0x1234567, isn: int = 1000,
                 latency_ms: int = 120, passphrase: str | None = None) -> None:
        self.stream_id = stream_id
        self.socket_id = socket_id
        self.isn = isn
        self.latency_ms = latency_ms
        self.passphrase = passphrase
        self.peer_id = 0
        self.connected = False
        self.rejection: int | None = None
        self.cipher: crypto.PayloadCipher | None = None
        self.km = b""
        if passphrase:
            salt, sek = os.urandom(16), os.urandom(16)
            km = crypto.wrap_keys(passphrase, salt, even=sek)
            self.km = km.encode()
            self.cipher = crypto.PayloadCipher()
            self.cipher.set_keys(salt, even=sek)
        self.next_seq = isn
        self.msgno = 1
        self.sent: dict[int, bytes] = {}  # seq -> datagram, for retransmission
        self.retransmissions = 0
        self.acked = isn

    def induction(self) -> bytes:
        hs = Handshake(4, 0, 2, self.isn, 1500, 8192, INDUCTION, self.socket_id, 0)
        return ControlPacket(HANDSHAKE, 0, 0, cif=hs.encode()).encode()

    def _conclusion(self, cookie: int) -> bytes:
        # SRTO_LATENCY sets both: our receive delay and what we ask of the peer.
        delays = self.latency_ms << 16 | self.latency_ms
        extensions = [(EXT_HSREQ, struct.pack(">III", 0x010501, 0xBF, delays))]
        flags = FLAG_HSREQ
        if self.km:
            extensions.append((EXT_KMREQ, self.km))
            flags |= FLAG_KMREQ
        if self.stream_id:
            extensions.append((EXT_SID, encode_sid(self.stream_id)))
            flags |= FLAG_CONFIG
        hs = Handshake(5, 2 if self.km else 0, flags, self.isn, 1500, 8192, CONCLUSION,
                       self.socket_id, cookie, bytes(16), tuple(extensions))
        return ControlPacket(HANDSHAKE, 10_000, 0, cif=hs.encode()).encode()

    def receive(self, datagram: bytes) -> list[bytes]:
        """What the caller sends back in answer to one datagram from the listener."""
        packet = parse(datagram)
        if not isinstance(packet, ControlPacket):
            return []
        if packet.type == HANDSHAKE:
            hs = Handshake.parse(packet.cif)
            if hs.hs_type == INDUCTION:
                return [self._conclusion(hs.cookie)]
            if hs.hs_type == CONCLUSION:
                self.connected = True
                self.peer_id = hs.socket_id
            elif hs.hs_type >= 1000:
                self.rejection = hs.hs_type - 1000
            return []
        if packet.type == ACK:
            self.acked = int.from_bytes(packet.cif[:4], "big")
            if packet.info:
                return [ControlPacket(ACKACK, 0, self.peer_id, info=packet.info).encode()]
            return []
        if packet.type == NAK:
            out = []
            for first, last in decode_loss_list(packet.cif):
                seq = first
                while True:
                    if seq in self.sent:
                        out.append(self._flag_retransmit(self.sent[seq]))
                        self.retransmissions += 1
                    if seq == last:
                        break
                    seq = seq_add(seq, 1)
            return out
        return []

    @staticmethod
    def _flag_retransmit(datagram: bytes) -> bytes:
        word1 = int.from_bytes(datagram[4:8], "big") | 1 << 26
        return datagram[:4] + word1.to_bytes(4, "big") + datagram[8:]

    def data(self, payload: bytes, timestamp_us: int) -> bytes:
        seq = self.next_seq
        kk = 0
        if self.cipher is not None:
            kk = 1
            payload = self.cipher.encrypt(seq, kk, payload)
        datagram = DataPacket(seq, self.msgno, timestamp_us, self.peer_id, payload,
                              kk=kk).encode()
        self.sent[seq] = datagram
        self.next_seq = seq_add(seq, 1)
        self.msgno += 1
        return datagram
