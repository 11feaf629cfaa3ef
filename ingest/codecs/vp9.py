"""VP9: the picture size of a keyframe's uncompressed header (VP9 bitstream §6.2), the
VPCodecConfigurationRecord (vp-codec-isobmff §2.3) and the RFC 6381 ``vp09`` string (§5)."""

from __future__ import annotations

from typing import ClassVar, Final

from ingest.codecs.bits import BitReader, BitstreamError, Buffer, checked_size
from ingest.codecs.normaliser import FrameNormaliser
from ingest.media import Codec

RECORD_SIZE: Final = 8
"""Bytes of a vpcC without codecInitializationData."""
_SYNC_CODE: Final = 0x498342


def keyframe_size(frame: Buffer) -> tuple[int, int] | None:
    """(width, height) from a VP9 keyframe's uncompressed header; None for other frames and
    for headers that do not parse (never raises)."""
    r = BitReader(frame[:16])
    try:
        if r.u(2) != 2:  # frame_marker
            return None
        profile = r.u(1) | (r.u(1) << 1)
        if profile == 3:
            r.u(1)
        if r.u(1) or r.u(1):  # show_existing_frame, frame_type (1 = inter)
            return None
        r.u(2)  # show_frame, error_resilient_mode
        if r.u(24) != _SYNC_CODE:
            return None
        if profile >= 2:
            r.u(1)  # ten_or_twelve_bit
        if r.u(3) != 7:  # color_space != CS_RGB
            r.u(1)  # color_range
            if profile in (1, 3):
                r.u(3)
        elif profile in (1, 3):
            r.u(1)
        return checked_size(r.u(16) + 1, r.u(16) + 1)
    except BitstreamError:
        return None


def read_config_record(data: Buffer) -> bytes:
    """The bare vpcC of a configuration record. ffmpeg writes it with its FullBox version
    and flags; the bare record's level byte can never be 0, so version 1 + zero flags is
    unambiguous. Raises ``BitstreamError`` for a truncated record."""
    if len(data) >= 4 + RECORD_SIZE and data[0] == 1 and bytes(data[1:4]) == b"\x00\x00\x00":
        data = data[4:]
    if len(data) < RECORD_SIZE:
        raise BitstreamError("VPCodecConfigurationRecord truncated")
    return bytes(data)


def codec_string(vpcc: Buffer) -> str:
    """``vp09.PP.LL.DD`` (profile, level, bit depth) of a bare vpcC."""
    if len(vpcc) < 3:
        raise BitstreamError("VPCodecConfigurationRecord truncated")
    return f"vp09.{vpcc[0]:02d}.{vpcc[1]:02d}.{vpcc[2] >> 4:02d}"


class Vp9Normaliser(FrameNormaliser):
    codec: ClassVar[Codec] = "vp9"

    def _read_record(self, record: Buffer) -> tuple[bytes, str, tuple[int, int] | None]:
        vpcc = read_config_record(record)
        return vpcc, codec_string(vpcc), None  # a vpcC has no picture size

    def keyframe_size(self, frame: Buffer) -> tuple[int, int] | None:
        return keyframe_size(frame)
