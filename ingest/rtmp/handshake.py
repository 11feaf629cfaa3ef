"""Server side of the RTMP handshake (rtmp.md §1): C0+C1 → S0+S1+S2 → C2.

The plain handshake is the default and leaves S1 bytes 4-7 zero, which is what makes
crypto-enabled librtmp fall back to plain instead of checking a server digest. Only when C1
carries a valid Flash-Player-9 client digest do we answer with the digest variant (§1.3), for
Flash-era encoders that insist on it. C2 is read but never checked (§1.2).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable
from typing import Final

from ingest.rtmp.errors import RtmpError

RTMP_VERSION: Final = 3
PACKET_SIZE: Final = 1536
DIGEST_SIZE: Final = 32

_CRUD: Final = bytes.fromhex(
    "F0EEC24A8068BEE82E00D0D1029E7E576EEC5D2D29806FAB93B8E636CFEB31AE")
FP_KEY: Final = b"Genuine Adobe Flash Player 001" + _CRUD
FMS_KEY: Final = b"Genuine Adobe Flash Media Server 001" + _CRUD
SERVER_VERSION: Final = b"\x04\x05\x00\x01"

# librtmp's encrypted variants (6 RTMPE, 8/9 its XTEA/Blowfish flavours): answering 3 would
# only make the client fail later and less clearly.
_ENCRYPTED_VERSIONS: Final = frozenset({6, 8, 9})


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def digest_offset(packet: bytes, layout: int) -> int:
    """Where the 32-byte digest sits in a C1/S1: layout 0 = digest first (offset bytes at
    8-11), layout 1 = key first (offset bytes at 772-775)."""
    base = 8 if layout == 0 else 772
    return base + 4 + sum(packet[base:base + 4]) % 728


def packet_digest(packet: bytes, layout: int, key: bytes) -> bytes:
    """HMAC of the 1536-byte packet without its digest bytes."""
    at = digest_offset(packet, layout)
    return hmac_sha256(key, packet[:at] + packet[at + DIGEST_SIZE:])


def find_client_digest(c1: bytes) -> tuple[int, bytes] | None:
    """(layout, digest) of a C1 that proves a Flash Player 9 client, else None."""
    if c1[4:8] == b"\x00\x00\x00\x00":
        return None
    for layout in (0, 1):
        at = digest_offset(c1, layout)
        if hmac.compare_digest(c1[at:at + DIGEST_SIZE], packet_digest(c1, layout, FP_KEY[:30])):
            return layout, c1[at:at + DIGEST_SIZE]
    return None


class ServerHandshake:
    """Feed client bytes to ``receive_data``; send ``data_to_send()``; stop when complete.

    ``receive_data`` returns how many of the given bytes belonged to the handshake; the rest
    (ffmpeg sends ``connect`` right behind C2) is chunk stream data for the caller.
    """

    def __init__(self, random_bytes: Callable[[int], bytes] = os.urandom) -> None:
        self._random = random_bytes
        self._buf = bytearray()
        self._need = 1 + PACKET_SIZE
        self._out = bytearray()
        self.complete = False
        self.digest_layout: int | None = None
        """The digest layout the client used, or None after a plain handshake."""

    def receive_data(self, data: bytes | bytearray | memoryview) -> int:
        used = 0
        while used < len(data) and not self.complete:
            if not self._buf and self._need == 1 + PACKET_SIZE:
                self._check_version(data[used])
            take = min(len(data) - used, self._need - len(self._buf))
            self._buf += data[used:used + take]
            used += take
            if len(self._buf) == self._need:
                if self._need == 1 + PACKET_SIZE:
                    self._answer(bytes(self._buf[1:]))
                    self._need = PACKET_SIZE
                else:
                    self.complete = True
                self._buf.clear()
        return used

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    @staticmethod
    def _check_version(version: int) -> None:
        if version >= 32:  # e.g. 'G' of an HTTP request
            raise RtmpError(f"not RTMP (C0 = {version:#04x})", "handshake")
        if version == 0x16:  # a reserved version no client uses, but TLS's first byte
            raise RtmpError("TLS ClientHello on the plain RTMP port", "handshake")
        if version in _ENCRYPTED_VERSIONS:
            raise RtmpError(f"encrypted RTMP (version {version}) is not supported",
                            "handshake")

    def _answer(self, c1: bytes) -> None:
        found = find_client_digest(c1)
        if found is None:
            s1 = bytes(8) + self._random(PACKET_SIZE - 8)
            s2 = c1[:4] + bytes(4) + c1[8:]  # time2 = 0: the core reads no clock
        else:
            layout, client_digest = found
            self.digest_layout = layout
            s1 = bytes(4) + SERVER_VERSION + self._random(PACKET_SIZE - 8)
            at = digest_offset(s1, layout)
            s1 = s1[:at] + packet_digest(s1, layout, FMS_KEY[:36]) + s1[at + DIGEST_SIZE:]
            s2_random = self._random(PACKET_SIZE - DIGEST_SIZE)
            s2_key = hmac_sha256(FMS_KEY, client_digest)
            s2 = s2_random + hmac_sha256(s2_key, s2_random)
        self._out += bytes([RTMP_VERSION])
        self._out += s1
        self._out += s2
