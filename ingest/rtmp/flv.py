"""FLV audio/video message bodies → the media model (rtmp.md §6, §7, §9).

Legacy AVC/AAC and Enhanced RTMP (ExVideoTagHeader hvc1/av01/vp09/avc1, ExAudio mp4a/Opus,
ModEx, Multitrack: only track 0 is ingested). Timestamps are normalised here, once: the 32-bit
RTMP milliseconds are extended across the wrap by serial arithmetic, then kept monotonic per
track. Video payloads leave as 4-byte length-prefixed NAL units (AV1: OBUs, VP9: frames).
Unsupported codecs are ignored, not fatal: an MP3 track must not kill a good video publish.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Final

from ingest.media import Codec, Frame, TrackInfo
from ingest.rtmp.bitstream import (
    BitstreamError,
    aac_audio_specific_config,
    av1_find_sequence_header,
    av1_sequence_header_size,
    h264_sps_size,
    hevc_sps_size,
    vp9_keyframe_size,
)
from ingest.rtmp.errors import RtmpError
from ingest.rtmp.events import FrameReceived, RtmpEvent, TrackAnnounced

VIDEO_TRACK_ID: Final = 0
AUDIO_TRACK_ID: Final = 1
TIMESCALE: Final = 1000

# Legacy tags.
SOUND_FORMAT_AAC: Final = 10
SOUND_FORMAT_EX: Final = 9
CODEC_ID_AVC: Final = 7
FRAME_TYPE_KEY: Final = 1
FRAME_TYPE_COMMAND: Final = 5

# Enhanced RTMP packet types (video; audio shares 0-2, 5 and 7 differ, see below).
SEQUENCE_START, CODED_FRAMES, SEQUENCE_END, CODED_FRAMES_X = 0, 1, 2, 3
VIDEO_METADATA, VIDEO_MPEG2TS_SEQUENCE_START, VIDEO_MULTITRACK, VIDEO_MODEX = 4, 5, 6, 7
AUDIO_MULTICHANNEL_CONFIG, AUDIO_MULTITRACK, AUDIO_MODEX = 4, 5, 7
ONE_TRACK, MANY_TRACKS, MANY_TRACKS_MANY_CODECS = 0, 1, 2

_U16 = struct.Struct(">H")
_U32 = struct.Struct(">I")
_MASK32: Final = 0xFFFFFFFF
_HALF32: Final = 1 << 31

Buffer = bytes | bytearray | memoryview
Emit = Callable[[RtmpEvent], None]


def _fail(message: str) -> RtmpError:
    return RtmpError(message, "flv")


class _Clock:
    """One track's timeline: 32-bit ms → 64-bit, then clamped so dts never goes back."""

    __slots__ = ("extended", "last32", "last_dts")

    def __init__(self) -> None:
        self.last32 = -1
        self.extended = 0
        self.last_dts: int | None = None

    def stamp(self, ts32: int, cts: int) -> tuple[int, int]:
        if self.last32 < 0:
            raw = ts32
        else:
            diff = (ts32 - self.last32) & _MASK32
            raw = self.extended + (diff - (1 << 32) if diff >= _HALF32 else diff)
        self.last32 = ts32
        self.extended = raw
        last = self.last_dts
        dts = raw if last is None or raw >= last else last
        pts = raw + cts
        if pts < dts:
            pts = dts
        self.last_dts = dts
        return dts, pts


def _si24(data: Buffer, pos: int) -> int:
    value = (data[pos] << 16) | (data[pos + 1] << 8) | data[pos + 2]
    return value - (1 << 24) if value & 0x800000 else value


def _length_prefixed(data: memoryview, length_size: int) -> bytes:
    """NAL units with 4-byte big-endian lengths, checked to tile ``data`` exactly."""
    end = len(data)
    pos = 0
    if length_size == 4:
        unpack = _U32.unpack_from
        while pos < end:
            if end - pos < 4:
                raise _fail("NAL unit length truncated")
            pos += 4 + unpack(data, pos)[0]
        if pos != end:
            raise _fail("NAL unit overruns the video message")
        return bytes(data)
    parts: list[bytes] = []
    while pos < end:
        if end - pos < length_size:
            raise _fail("NAL unit length truncated")
        size = int.from_bytes(data[pos:pos + length_size], "big")
        pos += length_size
        if size > end - pos:
            raise _fail("NAL unit overruns the video message")
        parts.append(_U32.pack(size))
        parts.append(bytes(data[pos:pos + size]))
        pos += size
    return b"".join(parts)


