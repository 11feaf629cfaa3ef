"""HEVC access units from MPEG-TS (Annex B) → fMP4-ready samples and an hvcC record
(HEVCDecoderConfigurationRecord, ISO/IEC 14496-15 §8.3.3, fmp4-mpegts.md §6.2).

Same policy as ``h264``: VPS/SPS/PPS (of the base layer) are captured by id into the hvcC and
leave the sample (the ``hvc1`` sample entry wants them only there); AUD and filler data are
dropped; SEI stays. Keyframe = the access unit holds an IRAP picture (BLA, IDR, CRA: NAL
types 16-23).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Final

from ingest.media import TrackInfo
from ingest.mpegts.annexb import ParameterSets, split_annex_b
from ingest.mpegts.h264 import TIMESCALE, VIDEO_TRACK_ID
from ingest.rtmp.bitstream import BitReader, BitstreamError, hevc_sps_size, unescape_rbsp
from ingest.rtmp.flv import hevc_codec_string

VPS, SPS, PPS = 32, 33, 34
NAL_AUD: Final = 35
NAL_FILLER: Final = 38
IRAP_FIRST, IRAP_LAST = 16, 23
_DROPPED: Final = frozenset({NAL_AUD, NAL_FILLER})


class HevcSpsInfo:
    __slots__ = ("bit_depths", "chroma_format_idc", "general", "height", "sps_id",
                 "sub_layers", "temporal_id_nesting", "width")

    def __init__(self, sps_id: int, sub_layers: int, temporal_id_nesting: int,
                 chroma_format_idc: int, bit_depths: int, general: bytes, width: int,
                 height: int) -> None:
        self.sps_id = sps_id
        self.sub_layers = sub_layers
        self.temporal_id_nesting = temporal_id_nesting
        self.chroma_format_idc = chroma_format_idc
        self.bit_depths = bit_depths
        """bit_depth_luma_minus8 | bit_depth_chroma_minus8 << 4."""
        self.general = general
        """The 12 bytes of general_profile_tier_level (= hvcC bytes 1-12)."""
        self.width = width
        self.height = height


def parse_sps(sps: bytes) -> HevcSpsInfo:
    """The SPS fields the hvcC and the track need. Raises ``BitstreamError``."""
    rbsp = unescape_rbsp(sps[2:])
    r = BitReader(rbsp)
    r.u(4)  # sps_video_parameter_set_id
    sub_layers_minus1 = r.u(3)
    nesting = r.u(1)
    general = rbsp[1:13]
    r.skip(96)
    present = [(r.u(1), r.u(1)) for _ in range(sub_layers_minus1)]
    if sub_layers_minus1:
        r.skip(2 * (8 - sub_layers_minus1))
    for profile_present, level_present in present:
        r.skip(88 * profile_present + 8 * level_present)
    sps_id = r.ue()
    chroma = r.ue()
    if chroma == 3:
        r.u(1)  # separate_colour_plane_flag
    r.ue()
    r.ue()  # pic width, height
    if r.u(1):
        for _ in range(4):
            r.ue()  # conformance window
    luma_minus8 = r.ue()
    chroma_minus8 = r.ue()
    if sps_id > 15 or chroma > 3 or luma_minus8 > 7 or chroma_minus8 > 7:
        raise BitstreamError("SPS field out of range")
    width, height = hevc_sps_size(sps)
    return HevcSpsInfo(sps_id, sub_layers_minus1 + 1, nesting, chroma,
                       luma_minus8 | chroma_minus8 << 4, general, width, height)


def pps_id(nal: bytes) -> int:
    value = BitReader(unescape_rbsp(nal[2:8])).ue()
    if value > 63:
        raise BitstreamError("pps_pic_parameter_set_id out of range")
    return value


def hevc_config_record(vps: Sequence[bytes], sps: Sequence[bytes], pps: Sequence[bytes],
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
    """hvcC with one VPS, SPS and PPS (see ``hevc_config_record``)."""
    return hevc_config_record([vps], [sps], [pps])


class HevcParser:
    """One HEVC elementary stream's parameter sets and current track."""

    __slots__ = ("_info", "_pps", "_sps", "_vps", "parameter_set_errors", "track")

    codec: Final = "hevc"

    def __init__(self) -> None:
        self._vps = ParameterSets(16)
        self._sps = ParameterSets(16)
        self._pps = ParameterSets(64)
        self._info: HevcSpsInfo | None = None
        self.track: TrackInfo | None = None
        self.parameter_set_errors = 0

    def access_unit(self, data: bytes) -> tuple[list[bytes], bool, TrackInfo | None]:
        """(NAL units for the sample, keyframe, the new track if the config changed)."""
        sample: list[bytes] = []
        key = False
        changed = False
        for nal in split_annex_b(data):
            if len(nal) < 2:
                continue  # not even a NAL unit header
            kind = nal[0] >> 1 & 0x3F
            if VPS <= kind <= PPS and not (nal[0] & 1 or nal[1] & 0xF8):  # base layer
                try:
                    if kind == VPS:
                        if len(nal) < 3:
                            raise BitstreamError("VPS truncated")
                        changed |= self._vps.put(nal[2] >> 4, nal)
                    elif kind == SPS:
                        info = parse_sps(nal)
                        changed |= self._sps.put(info.sps_id, nal)
                        self._info = info
                    else:
                        changed |= self._pps.put(pps_id(nal), nal)
                    continue
                except BitstreamError:
                    self.parameter_set_errors += 1
            elif kind in _DROPPED:
                continue
            elif IRAP_FIRST <= kind <= IRAP_LAST:
                key = True
            sample.append(nal)
        return sample, key, self._rebuild() if changed else None

    def _rebuild(self) -> TrackInfo | None:
        info = self._info
        if info is None or not self._vps or not self._sps or not self._pps:
            return None
        config = hevc_config_record(self._vps.values(), self._sps.values(), self._pps.values(),
                                    info)
        track = TrackInfo(VIDEO_TRACK_ID, "video", "hevc", TIMESCALE, config,
                          hevc_codec_string(config), info.width, info.height)
        if track == self.track:
            return None
        self.track = track
        return track
