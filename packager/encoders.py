"""The encoder threads of one stream: the video ladder (``VideoLadder``: one decoder, an
encoder per rung) and the audio transcode to AAC (``AudioToAac``).

Each is replaced whole when its source changes or a new publisher comes. What a replaced
encoder still delivers belongs to a finished timeline and is discarded: every encoder is
made with its kind's generation, and a delivery of an older generation is dropped. Encoded
frames leave the encoder threads through the *hop*, which runs a callback on the thread
that owns the renditions (the event loop, in the daemon).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

from ingest.media import Frame, TrackInfo
from packager.health import PipelineHealth, summed_health
from packager.ladder_plan import LadderRung, RungSpec, SourceRate, plan_ladder

if TYPE_CHECKING:
    from packager.transcode import AudioToAac, LadderStats, VideoLadder

__all__ = ["Encoders", "Hop", "inline_hop", "plan_rungs"]

Hop = Callable[[Callable[[], None]], object]
"""Runs a callback, soon, on the thread that owns the renditions; called from encoder
threads. In the daemon: the event loop's ``call_soon_threadsafe`` (whose ``Handle`` is
ignored, hence ``object``)."""

EncoderKind = Literal["video", "audio"]


def inline_hop() -> Hop:
    """A hop for tests and tools without an event loop: the callback runs at once in the
    encoder thread that delivers, one callback at a time (rungs deliver concurrently)."""
    lock = threading.Lock()

    def hop(callback: Callable[[], None]) -> None:
        with lock:
            callback()
    return hop


def plan_rungs(video: TrackInfo, ladder: Sequence[LadderRung],
               rate: SourceRate | None = None) -> list[RungSpec]:
    """The configured rungs a source can feed (``transcode.plan_ladder``); none if it
    cannot be decoded."""
    from packager.transcode import DECODERS

    if video.codec not in DECODERS:
        return []
    return plan_ladder(video, ladder, rate or SourceRate())


class Encoders:
    """The current video ladder and audio transcode of a stream, and the counters of every
    encoder it had. ``deliver(rendition, frame)`` receives each encoded frame of the current
    encoders, through ``hop``."""

    def __init__(self, hop: Hop, deliver: Callable[[str, Frame], None], *,
                 encoder: str = "libx264", lossless: bool = False,
                 watermark: str | None = None, audio_bitrate_kbps: int = 128,
                 slow_down: Callable[[], None] | None = None) -> None:
        self.hop = hop
        self.deliver = deliver
        self.encoder = encoder
        self.lossless = lossless
        """Every queue waits instead of dropping (tests, throughput measurements)."""
        self.watermark = watermark
        """Text overlaid on every transcoded rung (the creator's handle), or None."""
        self.audio_bitrate_kbps = audio_bitrate_kbps
        self.slow_down = slow_down
        self.ladder: VideoLadder | None = None
        self.audio: AudioToAac | None = None
        self.retired: list[LadderStats] = []
        """The counters of encoders already replaced or stopped."""
        self._generations: dict[EncoderKind, int] = {"video": 0, "audio": 0}

    def start_ladder(self, video: TrackInfo, plan: Sequence[RungSpec]) -> None:
        """A new ladder (replacing the current one) encoding ``video`` to ``plan``."""
        from packager.transcode import VideoLadder

        self.stop_ladder()
        self.ladder = VideoLadder(video, plan, self._deliverer("video"), encoder=self.encoder,
                                  lossless=self.lossless, watermark=self.watermark,
                                  slow_down=self.slow_down)
        self.ladder.start()

    def start_audio(self, track: TrackInfo) -> None:
        """A new audio transcode (replacing the current one) of ``track`` to AAC."""
        from packager.transcode import AudioToAac

        self.stop_audio()
        self.audio = AudioToAac(track, self.audio_bitrate_kbps, self._deliverer("audio"),
                                lossless=self.lossless)
        self.audio.start()

    def stop_ladder(self) -> None:
        """Retire the ladder: what it still delivers is discarded (a few pictures)."""
        if self.ladder is not None:
            self._retire(self.ladder, "video")
            self.ladder = None

    def stop_audio(self) -> None:
        """Retire the audio transcode, likewise."""
        if self.audio is not None:
            self._retire(self.audio, "audio")
            self.audio = None

    def _retire(self, encoder: VideoLadder | AudioToAac, kind: EncoderKind) -> None:
        # Lossless (tests, tools): what it has queued is delivered first, as nothing is
        # dropped there; live, it is discarded rather than waited for.
        encoder.stop(wait=self.lossless)
        self.retired.append(encoder.stats)
        self._generations[kind] += 1

    def flush(self) -> None:
        """Wait until the encoders have delivered everything queued (blocking: for tests
        and tools, never the event loop). They are still current afterwards."""
        for encoder in (self.ladder, self.audio):
            if encoder is not None:
                encoder.stop(wait=True)

    def health(self) -> PipelineHealth:
        current = [e.stats for e in (self.ladder, self.audio) if e is not None]
        return summed_health([*self.retired, *current])

    def _deliverer(self, kind: EncoderKind) -> Callable[[str, Frame], None]:
        """An encoder thread's deliver callback: hops, tagged with the generation the
        encoder is made for."""
        generation = self._generations[kind]

        def arrive(rendition: str, frame: Frame) -> None:
            if generation == self._generations[kind]:
                self.deliver(rendition, frame)

        def deliver(rendition: str, frame: Frame) -> None:
            self.hop(lambda: arrive(rendition, frame))
        return deliver
