"""Handshake: plain by default (S1 bytes 4-7 zero), FP9 digest when C1 proves one (§1)."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest

from ingest.errors import ProtocolError
from ingest.rtmp.handshake import ServerHandshake

CRUD = bytes.fromhex("F0EEC24A8068BEE82E00D0D1029E7E576EEC5D2D29806FAB93B8E636CFEB31AE")
FP_KEY = b"Genuine Adobe Flash Player 001" + CRUD
FMS_KEY = b"Genuine Adobe Flash Media Server 001" + CRUD


def hmac256(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


def offset(packet: bytes, layout: int) -> int:
    # Written out from rtmp.md §1.3 independently of the module under test.
    if layout == 0:
        return 12 + sum(packet[8:12]) % 728
    return 776 + sum(packet[772:776]) % 728


def fp9_c1(layout: int, seed: int) -> tuple[bytes, bytes]:
    rng = random.Random(seed)
    c1 = bytearray(rng.randbytes(1536))
    c1[0:4] = bytes(4)
    c1[4:8] = bytes([9, 0, 124, 2])
    at = offset(bytes(c1), layout)
    digest = hmac256(FP_KEY[:30], bytes(c1[:at] + c1[at + 32:]))
    c1[at:at + 32] = digest
    return bytes(c1), digest


def run(data: bytes, pieces: int = 1) -> tuple[ServerHandshake, bytes, int]:
    hs = ServerHandshake(random_bytes=random.Random(7).randbytes)
    used = 0
    step = max(1, len(data) // pieces)
    for start in range(0, len(data), step):
        used += hs.receive_data(data[start:start + step])
    return hs, hs.data_to_send(), used


def test_plain_handshake() -> None:
    c1 = bytes(8) + random.Random(1).randbytes(1528)
    hs, out, used = run(b"\x03" + c1 + bytes(1536) + b"after")
    assert hs.complete and hs.digest_layout is None
    assert used == 1 + 2 * 1536  # "after" belongs to the chunk stream
    assert len(out) == 1 + 2 * 1536 and out[0] == 3
    s1, s2 = out[1:1537], out[1537:]
    assert s1[4:8] == bytes(4)
    assert s2[:4] == c1[:4] and s2[8:] == c1[8:]


def test_unverifiable_fp9_c1_gets_plain_answer() -> None:
    """ffmpeg's C1 (version 09 00 7c 02) with a digest we cannot verify: plain, S1[4:8] = 0."""
    c1 = bytes(4) + bytes([9, 0, 124, 2]) + random.Random(2).randbytes(1528)
    hs, out, _ = run(b"\x03" + c1 + bytes(1536))
    assert hs.digest_layout is None and out[5:9] == bytes(4)


@pytest.mark.parametrize("layout", [0, 1])
def test_fp9_digest_handshake(layout: int) -> None:
    c1, client_digest = fp9_c1(layout, seed=layout)
    hs, out, _ = run(b"\x03" + c1 + bytes(1536))
    assert hs.complete and hs.digest_layout == layout
    s1, s2 = out[1:1537], out[1537:]
    assert s1[4:8] != bytes(4)
    # The server digest sits in the client's layout and signs S1 with FMSKey[0:36] ...
    at = offset(s1, layout)
    assert s1[at:at + 32] == hmac256(FMS_KEY[:36], s1[:at] + s1[at + 32:])
    # ... and S2 ends with HMAC(HMAC(FMSKey, client digest), S2[0:1504]) (§1.3 step 4).
    assert s2[1504:] == hmac256(hmac256(FMS_KEY, client_digest), s2[:1504])


@pytest.mark.parametrize("pieces", [2, 7, 3073])
def test_any_split_gives_same_answer(pieces: int) -> None:
    c1, _ = fp9_c1(1, seed=9)
    data = b"\x03" + c1 + bytes(1536)
    assert run(data, pieces)[1] == run(data)[1]
    assert run(data, pieces)[0].complete


@pytest.mark.parametrize("version", [0x47, 0x16, 0xFF, 6, 8, 9])
def test_refused_versions(version: int) -> None:
    with pytest.raises(ProtocolError) as info:
        ServerHandshake().receive_data(bytes([version]))
    assert info.value.code == "handshake"


@pytest.mark.parametrize("version", [0, 3, 4, 31])
def test_other_versions_answered_with_3(version: int) -> None:
    _, out, _ = run(bytes([version]) + bytes(3072))
    assert out[0] == 3
