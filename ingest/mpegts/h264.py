"""H.264 access units from MPEG-TS (Annex B) → fMP4-ready samples and an avcC record.

What mediamtx's format updater and unit remuxer do, once, at ingest: SPS/PPS found in the
stream are captured (by id) into an AVCDecoderConfigurationRecord and leave the sample, a
changed one rebuilds the record and the track; access unit delimiters and filler data are
dropped; SEI stays. A parameter set that does not parse stays in the sample (a decoder may
still make sense of it) and is counted. Keyframe = the access unit holds an IDR slice.
"""

from __future__ import annotations

from typing import Final

from ingest.media import TrackInfo
from ingest.mpegts.annexb import ParameterSets, split_annex_b
from ingest.rtmp.bitstream import BitReader, BitstreamError, h264_sps_size, unescape_rbsp
from ingest.rtmp.flv import avc_codec_string

NAL_IDR: Final = 5
NAL_SPS: Final = 7
NAL_PPS: Final = 8
NAL_AUD: Final = 9
NAL_FILLER: Final = 12
_DROPPED: Final = frozenset({NAL_AUD, NAL_FILLER})

# profile_idc values whose SPS carries chroma_format_idc and bit depths (H.264 §7.3.2.1.1);
# for these the avcC ends with the chroma/bit-depth fields, as ffmpeg writes it.
HIGH_PROFILES: Final = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134,
                                  135})

VIDEO_TRACK_ID: Final = 0
TIMESCALE: Final = 90000


class SpsInfo:
    __slots__ = ("bit_depth_chroma_minus8", "bit_depth_luma_minus8", "chroma_format_idc",
                 "height", "sps_id", "width")

    def __init__(self, sps_id: int, chroma_format_idc: int, bit_depth_luma_minus8: int,
                 bit_depth_chroma_minus8: int, width: int, height: int) -> None:
        self.sps_id = sps_id
        self.chroma_format_idc = chroma_format_idc
        self.bit_depth_luma_minus8 = bit_depth_luma_minus8
        self.bit_depth_chroma_minus8 = bit_depth_chroma_minus8
        self.width = width
        self.height = height


def parse_sps(nal: bytes) -> SpsInfo:
    """The SPS fields the avcC and the track need. Raises ``BitstreamError``."""
    if len(nal) < 4:
        raise BitstreamError("SPS shorter than its fixed fields")
    r = BitReader(unescape_rbsp(nal[1:32]))
    profile_idc = r.u(8)
    r.skip(16)  # constraint flags, level_idc
    sps_id = r.ue()
    chroma, luma, chroma_depth = 1, 0, 0
    if profile_idc in HIGH_PROFILES:
        chroma = r.ue()
        if chroma == 3:
            r.u(1)  # separate_colour_plane_flag
        luma = r.ue()
        chroma_depth = r.ue()
    if sps_id > 31 or chroma > 3 or luma > 6 or chroma_depth > 6:
        raise BitstreamError("SPS field out of range")
    width, height = h264_sps_size(nal)
    return SpsInfo(sps_id, chroma, luma, chroma_depth, width, height)


def pps_id(nal: bytes) -> int:
    """pic_parameter_set_id of a PPS NAL unit. Raises ``BitstreamError``."""
    value = BitReader(unescape_rbsp(nal[1:8])).ue()
    if value > 255:
        raise BitstreamError("pic_parameter_set_id out of range")
    return value


def avc_config(sps_list: list[bytes], pps_list: list[bytes], info: SpsInfo) -> bytes:
    """AVCDecoderConfigurationRecord (fmp4-mpegts.md §6.1) with 4-byte NAL lengths; profile,
    compatibility and level from the first SPS, the High-profile tail from ``info``."""
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


class H264Parser:
    """One H.264 elementary stream's parameter sets and current track."""

    __slots__ = ("_info", "_pps", "_sps", "parameter_set_errors", "track")

    codec: Final = "h264"

    def __init__(self) -> None:
        self._sps = ParameterSets(31)
        self._pps = ParameterSets(255)
        self._info: SpsInfo | None = None
        """The most recent SPS's fields: picture size and the avcC tail come from it."""
        self.track: TrackInfo | None = None
        self.parameter_set_errors = 0

    def access_unit(self, data: bytes) -> tuple[list[bytes], bool, TrackInfo | None]:
        """(NAL units for the sample, keyframe, the new track if the config changed)."""
        sample: list[bytes] = []
        key = False
        changed = False
        for nal in split_annex_b(data):
            kind = nal[0] & 0x1F
            if kind == NAL_SPS or kind == NAL_PPS:
                try:
                    if kind == NAL_SPS:
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
            elif kind == NAL_IDR:
                key = True
            sample.append(nal)
        return sample, key, self._rebuild() if changed else None

    def _rebuild(self) -> TrackInfo | None:
        info = self._info
        if info is None or not self._sps or not self._pps:
            return None
        config = avc_config(self._sps.values(), self._pps.values(), info)
        track = TrackInfo(VIDEO_TRACK_ID, "video", "h264", TIMESCALE, config,
                          avc_codec_string(config), info.width, info.height)
        if track == self.track:
            return None
        self.track = track
        return track