def avc_codec_string(avcc: Buffer) -> str:
    return f"avc1.{avcc[1]:02x}{avcc[2]:02x}{avcc[3]:02x}"


def hevc_codec_string(hvcc: Buffer, sample_entry: str = "hvc1") -> str:
    """RFC 6381 / ISO 14496-15 Annex E string from hvcC bytes 1-12 (fmp4-mpegts.md §9)."""
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


def av1_codec_string(av1c: Buffer) -> str:
    profile = av1c[1] >> 5
    level = av1c[1] & 0x1F
    tier = "H" if av1c[2] & 0x80 else "M"
    depth = (12 if av1c[2] & 0x20 else 10) if av1c[2] & 0x40 else 8
    return f"av01.{profile}.{level:02d}{tier}.{depth:02d}"


def _nal_arrays(record: memoryview, pos: int, count: int, wanted: int,
                type_of: Callable[[int], int]) -> bytes | None:
    """First NAL of type ``wanted`` in hvcC arrays (count arrays from pos)."""
    end = len(record)
    for _ in range(count):
        if end - pos < 3:
            return None
        nal_type = record[pos] & 0x3F
        num = _U16.unpack_from(record, pos + 1)[0]
        pos += 3
        for _ in range(num):
            if end - pos < 2:
                return None
            size = _U16.unpack_from(record, pos)[0]
            pos += 2
            if size > end - pos:
                return None
            if nal_type == wanted and size and type_of(record[pos]) == wanted:
                return bytes(record[pos:pos + size])
            pos += size
    return None


class _VideoState:
    __slots__ = ("clock", "codec", "keyed", "length_size", "track")

    def __init__(self) -> None:
        self.track: TrackInfo | None = None
        self.codec = ""
        """FourCC of the announced track ("avc1", "hvc1", "av01", "vp09")."""
        self.length_size = 4
        self.keyed = False
        self.clock = _Clock()


class _AudioState:
    __slots__ = ("clock", "codec", "track")

    def __init__(self) -> None:
        self.track: TrackInfo | None = None
        self.codec = ""
        self.clock = _Clock()


