"""SRT encryption (``shared/specs/srt.md`` §7): Key Material messages, the passphrase-derived
KEK, RFC 3394 key (un)wrapping and the AES-CTR payload cipher. Pure functions of bytes, plus
``PayloadCipher``, which holds the installed keys of one connection.

The KM message is carried in natural byte order (no libsrt word swap), both inside the
handshake (KMREQ/KMRSP extensions) and in key-refresh control packets (type 0x7FFF, subtypes
3/4). AES-GCM (cipher 4) parses, but ``PayloadCipher`` refuses it with ``UnsupportedCipher``
(the AAD is unverified, srt.md §7.3); a listener answers that with SRT_REJ_CRYPTO.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.keywrap import (
    InvalidUnwrap,
    aes_key_unwrap,
    aes_key_wrap,
)

from ingest.srt.errors import SrtError

__all__ = [
    "CIPHER_AES_CTR",
    "CIPHER_AES_GCM",
    "KK_BOTH",
    "KK_EVEN",
    "KK_ODD",
    "BadSecret",
    "KeyMaterial",
    "PayloadCipher",
    "UnsupportedCipher",
    "derive_kek",
    "parse_km",
    "unwrap_keys",
    "wrap_keys",
]

KK_EVEN, KK_ODD, KK_BOTH = 1, 2, 3
CIPHER_AES_CTR, CIPHER_AES_GCM = 2, 4
AUTH_NONE, AUTH_AES_GCM = 0, 1
SE_MPEGTS_SRT = 2
KM_VERSION, KM_PACKET_TYPE, KM_SIGN = 1, 2, 0x2029
SALT_LEN = 16
KEY_LENGTHS = (16, 24, 32)
PBKDF2_ITERATIONS = 2048
WRAP_OVERHEAD = 8
"""RFC 3394 integrity check value prepended to the wrapped key(s)."""

_KM_HEADER = struct.Struct(">BHBIBBBBHBB")


class BadSecret(SrtError):
    """The key material does not unwrap with this passphrase (SRT_REJ_BADSECRET)."""

    def __init__(self, message: str = "key material does not unwrap with the passphrase",
                 code: str = "badsecret") -> None:
        super().__init__(message, code)


class UnsupportedCipher(SrtError):
    """Well-formed key material for a cipher we do not implement (SRT_REJ_CRYPTO)."""

    def __init__(self, message: str, code: str = "crypto_mode") -> None:
        super().__init__(message, code)


def _km_error(message: str) -> SrtError:
    return SrtError(message, "km")


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """One KM message (srt.md §7.2). Building one validates it (``SrtError``, code ``km``)."""

    kk: int
    """Which keys are wrapped: 1 even, 2 odd, 3 both (even first)."""
    salt: bytes
    """16 bytes; the KEK uses the last 8, the counter block the first 14."""
    klen: int
    """SEK length in bytes: 16, 24 or 32 (matches the handshake Encryption Field x 8)."""
    wrapped: bytes
    """RFC 3394 output: 8-byte ICV + one or two wrapped SEKs."""
    cipher: int = CIPHER_AES_CTR
    """2 AES-CTR, 4 AES-GCM."""
    auth: int = AUTH_NONE
    """0 none (with CTR), 1 AES-GCM (with GCM)."""
    se: int = SE_MPEGTS_SRT
    """Stream encapsulation: 2 MPEG-TS/SRT (1 MPEG-TS/UDP is tolerated)."""
    keki: int = 0
    """Key-encrypting key index; 0 is the only defined value."""
    version: int = KM_VERSION
    packet_type: int = KM_PACKET_TYPE

    def __post_init__(self) -> None:
        if self.version != KM_VERSION or self.packet_type != KM_PACKET_TYPE:
            raise _km_error(f"KM version {self.version} / type {self.packet_type}, not 1 / 2")
        if self.kk not in (KK_EVEN, KK_ODD, KK_BOTH):
            raise _km_error(f"KM announces no key (KK = {self.kk})")
        if self.keki != 0:
            raise _km_error(f"KM key index {self.keki} is not 0")
        if (self.cipher, self.auth) not in ((CIPHER_AES_CTR, AUTH_NONE),
                                            (CIPHER_AES_GCM, AUTH_AES_GCM)):
            raise _km_error(f"KM cipher {self.cipher} with auth {self.auth}")
        if self.se not in (1, SE_MPEGTS_SRT):
            raise _km_error(f"KM stream encapsulation {self.se}")
        if len(self.salt) != SALT_LEN:
            raise _km_error(f"KM salt of {len(self.salt)} bytes, not {SALT_LEN}")
        if self.klen not in KEY_LENGTHS:
            raise _km_error(f"KM key length {self.klen}")
        if len(self.wrapped) != WRAP_OVERHEAD + self.keys * self.klen:
            raise _km_error(f"KM wrapped keys of {len(self.wrapped)} bytes for {self.keys} "
                            f"key(s) of {self.klen}")

    @property
    def keys(self) -> int:
        """How many SEKs are wrapped (2 when KK = 3)."""
        return 2 if self.kk == KK_BOTH else 1

    def encode(self) -> bytes:
        """The message bytes; ``parse_km(km.encode()) == km``."""
        header = _KM_HEADER.pack(self.version << 4 | self.packet_type, KM_SIGN, self.kk,
                                 self.keki, self.cipher, self.auth, self.se, 0, 0,
                                 SALT_LEN // 4, self.klen // 4)
        return header + self.salt + self.wrapped


def parse_km(data: bytes) -> KeyMaterial:
    """A KM message (KMREQ/KMRSP body or key-refresh CIF); ``SrtError`` (code ``km``) if it is
    malformed, truncated, has trailing bytes or sets reserved bits."""
    if len(data) < _KM_HEADER.size:
        raise _km_error(f"KM message of {len(data)} bytes is truncated")
    (first, sign, kk, keki, cipher, auth, se, resv2, resv3, slen4,
     klen4) = _KM_HEADER.unpack_from(data)
    if first & 0x80 or sign != KM_SIGN or kk & 0xFC or resv2 or resv3:
        raise _km_error("KM message header is not SRT's (S bit, sign or reserved bits)")
    salt_end = _KM_HEADER.size + slen4 * 4
    return KeyMaterial(kk=kk, salt=bytes(data[_KM_HEADER.size:salt_end]), klen=klen4 * 4,
                       wrapped=bytes(data[salt_end:]), cipher=cipher, auth=auth, se=se,
                       keki=keki, version=first >> 4, packet_type=first & 0x0F)


def derive_kek(passphrase: str, salt: bytes, klen: int) -> bytes:
    """PBKDF2-HMAC-SHA1(passphrase, last 8 bytes of the salt, 2048 iterations, klen bytes), as
    libsrt's ``hcryptCtx_GenSecret`` (srt.md §7.1). About 1 ms: once per KM message."""
    if len(salt) < 8:
        raise _km_error(f"salt of {len(salt)} bytes is too short")
    return hashlib.pbkdf2_hmac("sha1", passphrase.encode("utf-8"), salt[-8:],
                               PBKDF2_ITERATIONS, klen)


