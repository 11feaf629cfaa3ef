"""Just enough codec bitstream parsing to describe a track: picture size from an H.264/HEVC
SPS, an AV1 sequence header or a VP9 keyframe, and the AAC AudioSpecificConfig fields.

Parsers raise ``BitstreamError`` (a ``ValueError``) on truncated or nonsensical input; the
FLV layer then falls back to ``onMetaData`` sizes instead of failing the publish.
"""

from __future__ import annotations

from typing import Final


class BitstreamError(ValueError):
    pass


class BitReader:
    """MSB-first bit reader over a short byte string (parameter sets are tens of bytes)."""

    __slots__ = ("_bits", "_pos", "_value")

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._value = int.from_bytes(data, "big")
        self._bits = len(data) * 8
        self._pos = 0

    @property
    def remaining(self) -> int:
        return self._bits - self._pos

    def u(self, n: int) -> int:
        if n == 0:
            return 0
        pos = self._pos + n
        if pos > self._bits:
            raise BitstreamError("bitstream truncated")
        self._pos = pos
        return (self._value >> (self._bits - pos)) & ((1 << n) - 1)

    def skip(self, n: int) -> None:
        if self._pos + n > self._bits:
            raise BitstreamError("bitstream truncated")
        self._pos += n

    def ue(self) -> int:
        """Exp-Golomb ue(v)."""
        zeros = 0
        while not self.u(1):
            zeros += 1
            if zeros > 31:
                raise BitstreamError("exp-Golomb code too long")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) >> 1 if k & 1 else -(k >> 1)


def unescape_rbsp(nal_payload: bytes | bytearray | memoryview) -> bytes:
    """Drop emulation-prevention bytes (00 00 03 → 00 00). ``bytes.replace`` scans left to
    right without overlap, which is exactly the rule: the zero count restarts after each 03."""
    return bytes(nal_payload).replace(b"\x00\x00\x03", b"\x00\x00")


# profile_idc values whose SPS carries chroma_format_idc and bit depths (H.264 §7.3.2.1.1).
_H264_HIGH_PROFILES: Final = frozenset({100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139,
                                         134, 135})


def h264_sps_size(sps_nal: bytes | bytearray | memoryview) -> tuple[int, int]:
    """(width, height) in pixels after cropping, from an SPS NAL unit incl. its header."""
    r = BitReader(unescape_rbsp(sps_nal[1:]))
    profile_idc = r.u(8)
    r.skip(16)  # constraint flags, level_idc
    r.ue()  # seq_parameter_set_id
    chroma_format_idc = 1
    separate_colour_plane = 0
    if profile_idc in _H264_HIGH_PROFILES:
        chroma_format_idc = r.ue()
        if chroma_format_idc > 3:
            raise BitstreamError("bad chroma_format_idc")
        if chroma_format_idc == 3:
            separate_colour_plane = r.u(1)
        r.ue()  # bit_depth_luma_minus8
        r.ue()  # bit_depth_chroma_minus8
        r.u(1)  # qpprime_y_zero_transform_bypass_flag
        if r.u(1):  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma_format_idc != 3 else 12):
                if r.u(1):
                    _skip_scaling_list(r, 16 if i < 6 else 64)
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
    width = 16 * width_mbs - crop_x * (left + right)
    height = 16 * (2 - frame_mbs_only) * height_map_units - crop_y * (top + bottom)
    return _checked(width, height)


def _skip_scaling_list(r: BitReader, size: int) -> None:
    last = next_scale = 8
    for _ in range(size):
        if next_scale:
            next_scale = (last + r.se() + 256) % 256
        last = next_scale or last


