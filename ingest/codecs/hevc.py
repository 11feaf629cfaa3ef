"""HEVC (ITU-T H.265): the SPS fields a track needs, PPS/VPS ids, the
HEVCDecoderConfigurationRecord both ways (ISO/IEC 14496-15 §8.3.3, fmp4-mpegts.md §6.2), the
RFC 6381 ``hvc1`` string (§E.3), the normaliser, and Annex B for readers that want a byte
stream.

Only base-layer parameter sets (nuh_layer_id 0, TemporalId 0) go into the record; others
stay in the sample. Keyframe = the access unit holds an IRAP picture (BLA, IDR, CRA: NAL
types 16-23).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Final

from ingest.codecs.bits import (
    BitReader,
    BitstreamError,
    Buffer,
    bounded_ue,
    checked_size,
    unescape_rbsp,
)
from ingest.codecs.nal import annex_b, split_length_prefixed
from ingest.codecs.normaliser import NalNormaliser, ParameterSets, ParsedRecord
from ingest.media import Codec

VPS: Final = 32
SPS: Final = 33
PPS: Final = 34
NAL_AUD: Final = 35
NAL_FILLER: Final = 38
IRAP_FIRST: Final = 16
IRAP_LAST: Final = 23
RECORD_HEADER: Final = 23
"""Bytes of the hvcC before its NAL unit arrays."""

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class HevcSpsInfo:
    sps_id: int
    sub_layers: int
    temporal_id_nesting: int
    chroma_format_idc: int
    bit_depths: int
    """bit_depth_luma_minus8 | bit_depth_chroma_minus8 << 4."""
    general: bytes
    """The 12 bytes of general_profile_tier_level (= hvcC bytes 1-12)."""
    width: int
    height: int
    """Picture size after the conformance window."""


def nal_type(nal: Buffer) -> int:
    return nal[0] >> 1 & 0x3F


def parse_sps(sps: Buffer) -> HevcSpsInfo:
    """The fields of an SPS NAL unit (2-byte header included) that the hvcC and the track
    need. Raises ``BitstreamError``."""
    rbsp = unescape_rbsp(sps[2:])
    r = BitReader(rbsp)
    r.u(4)  # sps_video_parameter_set_id
    sub_layers_minus1 = r.u(3)
    nesting = r.u(1)
    general = rbsp[1:13]
    r.skip(96)  # general profile_tier_level: 88 bits of profile + general_level_idc
    present = [(r.u(1), r.u(1)) for _ in range(sub_layers_minus1)]
    if sub_layers_minus1:
        r.skip(2 * (8 - sub_layers_minus1))  # reserved_zero_2bits
    for profile_present, level_present in present:
        r.skip(88 * profile_present + 8 * level_present)
    sps_id = r.ue()
    chroma = r.ue()
    if chroma > 3:
        raise BitstreamError("bad chroma_format_idc")
    separate_colour_plane = r.u(1) if chroma == 3 else 0
    width = r.ue()
    height = r.ue()
    if r.u(1):  # conformance_window_flag
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        if separate_colour_plane or chroma == 0:
            sub_width = sub_height = 1
        else:
            sub_width = 1 if chroma == 3 else 2
            sub_height = 2 if chroma == 1 else 1
        width -= sub_width * (left + right)
        height -= sub_height * (top + bottom)
    luma_minus8 = r.ue()
    chroma_minus8 = r.ue()
    if sps_id > 15 or luma_minus8 > 7 or chroma_minus8 > 7:
        raise BitstreamError("SPS field out of range")
    width, height = checked_size(width, height)
    return HevcSpsInfo(sps_id, sub_layers_minus1 + 1, nesting, chroma,
                       luma_minus8 | chroma_minus8 << 4, general, width, height)


def pps_id(nal: Buffer) -> int:
    """pps_pic_parameter_set_id of a PPS NAL unit. Raises ``BitstreamError``."""
    return bounded_ue(nal[2:8], 63, "pps_pic_parameter_set_id")


def vps_id(nal: Buffer) -> int:
    if len(nal) < 3:
        raise BitstreamError("VPS truncated")
    return nal[2] >> 4


def codec_string(hvcc: Buffer, sample_entry: str = "hvc1") -> str:
    """RFC 6381 / ISO 14496-15 Annex E string from hvcC bytes 1-12 (fmp4-mpegts.md §9).
    Raises ``BitstreamError`` for a record shorter than that."""
    if len(hvcc) < 13:
        raise BitstreamError("HEVCDecoderConfigurationRecord truncated")
    b1 = hvcc[1]
    space = ("", "A", "B", "C")[b1 >> 6]
    tier = "H" if b1 & 0x20 else "L"
    flags = _U32.unpack_from(hvcc, 2)[0]
    reversed_flags = int(f"{flags:032b}"[::-1], 2)
    constraints = list(hvcc[6:12])
    while constraints and constraints[-1] == 0:
        constraints.pop()
    text = f"{sample_entry}.{space}{b1 & 0x1F}.{reversed_flags:X}.{tier}{hvcc[12]}"
    return text + "".join(f".{c:X}" for c in constraints)


def config_record(vps: Sequence[bytes], sps: Sequence[bytes], pps: Sequence[bytes],
                  info: HevcSpsInfo | None = None) -> bytes:
    """hvcC with a VPS, SPS and PPS array (each complete), 4-byte NAL lengths; the header
    fields come from ``info`` (default: the first SPS). Raises ``BitstreamError`` for an SPS
    it cannot read."""
    if info is None:
        info = parse_sps(sps[0])
    head = struct.pack(
        ">B12sHBBBBHB", 1, info.general,
        0xF000,  # reserved + min_spatial_segmentation_idc 0 (unknown)
        0xFC,  # parallelismType 0 (unknown)
        0xFC | info.chroma_format_idc,
        0xF8 | info.bit_depths & 0x0F, 0xF8 | info.bit_depths >> 4,
        0,  # avgFrameRate unspecified
        # constantFrameRate 0, numTemporalLayers, temporalIdNested, lengthSizeMinusOne 3
        info.sub_layers << 3 | info.temporal_id_nesting << 2 | 3,
    )
    arrays = [head, b"\x03"]
    for kind, nals in ((VPS, vps), (SPS, sps), (PPS, pps)):
        arrays.append(struct.pack(">BH", 0x80 | kind, len(nals)))
        arrays.extend(struct.pack(">H", len(nal)) + nal for nal in nals)
    return b"".join(arrays)


def hevc_config(vps: bytes, sps: bytes, pps: bytes) -> bytes:
    """hvcC with one VPS, SPS and PPS (see ``config_record``)."""
    return config_record([vps], [sps], [pps])


@dataclass(frozen=True, slots=True)
class HevcRecord:
    length_size: int
    nals: list[bytes]
    """The NAL units of every array, in order (VPS, SPS, PPS, SEI as the record lists them)."""


def read_config_record(hvcc: Buffer) -> HevcRecord:
    """The NAL length size and NAL unit arrays of an hvcC. Lenient past the
    fixed fields: arrays cut short yield the complete units before the cut. Raises
    ``BitstreamError`` for a record shorter than its fixed fields."""
    if len(hvcc) < RECORD_HEADER:
        raise BitstreamError("HEVCDecoderConfigurationRecord truncated")
    nals: list[bytes] = []
    end = len(hvcc)
    pos = RECORD_HEADER
    for _ in range(hvcc[22]):
        if end - pos < 3:
            break
        count = _U16.unpack_from(hvcc, pos + 1)[0]
        pos += 3
        for _ in range(count):
            if end - pos < 2:
                break
            size = _U16.unpack_from(hvcc, pos)[0]
            pos += 2
            if size > end - pos:
                pos = end
                break
            if size:
                nals.append(bytes(hvcc[pos:pos + size]))
            pos += size
    return HevcRecord((hvcc[21] & 0x03) + 1, nals)


def _base_layer(nal: Buffer) -> bool:
    return len(nal) >= 2 and not (nal[0] & 1 or nal[1] & 0xF8)


class HevcNormaliser(NalNormaliser):
    codec: ClassVar[Codec] = "hevc"
    dropped_types: ClassVar[frozenset[int]] = frozenset({NAL_AUD, NAL_FILLER})

    def __init__(self, track_id: int, timescale: int) -> None:
        super().__init__(track_id, timescale)
        self._vps = ParameterSets(16)
        self._sps = ParameterSets(16)
        self._pps = ParameterSets(64)
        self._info: HevcSpsInfo | None = None

    def nal_type(self, nal: Buffer) -> int | None:
        return nal_type(nal) if len(nal) >= 2 else None

    def is_key(self, nal_type: int) -> bool:
        return IRAP_FIRST <= nal_type <= IRAP_LAST

    def _store(self, nal_type: int, nal: Buffer) -> bool | None:
        if not VPS <= nal_type <= PPS or not _base_layer(nal):
            return None
        if nal_type == VPS:
            return self._vps.put(vps_id(nal), nal)
        if nal_type == SPS:
            info = parse_sps(nal)
            changed = self._sps.put(info.sps_id, nal)
            self._info = info
            return changed
        return self._pps.put(pps_id(nal), nal)

    def _forget(self) -> None:
        self._vps.clear()
        self._sps.clear()
        self._pps.clear()
        self._info = None

    def _picture_size(self) -> tuple[int, int] | None:
        info = self._info
        return None if info is None else (info.width, info.height)

    def _record(self) -> tuple[bytes, str] | None:
        info = self._info
        if info is None or not self._vps or not self._sps or not self._pps:
            return None
        config = config_record(self._vps.values(), self._sps.values(), self._pps.values(),
                               info)
        return config, codec_string(config)

    def _read_record(self, record: Buffer) -> ParsedRecord:
        return ParsedRecord(21, list(read_config_record(record).nals))

    def _codec_string(self, record: Buffer) -> str:
        return codec_string(record)


def to_annex_b(sample: Buffer, hvcc: Buffer) -> bytes:
    """A length-prefixed sample as an Annex B access unit, the hvcC's VPS, SPS and PPS in
    front of an IRAP picture. Raises ``BitstreamError`` for a sample whose lengths do not
    tile it."""
    nals: list[Buffer] = list(split_length_prefixed(sample))
    if any(len(nal) >= 2 and IRAP_FIRST <= nal_type(nal) <= IRAP_LAST for nal in nals):
        nals = [*read_config_record(hvcc).nals, *nals]
    return annex_b(nals)
