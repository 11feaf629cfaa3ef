"""From recorded fMP4 (init sections, ``moof``+``mdat`` fragments) to one progressive
("faststart") MP4: ``ftyp`` + ``moov`` with full sample tables + one ``mdat``, without
re-encoding and without holding the media: the result is a *plan*, the output as pieces
(header bytes, then byte ranges of the fragment files' ``mdat`` payloads) that a server
streams by reading each range when it gets there.

Pure: no I/O, no clock. Fragment files are scanned through a ``read(offset, length)``
callable so that only box headers and ``moof`` boxes are ever read (``index_fragments``).

Each fragment's samples of one track (one ``trun``) become one chunk. Chunks are laid out
in decode-time order across tracks (the chunks of one ``moof`` stay together, in file
order, so a rendition with audio muxed in copies as one range per fragment). Several init
sections of one track (the picture size changed mid-recording) become several sample
entries in ``stsd``, picked per chunk by ``stsc``'s sample_description_index: the MP4
way to say it, which ffmpeg follows. Chromium does not (it keeps the first entry's
``avcC``), so the sync samples under a later H.264 entry also carry its SPS and PPS in
band (header pieces of the plan between the ranges), which any H.264 decoder follows.

Anything malformed raises ``Mp4Error``, and nothing else.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from packager.cmaf import box, full_box

__all__ = [
    "Chunk",
    "FileRange",
    "InitSection",
    "InitTrack",
    "Mp4Error",
    "Plan",
    "TrackRun",
    "index_fragments",
    "parse_init",
    "parse_moof",
    "progressive_mp4",
]

_U32_MAX = 0xFFFFFFFF
MOVIE_TIMESCALE = 1000
_NON_SYNC = 0x00010000
"""sample_is_non_sync_sample in sample flags."""

Read = Callable[[int, int], bytes]
"""``read(offset, length)``: that many bytes of a file from ``offset``, fewer at its end."""


class Mp4Error(ValueError):
    """An init section or fragment that cannot be read (malformed, truncated, unsupported)."""


# --- reading boxes ------------------------------------------------------------------------


class _Cursor:
    """Big-endian fields from a slice of a buffer; running past its end is an Mp4Error."""

    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.end:
            raise Mp4Error(f"truncated: wanted {n} bytes at {self.pos}, box ends at {self.end}")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: struct.Struct) -> tuple[int, ...]:
        values: tuple[int, ...] = fmt.unpack(self.take(fmt.size))
        return values

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def u64(self) -> int:
        return int.from_bytes(self.take(8), "big")

    def i32(self) -> int:
        return int.from_bytes(self.take(4), "big", signed=True)

    def full_header(self) -> tuple[int, int]:
        word = self.u32()
        return word >> 24, word & 0xFFFFFF

    @property
    def left(self) -> int:
        return self.end - self.pos


def _box_header(head: bytes, available: int) -> tuple[bytes, int, int]:
    """(type, header size, box size) of the box whose first bytes are ``head``, within
    ``available`` bytes (size 0: to the end of them)."""
    if len(head) < 8:
        raise Mp4Error("truncated box header")
    size = int.from_bytes(head[:4], "big")
    kind = bytes(head[4:8])
    header = 8
    if size == 1:
        if len(head) < 16:
            raise Mp4Error(f"truncated 64-bit size of box {kind!r}")
        size = int.from_bytes(head[8:16], "big")
        header = 16
    elif size == 0:
        size = available
    if size < header or size > available:
        raise Mp4Error(f"box {kind!r} of {size} bytes does not fit in {available}")
    return kind, header, size


def _children(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of each box in ``data[start:end]``."""
    pos = start
    while pos < end:
        kind, header, size = _box_header(data[pos:pos + 16], end - pos)
        yield kind, pos + header, pos + size
        pos += size


def _child(data: bytes, start: int, end: int, kind: bytes) -> tuple[int, int]:
    for found, payload, box_end in _children(data, start, end):
        if found == kind:
            return payload, box_end
    raise Mp4Error(f"no {kind.decode(errors='replace')!r} box")