def hevc_sps_size(sps_nal: bytes | bytearray | memoryview) -> tuple[int, int]:
    """(width, height) after the conformance window, from an HEVC SPS NAL (2-byte header)."""
    r = BitReader(unescape_rbsp(sps_nal[2:]))
    r.u(4)  # sps_video_parameter_set_id
    max_sub_layers_minus1 = r.u(3)
    r.u(1)  # sps_temporal_id_nesting_flag
    r.skip(96)  # general profile_tier_level: 88 bits of profile + general_level_idc
    present = [(r.u(1), r.u(1)) for _ in range(max_sub_layers_minus1)]
    if max_sub_layers_minus1:
        r.skip(2 * (8 - max_sub_layers_minus1))  # reserved_zero_2bits
    for profile_present, level_present in present:
        r.skip(88 * profile_present + 8 * level_present)
    r.ue()  # sps_seq_parameter_set_id
    chroma_format_idc = r.ue()
    if chroma_format_idc > 3:
        raise BitstreamError("bad chroma_format_idc")
    separate_colour_plane = r.u(1) if chroma_format_idc == 3 else 0
    width = r.ue()
    height = r.ue()
    if r.u(1):  # conformance_window_flag
        left, right, top, bottom = r.ue(), r.ue(), r.ue(), r.ue()
        if separate_colour_plane or chroma_format_idc == 0:
            sub_width = sub_height = 1
        else:
            sub_width = 1 if chroma_format_idc == 3 else 2
            sub_height = 2 if chroma_format_idc == 1 else 1
        width -= sub_width * (left + right)
        height -= sub_height * (top + bottom)
    return _checked(width, height)


def _leb128(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    value = 0
    for i in range(8):
        if pos >= len(data):
            raise BitstreamError("leb128 truncated")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, pos
    raise BitstreamError("leb128 too long")


def av1_find_sequence_header(obus: bytes | bytearray | memoryview) -> bytes | None:
    """The payload of the first OBU_SEQUENCE_HEADER in a run of OBUs, if any."""
    pos, end = 0, len(obus)
    while pos < end:
        header = obus[pos]
        obu_type = (header >> 3) & 0xF
        pos += 2 if header & 0x04 else 1  # extension byte
        if header & 0x02:
            size, pos = _leb128(obus, pos)
        else:
            size = end - pos
        if size > end - pos:
            raise BitstreamError("OBU truncated")
        if obu_type == 1:
            return bytes(obus[pos:pos + size])
        pos += size
    return None


def av1_sequence_header_size(payload: bytes) -> tuple[int, int]:
    """(max_frame_width, max_frame_height) from a sequence header OBU payload (AV1 §5.5)."""
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
    return _checked(r.u(width_bits) + 1, r.u(height_bits) + 1)


def _uvlc(r: BitReader) -> int:
    zeros = 0
    while not r.u(1):
        zeros += 1
        if zeros >= 32:
            return (1 << 32) - 1
    return r.u(zeros) + (1 << zeros) - 1


def vp9_keyframe_size(frame: bytes | bytearray | memoryview) -> tuple[int, int] | None:
    """(width, height) from a VP9 keyframe's uncompressed header; None for other frames."""
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
        if r.u(24) != 0x498342:
            return None
        if profile >= 2:
            r.u(1)  # ten_or_twelve_bit
        if r.u(3) != 7:  # color_space != CS_RGB
            r.u(1)  # color_range
            if profile in (1, 3):
                r.u(3)
        elif profile in (1, 3):
            r.u(1)
        return _checked(r.u(16) + 1, r.u(16) + 1)
    except BitstreamError:
        return None


def _checked(width: int, height: int) -> tuple[int, int]:
    if not (0 < width <= 65535 and 0 < height <= 65535):
        raise BitstreamError(f"implausible picture size {width}x{height}")
    return width, height


AAC_SAMPLE_RATES: Final = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000,
                           12000, 11025, 8000, 7350)


def _aac_rate(r: BitReader) -> int:
    index = r.u(4)
    if index == 15:
        return r.u(24)
    if index >= len(AAC_SAMPLE_RATES):
        raise BitstreamError(f"reserved AAC sampling frequency index {index}")
    return AAC_SAMPLE_RATES[index]


def aac_audio_specific_config(asc: bytes | bytearray | memoryview) -> tuple[int, int, int]:
    """(audioObjectType, sample rate, channels) from the leading fields of an ASC. With
    explicit SBR/PS signalling (AOT 5/29) the rate is the extension (output) rate."""
    r = BitReader(asc[:16])
    aot = r.u(5)
    if aot == 31:
        aot = 32 + r.u(6)
    rate = _aac_rate(r)
    channel_config = r.u(4)
    if aot in (5, 29):
        rate = _aac_rate(r)
    channels = 8 if channel_config == 7 else channel_config
    if channel_config > 7 or rate <= 0:
        raise BitstreamError("bad AudioSpecificConfig")
    return aot, rate, channels
