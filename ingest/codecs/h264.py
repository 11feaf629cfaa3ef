"""H.264 (ISO/IEC 14496-10): the SPS fields a track needs, the PPS id, the
AVCDecoderConfigurationRecord both ways (ISO/IEC 14496-15 §5.3.3, fmp4-mpegts.md §6.1), the
RFC 6381 ``avc1`` string, the normaliser, and Annex B for readers that want a byte stream.

Keyframe = the access unit holds an IDR slice.
"""

from __future__ import annotations

import struct
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

NAL_IDR: Final = 5
NAL_SPS: Final = 7
NAL_PPS: Final = 8
NAL_AUD: Final = 9
NAL_FILLER: Final = 12

# profile_idc values whose SPS carries chroma_format_idc and bit depths (§7.3.2.1.1); for
# these the avcC ends with the chroma/bit-depth fields, as ffmpeg writes it.
HIGH_PROFILES: Final = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134,
                                  135})

DEFAULT_CODEC_STRING: Final = "avc1.42e01f"
"""Constrained Baseline level 3.1, which every H.264 decoder accepts: the string for an
encoder that left its avcC empty."""

_U16 = struct.Struct(">H")


@dataclass(frozen=True, slots=True)
class SpsInfo:
    sps_id: int
    chroma_format_idc: int
    bit_depth_luma_minus8: int
    bit_depth_chroma_minus8: int
    width: int
    height: int
    """Picture size in pixels after cropping."""