# --- init sections ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InitTrack:
    """One ``trak`` of an init section: what a progressive ``trak`` copies from it."""

    track_id: int
    handler: bytes
    """``vide`` or ``soun`` (others are copied as they are)."""
    timescale: int
    language: int
    """mdhd's packed ISO-639-2 code."""
    width: int
    height: int
    """tkhd's presentation size, whole pixels."""
    hdlr: bytes
    media_header: bytes
    """The ``vmhd``/``smhd``/``nmhd`` box, whole."""
    entries: tuple[bytes, ...]
    """Each ``stsd`` sample entry, whole, as it is."""
    default_description: int = 1
    default_duration: int = 0
    default_size: int = 0
    default_flags: int = 0
    """``trex`` defaults for fragments that leave a field out."""

    @property
    def video(self) -> bool:
        return self.handler == b"vide"


@dataclass(frozen=True, slots=True)
class InitSection:
    tracks: tuple[InitTrack, ...]

    def track(self, track_id: int) -> InitTrack:
        for track in self.tracks:
            if track.track_id == track_id:
                return track
        raise Mp4Error(f"fragment names track {track_id}, which the init section lacks")


def parse_init(data: bytes) -> InitSection:
    """The tracks of an init section (``ftyp`` + ``moov``)."""
    data = bytes(data)
    moov_start, moov_end = _child(data, 0, len(data), b"moov")
    defaults: dict[int, tuple[int, int, int, int]] = {}
    traks: list[tuple[int, int]] = []
    for kind, payload, end in _children(data, moov_start, moov_end):
        if kind == b"trak":
            traks.append((payload, end))
        elif kind == b"mvex":
            for sub, sub_payload, sub_end in _children(data, payload, end):
                if sub == b"trex":
                    cursor = _Cursor(data, sub_payload, sub_end)
                    cursor.full_header()
                    track_id, *values = (cursor.u32() for _ in range(5))
                    defaults[track_id] = (values[0], values[1], values[2], values[3])
    if not traks:
        raise Mp4Error("init section has no trak")
    tracks = [_trak(data, start, end, defaults) for start, end in traks]
    if len({t.track_id for t in tracks}) != len(tracks):
        raise Mp4Error("init section repeats a track_ID")
    return InitSection(tuple(tracks))


def _trak(data: bytes, start: int, end: int,
          defaults: dict[int, tuple[int, int, int, int]]) -> InitTrack:
    tkhd = _Cursor(data, *_child(data, start, end, b"tkhd"))
    version, _ = tkhd.full_header()
    tkhd.take(16 if version == 1 else 8)  # creation, modification times
    track_id = tkhd.u32()
    tkhd.take(4 + (8 if version == 1 else 4) + 8 + 2 + 2 + 2 + 2 + 36)
    width, height = tkhd.u32() >> 16, tkhd.u32() >> 16
    mdia = _child(data, start, end, b"mdia")
    mdhd = _Cursor(data, *_child(data, *mdia, b"mdhd"))
    version, _ = mdhd.full_header()
    mdhd.take(16 if version == 1 else 8)
    timescale = mdhd.u32()
    mdhd.take(8 if version == 1 else 4)
    language = mdhd.u16() & 0x7FFF
    hdlr_start, hdlr_end = _child(data, *mdia, b"hdlr")
    hdlr = _Cursor(data, hdlr_start, hdlr_end)
    hdlr.take(8)  # version/flags, pre_defined
    handler = hdlr.take(4)
    minf = _child(data, *mdia, b"minf")
    media_header = b""
    for kind, payload, box_end in _children(data, *minf):
        if kind in (b"vmhd", b"smhd", b"nmhd", b"sthd"):
            media_header = data[payload - 8:box_end]
    stbl = _child(data, *minf, b"stbl")
    stsd_start, stsd_end = _child(data, *stbl, b"stsd")
    stsd = _Cursor(data, stsd_start, stsd_end)
    stsd.full_header()
    count = stsd.u32()
    entries = []
    for _ in range(count):
        _, _, size = _box_header(data[stsd.pos:stsd.pos + 16], stsd.left)
        entries.append(stsd.take(size))
    if not entries:
        raise Mp4Error(f"track {track_id} has no sample entry")
    if track_id == 0 or timescale == 0:
        raise Mp4Error(f"track {track_id} with timescale {timescale} is not usable")
    trex = defaults.get(track_id, (1, 0, 0, 0))
    return InitTrack(track_id, handler, timescale, language, width, height,
                     data[hdlr_start - 8:hdlr_end], media_header, tuple(entries), *trex)


