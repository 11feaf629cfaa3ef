"""A stream's audio re-encoded to Opus for WebRTC viewers (browsers' WebRTC audio codec), in
its own thread: decode (AAC, or whatever PyAV decodes), resample to 48 kHz stereo, cut
into 20 ms frames, encode with libopus. One per stream, whatever the number of viewers; an
Opus source is passed through and never comes here.

Timing: output frames are on a 48 kHz clock whose origin is the first input frame's
presentation time; from there they count samples, so the Opus packets tile the timeline
exactly. An input frame further than ``RESYNC_SEC`` from where the count has got to (a
gap in the source, lost packets upstream) restarts the count at its own time, so audio
never drifts from the video it belongs with.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Final

import av

from ingest.media import Frame, TrackInfo
from packager.audio_thread import AudioThread

__all__ = ["OPUS_RATE", "AudioToOpus", "OpusStats"]

log = logging.getLogger("mediad.transcode")

OPUS_RATE: Final = 48_000
FRAME_SAMPLES: Final = 960
"""20 ms at 48 kHz: what browsers send and expect (``ptime`` 20)."""
QUEUE_FRAMES: Final = 64
"""Source frames waiting for the encoder: over a second of AAC. More only adds latency."""
RESYNC_SEC: Final = Fraction(1, 10)

Deliver = Callable[[Frame], None]
"""Called from the encoder thread with each Opus frame."""


@dataclass
class OpusStats:
    encoded: int = 0
    dropped: int = 0
    """Source frames dropped because the encoder thread was behind."""
    corrupt_packets: int = 0


class AudioToOpus(AudioThread):
    def __init__(self, source: TrackInfo, deliver: Deliver, *, bitrate_kbps: int = 96,
                 lossless: bool = False) -> None:
        """``lossless``: ``push`` waits instead of dropping (tests)."""
        if source.kind != "audio":
            raise ValueError("AudioToOpus takes an audio track")
        self.source = source
        self.deliver = deliver
        self.bitrate_kbps = bitrate_kbps
        self.stats = OpusStats()
        self.track = TrackInfo(source.track_id, "audio", "opus", OPUS_RATE, b"", "opus",
                               sample_rate=OPUS_RATE, channels=2)
        super().__init__("audio-opus", QUEUE_FRAMES, lossless=lossless)

    def _dropped(self) -> None:
        self.stats.dropped += 1

    def _open(self) -> tuple[Any, Any]:
        decoder: Any = av.CodecContext.create(self.source.codec, "r")
        if self.source.config:
            decoder.extradata = self.source.config
        encoder: Any = av.CodecContext.create("libopus", "w")
        encoder.sample_rate, encoder.layout, encoder.format = OPUS_RATE, "stereo", "s16"
        encoder.bit_rate = self.bitrate_kbps * 1000
        encoder.time_base = Fraction(1, OPUS_RATE)
        encoder.options = {"application": "lowdelay", "frame_duration": "20"}
        encoder.open()
        return decoder, encoder

    def _run(self) -> None:
        try:
            decoder, encoder = self._open()
        except (av.error.FFmpegError, ValueError):
            log.exception("cannot open the Opus encoder")
            return
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=OPUS_RATE)
        fifo = av.AudioFifo()
        origin: int | None = None  # output time of the fifo's first sample, 48 kHz
        queued = 0  # samples put in the fifo since ``origin``
        arrival = 0.0
        while (frame := self._next()) is not None:
            arrival = frame.arrival
            at = round(Fraction(frame.pts * OPUS_RATE, frame.track.timescale))
            if origin is None or abs(at - (origin + queued)) > RESYNC_SEC * OPUS_RATE:
                fifo = av.AudioFifo()  # a gap: what is left of the old run is dropped
                origin, queued = at, 0
            packet = av.Packet(frame.payload)
            packet.pts = packet.dts = frame.pts
            packet.time_base = Fraction(1, frame.track.timescale)
            try:
                pcm = [out for piece in decoder.decode(packet)
                       for out in resampler.resample(piece)]
            except (av.error.FFmpegError, ValueError):
                self.stats.corrupt_packets += 1
                continue
            for piece in pcm:
                piece.pts = None  # the fifo times its output from its own count
                fifo.write(piece)
                queued += piece.samples
            while fifo.samples >= FRAME_SAMPLES:
                start = origin + queued - fifo.samples
                chunk: Any = fifo.read(FRAME_SAMPLES)
                chunk.pts, chunk.time_base = start, encoder.time_base
                self._emit(encoder.encode(chunk), start, arrival)

    def _emit(self, packets: list[Any], start: int, arrival: float) -> None:
        for packet in packets:
            # libopus delays its output by its pre-skip; the packet's own pts says where
            # the samples belong, relative to the chunk we gave it.
            pts = int(packet.pts) if packet.pts is not None else start
            self.stats.encoded += 1
            self.deliver(Frame(self.track, pts, pts, True, bytes(packet), arrival))
