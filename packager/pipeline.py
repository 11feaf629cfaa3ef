"""From a live stream's frames to LL-HLS renditions: cut parts and segments, write CMAF
fragments, publish them to each rendition's playlist.

``Rendition`` packages one rung: the passthrough rung copies the source frames; transcoded
rungs (``packager/transcode.py``) feed it their encoded frames the same way. Cuts follow
one *driver* track (video, or audio when there is no video): a part closes as soon as the
next frame could not fit in the part target (so a part is published the moment its last
frame arrives, not one frame later), and a segment closes at the first keyframe at least a
segment target after its start.

The output timeline is continuous across publisher reconnects and backup takeovers: each
new publish is shifted to start where the last one ended, and the segment after the seam
carries EXT-X-DISCONTINUITY so players reset their decoders. Program date times map the
media timeline onto the ingest wall clock at each publish's first frame, so a player's
``playingDate`` gives true end-to-end latency.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ingest.media import Frame, TrackInfo
from packager.cmaf import CmafTrack, Sample, fragment, init_segment
from packager.llhls import MediaPlaylist, PlaylistSettings, Rendered, Segment

if TYPE_CHECKING:
    from packager.transcode import AudioToAac, LadderRung, LadderStats, VideoLadder

__all__ = ["PipelineHealth", "Rendition", "RenditionStats", "StreamPipeline"]

log = logging.getLogger("mediad.packager")

TIMELINE_START = 10.0
"""Seconds at which the first publish starts on the output timeline: audio that decodes a
little before the first video keyframe still has a positive decode time."""
VIDEO_TIMESCALE = 90000
MAX_SAMPLE_GAP = 1.0
"""A longer gap between two frames of a track (a reader that dropped a GOP, a stalled
encoder) is not stretched into one sample's duration."""

WallClock = Callable[[float], float]
"""Maps a monotonic ingest arrival time to Unix wall-clock seconds."""


