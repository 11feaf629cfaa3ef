"""Fragmented MP4 (CMAF-style) writer: one init segment, then ``moof``+``mdat`` fragments.

Pure bytes in, bytes out: no I/O, no clock. The LL-HLS packager turns each part into one
fragment (one ``moof`` with a ``traf`` per track, one ``mdat``) and serves the init segment
behind ``EXT-X-MAP``. Layouts follow ``shared/specs/fmp4-mpegts.md`` §3-§5.

Samples arrive normalised (see ``ingest/media.py``): H.264/HEVC video is 4-byte
length-prefixed NAL units with parameter sets in the config record (``hvc1`` wants them
nowhere else), AV1 the OBUs of one temporal unit, VP9 one frame (or superframe) as coded;
audio is raw access units. Timestamps are already in the fMP4 track timescale.

A track that no sample entry can describe raises ``UnsupportedTrack``, with a reason fit
for the publisher; ``packager/support.py`` asks before a track is accepted.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ingest.codecs import aac
from ingest.media import TrackInfo

__all__ = [
    "CmafTrack",
    "Sample",
    "UnsupportedTrack",
    "box",
    "fragment",
    "full_box",
    "init_segment",
    "sample_entry",
]

SYNC_SAMPLE_FLAGS = 0x02000000
"""sample_depends_on = 2 (independent), non-sync bit clear."""
NON_SYNC_SAMPLE_FLAGS = 0x01010000
"""sample_depends_on = 1 (depends on others), sample_is_non_sync_sample = 1."""

_U32_MAX = 0xFFFFFFFF
_I32_MIN = -(1 << 31)
_I32_MAX = (1 << 31) - 1

# tfhd: default-base-is-moof, nothing else: every per-sample value lives in the trun.
_TFHD_FLAGS = 0x020000
# trun: data-offset | sample-duration | sample-size | sample-flags | composition-offset.
_TRUN_FLAGS = 0x000001 | 0x000100 | 0x000200 | 0x000400 | 0x000800

# Fixed sizes, so the moof size (and so every data_offset) is known before packing anything.
_MFHD_SIZE = 16
_TRAF_FIXED_SIZE = 8 + 16 + 20 + 20  # traf header + tfhd + tfdt v1 + trun without samples
_TRUN_ENTRY_SIZE = 16

_MOOF_HEAD = struct.Struct(">I4sI4sII")  # moof header, mfhd
_TRAF_HEAD = struct.Struct(">I4s I4sII I4sIQ I4sIIi")  # traf, tfhd, tfdt v1, trun header
_BOX_HEAD = struct.Struct(">I4s")
_LARGE_BOX_HEAD = struct.Struct(">I4sQ")


@lru_cache(maxsize=512)
def _trun_entries(count: int, signed: bool) -> struct.Struct:
    # Parts hold a handful of distinct sample counts, so one compiled Struct per count packs
    # the whole table in a single C call instead of one pack per sample.
    return struct.Struct(">" + ("IIIi" if signed else "IIII") * count)


class UnsupportedTrack(ValueError):
    """No fMP4 sample entry can describe this track (codec, configuration, size, layout)."""


@dataclass(frozen=True, slots=True)
class Sample:
    """One access unit ready for a ``trun``/``mdat``, timed in its track's fMP4 timescale."""

    dts: int
    """Decode time; the first sample's becomes the ``tfdt``."""
    duration: int
    """Decode-time distance to the next sample (> 0); durations must tile the timeline."""
    cts_offset: int
    """pts - dts; a negative value switches the ``trun`` to version 1 (signed offsets)."""
    keyframe: bool
    data: bytes
    """Video: 4-byte length-prefixed NAL units. Audio: one raw access unit."""

    def __post_init__(self) -> None:
        if not 0 <= self.dts < 1 << 64:
            raise ValueError(f"dts {self.dts} does not fit tfdt (u64)")
        if not 0 < self.duration <= _U32_MAX:
            raise ValueError(f"duration {self.duration} must be in 1..2^32-1")
        if not _I32_MIN <= self.cts_offset <= _I32_MAX:
            raise ValueError(f"cts_offset {self.cts_offset} does not fit a signed 32-bit field")