# --- fragments ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrackRun:
    """One ``trun`` of a fragment: its samples, and where their bytes are in the file."""

    track_id: int
    description: int
    """1-based index into the init track's sample entries."""
    base_dts: int
    durations: tuple[int, ...]
    sizes: tuple[int, ...]
    sync: tuple[bool, ...]
    cts: tuple[int, ...]
    """pts - dts per sample (may be negative)."""
    offset: int
    """File offset of the first sample's bytes (the rest follow, back to back)."""
    moof_offset: int

    @property
    def length(self) -> int:
        return sum(self.sizes)

    @property
    def duration(self) -> int:
        return sum(self.durations)


def parse_moof(moof: bytes, moof_offset: int, init: InitSection) -> list[TrackRun]:
    """The runs of one ``moof`` box (``moof`` given whole, found at ``moof_offset`` of its
    file): data offsets come out as file offsets."""
    moof = bytes(moof)
    kind, header, size = _box_header(moof[:16], len(moof))
    if kind != b"moof" or size != len(moof):
        raise Mp4Error(f"not one moof box: {kind!r}")
    runs: list[TrackRun] = []
    next_base = moof_offset
    for kind, payload, end in _children(moof, header, size):
        if kind == b"traf":
            traf_runs = _traf(moof, payload, end, moof_offset, next_base, init)
            runs.extend(traf_runs)
            if traf_runs:
                next_base = traf_runs[-1].offset + traf_runs[-1].length
    return runs


def _traf(data: bytes, start: int, end: int, moof_offset: int, implicit_base: int,
          init: InitSection) -> list[TrackRun]:
    tfhd = _Cursor(data, *_child(data, start, end, b"tfhd"))
    _, flags = tfhd.full_header()
    track = init.track(tfhd.u32())
    base = tfhd.u64() if flags & 0x01 else (moof_offset if flags & 0x020000 else implicit_base)
    description = tfhd.u32() if flags & 0x02 else track.default_description
    duration = tfhd.u32() if flags & 0x08 else track.default_duration
    size = tfhd.u32() if flags & 0x10 else track.default_size
    sample_flags = tfhd.u32() if flags & 0x20 else track.default_flags
    if not 1 <= description <= len(track.entries):
        raise Mp4Error(f"sample description {description} of track {track.track_id} does "
                       f"not exist")
    tfdt = _Cursor(data, *_child(data, start, end, b"tfdt"))
    version, _ = tfdt.full_header()
    dts = tfdt.u64() if version == 1 else tfdt.u32()
    runs: list[TrackRun] = []
    position = base
    for kind, payload, box_end in _children(data, start, end):
        if kind != b"trun":
            continue
        run = _trun(_Cursor(data, payload, box_end), track.track_id, description, dts,
                    base, position, moof_offset, (duration, size, sample_flags))
        if run is None:
            continue
        runs.append(run)
        dts += run.duration
        position = run.offset + run.length
    return runs


def _trun(trun: _Cursor, track_id: int, description: int, dts: int, base: int,
          position: int, moof_offset: int, defaults: tuple[int, int, int]) -> TrackRun | None:
    version, flags = trun.full_header()
    count = trun.u32()
    offset = base + trun.i32() if flags & 0x01 else position
    first_flags = trun.u32() if flags & 0x04 else None
    fields = [bool(flags & bit) for bit in (0x100, 0x200, 0x400, 0x800)]
    if count * 4 * sum(fields) > trun.left:
        raise Mp4Error(f"trun of {count} samples does not fit its box")
    if count == 0:
        return None
    durations: list[int] = []
    sizes: list[int] = []
    sync: list[bool] = []
    cts: list[int] = []
    default_duration, default_size, default_flags = defaults
    for n in range(count):
        durations.append(trun.u32() if fields[0] else default_duration)
        sizes.append(trun.u32() if fields[1] else default_size)
        sample_flags = trun.u32() if fields[2] else (
            first_flags if n == 0 and first_flags is not None else default_flags)
        sync.append(not sample_flags & _NON_SYNC)
        if fields[3]:
            cts.append(trun.i32() if version else trun.u32())
        else:
            cts.append(0)
    if offset < 0:
        raise Mp4Error(f"trun of track {track_id} points before its file")
    return TrackRun(track_id, description, dts, tuple(durations), tuple(sizes), tuple(sync),
                    tuple(cts), offset, moof_offset)