class FlvDemuxer:
    """Per-publish state: current tracks, NAL length size, clocks, the first-keyframe gate."""

    def __init__(self) -> None:
        self._video = _VideoState()
        self._audio = _AudioState()
        self._meta_width = 0
        self._meta_height = 0

    @property
    def video_track(self) -> TrackInfo | None:
        return self._video.track

    @property
    def audio_track(self) -> TrackInfo | None:
        return self._audio.track

    def set_metadata(self, metadata: Mapping[str, object]) -> None:
        """Remember onMetaData's picture size, used when a sequence header has none."""
        width, height = metadata.get("width"), metadata.get("height")
        if (isinstance(width, int | float) and isinstance(height, int | float)
                and not isinstance(width, bool) and not isinstance(height, bool)
                and 0 < width <= 65535 and 0 < height <= 65535):
            self._meta_width, self._meta_height = int(width), int(height)

    # -- video ------------------------------------------------------------------------------

    def video(self, timestamp: int, body: Buffer, arrival: float, emit: Emit) -> None:
        """One type-9 message body with its 32-bit RTMP timestamp."""
        data = memoryview(body).cast("B") if not isinstance(body, memoryview) else body
        if not len(data):
            return
        b0 = data[0]
        if b0 & 0x80:
            self._ex_video(timestamp, data, arrival, emit)
            return
        frame_type = b0 >> 4
        if frame_type == FRAME_TYPE_COMMAND or b0 & 0x0F != CODEC_ID_AVC:
            return
        if len(data) < 5:
            raise _fail("AVC video packet shorter than its header")
        packet_type = data[1]
        if packet_type == 0:
            self._avc_config("avc1", data[5:], emit)
        elif packet_type == 1:
            self._nal_frame("avc1", timestamp, _si24(data, 2), frame_type == FRAME_TYPE_KEY,
                            data[5:], arrival, emit)

    def _ex_video(self, timestamp: int, data: memoryview, arrival: float, emit: Emit) -> None:
        b0 = data[0]
        frame_type = (b0 >> 4) & 0x07
        packet_type, pos = _skip_modex(data, b0 & 0x0F, 1, VIDEO_MODEX)
        if frame_type == FRAME_TYPE_COMMAND and packet_type != VIDEO_METADATA:
            return
        selected = _fourcc_and_body(data, pos, packet_type, VIDEO_MULTITRACK, "ExVideoTagHeader")
        if selected is None:
            return
        fourcc, packet_type, body = selected
        key = frame_type == FRAME_TYPE_KEY
        name = fourcc.decode("latin-1")
        if packet_type == SEQUENCE_START:
            if name in ("avc1", "hvc1"):
                self._avc_config(name, body, emit)
            elif name == "av01":
                self._av1_config(body, emit)
            elif name == "vp09":
                self._vp9_config(body, emit)
        elif packet_type in (CODED_FRAMES, CODED_FRAMES_X):
            if name in ("avc1", "hvc1"):
                cts = 0
                if packet_type == CODED_FRAMES:
                    if len(body) < 3:
                        raise _fail("CodedFrames without a composition time")
                    cts = _si24(body, 0)
                    body = body[3:]
                self._nal_frame(name, timestamp, cts, key, body, arrival, emit)
            elif name in ("av01", "vp09"):
                self._raw_video_frame(name, timestamp, key, body, arrival, emit)
        # SequenceEnd, Metadata (HDR colorInfo), MPEG2TSSequenceStart, reserved: nothing to do.

    def _avc_config(self, fourcc: str, record: memoryview, emit: Emit) -> None:
        codec: Codec
        if fourcc == "avc1":
            if len(record) < 7:
                raise _fail("AVCDecoderConfigurationRecord truncated")
            codec, size_at = "h264", 4
            codec_string = avc_codec_string(record)
            sps = _avcc_first_sps(record)
            parse: Callable[[bytes], tuple[int, int]] = h264_sps_size
        else:
            if len(record) < 23:
                raise _fail("HEVCDecoderConfigurationRecord truncated")
            codec, size_at = "hevc", 21
            codec_string = hevc_codec_string(record)
            sps = _nal_arrays(record, 23, record[22], 33, lambda b: (b >> 1) & 0x3F)
            parse = hevc_sps_size
        length_size = (record[size_at] & 0x03) + 1
        config = bytearray(record)
        config[size_at] |= 0x03  # frames leave with 4-byte lengths, so the record must say so
        width, height = self._size(parse, sps)
        state = self._video
        state.length_size = length_size
        self._announce_video(fourcc, codec, bytes(config), codec_string, width, height, emit)

    def _av1_config(self, record: memoryview, emit: Emit) -> None:
        if len(record) < 4 or record[0] != 0x81:
            raise _fail("AV1CodecConfigurationRecord malformed")
        try:
            header = av1_find_sequence_header(record[4:])
        except BitstreamError:
            header = None
        width, height = self._size(av1_sequence_header_size, header)
        self._announce_video("av01", "av1", bytes(record), av1_codec_string(record),
                             width, height, emit)

    def _vp9_config(self, record: memoryview, emit: Emit) -> None:
        # ffmpeg writes vpcC with its FullBox version/flags; the bare record's level byte
        # can never be 0, so version 1 + zero flags is unambiguous.
        if len(record) >= 12 and record[0] == 1 and bytes(record[1:4]) == b"\x00\x00\x00":
            record = record[4:]
        if len(record) < 8:
            raise _fail("VPCodecConfigurationRecord truncated")
        codec_string = f"vp09.{record[0]:02d}.{record[1]:02d}.{record[2] >> 4:02d}"
        self._announce_video("vp09", "vp9", bytes(record), codec_string,
                             self._meta_width, self._meta_height, emit)

    def _size(self, parse: Callable[[bytes], tuple[int, int]],
              payload: bytes | None) -> tuple[int, int]:
        if payload is not None:
            try:
                return parse(payload)
            except BitstreamError:
                pass
        return self._meta_width, self._meta_height

    def _announce_video(self, fourcc: str, codec: Codec, config: bytes, codec_string: str,
                        width: int, height: int, emit: Emit) -> None:
        state = self._video
        track = TrackInfo(VIDEO_TRACK_ID, "video", codec, TIMESCALE, config, codec_string,
                          width, height)
        if track != state.track:
            if state.track is None or state.track.codec != codec:
                state.keyed = False  # a new decoder must start on a keyframe
            state.track = track
            state.codec = fourcc
            emit(TrackAnnounced(track))

    def _video_track(self, fourcc: str, key: bool) -> TrackInfo | None:
        """The track a coded frame belongs to, or None to drop it."""
        state = self._video
        if state.track is None or state.codec != fourcc:
            return None
        if not state.keyed:
            if not key:
                return None
            state.keyed = True
        return state.track

    def _nal_frame(self, fourcc: str, timestamp: int, cts: int, key: bool, nalus: memoryview,
                   arrival: float, emit: Emit) -> None:
        track = self._video_track(fourcc, key)
        if track is None or not len(nalus):
            return
        payload = _length_prefixed(nalus, self._video.length_size)
        dts, pts = self._video.clock.stamp(timestamp, cts)
        emit(FrameReceived(Frame(track, dts, pts, key, payload, arrival)))

    def _raw_video_frame(self, fourcc: str, timestamp: int, key: bool, body: memoryview,
                         arrival: float, emit: Emit) -> None:
        state = self._video
        old = state.track
        if key and old is not None and state.codec == fourcc and not old.width:
            # No size in the configuration record nor in onMetaData: every keyframe carries
            # it (VP9 uncompressed header, AV1 sequence header OBU).
            size = _keyframe_size(fourcc, body)
            if size is not None:
                self._announce_video(fourcc, old.codec, old.config, old.codec_string, *size,
                                     emit=emit)
        track = self._video_track(fourcc, key)
        if track is None or not len(body):
            return
        dts, pts = state.clock.stamp(timestamp, 0)
        emit(FrameReceived(Frame(track, dts, pts, key, bytes(body), arrival)))

    # -- audio ------------------------------------------------------------------------------

    def audio(self, timestamp: int, body: Buffer, arrival: float, emit: Emit) -> None:
        """One type-8 message body with its 32-bit RTMP timestamp."""
        data = memoryview(body).cast("B") if not isinstance(body, memoryview) else body
        if not len(data):
            return  # "silence" (E-RTMP documents the legacy meaning)
        sound_format = data[0] >> 4
        if sound_format == SOUND_FORMAT_AAC:
            if len(data) < 2:
                raise _fail("AAC audio packet shorter than its header")
            if data[1] == 0:
                self._aac_config(data[2:], emit)
            elif data[1] == 1:
                self._audio_frame("mp4a", timestamp, data[2:], arrival, emit)
        elif sound_format == SOUND_FORMAT_EX:
            self._ex_audio(timestamp, data, arrival, emit)

    def _ex_audio(self, timestamp: int, data: memoryview, arrival: float, emit: Emit) -> None:
        packet_type, pos = _skip_modex(data, data[0] & 0x0F, 1, AUDIO_MODEX)
        selected = _fourcc_and_body(data, pos, packet_type, AUDIO_MULTITRACK, "ExAudioTagHeader")
        if selected is None:
            return
        fourcc, packet_type, body = selected
        name = fourcc.decode("latin-1")
        if packet_type == SEQUENCE_START:
            if name == "mp4a":
                self._aac_config(body, emit)
            elif name == "Opus":
                self._opus_config(body, emit)
        elif packet_type == CODED_FRAMES and name in ("mp4a", "Opus"):
            self._audio_frame(name, timestamp, body, arrival, emit)
        # SequenceEnd, MultichannelConfig, other codecs: nothing to do.

    def _aac_config(self, asc: memoryview, emit: Emit) -> None:
        try:
            aot, rate, channels = aac_audio_specific_config(asc)
        except BitstreamError as exc:
            raise _fail(f"bad AudioSpecificConfig: {exc}") from None
        self._announce_audio("mp4a", TrackInfo(
            AUDIO_TRACK_ID, "audio", "aac", TIMESCALE, bytes(asc), f"mp4a.40.{aot}",
            sample_rate=rate, channels=channels), emit)

    def _opus_config(self, head: memoryview, emit: Emit) -> None:
        # RFC 7845 §5.1 ID header; E-RTMP allows it to be empty (channel count unknown then).
        channels = head[9] if len(head) >= 19 and bytes(head[:8]) == b"OpusHead" else 0
        self._announce_audio("Opus", TrackInfo(
            AUDIO_TRACK_ID, "audio", "opus", TIMESCALE, bytes(head), "opus",
            sample_rate=48000, channels=channels), emit)

    def _announce_audio(self, fourcc: str, track: TrackInfo, emit: Emit) -> None:
        state = self._audio
        if track != state.track:
            state.track = track
            state.codec = fourcc
            emit(TrackAnnounced(track))

    def _audio_frame(self, fourcc: str, timestamp: int, body: memoryview, arrival: float,
                     emit: Emit) -> None:
        state = self._audio
        track = state.track
        if track is None or state.codec != fourcc or not len(body):
            return
        dts, pts = state.clock.stamp(timestamp, 0)
        emit(FrameReceived(Frame(track, dts, pts, True, bytes(body), arrival)))


