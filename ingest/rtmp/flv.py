"""FLV audio/video message bodies → the media model (rtmp.md §6, §7, §9).

Legacy AVC/AAC and Enhanced RTMP (ExVideoTagHeader hvc1/av01/vp09/avc1, ExAudio mp4a/Opus,
ModEx, Multitrack: only track 0 is ingested). Timestamps are normalised here, once: the 32-bit
RTMP milliseconds are extended across the wrap and kept monotonic per track
(``ingest.timeline``; a DTS going backwards is clamped). Video goes through the codec
layer's normaliser like every ingest (``ingest.codecs``): H.264/HEVC leave as 4-byte
length-prefixed NAL units without AUDs, in-band parameter sets move into the configuration
record (a changed one announces a new track); AV1 leaves as OBUs, VP9 as frames. Keyframes
are what the tag's frame type says. Unsupported codecs are ignored, not fatal: an MP3 track
must not kill a good video publish.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Final

from ingest.codecs import aac, opus
from ingest.codecs.av1 import Av1Normaliser
from ingest.codecs.bits import BitstreamError
from ingest.codecs.h264 import H264Normaliser
from ingest.codecs.hevc import HevcNormaliser
from ingest.codecs.nal import split_length_prefixed
from ingest.codecs.normaliser import FrameNormaliser, NalNormaliser
from ingest.codecs.vp9 import Vp9Normaliser
from ingest.media import Frame, TrackInfo
from ingest.rtmp.errors import RtmpError
from ingest.rtmp.events import FrameReceived, RtmpEvent, TrackAnnounced
from ingest.timeline import Timeline

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

Buffer = bytes | bytearray | memoryview
Events = Sequence[RtmpEvent]
"""What one message body made, in order (a new track before the frame that uses it)."""
_NONE: Final[Events] = ()


def _fail(message: str) -> RtmpError:
    return RtmpError(message, "flv")


def _timeline() -> Timeline:
    """A track's 32-bit milliseconds extended; a DTS going backwards (a muxer interleaving
    badly) is clamped, the track not shifted."""
    return Timeline(32, on_backwards="clamp")


def _si24(data: Buffer, pos: int) -> int:
    value = (data[pos] << 16) | (data[pos + 1] << 8) | data[pos + 2]
    return value - (1 << 24) if value & 0x800000 else value



def _codec_error(exc: BitstreamError) -> RtmpError:
    return _fail(str(exc))


VideoNormaliser = NalNormaliser | FrameNormaliser
_VIDEO_CODECS: Final[dict[str, type[NalNormaliser] | type[FrameNormaliser]]] = {
    "avc1": H264Normaliser, "hvc1": HevcNormaliser, "av01": Av1Normaliser,
    "vp09": Vp9Normaliser}
"""The normaliser of each video FourCC ingested."""


class _VideoState:
    __slots__ = ("codec", "keyed", "normaliser", "timeline")

    def __init__(self) -> None:
        self.normaliser: VideoNormaliser | None = None
        self.codec = ""
        """FourCC of the announced track ("avc1", "hvc1", "av01", "vp09")."""
        self.keyed = False
        self.timeline = _timeline()

    @property
    def track(self) -> TrackInfo | None:
        return None if self.normaliser is None else self.normaliser.track


class _AudioState:
    __slots__ = ("codec", "timeline", "track")

    def __init__(self) -> None:
        self.track: TrackInfo | None = None
        self.codec = ""
        self.timeline = _timeline()


class FlvDemuxer:
    """Per-publish state: current tracks and their normalisers, timelines, the first-keyframe
    gate."""

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

    def video(self, timestamp: int, body: Buffer, arrival: float) -> Events:
        """One type-9 message body with its 32-bit RTMP timestamp: the events it makes."""
        data = memoryview(body).cast("B") if not isinstance(body, memoryview) else body
        if not len(data):
            return _NONE
        b0 = data[0]
        if b0 & 0x80:
            return self._ex_video(timestamp, data, arrival)
        frame_type = b0 >> 4
        if frame_type == FRAME_TYPE_COMMAND or b0 & 0x0F != CODEC_ID_AVC:
            return _NONE
        if len(data) < 5:
            raise _fail("AVC video packet shorter than its header")
        packet_type = data[1]
        if packet_type == 0:
            return self._video_config("avc1", data[5:])
        if packet_type == 1:
            return self._nal_frame("avc1", timestamp, _si24(data, 2),
                                   frame_type == FRAME_TYPE_KEY, data[5:], arrival)
        return _NONE

    def _ex_video(self, timestamp: int, data: memoryview, arrival: float) -> Events:
        b0 = data[0]
        frame_type = (b0 >> 4) & 0x07
        packet_type, pos = _skip_modex(data, b0 & 0x0F, 1, VIDEO_MODEX)
        if frame_type == FRAME_TYPE_COMMAND and packet_type != VIDEO_METADATA:
            return _NONE
        selected = _fourcc_and_body(data, pos, packet_type, VIDEO_MULTITRACK, "ExVideoTagHeader")
        if selected is None:
            return _NONE
        fourcc, packet_type, body = selected
        key = frame_type == FRAME_TYPE_KEY
        name = fourcc.decode("latin-1")
        if name not in _VIDEO_CODECS:
            return _NONE
        if packet_type == SEQUENCE_START:
            return self._video_config(name, body)
        if packet_type in (CODED_FRAMES, CODED_FRAMES_X):
            if name not in ("avc1", "hvc1"):
                return self._whole_frame(name, timestamp, key, body, arrival)
            cts = 0
            if packet_type == CODED_FRAMES:
                if len(body) < 3:
                    raise _fail("CodedFrames without a composition time")
                cts = _si24(body, 0)
                body = body[3:]
            return self._nal_frame(name, timestamp, cts, key, body, arrival)
        return _NONE  # SequenceEnd, Metadata (HDR colorInfo), MPEG2TSSequenceStart, reserved

    def _video_config(self, fourcc: str, record: memoryview) -> Events:
        """A sequence header: the track its configuration record describes."""
        state = self._video
        old = state.track
        normaliser = state.normaliser
        if normaliser is None or state.codec != fourcc:
            normaliser = _VIDEO_CODECS[fourcc](VIDEO_TRACK_ID, TIMESCALE)
        try:
            track = normaliser.configure(record, self._meta_width, self._meta_height)
        except BitstreamError as exc:
            raise _codec_error(exc) from None
        state.normaliser = normaliser
        state.codec = fourcc
        if track == old:
            return _NONE
        if old is None or old.codec != track.codec:
            state.keyed = False  # a new decoder must start on a keyframe
        if not track.width and isinstance(normaliser, FrameNormaliser):
            # AV1/VP9 with no size in the record or onMetaData: announced by the keyframe
            # that carries it, since a track without a size cannot be packaged.
            state.keyed = False
            return _NONE
        return [TrackAnnounced(track)]

    def _video_track(self, fourcc: str, key: bool) -> TrackInfo | None:
        """The track a coded frame belongs to, or None to drop it."""
        state = self._video
        track = state.track
        if track is None or state.codec != fourcc:
            return None
        if not state.keyed:
            if not key:
                return None
            state.keyed = True
        return track

    def _nal_frame(self, fourcc: str, timestamp: int, cts: int, key: bool, nalus: memoryview,
                   arrival: float) -> Events:
        track = self._video_track(fourcc, key)
        normaliser = self._video.normaliser
        if track is None or not len(nalus) or not isinstance(normaliser, NalNormaliser):
            return _NONE
        try:
            nals = split_length_prefixed(nalus, normaliser.length_size)
        except BitstreamError as exc:
            raise _codec_error(exc) from None
        unit = normaliser.access_unit(nals)
        events: list[RtmpEvent] = []
        if unit.track is not None:
            track = unit.track
            events.append(TrackAnnounced(track))
        if unit.nals:  # not parameter sets or delimiters alone
            dts, pts = self._video.timeline.stamp(timestamp, cts)
            events.append(FrameReceived(Frame(track, dts, pts, key, unit.sample(), arrival)))
        return events

    def _whole_frame(self, fourcc: str, timestamp: int, key: bool, body: memoryview,
                     arrival: float) -> Events:
        state = self._video
        normaliser = state.normaliser
        events: list[RtmpEvent] = []
        if key and state.codec == fourcc and isinstance(normaliser, FrameNormaliser):
            completed = normaliser.keyframe(body)
            if completed is not None:
                events.append(TrackAnnounced(completed))
        track = self._video_track(fourcc, key)
        if track is not None and len(body):
            dts, pts = state.timeline.stamp(timestamp)
            events.append(FrameReceived(Frame(track, dts, pts, key, bytes(body), arrival)))
        return events

    # -- audio ------------------------------------------------------------------------------

    def audio(self, timestamp: int, body: Buffer, arrival: float) -> Events:
        """One type-8 message body with its 32-bit RTMP timestamp: the events it makes."""
        data = memoryview(body).cast("B") if not isinstance(body, memoryview) else body
        if not len(data):
            return _NONE  # "silence" (E-RTMP documents the legacy meaning)
        sound_format = data[0] >> 4
        if sound_format == SOUND_FORMAT_AAC:
            if len(data) < 2:
                raise _fail("AAC audio packet shorter than its header")
            if data[1] == 0:
                return self._aac_config(data[2:])
            if data[1] == 1:
                return self._audio_frame("mp4a", timestamp, data[2:], arrival)
        elif sound_format == SOUND_FORMAT_EX:
            return self._ex_audio(timestamp, data, arrival)
        return _NONE

    def _ex_audio(self, timestamp: int, data: memoryview, arrival: float) -> Events:
        packet_type, pos = _skip_modex(data, data[0] & 0x0F, 1, AUDIO_MODEX)
        selected = _fourcc_and_body(data, pos, packet_type, AUDIO_MULTITRACK, "ExAudioTagHeader")
        if selected is None:
            return _NONE
        fourcc, packet_type, body = selected
        name = fourcc.decode("latin-1")
        if packet_type == SEQUENCE_START:
            if name == "mp4a":
                return self._aac_config(body)
            if name == "Opus":
                return self._announce_audio("Opus", opus.track(AUDIO_TRACK_ID, TIMESCALE, body))
        elif packet_type == CODED_FRAMES and name in ("mp4a", "Opus"):
            return self._audio_frame(name, timestamp, body, arrival)
        return _NONE  # SequenceEnd, MultichannelConfig, other codecs

    def _aac_config(self, asc: memoryview) -> Events:
        try:
            track = aac.track(AUDIO_TRACK_ID, TIMESCALE, asc)
        except BitstreamError as exc:
            raise _fail(f"bad AudioSpecificConfig: {exc}") from None
        return self._announce_audio("mp4a", track)

    def _announce_audio(self, fourcc: str, track: TrackInfo) -> Events:
        state = self._audio
        if track == state.track:
            return _NONE
        state.track = track
        state.codec = fourcc
        return [TrackAnnounced(track)]

    def _audio_frame(self, fourcc: str, timestamp: int, body: memoryview, arrival: float
                     ) -> Events:
        state = self._audio
        track = state.track
        if track is None or state.codec != fourcc or not len(body):
            return _NONE
        dts, pts = state.timeline.stamp(timestamp)
        return [FrameReceived(Frame(track, dts, pts, True, bytes(body), arrival))]


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