def index_fragments(read: Read, size: int, init: InitSection) -> list[TrackRun]:
    """Every run of a fragment file of ``size`` bytes, reading only box headers and the
    ``moof`` boxes; each run's bytes must lie inside one ``mdat`` payload of the file."""
    runs: list[TrackRun] = []
    payloads: list[tuple[int, int]] = []
    pos = 0
    while pos < size:
        kind, header, box_size = _box_header(read(pos, 16), size - pos)
        if kind == b"moof":
            if box_size > 64 << 20:
                raise Mp4Error(f"moof of {box_size} bytes is not a fragment header")
            moof = read(pos, box_size)
            if len(moof) != box_size:
                raise Mp4Error("moof truncated by the end of the file")
            runs.extend(parse_moof(moof, pos, init))
        elif kind == b"mdat":
            payloads.append((pos + header, pos + box_size))
        pos += box_size
    starts = [start for start, _ in payloads]
    for run in runs:
        at = bisect.bisect_right(starts, run.offset) - 1
        if at < 0 or run.offset + run.length > payloads[at][1]:
            raise Mp4Error(f"samples of track {run.track_id} at {run.offset} "
                           f"(+{run.length}) lie outside every mdat")
    return runs


# --- the progressive file -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Chunk:
    """One run of an input file, as a chunk of an output track."""

    source: int
    """The caller's index of the file it is in."""
    track: InitTrack
    """The init track describing it (from the init section that file needs)."""
    run: TrackRun


@dataclass(frozen=True, slots=True)
class FileRange:
    source: int
    offset: int
    length: int


Piece = bytes | FileRange


@dataclass(frozen=True, slots=True)
class Plan:
    """The output file: ``pieces`` back to back make ``size`` bytes."""

    pieces: tuple[Piece, ...]
    size: int
    duration: float
    """Seconds (mvhd's)."""
    _starts: tuple[int, ...] = field(repr=False, default=())

    def slice(self, start: int, stop: int) -> list[Piece]:
        """The pieces covering bytes ``start`` up to ``stop`` (exclusive), clipped."""
        if not 0 <= start <= stop <= self.size:
            raise ValueError(f"range {start}-{stop} outside 0-{self.size}")
        out: list[Piece] = []
        at = max(bisect.bisect_right(self._starts, start) - 1, 0)
        while at < len(self.pieces) and self._starts[at] < stop:
            piece, piece_start = self.pieces[at], self._starts[at]
            lo, hi = max(start - piece_start, 0), min(stop - piece_start, _length(piece))
            if hi > lo:
                if isinstance(piece, bytes):
                    out.append(piece[lo:hi])
                else:
                    out.append(FileRange(piece.source, piece.offset + lo, hi - lo))
            at += 1
        return out


def _length(piece: Piece) -> int:
    return len(piece) if isinstance(piece, bytes) else piece.length


@dataclass(slots=True)
class _Track:
    """One output track's sample tables, in its media timescale, decode time from 0."""

    track_id: int
    template: InitTrack
    chunks: list[Chunk]
    entries: list[bytes] = field(default_factory=list)
    durations: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    cts: list[int] = field(default_factory=list)
    sync: list[int] = field(default_factory=list)
    chunk_samples: list[tuple[int, int]] = field(default_factory=list)
    """(sample count, 1-based sample description index) per chunk."""
    prefixes: list[bytes] = field(default_factory=list)
    """Per chunk, what goes before each of its sync samples (see ``_in_band``)."""
    first_dts: int = 0
    media_time: int = 0
    """Composition time of the first picture shown (the edit list starts there)."""
    span: int = 0
    """Presentation span, media timescale."""

    def start_seconds(self) -> float:
        return (self.first_dts + self.media_time) / self.template.timescale


