"""The one normalisation every ingest applies to video access units, whatever carried them
(MPEG-TS Annex B, RTMP length-prefixed samples, later RTP): what mediamtx's format updater
and unit remuxer do.

H.264/HEVC (``NalNormaliser``):

- Parameter sets (SPS/PPS, HEVC also VPS) found in an access unit are captured by id and
  leave the sample: the ``avc1``/``hvc1`` sample entries want them only in the configuration
  record. A changed one rebuilds the record and yields a new ``TrackInfo``.
- Access unit delimiters and filler data are dropped; SEI and slices stay.
- A parameter set that does not parse stays in the sample (a decoder may still make sense of
  it) and is counted in the result.
- What is left leaves as 4-byte length-prefixed NAL units, built once (``AccessUnit.sample``).

A container that carries a configuration record (an RTMP sequence header) hands it to
``configure`` first: the track is the record's, its parameter sets are what in-band ones are
compared with. Codec modules subclass ``NalNormaliser`` with their NAL types and records.

AV1/VP9 (``FrameNormaliser``): a sample is the container's frame as is (ffmpeg's muxers
already drop AV1 temporal delimiters); when the configuration record gives no picture size
(nor did the container), the first keyframe that carries one (AV1 sequence header OBU, VP9
uncompressed header) completes the track.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar, Final

from ingest.codecs.bits import BitstreamError, Buffer
from ingest.codecs.nal import length_prefixed
from ingest.media import Codec, TrackInfo

LENGTH_SIZE: Final = 4
"""The NAL unit length size of every sample that leaves: records are rewritten to say so."""


class ParameterSets:
    """One kind of parameter set (SPS, PPS, VPS) by id, as the config record lists them.

    Holds at most ``limit`` ids (what the record's count field can express); a publisher
    cycling through more starts the set afresh."""

    __slots__ = ("_by_id", "limit")

    def __init__(self, limit: int) -> None:
        self._by_id: dict[int, bytes] = {}
        self.limit = limit

    def put(self, set_id: int, nal: Buffer) -> bool:
        """Store ``nal`` under its id; whether that changed anything."""
        by_id = self._by_id
        if by_id.get(set_id) == nal:
            return False
        if set_id not in by_id and len(by_id) >= self.limit:
            by_id.clear()
        by_id[set_id] = bytes(nal)
        return True

    def clear(self) -> None:
        self._by_id.clear()

    def __bool__(self) -> bool:
        return bool(self._by_id)

    def values(self) -> list[bytes]:
        return [self._by_id[k] for k in sorted(self._by_id)]


@dataclass(frozen=True, slots=True)
class AccessUnit:
    """One access unit after normalisation."""

    nals: list[Buffer]
    """What stays in the sample (views into the caller's buffer until ``sample()``)."""
    keyframe: bool
    """The unit holds an IDR (H.264) or IRAP (HEVC) picture."""
    track: TrackInfo | None
    """A new track when this unit's parameter sets changed the record: announce it before
    the frame; None when nothing changed."""
    parameter_set_errors: int
    """Parameter sets that did not parse (left in the sample)."""

    def sample(self) -> bytes:
        """The fMP4 sample: the kept NAL units behind 4-byte lengths (the one copy)."""
        return length_prefixed(self.nals)


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """What a configuration record says, as ``NalNormaliser`` subclasses read it."""

    length_at: int
    """Offset of the byte whose low 2 bits are lengthSizeMinusOne."""
    nals: Sequence[Buffer]
    """The parameter sets it lists, in order."""


class NalNormaliser(ABC):
    """One H.264/HEVC elementary stream's parameter sets and current track."""

    codec: ClassVar[Codec]
    dropped_types: ClassVar[frozenset[int]]
    """NAL unit types removed from samples (AUD, filler data)."""

    def __init__(self, track_id: int, timescale: int) -> None:
        self.track_id = track_id
        self.timescale = timescale
        self.track: TrackInfo | None = None
        self.length_size = LENGTH_SIZE
        """NAL length size of the samples that accompany the last ``configure``d record."""

    # -- codec hooks ------------------------------------------------------------------------

    @abstractmethod
    def nal_type(self, nal: Buffer) -> int | None:
        """The NAL unit type, or None when ``nal`` is too short to have a header."""

    @abstractmethod
    def is_key(self, nal_type: int) -> bool: ...

    @abstractmethod
    def _store(self, nal_type: int, nal: Buffer) -> bool | None:
        """Capture a parameter set: whether it changed; None when ``nal`` is not one (of the
        base layer). Raises ``BitstreamError`` for one that does not parse."""

    @abstractmethod
    def _forget(self) -> None:
        """Drop every stored parameter set."""

    @abstractmethod
    def _picture_size(self) -> tuple[int, int] | None:
        """The size the most recent SPS gives, if one parsed."""

    @abstractmethod
    def _record(self) -> tuple[bytes, str] | None:
        """(configuration record, codec string) from the stored sets, None while some are
        missing."""

    @abstractmethod
    def _read_record(self, record: Buffer) -> ParsedRecord:
        """Raises ``BitstreamError`` for a record too short to hold its fixed fields."""

    @abstractmethod
    def _codec_string(self, record: Buffer) -> str: ...

    # -- the normalisation ------------------------------------------------------------------

    def configure(self, record: Buffer, width: int = 0, height: int = 0) -> TrackInfo:
        """The track a container's configuration record describes (rewritten to 4-byte NAL
        lengths); its parameter sets replace the stored ones. ``width``/``height`` are used
        when no SPS in it parses. Raises ``BitstreamError`` for a truncated record."""
        read = self._read_record(record)
        self._forget()
        size: tuple[int, int] | None = None
        for nal in read.nals:
            kind = self.nal_type(nal)
            if kind is None:
                continue
            try:
                self._store(kind, nal)
            except BitstreamError:
                continue
            if size is None:
                size = self._picture_size()  # the first SPS that parses
        config = bytearray(record)
        self.length_size = (config[read.length_at] & 0x03) + 1
        config[read.length_at] |= 0x03  # samples leave with 4-byte lengths
        width, height = size or (width, height)
        self.track = TrackInfo(self.track_id, "video", self.codec, self.timescale,
                               bytes(config), self._codec_string(record), width, height)
        return self.track

    def access_unit(self, nals: Iterable[Buffer]) -> AccessUnit:
        sample: list[Buffer] = []
        key = False
        changed = False
        errors = 0
        dropped = self.dropped_types
        for nal in nals:
            kind = self.nal_type(nal)
            if kind is None:
                continue  # not even a NAL unit header
            if kind in dropped:
                continue
            try:
                stored = self._store(kind, nal)
            except BitstreamError:
                errors += 1
            else:
                if stored is not None:
                    changed |= stored
                    continue
            if self.is_key(kind):
                key = True
            sample.append(nal)
        return AccessUnit(sample, key, self._rebuild() if changed else None, errors)

    def _rebuild(self) -> TrackInfo | None:
        record = self._record()
        size = self._picture_size()
        if record is None or size is None:
            return None
        config, codec_string = record
        track = TrackInfo(self.track_id, "video", self.codec, self.timescale, config,
                          codec_string, *size)
        if track == self.track:
            return None
        self.track = track
        return track


class FrameNormaliser(ABC):
    """One AV1/VP9 stream's current track."""

    codec: ClassVar[Codec]

    def __init__(self, track_id: int, timescale: int) -> None:
        self.track_id = track_id
        self.timescale = timescale
        self.track: TrackInfo | None = None

    @abstractmethod
    def _read_record(self, record: Buffer) -> tuple[bytes, str, tuple[int, int] | None]:
        """(the record to announce, codec string, picture size if it gives one). Raises
        ``BitstreamError`` for a malformed record."""

    @abstractmethod
    def keyframe_size(self, frame: Buffer) -> tuple[int, int] | None:
        """The picture size a keyframe carries, None if it carries none that parses."""

    def configure(self, record: Buffer, width: int = 0, height: int = 0) -> TrackInfo:
        """The track a configuration record describes; ``width``/``height`` (e.g.
        ``onMetaData``'s) when it gives no size."""
        config, codec_string, size = self._read_record(record)
        width, height = size or (width, height)
        self.track = TrackInfo(self.track_id, "video", self.codec, self.timescale, config,
                               codec_string, width, height)
        return self.track

    def keyframe(self, frame: Buffer) -> TrackInfo | None:
        """A keyframe of the configured track: the completed track if it gave the size the
        track lacked, else None."""
        track = self.track
        if track is None or track.width:
            return None
        size = self.keyframe_size(frame)
        if size is None:
            return None
        self.track = replace(track, width=size[0], height=size[1])
        return self.track