def _keyframe_size(fourcc: str, frame: memoryview) -> tuple[int, int] | None:
    if fourcc == "vp09":
        return vp9_keyframe_size(frame)
    try:
        header = av1_find_sequence_header(frame)
        return None if header is None else av1_sequence_header_size(header)
    except BitstreamError:
        return None


def _avcc_first_sps(record: memoryview) -> bytes | None:
    count = record[5] & 0x1F
    pos = 6
    for _ in range(count):
        if len(record) - pos < 2:
            return None
        size = _U16.unpack_from(record, pos)[0]
        pos += 2
        if size > len(record) - pos:
            return None
        if size and record[pos] & 0x1F == 7:
            return bytes(record[pos:pos + size])
        pos += size
    return None


def _skip_modex(data: memoryview, packet_type: int, pos: int, modex: int) -> tuple[int, int]:
    """Step over ModEx prefixes (§7.4). TimestampOffsetNano is below our 1 ms resolution,
    so every ModEx payload is skipped; returns (real packet type, position after)."""
    end = len(data)
    while packet_type == modex:
        if pos >= end:
            raise _fail("ModEx truncated")
        size = data[pos] + 1
        pos += 1
        if size == 256:
            if end - pos < 2:
                raise _fail("ModEx truncated")
            size = _U16.unpack_from(data, pos)[0] + 1
            pos += 2
        pos += size
        if pos >= end:
            raise _fail("ModEx truncated")
        packet_type = data[pos] & 0x0F
        pos += 1
    return packet_type, pos


