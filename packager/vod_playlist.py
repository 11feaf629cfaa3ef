"""The media playlist of a recording (RFC 8216bis §4.4.3.5: EXT-X-PLAYLIST-TYPE): VOD once it
is complete (EXT-X-ENDLIST), EVENT while it is still being recorded. Pure, like
``llhls.py``: the caller says which segments exist."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from packager.llhls import Rendered, format_date

__all__ = ["VodSegment", "render_vod_playlist", "vod_target_duration"]


@dataclass(frozen=True, slots=True)
class VodSegment:
    uri: str
    init_uri: str
    duration: float
    program_date_time: float
    """Unix seconds of its first sample."""
    discontinuity: bool = False


def vod_target_duration(segments: Sequence[VodSegment]) -> int:
    """No EXTINF, rounded to the nearest integer, may exceed it (§4.4.3.1)."""
    return max([1, *(round(segment.duration) for segment in segments)])


def render_vod_playlist(segments: Sequence[VodSegment], *, complete: bool,
                        target_duration: int | None = None) -> Rendered:
    """``target_duration``: at least this (an EVENT playlist's may never shrink nor grow:
    the caller passes the recording's segment target rounded up)."""
    return Rendered("".join(_lines(segments, complete, target_duration)).encode())


def _lines(segments: Sequence[VodSegment], complete: bool,
           target_duration: int | None) -> Iterator[str]:
    td = max(vod_target_duration(segments), target_duration or 0)
    yield "#EXTM3U\n#EXT-X-VERSION:6\n"
    yield f"#EXT-X-TARGETDURATION:{td}\n"
    yield f"#EXT-X-PLAYLIST-TYPE:{'VOD' if complete else 'EVENT'}\n"
    yield "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    init = None
    for index, segment in enumerate(segments):
        if segment.discontinuity and index:
            yield "#EXT-X-DISCONTINUITY\n"
        if segment.init_uri != init:
            init = segment.init_uri
            yield f'#EXT-X-MAP:URI="{init}"\n'
        yield f"#EXT-X-PROGRAM-DATE-TIME:{format_date(segment.program_date_time)}\n"
        yield f"#EXTINF:{segment.duration:.5f},\n{segment.uri}\n"
    if complete:
        yield "#EXT-X-ENDLIST\n"