def unwrap_keys(km: KeyMaterial, passphrase: str) -> tuple[bytes | None, bytes | None]:
    """(even SEK, odd SEK), ``None`` for a slot ``km`` does not carry; ``BadSecret`` when the
    RFC 3394 integrity check fails (wrong passphrase)."""
    kek = derive_kek(passphrase, km.salt, km.klen)
    try:
        keys = aes_key_unwrap(kek, km.wrapped)
    except InvalidUnwrap:
        raise BadSecret() from None
    if km.kk == KK_BOTH:
        return keys[:km.klen], keys[km.klen:]
    if km.kk == KK_EVEN:
        return keys, None
    return None, keys


def wrap_keys(passphrase: str, salt: bytes, even: bytes | None = None,
              odd: bytes | None = None, *, cipher: int = CIPHER_AES_CTR) -> KeyMaterial:
    """Key material announcing ``even`` and/or ``odd`` (same length), as a caller sends it."""
    keys = [key for key in (even, odd) if key is not None]
    if not keys or len({len(key) for key in keys}) != 1:
        raise ValueError("need one or two SEKs of the same length")
    klen = len(keys[0])
    kk = (KK_EVEN if even is not None else 0) | (KK_ODD if odd is not None else 0)
    if klen not in KEY_LENGTHS:
        raise ValueError(f"SEK of {klen} bytes")
    wrapped = aes_key_wrap(derive_kek(passphrase, salt, klen), b"".join(keys))
    return KeyMaterial(kk=kk, salt=bytes(salt), klen=klen, wrapped=wrapped, cipher=cipher,
                       auth=AUTH_AES_GCM if cipher == CIPHER_AES_GCM else AUTH_NONE)


