"""The renditions of one stream, by name: each a segmenter and its media playlist, all on
the stream's output timeline.

Members come and go within one broadcast (a publisher with other tracks or a smaller
picture): a member that goes is *retired*: its playlist ends (EXT-X-ENDLIST) so that a
player on it learns it is over, it leaves the multivariant playlist and the rendition
reports, and it stays reachable by URL (``lookup``) until a member of the same name
replaces it. Everything stream-wide is derived from the current members: every playlist
reports the others (EXT-X-RENDITION-REPORT), the target duration is settled for the set
once each first member has proposed one (a member that joins later gets the same), and the
multivariant playlist lists the members that can be served.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping

from packager.llhls import MediaPlaylist, PlaylistSettings, Rendered, Segment
from packager.multivariant import AudioRendition, Variant, render_multivariant
from packager.output_timeline import OutputTimeline
from packager.segmenter import Segmenter

__all__ = ["AUDIO_GROUP", "RenditionSet", "SegmentListener"]

AUDIO_GROUP = "audio"

SegmentListener = Callable[[str, Segmenter, Segment], None]
"""Told of every segment a member completes: the rendition's name, the member (its
playlist holds the segment's init section) and the segment."""


class RenditionSet(Mapping[str, Segmenter]):
    """The current members (the mapping), and the retired ones still reachable by URL."""

    def __init__(self, settings: PlaylistSettings, timeline: OutputTimeline, *,
                 shared_target_duration: bool) -> None:
        """``shared_target_duration``: every playlist carries the same TARGETDURATION
        (§6.2.4, needed when players switch between renditions); otherwise each playlist
        takes its own first segment's."""
        self.settings = settings
        self.timeline = timeline
        self.shared_target_duration = shared_target_duration
        self._members: dict[str, Segmenter] = {}
        self._retired: dict[str, Segmenter] = {}
        self._audio: set[str] = set()
        self._target_duration = 0
        """The set's settled target duration (shared), 0 until settled."""
        self._started = False
        """Every first member was servable once: from then on the set is served with
        whichever members are ready."""
        self._multivariant: tuple[tuple[object, ...], Rendered] | None = None
        self._segment_listeners: list[SegmentListener] = []

    def __getitem__(self, name: str) -> Segmenter:
        return self._members[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def lookup(self, name: str) -> Segmenter | None:
        """A member, or a retired rendition a player may still be reading."""
        return self._members.get(name) or self._retired.get(name)

    def add(self, name: str, *, audio: bool = False) -> Segmenter:
        """The rendition ``name``, made if new; ``audio``: an audio-only rendition that the
        variants play beside their own media (the AUDIO group). A retired rendition of the
        same name is replaced; the new playlist's media sequence numbers follow its."""
        member = self._members.get(name)
        if member is None:
            retired = self._retired.pop(name, None)
            first_msn = retired.playlist.last_position()[0] + 1 if retired else 1
            playlist = MediaPlaylist(self.settings, first_msn=first_msn,
                                     shared_target_duration=self.shared_target_duration)
            member = self._members[name] = Segmenter(playlist, self.timeline)
            playlist.on_segment = functools.partial(self._segment_done, name, member)
            if audio:
                self._audio.add(name)
            else:
                self._audio.discard(name)
            self._link()
            self.settle_target_duration()
        return member

    def is_audio(self, name: str) -> bool:
        """Whether ``name`` is an audio-only rendition (the AUDIO group)."""
        return name in self._audio

    def add_segment_listener(self, listener: SegmentListener) -> None:
        self._segment_listeners.append(listener)

    def _segment_done(self, name: str, member: Segmenter, segment: Segment) -> None:
        for listener in tuple(self._segment_listeners):
            listener(name, member, segment)

    def retire(self, name: str) -> bool:
        """The rendition no longer exists in this broadcast: its playlist ends now. False if
        it was not a member."""
        member = self._members.pop(name, None)
        if member is None:
            return False
        member.end()
        member.playlist.set_siblings(())
        self._retired[name] = member
        self._link()
        return True

    def _link(self) -> None:
        for name, member in self._members.items():
            member.playlist.set_siblings((f"../{other}/index.m3u8", self._members[other].playlist)
                                         for other in self._members if other != name)

    def settle_target_duration(self) -> None:
        """After each push. Shared target durations: once every member has a first segment,
        all get the longest any of them asks for; a member that joins after that gets the
        same once it has its first segment (or its own, if longer: never an EXTINF above
        it)."""
        if self.shared_target_duration:
            self._settle_shared()
        if not self._started:
            self._started = self._all_ready()

    def _all_ready(self) -> bool:
        return bool(self._members) and all(m.playlist.ready for m in self._members.values())

    def _settle_shared(self) -> None:
        playlists = [member.playlist for member in self._members.values()]
        unsettled = [p for p in playlists if not p.ready]
        if not unsettled:
            return
        if not self._target_duration:
            if not all(p.proposed_target_duration for p in playlists):
                return
            self._target_duration = max(p.proposed_target_duration for p in playlists)
        for playlist in unsettled:
            if playlist.proposed_target_duration:
                playlist.settle_target_duration(
                    max(self._target_duration, playlist.proposed_target_duration))

    @property
    def end_seconds(self) -> float:
        """Output time just past the last sample any member wrote."""
        return max((member.end_seconds for member in self._members.values()), default=0.0)

    @property
    def ready(self) -> bool:
        """Servable: every first member has its first segment, and some member is ready."""
        if not self._started:
            return self._all_ready()
        return any(m.playlist.ready for m in self._members.values())

    @property
    def ended(self) -> bool:
        members = self._members.values()
        if not members:
            return bool(self._retired)
        return all(m.playlist.ended for m in members)

    def multivariant(self, prefix: str, audio_channels: int) -> Rendered:
        """The multivariant playlist of the members that are ready, media playlists under
        ``prefix``; ``audio_channels`` for the audio renditions' CHANNELS (0: unknown, 2
        is said). Re-rendered when the members change, one completes a segment (new bit
        rates) or gets new tracks (a new encoder: its picture size, its codecs)."""
        key = (prefix, audio_channels,
               *((name, id(member), member.playlist.ready, member.stats.segments,
                  member.resolution(), member.codecs())
                 for name, member in self._members.items()))
        if self._multivariant is None or self._multivariant[0] != key:
            self._multivariant = (key, self._render_multivariant(prefix, audio_channels))
        return self._multivariant[1]

    def _render_multivariant(self, prefix: str, audio_channels: int) -> Rendered:
        ready = {name: member for name, member in self._members.items()
                 if member.playlist.ready}
        audio = [AudioRendition(AUDIO_GROUP, name, f"{prefix}/{name}/index.m3u8",
                                audio_channels or 2, member.codecs(), member.stats.peak_bps,
                                member.stats.average_bps)
                 for name, member in ready.items() if name in self._audio]
        pictures = {name: member for name, member in ready.items() if name not in self._audio}
        if not pictures:
            # Audio only (radio, podcasts): the audio renditions are the variants, or players
            # that need an EXT-X-STREAM-INF (ffmpeg, AVPlayer) find nothing to play.
            return render_multivariant([
                Variant(media.uri, media.peak_bps, media.average_bps, media.codecs)
                for media in audio])
        variants = [Variant(f"{prefix}/{name}/index.m3u8", member.stats.peak_bps,
                            member.stats.average_bps, member.codecs(), member.resolution(),
                            member.stats.frame_rate, AUDIO_GROUP if audio else None)
                    for name, member in pictures.items()]
        # The tallest first: where players start; ties keep the order the members came.
        variants.sort(key=lambda v: -(v.resolution or (0, 0))[1])
        return render_multivariant(variants, audio)