def parse_sps(nal: Buffer) -> SpsInfo:
    """The fields of an SPS NAL unit (header included) that the avcC and the track need.
    Raises ``BitstreamError``."""
    if len(nal) < 4:
        raise BitstreamError("SPS shorter than its fixed fields")
    r = BitReader(unescape_rbsp(nal[1:]))
    profile_idc = r.u(8)
    r.skip(16)  # constraint flags, level_idc
    sps_id = r.ue()
    chroma_format_idc = 1
    separate_colour_plane = 0
    luma = chroma_depth = 0
    if profile_idc in HIGH_PROFILES:
        chroma_format_idc = r.ue()
        if chroma_format_idc > 3:
            raise BitstreamError("bad chroma_format_idc")
        if chroma_format_idc == 3:
            separate_colour_plane = r.u(1)
        luma = r.ue()
        chroma_depth = r.ue()
        r.u(1)  # qpprime_y_zero_transform_bypass_flag
        if r.u(1):  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma_format_idc != 3 else 12):
                if r.u(1):
                    _skip_scaling_list(r, 16 if i < 6 else 64)
    if sps_id > 31 or luma > 6 or chroma_depth > 6:
        raise BitstreamError("SPS field out of range")
    r.ue()  # log2_max_frame_num_minus4
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()
    elif poc_type == 1:
        r.u(1)
        r.se()
        r.se()
        cycle = r.ue()
        if cycle > 255:
            raise BitstreamError("bad num_ref_frames_in_pic_order_cnt_cycle")
        for _ in range(cycle):
            r.se()
    r.ue()  # max_num_ref_frames
    r.u(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = r.ue() + 1
    height_map_units = r.ue() + 1
    frame_mbs_only = r.u(1)
    if not frame_mbs_only:
        r.u(1)  # mb_adaptive_frame_field_flag
    r.u(1)  # direct_8x8_inference_flag
    left = right = top = bottom = 0
    if r.u(1):
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
    if separate_colour_plane or chroma_format_idc == 0:
        crop_x, crop_y = 1, 2 - frame_mbs_only
    else:
        sub_width = 1 if chroma_format_idc == 3 else 2
        sub_height = 2 if chroma_format_idc == 1 else 1
        crop_x, crop_y = sub_width, sub_height * (2 - frame_mbs_only)
    width, height = checked_size(
        16 * width_mbs - crop_x * (left + right),
        16 * (2 - frame_mbs_only) * height_map_units - crop_y * (top + bottom))
    return SpsInfo(sps_id, chroma_format_idc, luma, chroma_depth, width, height)


def _skip_scaling_list(r: BitReader, size: int) -> None:
    last = next_scale = 8
    for _ in range(size):
        if next_scale:
            next_scale = (last + r.se() + 256) % 256
        last = next_scale or last


def pps_id(nal: Buffer) -> int:
    """pic_parameter_set_id of a PPS NAL unit. Raises ``BitstreamError``."""
    return bounded_ue(nal[1:8], 255, "pic_parameter_set_id")


def codec_string(avcc: Buffer) -> str:
    """RFC 6381 ``avc1.PPCCLL``: profile, compatibility and level from an avcC (which copies
    them from its first SPS); ``DEFAULT_CODEC_STRING`` for a record too short to hold them."""
    if len(avcc) < 4:
        return DEFAULT_CODEC_STRING
    return f"avc1.{avcc[1]:02x}{avcc[2]:02x}{avcc[3]:02x}"


def config_record(sps_list: list[bytes], pps_list: list[bytes], info: SpsInfo) -> bytes:
    """AVCDecoderConfigurationRecord with 4-byte NAL lengths; profile, compatibility and
    level from the first SPS, the High-profile tail from ``info``."""
    first = sps_list[0]
    out = bytearray((1, first[1], first[2], first[3], 0xFF, 0xE0 | len(sps_list)))
    for nal in sps_list:
        out += len(nal).to_bytes(2, "big") + nal
    out.append(len(pps_list))
    for nal in pps_list:
        out += len(nal).to_bytes(2, "big") + nal
    if first[1] in HIGH_PROFILES:
        out += bytes((0xFC | info.chroma_format_idc, 0xF8 | info.bit_depth_luma_minus8,
                      0xF8 | info.bit_depth_chroma_minus8, 0))
    return bytes(out)


@dataclass(frozen=True, slots=True)
class AvcRecord:
    length_size: int
    sps: list[bytes]
    pps: list[bytes]


def read_config_record(avcc: Buffer) -> AvcRecord:
    """The NAL length size and parameter sets of an avcC. Lenient past the fixed fields: a
    list cut short yields the complete entries before the cut. Raises ``BitstreamError``
    for a record shorter than its fixed fields."""
    if len(avcc) < 7:
        raise BitstreamError("AVCDecoderConfigurationRecord truncated")
    sps: list[bytes] = []
    pps: list[bytes] = []
    pos = _entries(avcc, 6, avcc[5] & 0x1F, sps)
    if 0 <= pos < len(avcc):
        _entries(avcc, pos + 1, avcc[pos], pps)
    return AvcRecord((avcc[4] & 0x03) + 1, sps, pps)


def _entries(record: Buffer, pos: int, count: int, out: list[bytes]) -> int:
    """Append ``count`` 16-bit-length-prefixed entries from ``pos``; the position after them,
    -1 if the record ends first."""
    end = len(record)
    for _ in range(count):
        if end - pos < 2:
            return -1
        size = _U16.unpack_from(record, pos)[0]
        pos += 2
        if size > end - pos:
            return -1
        if size:
            out.append(bytes(record[pos:pos + size]))
        pos += size
    return pos


class H264Normaliser(NalNormaliser):
    codec: ClassVar[Codec] = "h264"
    dropped_types: ClassVar[frozenset[int]] = frozenset({NAL_AUD, NAL_FILLER})

    def __init__(self, track_id: int, timescale: int) -> None:
        super().__init__(track_id, timescale)
        self._sps = ParameterSets(31)
        self._pps = ParameterSets(255)
        self._info: SpsInfo | None = None
        """The most recent SPS's fields: picture size and the avcC tail come from it."""

    def nal_type(self, nal: Buffer) -> int | None:
        return nal[0] & 0x1F if len(nal) else None

    def is_key(self, nal_type: int) -> bool:
        return nal_type == NAL_IDR

    def _store(self, nal_type: int, nal: Buffer) -> bool | None:
        if nal_type == NAL_SPS:
            info = parse_sps(nal)
            changed = self._sps.put(info.sps_id, nal)
            self._info = info
            return changed
        if nal_type == NAL_PPS:
            return self._pps.put(pps_id(nal), nal)
        return None

    def _forget(self) -> None:
        self._sps.clear()
        self._pps.clear()
        self._info = None

    def _picture_size(self) -> tuple[int, int] | None:
        info = self._info
        return None if info is None else (info.width, info.height)

    def _record(self) -> tuple[bytes, str] | None:
        if self._info is None or not self._sps or not self._pps:
            return None
        config = config_record(self._sps.values(), self._pps.values(), self._info)
        return config, codec_string(config)

    def _read_record(self, record: Buffer) -> ParsedRecord:
        read = read_config_record(record)
        return ParsedRecord(4, [*read.sps, *read.pps])

    def _codec_string(self, record: Buffer) -> str:
        return codec_string(record)


def to_annex_b(sample: Buffer, avcc: Buffer) -> bytes:
    """A length-prefixed sample as an Annex B access unit, the avcC's SPS and PPS in front of
    an IDR (a byte-stream decoder joining mid-stream needs them there). Raises
    ``BitstreamError`` for a sample whose lengths do not tile it."""
    nals: list[Buffer] = list(split_length_prefixed(sample))
    if any(len(nal) and nal[0] & 0x1F == NAL_IDR for nal in nals):
        record = read_config_record(avcc)
        nals = [*record.sps, *record.pps, *nals]
    return annex_b(nals)
