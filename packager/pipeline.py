"""From a live stream's frames to LL-HLS renditions: which rendition each frame feeds.

Without a ladder: one ``source`` rendition with the publisher's audio and video muxed. With
a ladder: ``source`` (the video, copied), one rendition per rung that fits the source
(encoded in threads by ``packager/encoders.py``, delivered back through the hop) and a
shared ``audio`` rendition that every variant names as its AUDIO group. The pieces:
``segmenter.py`` cuts each rendition, ``renditions.py`` holds the set and renders the
multivariant playlist, ``output_timeline.py`` keeps one continuous timeline across
publishers.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ingest.media import Frame, TrackInfo
from packager.encoders import Encoders, Hop, inline_hop, plan_rungs
from packager.health import PipelineHealth
from packager.llhls import PlaylistSettings, Rendered
from packager.output_timeline import OutputTimeline, WallClock
from packager.renditions import RenditionSet

if TYPE_CHECKING:
    from packager.transcode import LadderRung, LadderStats

__all__ = ["PipelineHealth", "StreamPipeline"]

SOURCE = "source"
AUDIO = "audio"


class StreamPipeline:
    """Every rendition of one live stream, fed from the stream's frames (on one thread: the
    event loop in the daemon; encoder threads come back to it through ``hop``)."""

    def __init__(self, settings: PlaylistSettings, wall_clock: WallClock, *,
                 ladder: Sequence[LadderRung] = (), encoder: str = "libx264",
                 lossless: bool = False, watermark: str | None = None,
                 audio_bitrate_kbps: int = 128,
                 slow_down: Callable[[], None] | None = None,
                 hop: Hop | None = None) -> None:
        """``hop``: runs a callback on the pipeline's thread, from an encoder thread
        (``loop.call_soon_threadsafe``); by default the callback runs in the encoder thread
        at once, for tests and tools without an event loop."""
        self.settings = settings
        self.session = secrets.token_urlsafe(6)
        """In every media URL: a restarted stream never reuses a cached URL."""
        self.timeline = OutputTimeline(wall_clock)
        self.ladder_config = tuple(ladder)
        self.renditions = RenditionSet(settings, self.timeline,
                                       shared_target_duration=bool(self.ladder_config))
        self.encoders = Encoders(hop or inline_hop(), self._push_encoded, encoder=encoder,
                                 lossless=lossless, watermark=watermark,
                                 audio_bitrate_kbps=audio_bitrate_kbps, slow_down=slow_down)
        self._tracks: dict[int, TrackInfo] = {}
        if not self.ladder_config:
            self.renditions.add(SOURCE)

    @property
    def video_track(self) -> TrackInfo | None:
        return next((t for t in self._tracks.values() if t.kind == "video"), None)

    @property
    def audio_track(self) -> TrackInfo | None:
        return next((t for t in self._tracks.values() if t.kind == "audio"), None)

    def track_changed(self, track: TrackInfo) -> None:
        previous = self._tracks.get(track.track_id)
        self._tracks[track.track_id] = track
        if not self.ladder_config:
            self.renditions[SOURCE].set_tracks(self._tracks.values())
            return
        if track.kind == "audio":
            audio = self.renditions.add(AUDIO, audio=True)
            if track.codec == "aac":
                self.encoders.stop_audio()
                audio.set_tracks([track])
            elif previous != track:
                self.encoders.start_audio(track)
            return
        self.renditions.add(SOURCE).set_tracks([track])
        if previous != track:
            self._rebuild_ladder(track)

    def _rebuild_ladder(self, video: TrackInfo) -> None:
        """New source parameters: a new decoder and new encoders (their init sections and a
        discontinuity follow from the encoded frames' new track)."""
        if self.encoders.ladder is not None:
            for name, rendition in self.renditions.items():
                if name not in (SOURCE, AUDIO):
                    rendition.cut()  # the old encoder's GOP ends where the source changed
        self.encoders.stop_ladder()
        plan = plan_rungs(video, self.ladder_config)
        if not plan:
            return
        for spec in plan:
            self.renditions.add(spec.name)
        self.encoders.start_ladder(video, plan)

    def _push_encoded(self, name: str, frame: Frame) -> None:
        """An encoded frame of the current encoders, on the pipeline's thread."""
        rendition = self.renditions.get(name)
        if rendition is None or rendition.playlist.ended:
            return
        if rendition.tracks != [frame.track]:
            rendition.set_tracks([frame.track])
        rendition.push(frame)
        self.renditions.settle_target_duration()

    # -- media --------------------------------------------------------------------------

    def push(self, frame: Frame) -> None:
        if not self.ladder_config:
            self.renditions[SOURCE].push(frame)
            return
        if frame.is_video:
            self.renditions[SOURCE].push(frame)
            if self.encoders.ladder is not None:
                self.encoders.ladder.push(frame)
        elif self.encoders.audio is not None:
            self.encoders.audio.push(frame)
        elif AUDIO in self.renditions:
            self.renditions[AUDIO].push(frame)
        self.renditions.settle_target_duration()

    def publisher_changed(self) -> None:
        """The publisher left or was replaced: keep the playlists open for the next one.
        Its tracks are kept: an encoder that comes back with the same settings continues
        under the same init section."""
        resume_ladder = self.encoders.ladder is not None
        resume_audio = self.encoders.audio is not None
        self.encoders.stop_ladder()
        self.encoders.stop_audio()
        for rendition in self.renditions.values():
            rendition.restart()
        self.timeline.next_publish(self.renditions.end_seconds)
        if resume_ladder and self.video_track is not None:
            self._rebuild_ladder(self.video_track)
        if resume_audio and self.audio_track is not None:
            self.encoders.start_audio(self.audio_track)

    def end(self, *, flush: bool = False) -> None:
        """ENDLIST everywhere. ``flush`` waits for the encoders to finish what is queued
        (blocking: for tests and tools with the inline hop, not the event loop)."""
        if flush:
            self.encoders.flush()
        self.encoders.stop_ladder()
        self.encoders.stop_audio()
        for rendition in self.renditions.values():
            rendition.end()

    @property
    def ready(self) -> bool:
        return self.renditions.ready

    @property
    def ended(self) -> bool:
        return self.renditions.ended

    @property
    def retired_ladder_stats(self) -> list[LadderStats]:
        """The counters of the encoders this stream already replaced."""
        return self.encoders.retired

    def health(self) -> PipelineHealth:
        """Transcode counters for the health channel: drops per rung, corrupt packets."""
        return self.encoders.health()

    def multivariant(self) -> Rendered:
        audio = self.audio_track
        return self.renditions.multivariant(self.session, audio.channels if audio else 0)