def _tables(track_id: int, chunks: Sequence[Chunk]) -> _Track:
    if not chunks:
        raise Mp4Error("a track needs at least one chunk")
    first = chunks[0].track
    track = _Track(track_id, first, list(chunks), first_dts=chunks[0].run.base_dts)
    expected = track.first_dts
    for chunk in chunks:
        if chunk.track.timescale != first.timescale or chunk.track.handler != first.handler:
            raise Mp4Error(f"track {track_id} changes timescale or kind mid-recording")
        run = chunk.run
        if run.base_dts != expected and track.durations:
            # A hole (segments left out) lengthens the sample before it; a small overlap
            # shortens it: the decode timeline must tile.
            stretched = track.durations[-1] + run.base_dts - expected
            if stretched < 1:
                raise Mp4Error(f"track {track_id} goes back in time at dts {run.base_dts}")
            track.durations[-1] = stretched
        entry = chunk.track.entries[run.description - 1]
        if entry not in track.entries:
            track.entries.append(entry)
        index = track.entries.index(entry) + 1
        track.chunk_samples.append((len(run.sizes), index))
        prefix = _in_band(entry) if index > 1 else b""
        track.prefixes.append(prefix)
        base = len(track.sizes)
        track.durations.extend(run.durations)
        track.sizes.extend(size + len(prefix) if sync else size
                           for size, sync in zip(run.sizes, run.sync, strict=True))
        track.cts.extend(run.cts)
        track.sync.extend(base + n + 1 for n, s in enumerate(run.sync) if s)
        expected = run.base_dts + run.duration
    if track.durations[-1] == 0:
        track.durations[-1] = track.durations[-2] if len(track.durations) > 1 else 1
    dts = 0
    first_pts, last_end = None, 0
    for duration, offset in zip(track.durations, track.cts, strict=True):
        pts = dts + offset
        first_pts = pts if first_pts is None else min(first_pts, pts)
        last_end = max(last_end, pts + duration)
        dts += duration
    track.media_time = max(first_pts or 0, 0)
    track.span = last_end - track.media_time
    return track


def progressive_mp4(tracks: Sequence[Sequence[Chunk]], *,
                    large_offsets: bool | None = None) -> Plan:
    """The plan of one MP4 with a track per sequence of chunks (each in decode order).

    ``large_offsets``: chunk offsets as ``co64`` (True), ``stco`` (False), or whichever
    the file needs (None)."""
    if not tracks:
        raise Mp4Error("nothing to put in an MP4")
    built = [_tables(n + 1, chunks) for n, chunks in enumerate(tracks)]
    start = min(t.start_seconds() for t in built)
    order = _layout(built)
    payload = sum(_chunk_length(chunk, prefix) for _, chunk, prefix in order)
    mdat_head = (struct.pack(">I4sQ", 1, b"mdat", payload + 16) if payload + 8 > _U32_MAX
                 else struct.pack(">I4s", payload + 8, b"mdat"))
    ftyp = box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso2", b"mp41")
    probe = _moov(built, start, {}, large_offsets or False)
    wide = large_offsets
    if wide is None:
        wide = len(ftyp) + len(probe) + len(mdat_head) + payload > _U32_MAX
    sizes = len(ftyp) + len(_moov(built, start, {}, wide)) + len(mdat_head)
    offsets: dict[int, list[int]] = {t.track_id: [] for t in built}
    pieces: list[Piece] = []
    position = sizes
    for track_id, chunk, prefix in order:
        offsets[track_id].append(position)
        for piece in _chunk_pieces(chunk, prefix):
            last = pieces[-1] if pieces else None
            if (isinstance(piece, FileRange) and isinstance(last, FileRange)
                    and last.source == piece.source
                    and last.offset + last.length == piece.offset):
                pieces[-1] = FileRange(last.source, last.offset, last.length + piece.length)
            else:
                pieces.append(piece)
            position += _length(piece)
    header = ftyp + _moov(built, start, offsets, wide) + mdat_head
    if len(header) != sizes:
        raise AssertionError("moov size moved with its offsets")
    all_pieces: tuple[Piece, ...] = (header, *pieces)
    starts, at = [], 0
    for piece in all_pieces:
        starts.append(at)
        at += _length(piece)
    return Plan(all_pieces, at, _movie_duration(built, start) / MOVIE_TIMESCALE, tuple(starts))