@dataclass
class _TrackState:
    info: TrackInfo
    cmaf: CmafTrack
    offset: int = 0
    """Added to converted decode times: this publish's place on the output timeline."""
    last_dts: int = -1
    delta: float = 0.0
    """The recent decode-time step, the estimate for a part's last sample."""
    end: int = 0
    """Decode time just past the last sample written."""
    pending: list[tuple[int, int, Frame]] = field(default_factory=list)

    def convert(self, value: int) -> int:
        info = self.info
        return (value * self.cmaf.timescale + info.timescale // 2) // info.timescale

    def nominal_duration(self) -> int:
        if self.info.kind == "audio":
            per_frame = 960 if self.info.codec == "opus" else 1024
            rate = self.info.sample_rate or self.cmaf.timescale
            return max(1, per_frame * self.cmaf.timescale // rate)
        return self.cmaf.timescale // 30


@dataclass
class RenditionStats:
    segments: int = 0
    peak_bps: float = 0.0
    average_bps: float = 0.0
    frame_rate: float = 0.0
    _bits: float = 0.0
    _seconds: float = 0.0

    def add_segment(self, segment: Segment, frame_rate: float) -> None:
        if segment.duration <= 0:
            return
        self.segments += 1
        bits = len(segment.data) * 8
        self.peak_bps = max(self.peak_bps, bits / segment.duration)
        self._bits += bits
        self._seconds += segment.duration
        self.average_bps = self._bits / self._seconds
        if frame_rate:
            self.frame_rate = _snap_frame_rate(frame_rate)


_COMMON_RATES = (10.0, 12.0, 12.5, 15.0, 20.0, 23.976, 24.0, 25.0, 29.97, 30.0, 48.0, 50.0,
                 59.94, 60.0, 120.0)


def _snap_frame_rate(measured: float) -> float:
    """Millisecond timestamps blur 30 fps into 30.12: report the common rate it is."""
    nearest = min(_COMMON_RATES, key=lambda rate: abs(rate - measured))
    return nearest if abs(nearest - measured) <= 0.01 * nearest else round(measured, 3)


@dataclass(frozen=True, slots=True)
class PipelineHealth:
    """Transcode counters for the health channel, summed over every encoder a stream had."""

    decoded: int = 0
    corrupt_packets: int = 0
    dropped_source_packets: int = 0
    dropped_pictures: dict[str, int] = field(default_factory=dict)
    encoded: dict[str, int] = field(default_factory=dict)
    drop_rate: dict[str, float] = field(default_factory=dict)


class Timeline:
    """Where the current publish sits on the output timeline, shared by every rendition of
    a stream: the same source time maps to the same output time and the same program date
    time in every rung, whichever rung sees a frame first."""

    def __init__(self, wall_clock: WallClock) -> None:
        self.wall_clock = wall_clock
        self._resume = 0.0
        self._placed: tuple[float, float, float] | None = None

    def place(self, first_seconds: float, arrival: float) -> tuple[float, float, float]:
        """(offset added to source seconds, anchor media seconds, anchor wall seconds)."""
        if self._placed is None:
            start = self._resume if self._resume > 0 else TIMELINE_START
            self._placed = (start - first_seconds, start, self.wall_clock(arrival))
        return self._placed

    def restart(self, resume: float) -> None:
        """A new publish follows; it starts where the renditions ended."""
        self._resume = max(self._resume, resume)
        self._placed = None


class Rendition:
    """One rung's segmenter, fMP4 writer and playlist."""

    def __init__(self, name: str, settings: PlaylistSettings,
                 timeline: Timeline | WallClock) -> None:
        self.name = name
        self.settings = settings
        self.playlist = MediaPlaylist(settings)
        self.stats = RenditionStats()
        self.timeline = timeline if isinstance(timeline, Timeline) else Timeline(timeline)
        self._tracks: dict[int, _TrackState] = {}
        self._driver: _TrackState | None = None
        self._fragments = 0
        self._part_start = -1  # driver decode time where the open part starts
        self._segment_start = -1
        self._anchor: tuple[float, float] | None = None  # (media seconds, wall seconds)
        self._restart = True  # the next frame starts a publish: place it on the timeline

    @property
    def tracks(self) -> list[TrackInfo]:
        return [state.info for state in self._tracks.values()]

    def set_tracks(self, tracks: Iterable[TrackInfo]) -> None:
        """The publish's tracks; new codec parameters cut the segment and start a new init
        section (EXT-X-MAP, EXT-X-DISCONTINUITY)."""
        ordered = sorted(tracks, key=lambda t: (t.kind != "video", t.track_id))
        if [s.info for s in self._tracks.values()] == ordered:
            return
        self._close_segment()
        self._tracks = {}
        for number, info in enumerate(ordered, start=1):
            timescale = VIDEO_TIMESCALE if info.kind == "video" else (info.sample_rate or 48000)
            self._tracks[info.track_id] = _TrackState(info, CmafTrack(number, info, timescale))
        self._restart = True  # new track states: place them on the (same) timeline
        if not self._tracks:
            self._driver = None
            return
        self._driver = next(iter(self._tracks.values()))
        self.playlist.set_init(init_segment([s.cmaf for s in self._tracks.values()]))

    @property
    def end_seconds(self) -> float:
        """Output time just past the last sample written."""
        return max((s.end / s.cmaf.timescale for s in self._tracks.values()), default=0.0)

    def restart(self) -> None:
        """A new publisher (reconnect or backup takeover) feeds this rendition next."""
        self.cut()
        self._restart = True

    def cut(self) -> None:
        """End the segment here; the next one starts after EXT-X-DISCONTINUITY (a new
        encoder takes over this rung)."""
        self._close_part(final=True)
        self._close_segment()
        self.playlist.mark_discontinuity()

    def push(self, frame: Frame) -> None:
        state = self._tracks.get(frame.track.track_id)
        if state is None or state.info != frame.track:
            return  # a frame of a track not (or no longer) announced
        if self._restart:
            if frame.is_video and not frame.keyframe:
                return  # a publish starts on a keyframe
            self._start_publish(frame)
        dts = state.convert(frame.dts) + state.offset
        pts = state.convert(frame.pts) + state.offset
        if dts <= state.last_dts:
            dts = state.last_dts + 1  # never backwards inside a track
        if state.last_dts >= 0:
            step = dts - state.last_dts
            if step <= MAX_SAMPLE_GAP * state.cmaf.timescale:
                # Smoothed: millisecond timestamps make 30 fps steps of 33 and 34 ms.
                state.delta = step if not state.delta else (7 * state.delta + step) / 8
        state.last_dts = dts
        if state is not self._driver:
            state.pending.append((dts, pts, frame))
            return
        self._push_driver(state, dts, pts, frame)

    def _start_publish(self, frame: Frame) -> None:
        offset, media_start, wall_start = self.timeline.place(
            frame.dts / frame.track.timescale, frame.arrival)
        for state in self._tracks.values():
            state.offset = round(offset * state.cmaf.timescale)
            state.last_dts = -1
            state.delta = 0.0
        self._anchor = (media_start, wall_start)
        self._restart = False

    def _push_driver(self, state: _TrackState, dts: int, pts: int, frame: Frame) -> None:
        scale = state.cmaf.timescale
        estimate = state.delta or state.nominal_duration()
        starts_segment = (frame.keyframe and self._segment_start >= 0
                          and dts - self._segment_start + estimate / 2
                          >= self.settings.segment_target * scale)
        if starts_segment:
            self._close_segment()
        elif (self._part_start >= 0
              and dts + estimate - self._part_start > self.settings.part_limit * scale):
            self._close_part()  # the early close below misjudged this frame's timing
        if self._part_start < 0:
            self._part_start = dts
            if self._segment_start < 0:
                self._segment_start = dts
        state.pending.append((dts, pts, frame))
        # Close now if the next frame could not fit: published on this frame's arrival.
        if dts + 2 * estimate - self._part_start > self.settings.part_limit * scale:
            self._close_part()

    def _close_part(self, *, final: bool = False) -> None:
        """Publish what is pending as one part. Only the driver's frames open a part, except
        at the very end, where trailing audio is not left behind."""
        driver = self._driver
        if driver is None or not (driver.pending or final):
            return
        tracks: list[tuple[_TrackState, list[Sample]]] = []
        arrivals: list[float] = []
        for state in self._tracks.values():
            arrivals.extend(f.arrival for _, _, f in state.pending)
            samples = self._samples(state)
            state.pending.clear()
            if samples:
                tracks.append((state, samples))
        if not tracks:
            return
        lead, lead_samples = tracks[0]  # the driver whenever it has samples
        duration = sum(s.duration for s in lead_samples) / lead.cmaf.timescale
        if self._segment_start < 0:
            self._segment_start = round(lead_samples[0].dts * driver.cmaf.timescale
                                        / lead.cmaf.timescale)
        self._fragments += 1
        data = fragment(self._fragments, [(state.cmaf, samples) for state, samples in tracks])
        self.playlist.add_part(
            data, duration, independent=lead is driver and lead_samples[0].keyframe,
            program_date_time=self._program_date_time(self._segment_start, driver),
            first_arrival=min(arrivals), last_arrival=max(arrivals))
        self._part_start = -1

    def _samples(self, state: _TrackState) -> list[Sample]:
        pending = state.pending
        samples: list[Sample] = []
        limit = MAX_SAMPLE_GAP * state.cmaf.timescale
        for i, (dts, pts, frame) in enumerate(pending):
            if i + 1 < len(pending):
                duration = pending[i + 1][0] - dts
            else:
                duration = round(state.delta) or state.nominal_duration()
            duration = max(1, min(duration, int(limit)))
            samples.append(Sample(dts, duration, pts - dts, frame.keyframe, frame.payload))
        if samples:
            state.end = samples[-1].dts + samples[-1].duration
        return samples

    def _program_date_time(self, media_dts: int, driver: _TrackState) -> float:
        assert self._anchor is not None
        media_start, wall_start = self._anchor
        return wall_start + (media_dts / driver.cmaf.timescale - media_start)

    def _close_segment(self) -> None:
        self._close_part()
        segment = self.playlist.finish_segment()
        if segment is not None:
            driver = self._driver
            video = driver is not None and driver.info.kind == "video" and driver.delta
            rate = driver.cmaf.timescale / driver.delta if driver and video else 0.0
            self.stats.add_segment(segment, rate)
        self._segment_start = -1

    def end(self) -> None:
        self._close_part(final=True)
        self._close_segment()
        self.playlist.end()

    # -- what the multivariant playlist says of this rendition ------------------------------

    def codecs(self) -> str:
        return ",".join(s.info.codec_string for s in self._tracks.values() if s.info.codec_string)

    def resolution(self) -> tuple[int, int] | None:
        for state in self._tracks.values():
            if state.info.kind == "video" and state.info.width:
                return state.info.width, state.info.height
        return None


class StreamPipeline:
    """Every rendition of one live stream, fed from the stream's frames.

    Without a ladder: one ``source`` rendition with the publisher's audio and video muxed.
    With a ladder: ``source`` (the video, copied), one rendition per rung that fits the
    source (encoded by ``VideoLadder`` in threads, delivered back on the event loop) and a
    shared ``audio`` rendition that every variant names as its AUDIO group.
    """

    def __init__(self, settings: PlaylistSettings, wall_clock: WallClock, *,
                 ladder: Sequence[LadderRung] = (), encoder: str = "libx264",
                 lossless: bool = False, watermark: str | None = None,
                 audio_bitrate_kbps: int = 128,
                 slow_down: Callable[[], None] | None = None) -> None:
        self.settings = settings
        self.session = secrets.token_urlsafe(6)
        """In every media URL: a restarted stream never reuses a cached URL."""
        self.timeline = Timeline(wall_clock)
        self.ladder_config = tuple(ladder)
        self.encoder = encoder
        self.slow_down = slow_down
        self.lossless = lossless
        self.audio_bitrate_kbps = audio_bitrate_kbps
        self.audio_transcoder: AudioToAac | None = None
        self.watermark = watermark
        """Text overlaid on every transcoded rung (the creator's handle), or None."""
        self.renditions: dict[str, Rendition] = {}
        self.ladder: VideoLadder | None = None
        self.retired_ladder_stats: list[LadderStats] = []
        self._tracks: dict[int, TrackInfo] = {}
        self._multivariant: tuple[tuple[int, ...], Rendered] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._generations = {"video": 0, "audio": 0}
        """Bumped when an encoder is retired: what it still delivers is discarded."""
        if not self.ladder_config:
            self._add("source")

    # -- configuration ------------------------------------------------------------------

    def _add(self, name: str) -> Rendition:
        rendition = self.renditions.get(name)
        if rendition is None:
            rendition = self.renditions[name] = Rendition(name, self.settings, self.timeline)
            if self.ladder_config:
                rendition.playlist.auto_target_duration = False
            playlists = list(self.renditions.values())
            for one in playlists:
                one.playlist.siblings = [(f"../{other.name}/index.m3u8", other.playlist)
                                         for other in playlists if other is not one]
        return rendition

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
            self.renditions["source"].set_tracks(self._tracks.values())
            return
        if track.kind == "audio":
            audio = self._add("audio")
            if track.codec == "aac":
                self._retire_audio()
                audio.set_tracks([track])
            elif previous != track:
                self._start_audio_transcode(track)
            return
        self._add("source").set_tracks([track])
        if previous != track:
            self._rebuild_ladder(track)

    def _rebuild_ladder(self, video: TrackInfo) -> None:
        """New source parameters: a new decoder and new encoders (their init sections and a
        discontinuity follow from the encoded frames' new track)."""
        from packager.transcode import VideoLadder, plan_ladder

        if self.ladder is not None:
            for name, rendition in self.renditions.items():
                if name not in ("source", "audio"):
                    rendition.cut()  # the old encoder's GOP ends where the source changed
        self._retire_ladder(wait=False)
        if video.codec not in ("h264", "hevc", "av1", "vp9"):
            return
        plan = plan_ladder(video, self.ladder_config)
        skipped = [r.name for r in self.ladder_config if r.name not in {p.name for p in plan}]
        if skipped:
            log.info("ladder rungs skipped: taller than the source", extra={"fields": {
                "rungs": skipped, "source_height": video.height}})
        if not plan:
            return
        for spec in plan:
            self._add(spec.name)
        self._loop = asyncio.get_running_loop() if _loop_running() else None
        self.ladder = VideoLadder(video, plan, self._hop("video"), encoder=self.encoder,
                                  lossless=self.lossless, watermark=self.watermark,
                                  slow_down=self.slow_down)
        self.ladder.start()

    def _start_audio_transcode(self, track: TrackInfo) -> None:
        from packager.transcode import AudioToAac

        self._retire_audio()
        self._loop = asyncio.get_running_loop() if _loop_running() else None
        self.audio_transcoder = AudioToAac(track, self.audio_bitrate_kbps, self._hop("audio"),
                                           lossless=self.lossless)
        self.audio_transcoder.start()

    def _retire_audio(self) -> None:
        if self.audio_transcoder is not None:
            self.audio_transcoder.stop(wait=False)
            self.retired_ladder_stats.append(self.audio_transcoder.stats)
            self.audio_transcoder = None
            self._generations["audio"] += 1

    def _hop(self, kind: str) -> Callable[[str, Frame], None]:
        """A deliver callback for encoder threads: onto the event loop (or inline without
        one), tagged with the encoder generation it was made for."""
        generation = self._generations[kind]

        def deliver(rung: str, frame: Frame) -> None:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._push_rung, kind, generation, rung, frame)
            else:
                self._push_rung(kind, generation, rung, frame)
        return deliver

    def _retire_ladder(self, *, wait: bool) -> None:
        """Stop the encoders; what they still deliver belongs to a finished timeline and
        is discarded (a few pictures), unless ``wait`` flushes it first."""
        if self.ladder is None:
            return
        self.ladder.stop(wait=wait)
        self.retired_ladder_stats.append(self.ladder.stats)
        self.ladder = None
        self._generations["video"] += 1

    def _push_rung(self, kind: str, generation: int, rung: str, frame: Frame) -> None:
        if generation != self._generations[kind]:
            return
        rendition = self.renditions.get(rung)
        if rendition is None or rendition.playlist.ended:
            return
        if rendition.tracks != [frame.track]:
            rendition.set_tracks([frame.track])
        rendition.push(frame)
        self._settle_target_duration()

    # -- media --------------------------------------------------------------------------

    def push(self, frame: Frame) -> None:
        if not self.ladder_config:
            self.renditions["source"].push(frame)
            return
        if frame.is_video:
            self.renditions["source"].push(frame)
            if self.ladder is not None:
                self.ladder.push(frame)
        elif self.audio_transcoder is not None:
            self.audio_transcoder.push(frame)
        elif "audio" in self.renditions:
            self.renditions["audio"].push(frame)
        self._settle_target_duration()

    def _settle_target_duration(self) -> None:
        """All media playlists of a stream carry the same TARGETDURATION (§6.2.4): set it
        once every rendition has a first segment."""
        playlists = [r.playlist for r in self.renditions.values()]
        if playlists[0].target_duration or not all(p.proposed_target_duration
                                                   for p in playlists):
            return
        target = max(p.proposed_target_duration for p in playlists)
        for playlist in playlists:
            playlist.target_duration = target
            playlist.changed()

    def publisher_changed(self) -> None:
        """The publisher left or was replaced: keep the playlists open for the next one.
        Its tracks are kept: an encoder that comes back with the same settings continues
        under the same init section."""
        resume_ladder = self.ladder is not None
        resume_audio = self.audio_transcoder is not None
        self._retire_ladder(wait=False)
        self._retire_audio()
        for rendition in self.renditions.values():
            rendition.restart()
        self.timeline.restart(max(r.end_seconds for r in self.renditions.values()))
        if resume_ladder and self.video_track is not None:
            self._rebuild_ladder(self.video_track)
        if resume_audio and self.audio_track is not None:
            self._start_audio_transcode(self.audio_track)

    def end(self, *, flush: bool = False) -> None:
        """ENDLIST everywhere. ``flush`` waits for the encoders to finish what is queued
        (blocking: for tests and tools, not the event loop)."""
        if flush:
            for encoder in (self.ladder, self.audio_transcoder):
                if encoder is not None:
                    encoder.stop(wait=True)
            self._loop = None  # nothing hops anymore: deliver what is left here
        self._retire_ladder(wait=False)
        self._retire_audio()
        for rendition in self.renditions.values():
            rendition.end()

    @property
    def ready(self) -> bool:
        return bool(self.renditions) and all(r.playlist.ready
                                             for r in self.renditions.values())

    @property
    def ended(self) -> bool:
        return bool(self.renditions) and all(r.playlist.ended
                                             for r in self.renditions.values())

    def health(self) -> PipelineHealth:
        """Transcode counters for the health channel: drops per rung, corrupt packets."""
        stats = [*self.retired_ladder_stats,
                 *(e.stats for e in (self.ladder, self.audio_transcoder) if e is not None)]
        dropped: dict[str, int] = {}
        encoded: dict[str, int] = {}
        for one in stats:
            for name, count in one.dropped_pictures.items():
                dropped[name] = dropped.get(name, 0) + count
            for name, count in one.encoded.items():
                encoded[name] = encoded.get(name, 0) + count
        return PipelineHealth(
            decoded=sum(s.decoded for s in stats),
            corrupt_packets=sum(s.corrupt_packets for s in stats),
            dropped_source_packets=sum(s.dropped_packets for s in stats),
            dropped_pictures=dropped,
            encoded=encoded,
            drop_rate={name: dropped[name] / max(1, dropped[name] + encoded.get(name, 0))
                       for name in dropped})

    # -- the multivariant playlist ------------------------------------------------------

    def multivariant(self) -> Rendered:
        key = tuple(r.stats.segments for r in self.renditions.values())
        if self._multivariant is None or self._multivariant[0] != key:
            self._multivariant = (key, Rendered("".join(self._multivariant_lines()).encode()))
        return self._multivariant[1]

    def _multivariant_lines(self) -> Iterable[str]:
        yield "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n"
        audio = self.renditions.get("audio") if self.ladder_config else None
        audio_codecs = audio.codecs() if audio else ""
        if audio is not None:
            channels = self.audio_track.channels if self.audio_track else 0
            yield (f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME="audio",DEFAULT=YES,'
                   f'AUTOSELECT=YES,CHANNELS="{channels or 2}",'
                   f'URI="{self.session}/audio/index.m3u8"\n')
        variants = [r for name, r in self.renditions.items() if name != "audio"]
        variants.sort(key=lambda r: -(r.resolution() or (0, 0))[1])
        for rendition in variants:
            stats = rendition.stats
            peak, average = stats.peak_bps, stats.average_bps
            codecs = rendition.codecs()
            if audio is not None:
                peak += audio.stats.peak_bps
                average += audio.stats.average_bps
                codecs = ",".join(c for c in (codecs, audio_codecs) if c)
            attributes = [f"BANDWIDTH={round(peak)}", f"AVERAGE-BANDWIDTH={round(average)}"]
            if codecs:
                attributes.append(f'CODECS="{codecs}"')
            resolution = rendition.resolution()
            if resolution:
                attributes.append(f"RESOLUTION={resolution[0]}x{resolution[1]}")
            if stats.frame_rate:
                attributes.append(f"FRAME-RATE={stats.frame_rate:.3f}")
            if audio is not None:
                attributes.append('AUDIO="audio"')
            yield (f"#EXT-X-STREAM-INF:{','.join(attributes)}\n"
                   f"{self.session}/{rendition.name}/index.m3u8\n")


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
