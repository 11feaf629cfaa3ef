"""Which video the WHEP viewers of a stream get: pictures that already exist, never an
encode of their own.

An H.264 source without B-frames is served as it is. Otherwise the tallest transcoded rung
(libx264 zerolatency, never B-frames). Neither (transcoding off and a source with
B-frames, HEVC or AV1): no WebRTC video. B-frames show in the timestamps: a picture
presented out of decoding order changes the composition offset (pts - dts), which a
stream without reordering keeps constant (zero over RTMP, a constant delay over some
MPEG-TS muxers), so they are caught at the first reordered picture, before any picture
is shown out of order (``encoder_advice.py`` looks for a pts below one already seen, later
by one frame, for the advice it gives).
"""

from __future__ import annotations

from typing import Final

from ingest.media import Frame, TrackInfo

SOURCE: Final = "source"
"""The choice that is the publisher's own video; otherwise a ladder rung's name."""


class ReorderWatch:
    """Whether the frames of one publish were ever presented out of decoding order."""

    def __init__(self) -> None:
        self.reordered = False
        self.seen = 0
        """Pictures judged: the second one already shows an encoder's B-frames."""
        self._offset: int | None = None
        self._max_pts: int | None = None

    def reset(self) -> None:
        self.reordered = False
        self.seen = 0
        self._offset = self._max_pts = None

    def frame(self, frame: Frame) -> None:
        self.seen += 1
        if self.reordered:
            return
        offset = frame.pts - frame.dts
        if self._offset is None:
            self._offset = offset
        if offset != self._offset or (self._max_pts is not None and frame.pts < self._max_pts):
            self.reordered = True
        self._max_pts = frame.pts if self._max_pts is None else max(self._max_pts, frame.pts)


class VideoChoice:
    def __init__(self) -> None:
        self.source: TrackInfo | None = None
        self.reorder = ReorderWatch()
        self.rungs: dict[str, int] = {}
        """Ladder rungs delivering pictures in this publish, by name: their heights."""

    def publish_changed(self) -> None:
        self.source = None
        self.reorder.reset()
        self.rungs.clear()

    def source_track(self, track: TrackInfo) -> None:
        if self.source is not None and track != self.source:
            self.reorder.reset()  # new encoder settings: judged again
        self.source = track

    def rung_frame(self, name: str, frame: Frame) -> None:
        self.rungs[name] = frame.track.height

    @property
    def source_playable(self) -> bool:
        source = self.source
        return source is not None and source.codec == "h264" and not self.reorder.reordered

    @property
    def wanted(self) -> str | None:
        """What the viewers should get now: ``SOURCE``, a rung's name, or None."""
        if self.source_playable:
            return SOURCE
        if self.rungs:
            return max(self.rungs.items(), key=lambda item: item[1])[0]
        return None

    def refusal(self) -> str:
        """Why there is no WebRTC video (when ``wanted`` is None)."""
        source = self.source
        if source is None:
            return "the stream's video has not started yet"
        what = ("has B-frames" if source.codec == "h264"
                else f"is {source.codec.upper()}")
        return (f"the stream's video {what}, which WebRTC playback cannot carry, and there "
                "is no transcoded rendition to play instead (transcoding is off or has "
                "not started): watch over LL-HLS")
