"""HEVCDecoderConfigurationRecord (hvcC, ISO/IEC 14496-15 §8.3.3) from in-band parameter
sets: what an MPEG-TS publisher sends instead of the record RTMP carries."""

from __future__ import annotations

import struct

from ingest.rtmp.bitstream import BitReader, unescape_rbsp

VPS, SPS, PPS = 32, 33, 34


def _sps_format(sps: bytes) -> tuple[int, int, int, int, bytes]:
    """(max_sub_layers, temporal_id_nesting, chroma_format_idc, luma bit depth - 8 | chroma
    bit depth - 8 << 4, the 12 bytes of general_profile_tier_level) from an SPS NAL."""
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
    r.ue()  # sps_seq_parameter_set_id
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
    return sub_layers_minus1 + 1, nesting, chroma, luma_minus8 | chroma_minus8 << 4, general


def hevc_config(vps: bytes, sps: bytes, pps: bytes) -> bytes:
    """hvcC with one VPS, SPS and PPS array (complete: arrays flagged as such), 4-byte NAL
    lengths. Raises ``BitstreamError`` for an SPS it cannot read."""
    sub_layers, nesting, chroma, depths, general = _sps_format(sps)
    head = struct.pack(
        ">B12sHBBBBHB", 1, general,
        0xF000,  # reserved + min_spatial_segmentation_idc 0 (unknown)
        0xFC,  # parallelismType 0 (unknown)
        0xFC | chroma,
        0xF8 | depths & 0x0F, 0xF8 | depths >> 4,
        0,  # avgFrameRate unspecified
        sub_layers << 3 | nesting << 2 | 3,  # constantFrameRate 0, lengthSizeMinusOne 3
    )
    arrays = b"".join(struct.pack(">BHH", 0x80 | kind, 1, len(nal)) + nal
                      for kind, nal in ((VPS, vps), (SPS, sps), (PPS, pps)))
    return head + b"\x03" + arrays
