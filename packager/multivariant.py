"""The multivariant playlist as a pure model: rendered from a description of the variants
and their audio groups (RFC 8216bis §4.4.6), like the media playlist in ``llhls.py``.

A variant that names an audio group plays that group's audio beside its own media, so its
BANDWIDTH and AVERAGE-BANDWIDTH include the group's (its largest rendition's) and its CODECS
list the group's codecs too (§4.4.6.2: every format in the variant).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from packager.llhls import Rendered

__all__ = ["AudioRendition", "Variant", "render_multivariant"]


@dataclass(frozen=True, slots=True)
class AudioRendition:
    """One EXT-X-MEDIA TYPE=AUDIO rendition."""

    group_id: str
    name: str
    uri: str
    channels: int
    codecs: str
    """RFC 6381 codecs of its media, comma separated ("" when unknown)."""
    peak_bps: float
    average_bps: float


@dataclass(frozen=True, slots=True)
class Variant:
    """One EXT-X-STREAM-INF and its media playlist."""

    uri: str
    peak_bps: float
    average_bps: float
    codecs: str
    resolution: tuple[int, int] | None = None
    frame_rate: float = 0.0
    audio_group: str | None = None
    """The GROUP-ID of the audio renditions this variant plays with, if any."""


def render_multivariant(variants: Sequence[Variant],
                        audio: Sequence[AudioRendition] = ()) -> Rendered:
    """The playlist text; variants in the order given (players start with the first)."""
    return Rendered("".join(_lines(variants, audio)).encode())


def _lines(variants: Sequence[Variant], audio: Sequence[AudioRendition]) -> Iterator[str]:
    yield "#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-INDEPENDENT-SEGMENTS\n"
    for media in audio:
        yield (f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="{media.group_id}",NAME="{media.name}",'
               f'DEFAULT=YES,AUTOSELECT=YES,CHANNELS="{media.channels}",URI="{media.uri}"\n')
    for variant in variants:
        peak, average, codecs = variant.peak_bps, variant.average_bps, variant.codecs
        group = [m for m in audio if m.group_id == variant.audio_group]
        if variant.audio_group is not None:
            if not group:
                raise ValueError(f"variant {variant.uri} names audio group "
                                 f"{variant.audio_group!r}, which has no rendition")
            peak += max(m.peak_bps for m in group)
            average += max(m.average_bps for m in group)
            listed = [c for c in codecs.split(",") if c]
            for media in group:
                listed += [c for c in media.codecs.split(",") if c and c not in listed]
            codecs = ",".join(listed)
        attributes = [f"BANDWIDTH={round(peak)}", f"AVERAGE-BANDWIDTH={round(average)}"]
        if codecs:
            attributes.append(f'CODECS="{codecs}"')
        if variant.resolution:
            attributes.append(f"RESOLUTION={variant.resolution[0]}x{variant.resolution[1]}")
        if variant.frame_rate:
            attributes.append(f"FRAME-RATE={variant.frame_rate:.3f}")
        if variant.audio_group is not None:
            attributes.append(f'AUDIO="{variant.audio_group}"')
        yield f"#EXT-X-STREAM-INF:{','.join(attributes)}\n{variant.uri}\n"
