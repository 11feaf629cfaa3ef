"""AV1: the sequence header OBU's maximum picture size (AV1 §5.5), the AV1CodecConfigurationRecord
(av1-isobmff §2.3) and the RFC 6381 ``av01`` string (av1-isobmff §5)."""

from __future__ import annotations

from typing import ClassVar, Final

from ingest.codecs.bits import BitReader, BitstreamError, Buffer, checked_size, leb128
from ingest.codecs.normaliser import FrameNormaliser
from ingest.media import Codec

OBU_SEQUENCE_HEADER: Final = 1
RECORD_MARKER: Final = 0x81
"""marker 1 + version 1: the first byte of every av1C."""


def find_sequence_header(obus: Buffer) -> bytes | None:
    """The payload of the first OBU_SEQUENCE_HEADER in a run of OBUs, if any. Raises
    ``BitstreamError`` for an OBU that overruns ``obus``."""
    pos, end = 0, len(obus)
    while pos < end:
        header = obus[pos]
        obu_type = (header >> 3) & 0xF
        pos += 2 if header & 0x04 else 1  # extension byte
        if header & 0x02:
            size, pos = leb128(obus, pos)
        else:
            size = end - pos
        if size > end - pos:
            raise BitstreamError("OBU truncated")
        if obu_type == OBU_SEQUENCE_HEADER:
            return bytes(obus[pos:pos + size])
        pos += size
    return None


def sequence_header_size(payload: Buffer) -> tuple[int, int]:
    """(max_frame_width, max_frame_height) from a sequence header OBU payload. Raises
    ``BitstreamError``."""
    r = BitReader(payload)
    r.u(3)  # seq_profile
    r.u(1)  # still_picture
    if r.u(1):  # reduced_still_picture_header
        r.u(5)
    else:
        decoder_model_info = 0
        buffer_delay_length = 0
        if r.u(1):  # timing_info_present_flag
            r.skip(64)
            if r.u(1):  # equal_picture_interval
                _uvlc(r)
            decoder_model_info = r.u(1)
            if decoder_model_info:
                buffer_delay_length = r.u(5) + 1
                r.skip(32 + 5 + 5)
        initial_display_delay = r.u(1)
        for _ in range(r.u(5) + 1):  # operating points
            r.u(12)  # operating_point_idc
            if r.u(5) > 7:  # seq_level_idx
                r.u(1)  # seq_tier
            if decoder_model_info and r.u(1):
                r.skip(2 * buffer_delay_length + 1)
            if initial_display_delay and r.u(1):
                r.u(4)
    width_bits = r.u(4) + 1
    height_bits = r.u(4) + 1
    return checked_size(r.u(width_bits) + 1, r.u(height_bits) + 1)


def _uvlc(r: BitReader) -> int:
    zeros = 0
    while not r.u(1):
        zeros += 1
        if zeros >= 32:
            return (1 << 32) - 1
    return r.u(zeros) + (1 << zeros) - 1


def obus_size(obus: Buffer) -> tuple[int, int] | None:
    """The size a run of OBUs gives through its sequence header, None if it has none that
    parses (never raises)."""
    try:
        header = find_sequence_header(obus)
        return None if header is None else sequence_header_size(header)
    except BitstreamError:
        return None


def codec_string(av1c: Buffer) -> str:
    """``av01.P.LLT.DD`` from the profile, level, tier and bit depth fields of an av1C.
    Raises ``BitstreamError`` for a record shorter than them."""
    if len(av1c) < 3:
        raise BitstreamError("AV1CodecConfigurationRecord truncated")
    profile = av1c[1] >> 5
    level = av1c[1] & 0x1F
    tier = "H" if av1c[2] & 0x80 else "M"
    depth = (12 if av1c[2] & 0x20 else 10) if av1c[2] & 0x40 else 8
    return f"av01.{profile}.{level:02d}{tier}.{depth:02d}"


def check_config_record(av1c: Buffer) -> None:
    """Raises ``BitstreamError`` unless ``av1c`` starts like an av1C (marker, version, the
    four fixed bytes)."""
    if len(av1c) < 4 or av1c[0] != RECORD_MARKER:
        raise BitstreamError("AV1CodecConfigurationRecord malformed")


class Av1Normaliser(FrameNormaliser):
    codec: ClassVar[Codec] = "av1"

    def _read_record(self, record: Buffer) -> tuple[bytes, str, tuple[int, int] | None]:
        check_config_record(record)
        return bytes(record), codec_string(record), obus_size(record[4:])  # configOBUs

    def keyframe_size(self, frame: Buffer) -> tuple[int, int] | None:
        return obus_size(frame)
