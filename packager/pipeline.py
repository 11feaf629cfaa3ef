"""From a live stream's frames to LL-HLS renditions: which rendition each frame feeds.

Without a ladder: one ``source`` rendition with the publisher's audio and video muxed. With
a ladder: ``source`` (the video, copied), one rendition per rung that fits the source
(encoded in threads by ``packager/encoders.py``, delivered back through the hop) and a
shared ``audio`` rendition that every variant names as its AUDIO group. The pieces:
``segmenter.py`` cuts each rendition, ``renditions.py`` holds the set and renders the
multivariant playlist, ``output_timeline.py`` keeps one continuous timeline across
publishers.

A new publisher may bring another shape (other tracks, another resolution): renditions it
still feeds continue after a discontinuity, renditions it cannot feed are retired (their
playlists end and leave the multivariant playlist), new ones appear. Which tracks the new
publish has is known once its first segment is complete: a track of the previous publish
not announced again by then is gone.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ingest.media import Frame, TrackInfo, TrackKind
from packager.encoders import Encoders, Hop, inline_hop, plan_rungs
from packager.health import PipelineHealth
from packager.llhls import PlaylistSettings, Rendered
from packager.output_timeline import OutputTimeline, WallClock
from packager.renditions import RenditionSet

if TYPE_CHECKING:
    from packager.ladder_plan import LadderRung, SourceRate
    from packager.transcode import LadderStats

__all__ = ["PipelineHealth", "StreamPipeline"]

log = logging.getLogger("mediad.packager")

SOURCE = "source"
AUDIO = "audio"

EncodedListener = Callable[[str, Frame], None]
"""Told of every frame an encoder of the current ladder or audio transcode delivers, with
its rendition's name, on the pipeline's thread (WebRTC viewers share the rungs' pictures)."""


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
        self._tracks: dict[TrackKind, TrackInfo] = {}
        self._unconfirmed: set[TrackKind] = set()
        """Tracks of the previous publish the current one has not announced (yet)."""
        self._segments_before = 0
        """Segments completed when the current publish began."""
        self._skipped: tuple[str, ...] = ()
        self._encoded_listeners: list[EncodedListener] = []
        if not self.ladder_config:
            self.renditions.add(SOURCE)

    @property
    def video_track(self) -> TrackInfo | None:
        return self._tracks.get("video")

    @property
    def audio_track(self) -> TrackInfo | None:
        return self._tracks.get("audio")

    def track_changed(self, track: TrackInfo, rate: SourceRate | None = None) -> None:
        """The publish announced ``track`` (again, or with new parameters); ``rate``: what
        the publisher says of its video rate, for the ladder plan."""
        previous = self._tracks.get(track.kind)
        self._tracks[track.kind] = track
        self._unconfirmed.discard(track.kind)
        if not self.ladder_config:
            self.renditions.add(SOURCE).set_tracks(self._tracks.values())
            return
        if track.kind == "audio":
            audio = self.renditions.add(AUDIO, audio=True)
            if track.codec == "aac":
                self.encoders.stop_audio()
                audio.set_tracks([track])
            elif previous != track or self.encoders.audio is None:
                self.encoders.start_audio(track)
            return
        self.renditions.add(SOURCE).set_tracks([track])
        if previous != track or self.encoders.ladder is None:
            self._rebuild_ladder(track, rate)

    def _rebuild_ladder(self, video: TrackInfo, rate: SourceRate | None) -> None:
        """New source parameters: a new decoder and new encoders (their init sections and a
        discontinuity follow from the encoded frames' new track); rungs the new source
        cannot feed are retired."""
        replacing = self.encoders.ladder is not None
        self.encoders.stop_ladder()
        if replacing:
            for name in self._rung_names():
                self.renditions[name].cut()  # the old encoder's GOP ends where the source changed
        plan = plan_rungs(video, self.ladder_config, rate)
        planned = {spec.name for spec in plan}
        for name in self._rung_names():
            if name not in planned:
                self.renditions.retire(name)
        skipped = tuple(r.name for r in self.ladder_config if r.name not in planned)
        if skipped != self._skipped:
            self._skipped = skipped
            if skipped:
                log.info("ladder rungs skipped: not smaller than the source", extra={
                    "fields": {"rungs": list(skipped), "source_height": video.height}})
        if not plan:
            return
        for spec in plan:
            self.renditions.add(spec.name)
        self.encoders.start_ladder(video, plan)

    def _rung_names(self) -> list[str]:
        return [name for name in self.renditions if name not in (SOURCE, AUDIO)]

    def add_encoded_listener(self, listener: EncodedListener) -> Callable[[], None]:
        """``listener`` hears every encoded frame from now on; returns its remover."""
        self._encoded_listeners.append(listener)

        def remove() -> None:
            if listener in self._encoded_listeners:
                self._encoded_listeners.remove(listener)
        return remove

    def _push_encoded(self, name: str, frame: Frame) -> None:
        """An encoded frame of the current encoders, on the pipeline's thread."""
        rendition = self.renditions.get(name)
        if rendition is None or rendition.playlist.ended:
            return
        for listener in tuple(self._encoded_listeners):
            listener(name, frame)
        if rendition.tracks != [frame.track]:
            rendition.set_tracks([frame.track])
        rendition.push(frame)
        self.renditions.settle_target_duration()

    # -- media --------------------------------------------------------------------------

    def push(self, frame: Frame) -> None:
        if self._unconfirmed and frame.keyframe and self._segments() > self._segments_before:
            self._drop_unannounced()  # at a keyframe: a muxed source starts a new init there
        if not self.ladder_config:
            self.renditions[SOURCE].push(frame)
        elif frame.is_video:
            if SOURCE in self.renditions:
                self.renditions[SOURCE].push(frame)
            if self.encoders.ladder is not None:
                self.encoders.ladder.push(frame)
        elif self.encoders.audio is not None:
            self.encoders.audio.push(frame)
        elif AUDIO in self.renditions:
            self.renditions[AUDIO].push(frame)
        self.renditions.settle_target_duration()

    def _segments(self) -> int:
        return sum(member.stats.segments for member in self.renditions.values())

    def _drop_unannounced(self) -> None:
        """The current publish has a complete segment without the previous publish's
        ``_unconfirmed`` tracks: they are gone, and the renditions they fed with them."""
        gone, self._unconfirmed = self._unconfirmed, set()
        for kind in gone:
            del self._tracks[kind]
        log.info("tracks gone with the new publisher", extra={"fields": {
            "tracks": sorted(gone)}})
        if not self.ladder_config:
            self.renditions[SOURCE].set_tracks(self._tracks.values())
            return
        if "audio" in gone:
            self.encoders.stop_audio()
            self.renditions.retire(AUDIO)
        if "video" in gone:
            self.encoders.stop_ladder()
            for name in [SOURCE, *self._rung_names()]:
                self.renditions.retire(name)

    def publisher_changed(self) -> None:
        """The publisher left or was replaced: keep the playlists open for the next one.
        Its tracks are kept until the next publish shows which it has: an encoder that
        comes back with the same settings continues under the same init sections."""
        self.encoders.stop_ladder()
        self.encoders.stop_audio()
        for rendition in self.renditions.values():
            rendition.restart()
        self.timeline.next_publish(self.renditions.end_seconds)
        self._unconfirmed = set(self._tracks)
        self._segments_before = self._segments()

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