def _fourcc_and_body(data: memoryview, pos: int, packet_type: int, multitrack: int,
                     header: str) -> tuple[bytes, int, memoryview] | None:
    """(FourCC, packet type, body) of an enhanced tag, of track 0 if it is Multitrack."""
    if packet_type == multitrack:
        return _track_zero(data, pos, multitrack)
    if len(data) - pos < 4:
        raise _fail(f"{header} truncated")
    return bytes(data[pos:pos + 4]), packet_type, data[pos + 4:]


def _track_zero(data: memoryview, pos: int,
                multitrack: int) -> tuple[bytes, int, memoryview] | None:
    """(FourCC, packet type, body) of track 0 in a Multitrack packet (§7.3), or None."""
    end = len(data)
    if pos >= end:
        raise _fail("Multitrack header truncated")
    kind, packet_type = data[pos] >> 4, data[pos] & 0x0F
    pos += 1
    if packet_type == multitrack:
        raise _fail("nested Multitrack packet")
    if kind > MANY_TRACKS_MANY_CODECS:
        raise _fail(f"unknown AvMultitrackType {kind}")
    fourcc = b""
    if kind != MANY_TRACKS_MANY_CODECS:
        if end - pos < 4:
            raise _fail("Multitrack header truncated")
        fourcc = bytes(data[pos:pos + 4])
        pos += 4
    while pos < end:
        if kind == MANY_TRACKS_MANY_CODECS:
            if end - pos < 4:
                raise _fail("Multitrack track header truncated")
            fourcc = bytes(data[pos:pos + 4])
            pos += 4
        if pos >= end:
            raise _fail("Multitrack track header truncated")
        track_id = data[pos]
        pos += 1
        if kind == ONE_TRACK:
            size = end - pos
        else:
            if end - pos < 3:
                raise _fail("Multitrack track header truncated")
            size = (data[pos] << 16) | (data[pos + 1] << 8) | data[pos + 2]
            pos += 3
            if size > end - pos:
                raise _fail("Multitrack track overruns the message")
        if track_id == 0:
            return fourcc, packet_type, data[pos:pos + size]
        pos += size
        if kind == ONE_TRACK:
            break
    return None