@dataclass(frozen=True, slots=True)
class CmafTrack:
    """One ``trak`` of the init segment and the ``traf`` that carries its samples."""

    track_id: int
    """1-based fMP4 track_ID (``TrackInfo.track_id`` is 0-based and is not used here)."""
    info: TrackInfo
    """Codec, config record, and width/height or sample rate/channels."""
    timescale: int
    """fMP4 media timescale: typically 90000 for video, the sample rate for audio."""

    def __post_init__(self) -> None:
        if not 1 <= self.track_id <= _U32_MAX - 1:
            raise ValueError(f"track_id {self.track_id} must be in 1..2^32-2")
        if not 0 < self.timescale <= _U32_MAX:
            raise ValueError(f"timescale {self.timescale} must be in 1..2^32-1")


def box(kind: bytes, *payload: bytes) -> bytes:
    """An ISO BMFF box: size, four-character type, payload (largesize form past 4 GiB)."""
    if len(kind) != 4:
        raise ValueError(f"box type must be 4 bytes, got {kind!r}")
    size = 8 + sum(map(len, payload))
    if size > _U32_MAX:
        return b"".join((_LARGE_BOX_HEAD.pack(1, kind, size + 8), *payload))
    return b"".join((_BOX_HEAD.pack(size, kind), *payload))


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    """A box whose payload starts with version (u8) and flags (u24)."""
    if not 0 <= version <= 0xFF or not 0 <= flags <= 0xFFFFFF:
        raise ValueError(f"bad version {version} or flags {flags:#x}")
    return box(kind, struct.pack(">I", version << 24 | flags), *payload)


# --- init segment -------------------------------------------------------------------------

_UNITY_MATRIX = struct.pack(">9i", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
_LANGUAGE_UND = 0x55C4
# Only iso6 compatibility is asked of HLS fMP4. No 'cmfc': a fragment muxing audio and video
# in one moof is not a conformant CMAF track.
_FTYP = box(b"ftyp", b"iso6", struct.pack(">I", 0), b"iso6", b"mp41")
_DINF = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
_EMPTY_TABLES = b"".join((
    full_box(b"stts", 0, 0, struct.pack(">I", 0)),
    full_box(b"stsc", 0, 0, struct.pack(">I", 0)),
    full_box(b"stsz", 0, 0, struct.pack(">II", 0, 0)),
    full_box(b"stco", 0, 0, struct.pack(">I", 0)),
))


def init_segment(tracks: Sequence[CmafTrack]) -> bytes:
    """``ftyp`` + ``moov`` describing ``tracks`` with zero samples and zero durations."""
    if not tracks:
        raise ValueError("an init segment needs at least one track")
    ids = [t.track_id for t in tracks]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate track_ID in {ids}")
    mvhd = full_box(
        b"mvhd", 0, 0,
        struct.pack(">IIIIIH10x", 0, 0, 1000, 0, 0x00010000, 0x0100),
        _UNITY_MATRIX,
        struct.pack(">24xI", max(ids) + 1),
    )
    trex = [full_box(b"trex", 0, 0, struct.pack(">IIIII", t.track_id, 1, 0, 0, 0))
            for t in tracks]
    moov = box(b"moov", mvhd, *(_trak(t) for t in tracks), box(b"mvex", *trex))
    return _FTYP + moov


def _trak(track: CmafTrack) -> bytes:
    info = track.info
    video = info.kind == "video"
    # The sample entry validates sizes and config, so build it before anything packs them.
    stsd = full_box(b"stsd", 0, 0, struct.pack(">I", 1), sample_entry(info))
    tkhd = full_box(
        b"tkhd", 0, 0x000003,  # enabled | in_movie
        struct.pack(">IIIII8xhhH2x", 0, 0, track.track_id, 0, 0, 0, 0, 0 if video else 0x0100),
        _UNITY_MATRIX,
        struct.pack(">II", (info.width << 16) if video else 0, (info.height << 16) if video else 0),
    )
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, track.timescale, 0,
                                               _LANGUAGE_UND, 0))
    handler, name = (b"vide", b"VideoHandler") if video else (b"soun", b"SoundHandler")
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s12x", 0, handler), name, b"\0")
    media_header = (full_box(b"vmhd", 0, 1, bytes(8)) if video
                    else full_box(b"smhd", 0, 0, bytes(4)))
    stbl = box(b"stbl", stsd, _EMPTY_TABLES)
    minf = box(b"minf", media_header, _DINF, stbl)
    return box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, minf))


