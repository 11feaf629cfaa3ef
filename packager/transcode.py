"""The transcoding ladder: decode the source video once, scale and encode each rung with
PyAV, each in its own thread.

Threads, not processes: PyAV releases the GIL inside libavcodec and swscale, and x264 runs
its own worker threads, so rungs in threads overlap on both cores without copying raw
pictures between processes (``bench/transcode.py`` measures it against the ffmpeg CLI).

Every queue is bounded. When the machine cannot keep up, pictures are dropped before an
encoder (counted per rung, the health drop rate) instead of latency or memory growing; a
dropped keyframe position makes the next kept picture a keyframe. Keyframes are forced where
the source has them, at the same media times in every rung, so segment boundaries line up
across renditions and players can switch mid-stream. Encoders run low-latency: no B-frames,
no lookahead, zerolatency tune, the rung's bitrate held by VBV. With a watermark, the
creator's handle is overlaid on every transcoded picture (``packager/watermark.py``); the
source rendition stays untouched.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av

from ingest.codecs import aac, h264
from ingest.media import Frame, TrackInfo
from packager.audio_thread import AudioThread
from packager.ladder_plan import RungSpec
from packager.watermark import Watermarker

__all__ = [
    "AUDIO_DECODERS",
    "DECODERS",
    "EncoderUnavailable",
    "LadderStats",
    "RungSpec",
    "VideoLadder",
    "check_encoder",
]

log = logging.getLogger("mediad.transcode")

DECODERS = {"h264": "h264", "hevc": "hevc", "av1": "libdav1d", "vp9": "vp9"}
AUDIO_DECODERS = {"opus": "opus", "aac": "aac"}
"""What ``AudioToAac`` decodes, by codec."""
HARDWARE_ENCODERS = ("h264_nvenc", "h264_vaapi", "h264_qsv")
QUEUE_PICTURES = 8
"""Pictures waiting before each encoder: about a quarter second at 30 fps. More only adds
latency once the machine is behind."""
QUEUE_PACKETS = 300
"""Packets waiting before the decoder: a whole GOP at once when a hot-standby backup takes
over with the frames it kept since its last keyframe (10 s at 30 fps). Decoding keeps up
with a live source, so this fills only when decoding itself cannot, and dropping to the
next keyframe here would cost every rung that GOP; the rungs' own queues stay short."""


class EncoderUnavailable(Exception):
    """The configured encoder is not in this PyAV's FFmpeg."""


def check_encoder(name: str) -> None:
    if name not in av.codecs_available:
        have = [e for e in ("libx264", *HARDWARE_ENCODERS) if e in av.codecs_available]
        raise EncoderUnavailable(
            f"video encoder {name!r} is not available in PyAV's FFmpeg (available: "
            f"{', '.join(have)})")
    try:
        av.CodecContext.create(name, "w")
    except (av.error.FFmpegError, ValueError) as exc:
        raise EncoderUnavailable(f"video encoder {name!r} cannot be used: {exc}") from exc


@dataclass
class LadderStats:
    decoded: int = 0
    corrupt_packets: int = 0
    dropped_packets: int = 0
    """Source packets dropped before the decoder (to the next keyframe)."""
    dropped_pictures: dict[str, int] = field(default_factory=dict)
    encoded: dict[str, int] = field(default_factory=dict)
    encode_seconds: dict[str, float] = field(default_factory=dict)
    """Per rendition, the time its thread spent on pictures (scale, overlay, encode)."""


Timer = Callable[[], float]
"""Seconds on any origin (``time.perf_counter``), for the encode time alone."""

Deliver = Callable[[str, Frame], None]
"""Called from a rung's thread with each encoded frame (the pipeline hops to its loop)."""


