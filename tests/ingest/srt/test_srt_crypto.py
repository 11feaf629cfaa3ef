"""SRT encryption (srt.md §7): KM messages, KEK derivation, key (un)wrap and AES-CTR payloads,
checked against what real libsrt sent.

Fixtures (``tests/fixtures/srt/``), captured from ``srt-live-transmit`` 1.5.1 (Debian
srt-tools, libsrt 1.5.1) by ``capture()`` below -- a throwaway listener on a plain UDP socket
that answers the induction (version 5, 0x4A17, a cookie) and the conclusion (HSRSP + the KMREQ
echoed as KMRSP), ACKs every 10 ms and echoes key-refresh KMREQs (srt.md §9). The caller ran
``srt-live-transmit -q file://con "srt://127.0.0.1:PORT?passphrase=PASSPHRASE&streamid=SID&..."``
with SID ``#!::r=live/key1,m=publish`` (as is: srt-live-transmit does not percent-decode it) and
read ``plaintext()`` (188-byte TS packets, PID 0x100, SHAKE-128 payload) from stdin, so
every decrypted payload must be a slice of that stream. Each file is a run of records,
``u16 length`` (big-endian) + one UDP datagram, in arrival order:

- ``slt_aes128.bin`` (``&pbkeylen=16``): the conclusion request (KMREQ, KK = even), then the
  first 4 data packets (KK = 01, 1456-byte payloads).
- ``slt_aes256_refresh.bin`` (``&pbkeylen=32&kmrefreshrate=64&kmpreannounce=16``; libsrt
  raised the preannounce to 31): the conclusion request, the first data packet, the first
  key-refresh KMREQ (control 0x7FFF/3, KK = both: old even + new odd), the last even packet and
  the first two odd ones, the second KMREQ (new even + current odd), the last odd packet and
  the first two packets under the new even key.

Regenerate with ``.venv/bin/python -m tests.ingest.srt.test_srt_crypto`` (the salt and keys are
random, so the bytes change; the tests do not depend on them).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.errors import ProtocolError
from ingest.srt import crypto
from ingest.srt.crypto import (
    BadSecret,
    KeyMaterial,
    PayloadCipher,
    UnsupportedCipher,
    derive_kek,
    parse_km,
    unwrap_keys,
    wrap_keys,
)
from ingest.srt.errors import SrtError
from ingest.srt.streamid import decode_sid, parse_stream_id

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "srt"
PASSPHRASE = "mediad-fixture-pass"
STREAM_ID = "#!::r=live/key1,m=publish"
PLAIN_TS_PACKETS = 6000

# --- helpers written from srt.md, independently of ingest/srt/packet.py ---------------------


def plaintext(n_packets: int = PLAIN_TS_PACKETS) -> bytes:
    """What the caller was fed: TS packets with sync byte 0x47 and a deterministic payload."""
    stream = hashlib.shake_128(b"mediad srt fixture").digest(184 * n_packets)
    out = bytearray()
    for i in range(n_packets):
        out += bytes([0x47, 0x01, 0x00, 0x10 | (i & 0x0F)]) + stream[184 * i:184 * (i + 1)]
    return bytes(out)


def load(name: str) -> list[bytes]:
    data = (FIXTURES / name).read_bytes()
    records, at = [], 0
    while at < len(data):
        (size,) = struct.unpack_from(">H", data, at)
        records.append(data[at + 2:at + 2 + size])
        at += 2 + size
    return records


def save(name: str, records: list[bytes]) -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    (FIXTURES / name).write_bytes(b"".join(struct.pack(">H", len(r)) + r for r in records))


def is_control(datagram: bytes) -> bool:
    return bool(datagram[0] & 0x80)


def data_fields(datagram: bytes) -> tuple[int, int, bytes]:
    """(sequence number, KK, payload) of a data packet."""
    word0, word1 = struct.unpack_from(">II", datagram)
    return word0 & 0x7FFFFFFF, word1 >> 27 & 3, datagram[16:]


def hs_extensions(datagram: bytes) -> dict[int, bytes]:
    cif, out, at = datagram[16:], {}, 48
    while at + 4 <= len(cif):
        kind, words = struct.unpack_from(">HH", cif, at)
        out[kind] = cif[at + 4:at + 4 + 4 * words]
        at += 4 + 4 * words
    return out


def kmreq_of(conclusion: bytes) -> KeyMaterial:
    return parse_km(hs_extensions(conclusion)[3])


def check_payload(plain: bytes, payload: bytes) -> int:
    """Where the decrypted ``payload`` sits in the fed stream; asserts the TS sync bytes."""
    at = plain.find(payload)
    assert at >= 0, "payload did not decrypt to the fed stream"
    syncs = [i for i in range(len(payload)) if (at + i) % 188 == 0]
    assert syncs and all(payload[i] == 0x47 for i in syncs)
    return at


# --- the throwaway listener that made the fixtures ---------------------------------------------


def _control(kind: int, info: int, ts: int, dest: int, cif: bytes, subtype: int = 0) -> bytes:
    return struct.pack(">IIII", 0x80000000 | kind << 16 | subtype, info, ts, dest) + cif


def _hs(enc: int, ext: int, isn: int, hs_type: int, socket_id: int, cookie: int) -> bytes:
    return struct.pack(">IHHIIIIII", 5, enc, ext, isn, 1500, 8192, hs_type, socket_id,
                       cookie) + bytes([1, 0, 0, 127]) + bytes(12)


def capture(uri_options: str, *, passphrase: str = PASSPHRASE, data_packets: int = 6,
            pace: float = 0.0005, timeout: float = 15.0) -> tuple[list[bytes], str]:
    """Every datagram ``srt-live-transmit`` sends (induction excepted) until ``data_packets``
    data packets arrived, and its stderr. The caller is fed 7 TS packets every ``pace``
    seconds (at least)."""
    binary = shutil.which("srt-live-transmit")
    assert binary is not None
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.01)
    port = sock.getsockname()[1]
    uri = (f"srt://127.0.0.1:{port}?passphrase={passphrase}"
           f"&streamid={STREAM_ID}{uri_options}")  # sent as is: no percent-decoding
    proc = subprocess.Popen([binary, "-q", "file://con", uri], stdin=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    feed_data = plaintext()

    def feed() -> None:
        assert proc.stdin is not None
        try:
            for at in range(0, len(feed_data), 188 * 7):
                proc.stdin.write(feed_data[at:at + 188 * 7])
                proc.stdin.flush()
                time.sleep(pace)
            proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass  # the caller is gone: we have what we wanted

    start = time.monotonic()
    our_id, cookie = 0x0BADCAFE, 0x1CEB00DA
    peer: tuple[str, int] | None = None
    peer_id, ack_no, last_ack, top = 0, 0, 0.0, -1
    records: list[bytes] = []
    feeder: threading.Thread | None = None
    try:
        while time.monotonic() - start < timeout:
            now = time.monotonic()
            ts = int((now - start) * 1e6)
            if peer is not None and top >= 0 and now - last_ack > 0.01:
                ack_no, last_ack = ack_no + 1, now
                cif = struct.pack(">7I", (top + 1) & 0x7FFFFFFF, 100_000, 50_000, 8192, 1000,
                                  10_000, 1_000_000)
                sock.sendto(_control(2, ack_no, ts, peer_id, cif), peer)
            try:
                datagram, addr = sock.recvfrom(2048)
            except TimeoutError:
                continue
            if not is_control(datagram):
                records.append(datagram)
                top = data_fields(datagram)[0]
                if sum(not is_control(r) for r in records) >= data_packets:
                    break
                continue
            (word0,) = struct.unpack_from(">I", datagram)
            kind, subtype, cif = word0 >> 16 & 0x7FFF, word0 & 0xFFFF, datagram[16:]
            if kind == 0:  # handshake
                _, enc, _, isn, _, _, hs_type, caller_id = struct.unpack_from(">IHHIIIII", cif)
                if hs_type == 1:  # induction: advertise no key length, let the caller pick
                    peer, peer_id = addr, caller_id
                    sock.sendto(_control(0, 0, ts, caller_id, _hs(0, 0x4A17, isn, 1, our_id,
                                                                 cookie)), addr)
                elif hs_type == 0xFFFFFFFF:
                    if not records:
                        records.append(datagram)
                    km = hs_extensions(datagram)[3]
                    body = _hs(enc, 0x3, isn, 0xFFFFFFFF, our_id, 0)
                    body += struct.pack(">HHIII", 2, 3, 0x010501, 0x3F, 120 << 16 | 120)
                    body += struct.pack(">HH", 4, len(km) // 4) + km  # KMRSP = echo
                    sock.sendto(_control(0, 0, ts, caller_id, body), addr)
                    if feeder is None:
                        feeder = threading.Thread(target=feed, daemon=True)
                        feeder.start()
            elif kind == 0x7FFF and subtype == 3 and peer is not None:  # key refresh
                records.append(datagram)
                sock.sendto(_control(0x7FFF, 0, ts, peer_id, cif, 4), peer)
            elif kind == 5:  # shutdown
                break
    finally:
        if peer is not None:
            sock.sendto(_control(5, 0, 0, peer_id, bytes(4)), peer)
        proc.kill()
        _, stderr = proc.communicate()
        sock.close()
    return records, stderr.decode(errors="replace")


def _select_refresh(records: list[bytes]) -> list[bytes]:
    """The conclusion, first data packet, and the packets around the first two key switches."""
    keep = {0, 1}
    kms = [i for i, r in enumerate(records) if i and is_control(r)][:2]
    for km_at in kms:
        keep.add(km_at)
        kk_before = data_fields(records[km_at + 1])[1]
        switch = next(i for i in range(km_at + 1, len(records))
                      if not is_control(records[i]) and data_fields(records[i])[1] != kk_before)
        keep.update({switch - 1, switch, switch + 1})
    return [records[i] for i in sorted(keep)]


def write_fixtures() -> None:
    records, _ = capture("&pbkeylen=16", data_packets=4)
    save("slt_aes128.bin", records)
    records, _ = capture("&pbkeylen=32&kmrefreshrate=64&kmpreannounce=16", data_packets=200,
                         pace=0.002)
    save("slt_aes256_refresh.bin", _select_refresh(records))


# --- fixture (known-answer) tests ---------------------------------------------------------------


def test_aes128_fixture_decrypts_to_the_fed_stream() -> None:
    conclusion, *packets = load("slt_aes128.bin")
    km = kmreq_of(conclusion)
    assert (km.kk, km.klen, km.cipher, km.auth, km.se) == (1, 16, 2, 0, 2)
    assert km.encode() == hs_extensions(conclusion)[3]  # exact round trip of libsrt's bytes
    even, odd = unwrap_keys(km, PASSPHRASE)
    assert even is not None and len(even) == 16 and odd is None
    cipher = PayloadCipher()
    cipher.install(km, PASSPHRASE)
    plain = plaintext()
    offsets: list[int] = []
    for datagram in packets:
        seq, kk, payload = data_fields(datagram)
        assert kk == 1
        clear = cipher.decrypt(seq, kk, payload)
        if not offsets:
            assert clear[0] == 0x47 and clear[188] == 0x47  # the check srt.md §9 reports
        offsets.append(check_payload(plain, clear))
    assert offsets == [1456 * i for i in range(len(packets))]


def test_aes128_fixture_stream_id() -> None:
    conclusion = load("slt_aes128.bin")[0]
    text = decode_sid(hs_extensions(conclusion)[5])
    assert text == STREAM_ID
    request = parse_stream_id(text)
    assert (request.app, request.key, request.mode) == ("live", "key1", "publish")


def test_aes128_fixture_encrypt_reproduces_the_wire() -> None:
    conclusion, first, *_ = load("slt_aes128.bin")
    cipher = PayloadCipher()
    cipher.install(kmreq_of(conclusion), PASSPHRASE)
    seq, kk, payload = data_fields(first)
    assert cipher.encrypt(seq, kk, plaintext()[:len(payload)]) == payload


def test_kek_is_pbkdf2_of_the_last_8_salt_bytes() -> None:
    km = kmreq_of(load("slt_aes128.bin")[0])
    kek = derive_kek(PASSPHRASE, km.salt, km.klen)
    assert kek == hashlib.pbkdf2_hmac("sha1", PASSPHRASE.encode(), km.salt[8:], 2048, 16)
    # The first 8 salt bytes (the other plausible reading) do not unwrap (srt.md §9).
    wrong = hashlib.pbkdf2_hmac("sha1", PASSPHRASE.encode(), km.salt[:8], 2048, 16)
    from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap
    with pytest.raises(InvalidUnwrap):
        aes_key_unwrap(wrong, km.wrapped)


@pytest.mark.parametrize("passphrase", ["mediad-fixture-pasS", "wrong passphrase", "x" * 80])
def test_wrong_passphrase_is_bad_secret(passphrase: str) -> None:
    km = kmreq_of(load("slt_aes128.bin")[0])
    with pytest.raises(BadSecret) as caught:
        unwrap_keys(km, passphrase)
    assert isinstance(caught.value, SrtError) and caught.value.code == "badsecret"
    cipher = PayloadCipher()
    with pytest.raises(BadSecret):
        cipher.install(km, passphrase)
    assert not cipher.has_key(1)  # nothing installed on failure


def test_aes256_key_refresh_fixture() -> None:
    records = load("slt_aes256_refresh.bin")
    conclusion, rest = records[0], records[1:]
    km = kmreq_of(conclusion)
    assert (km.kk, km.klen) == (1, 32)
    cipher = PayloadCipher()
    cipher.install(km, PASSPHRASE)
    handshake_only = PayloadCipher()
    handshake_only.install(km, PASSPHRASE)
    plain = plaintext()
    seen_kk, refreshes, last_at = [], [], -1
    for datagram in rest:
        if is_control(datagram):
            (word0,) = struct.unpack_from(">I", datagram)
            assert word0 == 0x80000000 | 0x7FFF << 16 | 3  # KMREQ
            refresh = parse_km(datagram[16:])
            assert refresh.encode() == datagram[16:]
            assert refresh.kk == 3 and refresh.salt == km.salt  # both keys, same salt
            refreshes.append(refresh)
            cipher.install(refresh, PASSPHRASE)
            continue
        seq, kk, payload = data_fields(datagram)
        at = check_payload(plain, cipher.decrypt(seq, kk, payload))
        assert at > last_at
        last_at = at
        seen_kk.append(kk)
        if len(refreshes) == 2 and kk == 1:
            # The second refresh replaced the even key: the handshake's no longer fits.
            assert plain.find(handshake_only.decrypt(seq, kk, payload)) < 0
    assert len(refreshes) == 2
    assert seen_kk == [1, 1, 2, 2, 2, 1, 1]
    first_even, first_odd = unwrap_keys(refreshes[0], PASSPHRASE)
    second_even, second_odd = unwrap_keys(refreshes[1], PASSPHRASE)
    assert first_even == unwrap_keys(km, PASSPHRASE)[0]
    assert second_odd == first_odd and second_even != first_even


@pytest.mark.parametrize("name", ["slt_aes128.bin", "slt_aes256_refresh.bin"])
def test_fixture_km_truncated_or_extended(name: str) -> None:
    data = hs_extensions(load(name)[0])[3]
    for size in range(len(data)):
        with pytest.raises(SrtError) as caught:
            parse_km(data[:size])
        assert caught.value.code == "km"
    with pytest.raises(SrtError):
        parse_km(data + bytes(8))  # trailing bytes: not a KM message of its declared length


# --- synthetic tests -----------------------------------------------------------------------------


def test_counter_block_layout() -> None:
    # srt.md §7.3 written out by hand: block = salt[0..13] ^ (00..00 | seq in bytes 10..13),
    # then a 16-bit block counter, then plain AES-CTR.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    key, salt, seq = bytes(range(16)), bytes(range(100, 116)), 0x7ABCDEF1
    block = bytearray(16)
    block[10:14] = seq.to_bytes(4, "big")
    for i in range(14):
        block[i] ^= salt[i]
    payload = bytes(1456)
    expected = Cipher(algorithms.AES(key), modes.CTR(bytes(block))).encryptor().update(payload)
    cipher = PayloadCipher()
    cipher.set_keys(salt, odd=key)
    assert cipher.encrypt(seq, 2, payload) == expected
    assert cipher.decrypt(seq, 2, expected) == payload


def test_unknown_key_slot() -> None:
    cipher = PayloadCipher()
    cipher.set_keys(bytes(16), even=bytes(16))
    for kk in (0, 2, 3):
        with pytest.raises(SrtError) as caught:
            cipher.decrypt(1, kk, b"abc")
        assert caught.value.code == "crypto"
    assert cipher.decrypt(1, 1, b"") == b""


@pytest.mark.parametrize("klen", [16, 24, 32])
@pytest.mark.parametrize("slots", ["even", "odd", "both"])
def test_wrap_unwrap_round_trip(klen: int, slots: str) -> None:
    salt, even, odd = os.urandom(16), os.urandom(klen), os.urandom(klen)
    km = wrap_keys(PASSPHRASE, salt, even if slots != "odd" else None,
                   odd if slots != "even" else None)
    assert km.kk == {"even": 1, "odd": 2, "both": 3}[slots]
    assert len(km.encode()) == 16 + 16 + 8 + km.keys * klen
    again = parse_km(km.encode())
    assert again == km
    got = unwrap_keys(again, PASSPHRASE)
    assert got == (even if slots != "odd" else None, odd if slots != "even" else None)
    with pytest.raises(BadSecret):
        unwrap_keys(again, PASSPHRASE + "!")


def test_back_to_back_caller_and_listener() -> None:
    salt, sek = os.urandom(16), os.urandom(16)
    sender = PayloadCipher()
    sender.set_keys(salt, even=sek)
    receiver = PayloadCipher()
    receiver.install(parse_km(wrap_keys(PASSPHRASE, salt, sek).encode()), PASSPHRASE)
    payload = plaintext(7)
    for seq in (0, 1, 0x7FFFFFFF):
        wire = sender.encrypt(seq, 1, payload)
        assert wire != payload
        assert receiver.decrypt(seq, 1, wire) == payload


def test_gcm_key_material_parses_but_is_refused() -> None:
    km = wrap_keys(PASSPHRASE, bytes(16), bytes(16), cipher=crypto.CIPHER_AES_GCM)
    assert (km.cipher, km.auth) == (4, 1)
    assert parse_km(km.encode()) == km
    with pytest.raises(UnsupportedCipher) as caught:
        PayloadCipher().install(km, PASSPHRASE)
    assert isinstance(caught.value, SrtError)


def test_wrap_keys_arguments() -> None:
    with pytest.raises(ValueError):
        wrap_keys(PASSPHRASE, bytes(16))
    with pytest.raises(ValueError):
        wrap_keys(PASSPHRASE, bytes(16), bytes(16), bytes(32))
    with pytest.raises(ValueError):
        wrap_keys(PASSPHRASE, bytes(16), bytes(20))


_GOOD = wrap_keys(PASSPHRASE, bytes(range(16)), bytes(16)).encode()
# Offsets of fields whose every other value is invalid, with one bad value each.
BAD_FIELDS = [
    (0, 0x92, "S bit"),
    (0, 0x22, "version"),
    (0, 0x11, "packet type"),
    (1, 0x21, "sign"),
    (2, 0x28, "sign"),
    (3, 0x00, "no key"),
    (3, 0x05, "reserved bits"),
    (7, 0x01, "KEKI"),
    (8, 0x01, "cipher"),
    (8, 0x04, "GCM without auth"),
    (9, 0x01, "auth with CTR"),
    (10, 0x03, "SE"),
    (11, 0x01, "Resv2"),
    (13, 0x01, "Resv3"),
    (14, 0x02, "salt length"),
    (15, 0x05, "key length"),
    (15, 0x06, "key length vs wrapped size"),
]


@pytest.mark.parametrize(("offset", "value", "what"), BAD_FIELDS)
def test_bad_km_fields(offset: int, value: int, what: str) -> None:
    data = bytearray(_GOOD)
    data[offset] = value
    with pytest.raises(SrtError) as caught:
        parse_km(bytes(data))
    assert caught.value.code == "km", what


def test_key_material_validates_when_built() -> None:
    km = parse_km(_GOOD)
    with pytest.raises(SrtError):
        replace(km, kk=0)
    with pytest.raises(SrtError):
        replace(km, wrapped=km.wrapped[:-1])


_KM = st.builds(
    lambda kk, klen, salt, cipher, se, data: KeyMaterial(
        kk=kk, salt=salt, klen=klen, wrapped=data[:8 + (2 if kk == 3 else 1) * klen],
        cipher=cipher, auth=1 if cipher == 4 else 0, se=se),
    st.sampled_from([1, 2, 3]), st.sampled_from([16, 24, 32]), st.binary(min_size=16, max_size=16),
    st.sampled_from([2, 4]), st.sampled_from([1, 2]), st.binary(min_size=72, max_size=72))


@given(_KM)
def test_km_round_trip(km: KeyMaterial) -> None:
    assert parse_km(km.encode()) == km


@given(st.binary(max_size=120))
def test_km_random_bytes(data: bytes) -> None:
    try:
        parse_km(data)
    except ProtocolError:
        pass


@given(_KM, st.integers(0, 200), st.integers(0, 255))
def test_km_mutated(km: KeyMaterial, offset: int, value: int) -> None:
    data = bytearray(km.encode())
    data[offset % len(data)] = value
    try:
        parse_km(bytes(data))
    except ProtocolError:
        pass


# --- interop: the real libsrt, now ---------------------------------------------------------------


def _require_slt() -> None:
    if shutil.which("srt-live-transmit") is None:
        pytest.skip("srt-live-transmit is not installed (Debian srt-tools)")


@pytest.mark.interop
@pytest.mark.parametrize("pbkeylen", [16, 24, 32])
def test_live_srt_live_transmit_payloads_decrypt(pbkeylen: int) -> None:
    _require_slt()
    records, stderr = capture(f"&pbkeylen={pbkeylen}", data_packets=20)
    assert records and not is_control(records[-1]), stderr
    km = kmreq_of(records[0])
    assert km.klen == pbkeylen
    cipher = PayloadCipher()
    cipher.install(km, PASSPHRASE)
    plain, last = plaintext(), -1
    for datagram in records[1:]:
        seq, kk, payload = data_fields(datagram)
        at = check_payload(plain, cipher.decrypt(seq, kk, payload))
        assert at > last
        last = at
    with pytest.raises(BadSecret):
        unwrap_keys(km, "not the passphrase")


@pytest.mark.interop
def test_live_srt_live_transmit_key_refresh() -> None:
    _require_slt()
    # libsrt sends the pre-announcing KMREQ from its timer, not with the data: fed faster
    # than the pre-announce window lasts (on a loaded machine), it switched keys before
    # announcing them or stalled. Refresh every 200 packets (libsrt makes the pre-announce
    # (200 - 1) / 2 = 99, whatever we ask) at about 5 Mbit/s leaves it 200 ms.
    records, stderr = capture("&pbkeylen=16&kmrefreshrate=200", data_packets=350, pace=0.002)
    assert any(is_control(r) for r in records[1:]), stderr
    cipher = PayloadCipher()
    cipher.install(kmreq_of(records[0]), PASSPHRASE)
    plain, seen = plaintext(), set()
    for datagram in records[1:]:
        if is_control(datagram):
            cipher.install(parse_km(datagram[16:]), PASSPHRASE)
            continue
        seq, kk, payload = data_fields(datagram)
        check_payload(plain, cipher.decrypt(seq, kk, payload))
        seen.add(kk)
    assert seen == {1, 2}


if __name__ == "__main__":
    write_fixtures()