def sample_entry(info: TrackInfo) -> bytes:
    """The ``stsd`` entry of a track; ``UnsupportedTrack`` when none can describe it."""
    if info.kind == "video":
        if not info.config:
            raise UnsupportedTrack(f"{info.codec} track has no configuration record")
        if info.codec == "h264":
            return _visual_entry(b"avc1", info, box(b"avcC", info.config))
        if info.codec == "hevc":
            return _visual_entry(b"hvc1", info, box(b"hvcC", info.config))
        if info.codec == "av1":
            return _visual_entry(b"av01", info, box(b"av1C", info.config))
        if info.codec == "vp9":
            return _visual_entry(b"vp09", info, _vpcc(info.config))
    elif info.codec == "aac":
        return _audio_entry(b"mp4a", info.channels, info.sample_rate, _esds(info))
    elif info.codec == "opus":
        # Opus in ISOBMFF always runs at 48 kHz, whatever the input rate was.
        return _audio_entry(b"Opus", info.channels, 48000, box(b"dOps", _dops(info)))
    raise UnsupportedTrack(f"no fMP4 sample entry for codec {info.codec!r}")


def _visual_entry(kind: bytes, info: TrackInfo, config_box: bytes) -> bytes:
    if not (0 < info.width <= 0xFFFF and 0 < info.height <= 0xFFFF):
        raise UnsupportedTrack(f"video size {info.width}x{info.height} is unknown or out of "
                               f"range (1..65535)")
    fields = struct.pack(
        ">6xH2x2x12xHHIIIH32xHh",
        1,  # data_reference_index
        info.width, info.height,
        0x00480000, 0x00480000,  # 72 dpi
        0,  # reserved
        1,  # frame_count
        0x0018,  # depth
        -1,  # pre_defined
    )
    return box(kind, fields, config_box)


def _vpcc(record: bytes) -> bytes:
    """The ``vpcC`` box (VP Codec ISO Media File Format Binding: FullBox version 1) around
    a VPCodecConfigurationRecord: profile, level, bitDepth(4) chromaSubsampling(3)
    videoFullRangeFlag(1), colour primaries, transfer, matrix, then the size of codec
    initialization data, which VP9 does not use (written as 0)."""
    if len(record) < 8:
        raise UnsupportedTrack(f"VPCodecConfigurationRecord of {len(record)} bytes is "
                               f"truncated (8 at least)")
    profile, bit_depth, chroma = record[0], record[2] >> 4, (record[2] >> 1) & 0x07
    if profile > 3 or bit_depth not in (8, 10, 12) or chroma > 3:
        raise UnsupportedTrack(f"VPCodecConfigurationRecord is invalid: profile {profile}, "
                               f"bit depth {bit_depth}, chroma subsampling {chroma}")
    return full_box(b"vpcC", 1, 0, record[:6], b"\0\0")


def _audio_entry(kind: bytes, channels: int, sample_rate: int, config_box: bytes) -> bytes:
    if not 0 < channels <= 0xFFFF:
        raise UnsupportedTrack(f"channel count {channels} is unknown or out of range")
    # The 16.16 field cannot hold rates above 65535; decoders take the rate from the config.
    rate_field = sample_rate << 16 if 0 < sample_rate <= 0xFFFF else 0
    fields = struct.pack(">6xH8xHHHHI", 1, channels, 16, 0, 0, rate_field)
    return box(kind, fields, config_box)


def _descriptor(tag: int, *body: bytes) -> bytes:
    size = sum(map(len, body))
    # Expandable size: 7 bits per byte, high bit set on all but the last.
    size_bytes = [size & 0x7F]
    size >>= 7
    while size:
        size_bytes.append(0x80 | (size & 0x7F))
        size >>= 7
    return b"".join((bytes((tag, *reversed(size_bytes))), *body))


def _esds(info: TrackInfo) -> bytes:
    asc = info.config or _default_asc(info)
    decoder_config = _descriptor(
        0x04,
        # MPEG-4 Audio; streamType 5 (audio) << 2 | reserved 1; bufferSizeDB, max/avg bitrate.
        struct.pack(">BB3sII", 0x40, 0x15, bytes(3), 0, 0),
        _descriptor(0x05, asc),
    )
    es = _descriptor(0x03, struct.pack(">HB", 0, 0), decoder_config, _descriptor(0x06, b"\x02"))
    return full_box(b"esds", 0, 0, es)