class _Rung:
    def __init__(self, spec: RungSpec, source: TrackInfo, encoder: str, deliver: Deliver,
                 stats: LadderStats, slow_down: Callable[[], None] | None,
                 watermark: str | None, timer: Timer) -> None:
        self.spec = spec
        self.timer = timer
        self.watermark = watermark
        self.source = source
        self.encoder_name = encoder
        self.deliver = deliver
        self.stats = stats
        self.slow_down = slow_down
        self.queue: queue.Queue[tuple[Any, bool, float] | None] = queue.Queue(QUEUE_PICTURES)
        self.force_key = True
        self.last_pts: int | None = None
        self.track: TrackInfo | None = None
        self.thread = threading.Thread(target=self._run, name=f"rung-{spec.name}", daemon=True)
        stats.dropped_pictures[spec.name] = 0
        stats.encoded[spec.name] = 0
        stats.encode_seconds[spec.name] = 0.0

    def offer(self, picture: Any, key: bool, arrival: float, *, lossless: bool = False
              ) -> None:
        """From the decoder thread: never blocks (unless ``lossless``: benchmarks, tests)."""
        spec = self.spec
        if not key and self.last_pts is not None and picture.pts is not None:
            # Frame-rate cap: keep a picture only a full period after the last kept one.
            min_step = self.source.timescale / spec.fps_max * 0.9
            if picture.pts - self.last_pts < min_step:
                return
        try:
            self.queue.put((picture, key or self.force_key, arrival), block=lossless)
        except queue.Full:
            self.stats.dropped_pictures[spec.name] += 1
            self.force_key = self.force_key or key
            return
        self.force_key = False
        self.last_pts = picture.pts

    def _open(self) -> Any:
        spec, timescale = self.spec, self.source.timescale
        ctx: Any = av.CodecContext.create(self.encoder_name, "w")
        ctx.width, ctx.height, ctx.pix_fmt = spec.width, spec.height, "yuv420p"
        ctx.time_base = Fraction(1, timescale)
        ctx.framerate = Fraction(spec.fps_max)
        ctx.bit_rate = spec.bitrate_kbps * 1000
        ctx.max_b_frames = 0
        ctx.gop_size = 100000  # keyframes only where forced: the source's GOP, every rung
        ctx.flags |= av.codec.context.Flags.global_header  # avcC in extradata, for the init
        if self.encoder_name == "libx264":
            ctx.options = {
                "preset": spec.preset, "tune": "zerolatency",
                "x264-params": (f"annexb=0:scenecut=0:rc-lookahead=0:bframes=0:"
                                f"vbv-maxrate={spec.bitrate_kbps}:"
                                f"vbv-bufsize={spec.bitrate_kbps}:keyint=infinite"),
            }
        ctx.open()
        return ctx

    def _run(self) -> None:
        try:
            encoder = self._open()
        except (av.error.FFmpegError, ValueError):
            log.exception("cannot open the encoder", extra={"fields": {"rung": self.spec.name}})
            return
        reformatter = av.video.reformatter.VideoReformatter()
        marker = (Watermarker(self.watermark, self.spec.width, self.spec.height,
                              encoder.time_base) if self.watermark else None)
        while (item := self.queue.get()) is not None:
            picture, key, arrival = item
            if self.slow_down is not None:
                self.slow_down()
            started = self.timer()
            # A scaler per rung: a picture's own (cached) scaler is not safe to share
            # between threads, and every rung reads the same decoded picture.
            scaled = reformatter.reformat(picture, self.spec.width, self.spec.height,
                                          "yuv420p")
            scaled.pts = picture.pts
            scaled.time_base = encoder.time_base
            if marker is not None:
                scaled = marker.apply(scaled)
            scaled.pict_type = av.video.frame.PictureType.I if key else 0
            packets = encoder.encode(scaled)
            self.stats.encode_seconds[self.spec.name] += self.timer() - started
            self._emit(encoder, packets, arrival)
        self._emit(encoder, encoder.encode(None), 0.0)

    def _emit(self, encoder: Any, packets: list[Any], arrival: float) -> None:
        for packet in packets:
            if self.track is None:
                config = bytes(encoder.extradata or b"")
                self.track = TrackInfo(0, "video", "h264", self.source.timescale, config,
                                       h264.codec_string(config), self.spec.width,
                                       self.spec.height)
            pts = int(packet.pts)
            dts = int(packet.dts) if packet.dts is not None else pts
            self.stats.encoded[self.spec.name] += 1
            self.deliver(self.spec.name, Frame(self.track, dts, pts, bool(packet.is_keyframe),
                                               bytes(packet), arrival))


