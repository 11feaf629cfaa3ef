"""The renditions of one stream, by name: each a segmenter and its media playlist, all on
the stream's output timeline.

Everything stream-wide is derived from the current members, whatever joined when: every
playlist reports the others (EXT-X-RENDITION-REPORT), the target duration is settled for
the set once each member has proposed one, and the multivariant playlist lists the members
as variants and audio renditions.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from packager.llhls import MediaPlaylist, PlaylistSettings, Rendered
from packager.multivariant import AudioRendition, Variant, render_multivariant
from packager.output_timeline import OutputTimeline
from packager.segmenter import Segmenter

__all__ = ["AUDIO_GROUP", "RenditionSet"]

AUDIO_GROUP = "audio"


class RenditionSet(Mapping[str, Segmenter]):
    def __init__(self, settings: PlaylistSettings, timeline: OutputTimeline, *,
                 shared_target_duration: bool) -> None:
        """``shared_target_duration``: every playlist carries the same TARGETDURATION
        (§6.2.4, needed when players switch between renditions); otherwise each playlist
        takes its own first segment's."""
        self.settings = settings
        self.timeline = timeline
        self.shared_target_duration = shared_target_duration
        self._members: dict[str, Segmenter] = {}
        self._audio: set[str] = set()
        self._multivariant: tuple[tuple[object, ...], Rendered] | None = None

    def __getitem__(self, name: str) -> Segmenter:
        return self._members[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def add(self, name: str, *, audio: bool = False) -> Segmenter:
        """The rendition ``name``, made if new; ``audio``: an audio-only rendition that the
        variants play beside their own media (the AUDIO group)."""
        member = self._members.get(name)
        if member is None:
            playlist = MediaPlaylist(self.settings,
                                     shared_target_duration=self.shared_target_duration)
            member = self._members[name] = Segmenter(playlist, self.timeline)
            if audio:
                self._audio.add(name)
            self._link()
        return member

    def _link(self) -> None:
        for name, member in self._members.items():
            member.playlist.set_siblings((f"../{other}/index.m3u8", self._members[other].playlist)
                                         for other in self._members if other != name)

    def settle_target_duration(self) -> None:
        """Once every member has a first segment, give those still without one the set's
        target duration: the longest any member asks for."""
        playlists = [member.playlist for member in self._members.values()]
        unsettled = [p for p in playlists if not p.ready]
        if not unsettled or not all(p.proposed_target_duration for p in playlists):
            return
        target = max(p.proposed_target_duration for p in playlists)
        for playlist in unsettled:
            playlist.settle_target_duration(target)

    @property
    def end_seconds(self) -> float:
        """Output time just past the last sample any member wrote."""
        return max((member.end_seconds for member in self._members.values()), default=0.0)

    @property
    def ready(self) -> bool:
        return bool(self._members) and all(m.playlist.ready for m in self._members.values())

    @property
    def ended(self) -> bool:
        return bool(self._members) and all(m.playlist.ended for m in self._members.values())

    def multivariant(self, prefix: str, audio_channels: int) -> Rendered:
        """The multivariant playlist of the current members, media playlists under
        ``prefix``; ``audio_channels`` for the audio renditions' CHANNELS (0: unknown, 2
        is said). Re-rendered when a member completes a segment (new bit rates)."""
        key = (prefix, audio_channels,
               *((name, member.stats.segments) for name, member in self._members.items()))
        if self._multivariant is None or self._multivariant[0] != key:
            self._multivariant = (key, self._render_multivariant(prefix, audio_channels))
        return self._multivariant[1]

    def _render_multivariant(self, prefix: str, audio_channels: int) -> Rendered:
        audio = [AudioRendition(AUDIO_GROUP, name, f"{prefix}/{name}/index.m3u8",
                                audio_channels or 2, member.codecs(), member.stats.peak_bps,
                                member.stats.average_bps)
                 for name, member in self._members.items() if name in self._audio]
        variants = [Variant(f"{prefix}/{name}/index.m3u8", member.stats.peak_bps,
                            member.stats.average_bps, member.codecs(), member.resolution(),
                            member.stats.frame_rate, AUDIO_GROUP if audio else None)
                    for name, member in self._members.items() if name not in self._audio]
        # The tallest first: where players start; ties keep the order the members came.
        variants.sort(key=lambda v: -(v.resolution or (0, 0))[1])
        return render_multivariant(variants, audio)
