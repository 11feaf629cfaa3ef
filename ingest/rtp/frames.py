"""A WebRTC publish's depacketized media as ``TrackInfo`` and ``Frame``s.

Video is H.264 as the publisher sent it (WebRTC has no B-frames: decode order is
presentation order, dts = pts): an Annex B access unit per RTP timestamp, normalised like
every other ingest's (``ingest.codecs.normaliser``: parameter sets into the avcC, AUDs and
filler out). Nothing before the first IDR is passed on (a decoder cannot start there); the
caller asks the publisher for a keyframe. Audio is Opus, one packet per frame, at 48 kHz.
"""

from __future__ import annotations

import struct
from typing import Final

from ingest.codecs import opus
from ingest.codecs.h264 import H264Normaliser
from ingest.codecs.nal import split_annex_b
from ingest.media import Frame, TrackInfo
from ingest.rtp.clock import SessionClock

VIDEO_RATE: Final = 90_000
"""RTP clock rate of every WebRTC video codec (RFC 6184 for H.264)."""
VIDEO_TRACK: Final = 0
AUDIO_TRACK: Final = 1
MAX_OPUS_PACKET: Final = 1275 * 3
"""RFC 6716 section 3.4: at most 1275 bytes a frame, 120 ms a packet."""


def opus_head(channels: int) -> bytes:
    """An OpusHead (RFC 7845 section 5.1) for what WebRTC signals: 48 kHz, no pre-skip
    (a live packet stream starts anywhere), mapping family 0."""
    return opus.HEAD_MAGIC + struct.pack("<BBHIhB", 1, channels, 0, opus.SAMPLE_RATE, 0, 0)


Event = TrackInfo | Frame


class RtpPublish:
    """One WebRTC publisher's tracks; the caller hands it access units and sender reports
    in arrival order, and passes each event on (a ``TrackInfo`` before the frames that use
    it)."""

    def __init__(self, audio_channels: int = 2, *, expects_video: bool = True) -> None:
        """``expects_video``: the publisher's offer sends video. Its audio then waits for
        the first picture: a muxed rendition started on audio alone would have to add the
        video track later, which MSE players (hls.js) cannot do within a SourceBuffer."""
        self.expects_video = expects_video
        self.clock = SessionClock()
        self._video = H264Normaliser(VIDEO_TRACK, VIDEO_RATE)
        self._audio = opus.track(AUDIO_TRACK, opus.SAMPLE_RATE, opus_head(audio_channels))
        self._audio_announced = False
        self._keyed = False
        self.waiting_for_keyframe = True
        """No IDR yet: the caller should ask for one."""
        self.dropped_before_keyframe = 0
        self.parameter_set_errors = 0
        self.empty_units = 0
        """Video units without a picture (parameter sets alone, or nothing)."""
        self.refused_audio = 0
        self.audio_before_video = 0
        """Audio dropped because the first picture had not come yet."""
        self.lost_pictures = 0
        self.clock.add_track("video", VIDEO_RATE)
        self.clock.add_track("audio", opus.SAMPLE_RATE)

    def picture_lost(self) -> None:
        """A picture was given up (packets lost for good): what follows references it, so
        nothing more is passed on until the next keyframe."""
        self._keyed = False
        self.waiting_for_keyframe = True
        self.lost_pictures += 1

    def sender_report(self, kind: str, ntp_timestamp: int, rtp_timestamp: int) -> None:
        self.clock.sender_report(kind, ntp_timestamp, rtp_timestamp)

    def video(self, access_unit: bytes, timestamp: int, arrival: float) -> list[Event]:
        """One Annex B access unit with its RTP timestamp."""
        unit = self._video.access_unit(split_annex_b(access_unit))
        self.parameter_set_errors += unit.parameter_set_errors
        events: list[Event] = []
        if unit.track is not None:
            events.append(unit.track)
        track = self._video.track
        if not unit.nals:
            self.empty_units += 1
            return events
        if track is None or not (unit.keyframe or self._keyed):
            self.dropped_before_keyframe += 1
            return events
        media = self.clock.media_time("video", timestamp, arrival)
        if media is None:
            return events
        self._keyed = True
        self.waiting_for_keyframe = False
        if not self._audio_announced:
            self._audio_announced = True  # both tracks known before the first frame
            events.append(self._audio)
        events.append(Frame(track, media, media, unit.keyframe, unit.sample(), arrival))
        return events

    def audio(self, packet: bytes, timestamp: int, arrival: float) -> list[Event]:
        """One Opus packet with its RTP timestamp."""
        if not packet or len(packet) > MAX_OPUS_PACKET:
            self.refused_audio += 1
            return []
        if self.expects_video and not self._audio_announced:
            self.audio_before_video += 1
            return []
        media = self.clock.media_time("audio", timestamp, arrival)
        if media is None:
            return []
        events: list[Event] = []
        if not self._audio_announced:
            self._audio_announced = True
            events.append(self._audio)
        events.append(Frame(self._audio, media, media, True, packet, arrival))
        return events

    @property
    def video_track(self) -> TrackInfo | None:
        return self._video.track

    def counters(self) -> dict[str, int]:
        return {"dropped_before_keyframe": self.dropped_before_keyframe,
                "lost_pictures": self.lost_pictures,
                "audio_before_video": self.audio_before_video,
                "parameter_set_errors": self.parameter_set_errors,
                "empty_units": self.empty_units, "refused_audio": self.refused_audio,
                "clock_resyncs": self.clock.resyncs, "clock_dropped": self.clock.dropped,
                "clock_refused_reports": self.clock.refused_reports}