class VideoLadder:
    """One source video track in, one stream of encoded frames per rung out."""

    def __init__(self, source: TrackInfo, rungs: Sequence[RungSpec], deliver: Deliver, *,
                 encoder: str = "libx264", lossless: bool = False,
                 watermark: str | None = None,
                 slow_down: Callable[[], None] | None = None,
                 timer: Timer = time.perf_counter) -> None:
        """``lossless``: every queue waits instead of dropping (throughput measurements and
        deterministic tests; a live stream must never wait on its encoders)."""
        if source.codec not in DECODERS:
            raise ValueError(f"no decoder for {source.codec}")
        self.source = source
        self.stats = LadderStats()
        self.rungs = [_Rung(spec, source, encoder, deliver, self.stats, slow_down, watermark,
                            timer)
                      for spec in rungs]
        self._packets: queue.Queue[Frame | None] = queue.Queue(QUEUE_PACKETS)
        self._skipping = False
        self.lossless = lossless
        self._decoder = threading.Thread(target=self._decode, name="ladder-decode",
                                         daemon=True)

    def start(self) -> None:
        for rung in self.rungs:
            rung.thread.start()
        self._decoder.start()

    def waiting(self) -> dict[str, int]:
        """Per rung, the pictures queued before its encoder now."""
        return {rung.spec.name: rung.queue.qsize() for rung in self.rungs}

    def push(self, frame: Frame) -> None:
        """From the event loop: never blocks. A full decoder queue drops up to the next
        keyframe (a decoder cannot skip a reference picture)."""
        if self._skipping and not frame.keyframe:
            self.stats.dropped_packets += 1
            return
        try:
            self._packets.put(frame, block=self.lossless)
            self._skipping = False
        except queue.Full:
            self.stats.dropped_packets += 1
            self._skipping = True

    def stop(self, *, wait: bool = True) -> None:
        """Flush: everything queued is decoded and encoded, then the threads end."""
        self._packets.put(None)
        if wait:
            self._decoder.join()
            for rung in self.rungs:
                rung.thread.join()

    def _decode(self) -> None:
        decoder: Any = av.CodecContext.create(DECODERS[self.source.codec], "r")
        if self.source.config:
            decoder.extradata = self.source.config
        arrivals: dict[int, tuple[float, bool]] = {}
        while (frame := self._packets.get()) is not None:
            packet = av.Packet(frame.payload)
            packet.pts, packet.dts = frame.pts, frame.dts
            packet.time_base = Fraction(1, self.source.timescale)
            arrivals[frame.pts] = (frame.arrival, frame.keyframe)
            try:
                pictures = decoder.decode(packet)
            except (av.error.FFmpegError, ValueError):
                self.stats.corrupt_packets += 1  # counted and skipped: the stream goes on
                continue
            self._distribute(pictures, arrivals)
        try:
            self._distribute(decoder.decode(None), arrivals)
        except (av.error.FFmpegError, ValueError):
            self.stats.corrupt_packets += 1
        for rung in self.rungs:
            rung.queue.put(None)

    def _distribute(self, pictures: list[Any], arrivals: dict[int, tuple[float, bool]]) -> None:
        for picture in pictures:
            self.stats.decoded += 1
            arrival, key = arrivals.pop(picture.pts, (0.0, False))
            for rung in self.rungs:
                rung.offer(picture, key, arrival, lossless=self.lossless)
        if len(arrivals) > 256:  # pictures the decoder never returned (corrupt input)
            for pts in sorted(arrivals)[:-64]:
                del arrivals[pts]


class AudioToAac(AudioThread):
    """Re-encode a non-AAC source audio track (Opus over Enhanced RTMP) to AAC, the codec
    every HLS player decodes, in its own thread. An AAC source is copied, never this."""

    def __init__(self, source: TrackInfo, bitrate_kbps: int, deliver: Deliver, *,
                 lossless: bool = False, timer: Timer = time.perf_counter) -> None:
        if source.codec not in AUDIO_DECODERS:
            raise ValueError(f"no decoder for {source.codec}")
        self.source = source
        self.timer = timer
        self.bitrate_kbps = bitrate_kbps
        self.deliver = deliver
        self.stats = LadderStats(dropped_pictures={"audio": 0}, encoded={"audio": 0},
                                 encode_seconds={"audio": 0.0})
        super().__init__("audio-aac", QUEUE_PICTURES * 4, lossless=lossless)

    def _dropped(self) -> None:
        self.stats.dropped_pictures["audio"] += 1

    def _run(self) -> None:
        rate = 48000
        decoder: Any = av.CodecContext.create(AUDIO_DECODERS[self.source.codec], "r")
        if self.source.config:
            decoder.extradata = self.source.config
        encoder: Any = av.CodecContext.create("aac", "w")
        encoder.sample_rate, encoder.layout, encoder.format = rate, "stereo", "fltp"
        encoder.bit_rate = self.bitrate_kbps * 1000
        encoder.time_base = Fraction(1, rate)
        encoder.flags |= av.codec.context.Flags.global_header  # the ASC, for the init
        encoder.open()
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=rate)
        track: TrackInfo | None = None
        timescale = self.source.timescale
        origin: int | None = None  # source time of sample 0 on the output clock
        samples = 0
        arrival = 0.0
        while True:
            frame = self._next()
            started = self.timer()
            if frame is not None:
                arrival = frame.arrival
                if origin is None:
                    origin = frame.pts
                packet = av.Packet(frame.payload)
                packet.pts, packet.dts = frame.pts, frame.dts
                packet.time_base = Fraction(1, timescale)
                try:
                    decoded = decoder.decode(packet)
                except (av.error.FFmpegError, ValueError):
                    self.stats.corrupt_packets += 1
                    continue
                pcm: list[Any] = [out for piece in decoded for out in resampler.resample(piece)]
            else:
                pcm = [None]
            for piece in pcm:
                if piece is not None:
                    piece.pts = samples
                    piece.time_base = encoder.time_base
                    samples += piece.samples
                for packet in encoder.encode(piece):
                    if track is None:
                        config = bytes(encoder.extradata or b"")
                        track = TrackInfo(1, "audio", "aac", timescale, config,
                                          aac.codec_string(aac.AOT_LC),
                                          sample_rate=rate, channels=2)
                    pts = (origin or 0) + round(int(packet.pts) * timescale / rate)
                    self.stats.encoded["audio"] += 1
                    self.deliver("audio", Frame(track, pts, pts, True, bytes(packet), arrival))
            self.stats.encode_seconds["audio"] += self.timer() - started
            if frame is None:
                return
