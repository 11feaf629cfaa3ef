"""What the packager can serve, asked when a publisher announces a track: a track it cannot
package is refused there, with the reason, instead of failing the stream later.

The one source of truth is the fMP4 writer itself: a copied track is packageable exactly
when ``cmaf.sample_entry`` can describe it (codec, configuration record, picture size,
channel layout). Audio that a transcode ladder re-encodes to AAC only has to be decodable.
"""

from __future__ import annotations

from ingest.media import TrackInfo
from packager.cmaf import UnsupportedTrack, sample_entry

__all__ = ["refusal"]


def refusal(track: TrackInfo, *, audio_to_aac: bool = False) -> str | None:
    """Why the packager cannot serve ``track``, or None when it can.

    ``audio_to_aac``: the stream has a transcode ladder, which re-encodes non-AAC audio to
    AAC (``StreamPipeline`` with a ``ladder``); then such audio is never written as it is.
    """
    if audio_to_aac and track.kind == "audio" and track.codec != "aac":
        from packager.transcode import AUDIO_DECODERS

        if track.codec not in AUDIO_DECODERS:
            return f"no decoder for {track.codec} audio to transcode it to AAC"
        return None
    try:
        sample_entry(track)
    except UnsupportedTrack as exc:
        return str(exc)
    return None