def _default_asc(info: TrackInfo) -> bytes:
    # An AAC-LC AudioSpecificConfig from what the track announces, for ingests that give none.
    if info.sample_rate not in aac.SAMPLE_RATES or not 1 <= info.channels <= 7:
        raise UnsupportedTrack(
            f"aac track has no AudioSpecificConfig and {info.sample_rate} Hz x "
            f"{info.channels} ch cannot be described by a 2-byte one"
        )
    return aac.audio_specific_config(aac.AOT_LC, aac.SAMPLE_RATES.index(info.sample_rate),
                                     info.channels)


def _dops(info: TrackInfo) -> bytes:
    """OpusSpecificBox payload: from an OpusHead (little-endian) if given, else defaults."""
    head = info.config
    if head.startswith(b"OpusHead"):
        if len(head) < 19:
            raise UnsupportedTrack("OpusHead shorter than 19 bytes")
        channels, pre_skip, rate, gain, family = struct.unpack_from("<BHIhB", head, 9)
        fields = struct.pack(">BBHIhB", 0, channels, pre_skip, rate, gain, family)
        if family == 0:
            return fields
        table = head[19:21 + channels]  # stream count, coupled count, channel mapping
        if len(table) != 2 + channels:
            raise UnsupportedTrack("OpusHead channel mapping table is truncated")
        return fields + table
    if head:
        return head  # already a dOps payload
    if not 1 <= info.channels <= 2:
        raise UnsupportedTrack(
            "opus with more than 2 channels needs its OpusHead mapping table")
    return struct.pack(">BBHIhB", 0, info.channels, 0, info.sample_rate or 48000, 0, 0)


# --- fragments ----------------------------------------------------------------------------


def fragment(sequence_number: int, parts: Sequence[tuple[CmafTrack, Sequence[Sample]]]) -> bytes:
    """One ``moof`` (a ``traf`` per track that has samples, in order) and its ``mdat``.

    Offsets are default-base-is-moof relative, so the bytes can be served, concatenated into
    a segment or cached without patching.
    """
    if not 1 <= sequence_number <= _U32_MAX:
        raise ValueError(f"sequence_number {sequence_number} must be in 1..2^32-1")
    present = [(track, samples) for track, samples in parts if samples]
    if not present:
        raise ValueError("a fragment needs at least one sample")

    # Every size is known up front, so data offsets are computed instead of patched.
    moof_size = 8 + _MFHD_SIZE + sum(
        _TRAF_FIXED_SIZE + _TRUN_ENTRY_SIZE * len(samples) for _, samples in present
    )
    head = [_MOOF_HEAD.pack(moof_size, b"moof", _MFHD_SIZE, b"mfhd", 0, sequence_number)]
    payload: list[bytes] = []
    data_size = sum(len(s.data) for _, samples in present for s in samples)
    mdat_head = _mdat_header(data_size)
    data_offset = moof_size + len(mdat_head)
    for track, samples in present:
        sync_flags = SYNC_SAMPLE_FLAGS
        other_flags = NON_SYNC_SAMPLE_FLAGS if track.info.kind == "video" else SYNC_SAMPLE_FLAGS
        table: list[int] = []
        add = table.extend
        for s in samples:
            add((s.duration, len(s.data), sync_flags if s.keyframe else other_flags,
                 s.cts_offset))
            payload.append(s.data)
        signed = min(table[3::4]) < 0
        count = len(samples)
        trun_size = 20 + _TRUN_ENTRY_SIZE * count
        if data_offset > _I32_MAX:
            raise ValueError("fragment too large for a 32-bit trun data_offset")
        head.append(_TRAF_HEAD.pack(
            _TRAF_FIXED_SIZE - 20 + trun_size, b"traf",
            16, b"tfhd", _TFHD_FLAGS, track.track_id,
            20, b"tfdt", 0x01000000, samples[0].dts,
            trun_size, b"trun", (1 if signed else 0) << 24 | _TRUN_FLAGS, count, data_offset,
        ))
        head.append(_trun_entries(count, signed).pack(*table))
        data_offset += sum(table[1::4])
    head.append(mdat_head)
    head.extend(payload)
    return b"".join(head)


def _mdat_header(data_size: int) -> bytes:
    if data_size + 8 > _U32_MAX:
        return _LARGE_BOX_HEAD.pack(1, b"mdat", data_size + 16)
    return _BOX_HEAD.pack(data_size + 8, b"mdat")