def _layout(tracks: Sequence[_Track]) -> list[tuple[int, Chunk, bytes]]:
    """Every chunk (with its prefix) in mdat order: fragments by decode time, a fragment's
    chunks in file order (so a muxed fragment's audio and video stay one range)."""
    groups: dict[tuple[int, int], list[tuple[int, Chunk, bytes]]] = {}
    for track in tracks:
        for chunk, prefix in zip(track.chunks, track.prefixes, strict=True):
            groups.setdefault((chunk.source, chunk.run.moof_offset), []).append(
                (track.track_id, chunk, prefix))

    def when(group: list[tuple[int, Chunk, bytes]]) -> float:
        return min(c.run.base_dts / c.track.timescale for _, c, _ in group)

    ordered: list[tuple[int, Chunk, bytes]] = []
    for group in sorted(groups.values(), key=when):
        ordered.extend(sorted(group, key=lambda item: item[1].run.offset))
    return ordered


def _chunk_length(chunk: Chunk, prefix: bytes) -> int:
    return chunk.run.length + len(prefix) * (sum(chunk.run.sync) if prefix else 0)


def _chunk_pieces(chunk: Chunk, prefix: bytes) -> list[Piece]:
    """The chunk's bytes: its range of the file, split where a prefix goes in."""
    run = chunk.run
    if not prefix:
        return [FileRange(chunk.source, run.offset, run.length)]
    pieces: list[Piece] = []
    start = position = run.offset
    for size, sync in zip(run.sizes, run.sync, strict=True):
        if sync:
            if position > start:
                pieces.append(FileRange(chunk.source, start, position - start))
            pieces.append(prefix)
            start = position
        position += size
    if position > start:
        pieces.append(FileRange(chunk.source, start, position - start))
    return pieces


def _in_band(entry: bytes) -> bytes:
    """An H.264 sample entry's parameter sets as NAL units of its samples, or nothing.

    A picture-size change adds a sample entry, and ffmpeg follows ``stsc`` to it, but
    Chromium decodes every sample with the first entry's ``avcC``: the sync samples under
    a later entry carry its SPS and PPS in band as well, which every H.264 decoder takes
    (14496-15 allows repeating them in 'avc1' samples)."""
    if entry[4:8] not in (b"avc1", b"avc3"):
        return b""
    try:
        payload, end = _child(entry, 8 + 78, len(entry), b"avcC")
    except Mp4Error:
        return b""
    record = _Cursor(entry, payload, end)
    record.take(4)
    length_size = (record.u8() & 0x03) + 1
    units = []
    for count in (record.u8() & 0x1F, None):
        for _ in range(record.u8() if count is None else count):
            units.append(record.take(record.u16()))
    return b"".join(len(unit).to_bytes(length_size, "big") + unit for unit in units)


def _to_movie(value: int, timescale: int) -> int:
    return round(value * MOVIE_TIMESCALE / timescale)


def _movie_duration(tracks: Sequence[_Track], start: float) -> int:
    return max(round((t.start_seconds() - start) * MOVIE_TIMESCALE)
               + _to_movie(t.span, t.template.timescale) for t in tracks)


_MATRIX = struct.pack(">9i", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)


def _moov(tracks: Sequence[_Track], start: float, offsets: dict[int, list[int]],
          wide: bool) -> bytes:
    duration = _movie_duration(tracks, start)
    v1 = duration > _U32_MAX
    times = struct.pack(">QQIQ" if v1 else ">IIII", 0, 0, MOVIE_TIMESCALE, duration)
    mvhd = full_box(b"mvhd", int(v1), 0, times, struct.pack(">IH10x", 0x00010000, 0x0100),
                     _MATRIX, struct.pack(">24xI", len(tracks) + 1))
    return box(b"moov", mvhd, *(_trak_box(t, start, offsets.get(t.track_id, []), wide)
                                 for t in tracks))