class _SlotKey:
    """One installed SEK and its salt; the AES key object is made once per key."""

    __slots__ = ("_aes", "_salt14", "key", "salt")

    def __init__(self, key: bytes, salt: bytes) -> None:
        self.key = key
        self.salt = salt
        self._salt14 = int.from_bytes(salt[:14], "big")
        self._aes = algorithms.AES(key)

    def apply(self, seq: int, payload: bytes | memoryview) -> bytes:
        # srt.md §7.3: counter block = salt[0..13] XOR (packet index in bytes 10..13), then a
        # 16-bit block counter from 0 (a UDP payload never carries out of it).
        iv = (self._salt14 ^ (seq & 0x7FFFFFFF)).to_bytes(14, "big") + b"\0\0"
        # CTR is a stream mode: update() returns every byte, finalize() adds nothing.
        return Cipher(self._aes, modes.CTR(iv)).encryptor().update(payload)


class PayloadCipher:
    """The even and odd SEKs of one connection and AES-CTR over data payloads (srt.md §7.3).

    Keys are installed from each KM message (handshake KMREQ, then key refreshes); a message
    replaces only the slot(s) it carries, so the old key keeps decrypting until the sender
    switches. Cost: 3.7 µs per 1316-byte payload (best of 7 x 20000, cryptography 50.0.2,
    Intel Xeon vCPU of the dev container): a ``Cipher(AES, CTR(iv))`` context per packet on
    an ``algorithms.AES`` made once per key. Generating the keystream with one AES-ECB context
    per key instead was slower (6.0 µs: the XOR in Python costs more than the context). At
    6 Mbit/s (~520 packets/s) that is 0.2 % of a core.
    """

    __slots__ = ("_slots",)

    def __init__(self) -> None:
        self._slots: dict[int, _SlotKey] = {}

    def install(self, km: KeyMaterial, passphrase: str) -> None:
        """Unwrap ``km`` with ``passphrase`` and install its key(s). ``BadSecret`` on a wrong
        passphrase, ``UnsupportedCipher`` for AES-GCM; nothing changes on failure."""
        if km.cipher != CIPHER_AES_CTR:
            raise UnsupportedCipher(f"KM cipher {km.cipher} is not AES-CTR")
        even, odd = unwrap_keys(km, passphrase)
        self.set_keys(km.salt, even, odd)

    def set_keys(self, salt: bytes, even: bytes | None = None, odd: bytes | None = None) -> None:
        """Install clear SEKs directly (the caller side, tests)."""
        if len(salt) != SALT_LEN:
            raise ValueError(f"salt of {len(salt)} bytes")
        for kk, key in ((KK_EVEN, even), (KK_ODD, odd)):
            if key is None:
                continue
            current = self._slots.get(kk)
            if current is None or current.key != key or current.salt != salt:
                self._slots[kk] = _SlotKey(bytes(key), bytes(salt))

    def has_key(self, kk: int) -> bool:
        return kk in self._slots

    def decrypt(self, seq: int, kk: int, payload: bytes | memoryview) -> bytes:
        """The clear payload of data packet ``seq`` sent with key slot ``kk`` (1 even, 2 odd);
        ``SrtError`` (code ``crypto``) if no key is installed there."""
        slot = self._slots.get(kk)
        if slot is None:
            raise SrtError(f"no key installed for KK = {kk}", "crypto")
        return slot.apply(seq, payload)

    encrypt = decrypt
    """CTR is symmetric: encrypting is the same operation."""