def _trak_box(track: _Track, start: float, offsets: list[int], wide: bool) -> bytes:
    template = track.template
    timescale = template.timescale
    media_duration = sum(track.durations)
    empty = round((track.start_seconds() - start) * MOVIE_TIMESCALE)
    presented = _to_movie(track.span, timescale)
    total = empty + presented
    v1 = max(total, media_duration, track.media_time) > _U32_MAX
    tk_times = struct.pack(">QQI4xQ" if v1 else ">III4xI", 0, 0, track.track_id, total)
    width = max(t.track.width for t in track.chunks)
    height = max(t.track.height for t in track.chunks)
    tkhd = full_box(b"tkhd", int(v1), 0x000003, tk_times,
                     struct.pack(">8xhhH2x", 0, 0, 0 if template.video else 0x0100),
                     _MATRIX, struct.pack(">II", width << 16, height << 16))
    edits = []
    if empty > 0:
        edits.append((empty, -1))
    edits.append((presented, track.media_time))
    wide_edits = v1 or any(e[0] > _U32_MAX or e[1] > 0x7FFFFFFF for e in edits)
    entry = struct.Struct(">QqHH" if wide_edits else ">IiHH")
    elst = full_box(b"elst", int(wide_edits), 0, struct.pack(">I", len(edits)),
                     *(entry.pack(d, t, 1, 0) for d, t in edits))
    md_times = struct.pack(">QQIQ" if v1 else ">IIII", 0, 0, timescale, media_duration)
    mdhd = full_box(b"mdhd", int(v1), 0, md_times, struct.pack(">HH", template.language, 0))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1),
                                   full_box(b"url ", 0, 1)))
    stbl = box(b"stbl", full_box(b"stsd", 0, 0, struct.pack(">I", len(track.entries)),
                                   *track.entries),
                *_sample_tables(track, offsets, wide))
    minf = box(b"minf", template.media_header, dinf, stbl)
    return box(b"trak", tkhd, box(b"edts", elst),
                box(b"mdia", mdhd, template.hdlr, minf))


def _runs(values: Sequence[int]) -> list[tuple[int, int]]:
    """(count, value) for each run of equal values."""
    out: list[tuple[int, int]] = []
    for value in values:
        if out and out[-1][1] == value:
            out[-1] = (out[-1][0] + 1, value)
        else:
            out.append((1, value))
    return out


def _sample_tables(track: _Track, offsets: list[int], wide: bool) -> list[bytes]:
    count = len(track.sizes)
    stts_runs = _runs(track.durations)
    tables = [full_box(b"stts", 0, 0, struct.pack(">I", len(stts_runs)),
                        struct.pack(f">{2 * len(stts_runs)}I",
                                    *(v for run in stts_runs for v in run)))]
    if any(track.cts):
        ctts_runs = _runs(track.cts)
        signed = min(track.cts) < 0
        tables.append(full_box(b"ctts", int(signed), 0, struct.pack(">I", len(ctts_runs)),
                                struct.pack(">" + ("Ii" if signed else "II") * len(ctts_runs),
                                            *(v for run in ctts_runs for v in run))))
    if track.template.video and len(track.sync) < count:
        tables.append(full_box(b"stss", 0, 0, struct.pack(f">I{len(track.sync)}I",
                                                           len(track.sync), *track.sync)))
    stsc: list[tuple[int, int, int]] = []
    for number, (samples, description) in enumerate(track.chunk_samples, 1):
        if not stsc or stsc[-1][1:] != (samples, description):
            stsc.append((number, samples, description))
    tables.append(full_box(b"stsc", 0, 0, struct.pack(">I", len(stsc)),
                            *(struct.pack(">III", *e) for e in stsc)))
    uniform = len(set(track.sizes)) == 1
    tables.append(full_box(b"stsz", 0, 0, struct.pack(">II", track.sizes[0] if uniform else 0,
                                                       count),
                            b"" if uniform else struct.pack(f">{count}I", *track.sizes)))
    chunks = offsets or [0] * len(track.chunk_samples)
    if wide:
        tables.append(full_box(b"co64", 0, 0, struct.pack(f">I{len(chunks)}Q",
                                                           len(chunks), *chunks)))
    else:
        tables.append(full_box(b"stco", 0, 0, struct.pack(f">I{len(chunks)}I",
                                                           len(chunks), *chunks)))
    return tables
