"""fMP4 writer: structure checked by our own box walker, media checked by real readers.

Real encoders (libx264, libx265, libsvtav1, aac, libopus through PyAV) produce the samples;
PyAV's demuxer and decoders, and ffprobe, read our file back and must see every packet with
the exact timestamps and keyframe flags we wrote.
"""

from __future__ import annotations

import array
import json
import math
import struct
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.codecs.hevc import hevc_config
from ingest.media import TrackInfo
from packager.cmaf import CmafTrack, Sample, box, fragment, full_box, init_segment
from tests.peers_testing import require_tool

av: Any = pytest.importorskip("av")

FPS = 30
FRAMES = 60  # two GOPs
VIDEO_TS = 90000
FRAME_TICKS = VIDEO_TS // FPS
FRAMES_PER_FRAGMENT = 10
AUDIO_RATE = 48000

# --- a tiny box walker ---------------------------------------------------------------------

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"dinf", b"stbl", b"mvex", b"moof", b"traf",
              b"edts"}
# Boxes whose children start after a fixed header: stsd/dref entry count, sample entries.
SKIP = {b"stsd": 8, b"dref": 8, b"avc1": 78, b"hvc1": 78, b"av01": 78, b"mp4a": 28,
        b"Opus": 28}


@dataclass
class Box:
    kind: bytes
    start: int
    body: int  # first payload byte
    end: int
    children: list[Box] = field(default_factory=list)

    def payload(self, data: bytes) -> bytes:
        return data[self.body:self.end]

    def find(self, *path: bytes) -> list[Box]:
        found = [self]
        for kind in path:
            found = [c for b in found for c in b.children if c.kind == kind]
        return found

    def one(self, *path: bytes) -> Box:
        found = self.find(*path)
        assert len(found) == 1, (path, found)
        return found[0]


def walk(data: bytes, start: int = 0, end: int | None = None) -> list[Box]:
    end = len(data) if end is None else end
    boxes = []
    pos = start
    while pos < end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        body = pos + 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", data, body)
            body += 8
        assert size >= body - pos and pos + size <= end, (kind, size)
        b = Box(kind, pos, body, pos + size)
        if kind in CONTAINERS:
            b.children = walk(data, body, b.end)
        elif kind in SKIP:
            b.children = walk(data, body + SKIP[kind], b.end)
        boxes.append(b)
        pos += size
    assert pos == end
    return boxes


def root(data: bytes) -> Box:
    return Box(b"", 0, 0, len(data), walk(data))


def version_flags(data: bytes, b: Box) -> tuple[int, int]:
    (word,) = struct.unpack_from(">I", data, b.body)
    return word >> 24, word & 0xFFFFFF


@dataclass(frozen=True)
class ParsedTraf:
    track_id: int
    tfhd_flags: int
    tfdt: int
    trun_version: int
    durations: list[int]
    sizes: list[int]
    flags: list[int]
    offsets: list[int]
    data: list[bytes]


def parse_fragment(data: bytes, start: int = 0) -> tuple[int, list[ParsedTraf], int]:
    """(sequence number, trafs, end of the mdat) of the moof+mdat at ``start``."""
    top = walk(data, start, start + _two_boxes_len(data, start))
    moof, mdat = top
    assert (moof.kind, mdat.kind) == (b"moof", b"mdat")
    root_ = Box(b"", moof.start, moof.start, mdat.end, top)
    (seq,) = struct.unpack_from(">I", data, root_.one(b"moof", b"mfhd").body + 4)
    trafs = []
    for traf in root_.find(b"moof", b"traf"):
        tfhd, tfdt, trun = traf.one(b"tfhd"), traf.one(b"tfdt"), traf.one(b"trun")
        _, tfhd_flags = version_flags(data, tfhd)
        (track_id,) = struct.unpack_from(">I", data, tfhd.body + 4)
        assert version_flags(data, tfdt)[0] == 1
        (base,) = struct.unpack_from(">Q", data, tfdt.body + 4)
        version, flags = version_flags(data, trun)
        assert flags == 0x000F01, hex(flags)
        count, data_offset = struct.unpack_from(">Ii", data, trun.body + 4)
        entry = ">IIIi" if version == 1 else ">IIII"
        rows = [struct.unpack_from(entry, data, trun.body + 12 + 16 * i) for i in range(count)]
        assert trun.body + 12 + 16 * count == trun.end
        pos = moof.start + data_offset
        samples = []
        for row in rows:
            samples.append(data[pos:pos + row[1]])
            pos += row[1]
        assert mdat.body <= moof.start + data_offset and pos <= mdat.end
        trafs.append(ParsedTraf(track_id, tfhd_flags, base, version, [r[0] for r in rows],
                                [r[1] for r in rows], [r[2] for r in rows],
                                [r[3] for r in rows], samples))
    return seq, trafs, mdat.end


def _two_boxes_len(data: bytes, start: int) -> int:
    (first,) = struct.unpack_from(">I", data, start)
    (second,) = struct.unpack_from(">I", data, start + first)
    return int(first + second)


# --- media from real encoders ---------------------------------------------------------------


@dataclass(frozen=True)
class Encoded:
    config: bytes
    packets: list[tuple[int, int, bool, bytes]]  # pts, dts, keyframe, data
    time_base: Fraction


def _video_frame(i: int) -> Any:
    frame = av.VideoFrame(320, 240, "yuv420p")
    for n, plane in enumerate(frame.planes):
        # A diagonal ramp that drifts every frame: real motion, so P/B frames carry data.
        row = bytes((x + 3 * i * (n + 1)) & 0xFF for x in range(plane.line_size + plane.height))
        plane.update(b"".join(row[y:y + plane.line_size] for y in range(plane.height)))
    frame.time_base = Fraction(1, VIDEO_TS)
    return frame


def encode_video(codec: str, options: dict[str, str], b_frames: int) -> Encoded:
    ctx = av.CodecContext.create(codec, "w")
    ctx.width, ctx.height, ctx.pix_fmt = 320, 240, "yuv420p"
    ctx.time_base = Fraction(1, VIDEO_TS)
    ctx.framerate = Fraction(FPS)
    ctx.gop_size = FPS
    ctx.max_b_frames = b_frames
    # Without GLOBAL_HEADER the parameter sets go in-band and extradata stays empty.
    ctx.flags |= av.codec.context.Flags.global_header
    ctx.options = options
    ctx.open()
    packets = []
    for i in range(FRAMES):
        frame = _video_frame(i)
        frame.pts = i * FRAME_TICKS
        packets += ctx.encode(frame)
    packets += ctx.encode(None)
    return Encoded(bytes(ctx.extradata or b""),
                   [(p.pts, p.dts, p.is_keyframe, bytes(p)) for p in packets],
                   Fraction(1, VIDEO_TS))


def encode_audio(codec: str, seconds: float) -> Encoded:
    ctx = av.CodecContext.create(codec, "w")
    ctx.sample_rate, ctx.layout = AUDIO_RATE, "stereo"
    ctx.format = "fltp" if codec == "aac" else "flt"
    ctx.time_base = Fraction(1, AUDIO_RATE)
    ctx.flags |= av.codec.context.Flags.global_header
    ctx.open()
    size = ctx.frame_size
    packets = []
    for n in range(math.ceil(seconds * AUDIO_RATE / size)):
        tone = array.array("f", (0.3 * math.sin(2 * math.pi * 440 * (n * size + k) / AUDIO_RATE)
                                 for k in range(size)))
        frame = av.AudioFrame(format=ctx.format.name, layout="stereo", samples=size)
        if ctx.format.is_planar:
            for plane in frame.planes:
                plane.update(tone.tobytes())
        else:
            frame.planes[0].update(array.array("f", (v for v in tone for _ in (0, 1))).tobytes())
        frame.sample_rate, frame.pts = AUDIO_RATE, n * size
        packets += ctx.encode(frame)
    packets += ctx.encode(None)
    return Encoded(bytes(ctx.extradata or b""),
                   [(p.pts, p.dts, True, bytes(p)) for p in packets], Fraction(1, AUDIO_RATE))


def length_prefixed(data: bytes) -> Iterator[bytes]:
    pos = 0
    while pos < len(data):
        (n,) = struct.unpack_from(">I", data, pos)
        yield data[pos + 4:pos + 4 + n]
        pos += 4 + n


def hvcc_from_nals(nals: Sequence[bytes]) -> bytes:
    """HEVCDecoderConfigurationRecord from VPS/SPS/PPS (libx265 gives no hvcC of its own)."""
    by_type = {(n[0] >> 1) & 0x3F: n for n in nals}
    return hevc_config(by_type[32], by_type[33], by_type[34])


def obus(data: bytes) -> Iterator[tuple[int, bytes]]:
    """(obu_type, whole OBU) for a low-overhead AV1 bitstream (every OBU has a size)."""
    pos = 0
    while pos < len(data):
        header = data[pos]
        assert header & 0x02, "obu_has_size_field"
        hlen = 2 if header & 0x04 else 1
        size = shift = 0
        i = pos + hlen
        while True:
            byte = data[i]
            size |= (byte & 0x7F) << shift
            shift += 7
            i += 1
            if not byte & 0x80:
                break
        yield (header >> 3) & 0x0F, data[pos:i + size]
        pos = i + size


def av1c_from_sequence_header(seq_obu: bytes) -> bytes:
    """AV1CodecConfigurationRecord: 4 bytes from the sequence header, then the OBU itself."""
    size_start = 1
    while seq_obu[size_start] & 0x80:
        size_start += 1
    bits = int.from_bytes(seq_obu[size_start + 1:], "big")
    left = 8 * (len(seq_obu) - size_start - 1)

    def read(n: int) -> int:
        nonlocal left
        left -= n
        return (bits >> left) & ((1 << n) - 1)

    profile, _still, reduced = read(3), read(1), read(1)
    if reduced:
        level, tier = read(5), 0
    else:
        timing_info, _initial_delay, op_count = read(1), read(1), read(5) + 1
        assert timing_info == 0 and op_count == 1, "SVT-AV1 defaults: no timing info, one op"
        _idc, level = read(12), read(5)
        tier = read(1) if level > 7 else 0
    # SVT encodes our yuv420p 8-bit input: no high bit depth, not mono, 4:2:0, position 0.
    return bytes((0x81, profile << 5 | level, tier << 7 | 1 << 3 | 1 << 2, 0)) + seq_obu


@pytest.fixture(scope="module")
def aac() -> Encoded:
    return encode_audio("aac", FRAMES / FPS)


@dataclass(frozen=True)
class VideoCase:
    codec: str
    info: TrackInfo
    encoded: Encoded
    samples_data: list[bytes]


def video_case(name: str) -> VideoCase:
    if name in ("h264", "h264-no-b"):
        b_frames = 0 if name == "h264-no-b" else 2
        # annexb=0: libx264 then emits an avcC as extradata and 4-byte length-prefixed NALs.
        enc = encode_video("libx264", {"preset": "veryfast", "x264-params": "annexb=0"},
                           b_frames)
        assert enc.config[0] == 1, "extradata must be an avcC"
        codec, config, data = "h264", enc.config, [p[3] for p in enc.packets]
    elif name == "hevc":
        # annexb=0 makes libx265 length-prefix too, but its extradata stays a bare NAL list.
        enc = encode_video("libx265", {"x265-params": "log-level=none:annexb=0"}, 2)
        codec, config = "hevc", hvcc_from_nals(list(length_prefixed(enc.config)))
        data = [p[3] for p in enc.packets]
    else:
        enc = encode_video("libsvtav1", {"svtav1-params": "lp=1"}, 0)
        # libsvtav1 extradata is the bare sequence header OBU; temporal delimiters must not
        # be stored in ISOBMFF samples.
        codec, config = "av1", av1c_from_sequence_header(enc.config)
        data = [b"".join(o for t, o in obus(p[3]) if t != 2) for p in enc.packets]
    info = TrackInfo(track_id=0, kind="video", codec=codec, timescale=VIDEO_TS,  # type: ignore[arg-type]
                     config=config, width=320, height=240)
    return VideoCase(codec, info, enc, data)


@pytest.fixture(scope="module", params=["h264", "h264-no-b", "hevc", "av1"])
def video(request: pytest.FixtureRequest) -> VideoCase:
    return video_case(request.param)


# --- muxing the encoded media with the writer under test ------------------------------------


@dataclass(frozen=True)
class Written:
    kind: str  # "video" / "audio"
    pts: list[int]
    dts: list[int]
    keyframe: list[bool]
    sizes: list[int]


def samples_from(packets: Sequence[tuple[int, int, bool, bytes]], data: Sequence[bytes],
                 nominal: int, pts_aligned: bool = False) -> list[Sample]:
    """Shift the timeline so every dts is >= 0.

    Plain: pts and dts move together, offsets stay >= 0 (trun v0). PTS-aligned: dts alone is
    delayed so the first dts meets the first pts; B-frames then get negative offsets (v1).
    """
    dts = [p[1] for p in packets]
    pts = [p[0] for p in packets]
    shift = -dts[0]
    pts_shift = -pts[0] if pts_aligned else shift
    out = []
    for i, (p, d) in enumerate(zip(pts, dts, strict=True)):
        duration = dts[i + 1] - d if i + 1 < len(dts) else nominal
        out.append(Sample(d + shift, duration, (p + pts_shift) - (d + shift), packets[i][2],
                          data[i]))
    return out


def write_file(path: Path, parts: list[tuple[CmafTrack, list[Sample], str]],
               per_fragment: int) -> dict[int, Written]:
    """Init + fragments: the first track cut every ``per_fragment`` samples, the others
    interleaved into the fragment whose time span holds their dts."""
    lead_track, lead, _ = parts[0]
    cuts = [s.dts for s in lead[::per_fragment]][1:]

    def fragment_of(track: CmafTrack, s: Sample) -> int:
        seconds = Fraction(s.dts, track.timescale)
        return sum(1 for c in cuts if Fraction(c, lead_track.timescale) <= seconds)

    groups: list[list[tuple[CmafTrack, list[Sample]]]] = [
        [(t, []) for t, _, _ in parts] for _ in range(len(cuts) + 1)]
    for n, (track, samples, _) in enumerate(parts):
        for s in samples:
            groups[fragment_of(track, s)][n][1].append(s)
    with path.open("wb") as f:
        f.write(init_segment([t for t, _, _ in parts]))
        for seq, group in enumerate(groups, start=1):
            f.write(fragment(seq, group))
    return {
        track.track_id: Written(kind, [s.dts + s.cts_offset for s in samples],
                                [s.dts for s in samples], [s.keyframe for s in samples],
                                [len(s.data) for s in samples])
        for track, samples, kind in parts
    }


def read_with_pyav(path: Path) -> tuple[dict[int, Written], dict[int, int], Any]:
    """Packets per stream (track order), decoded frame counts, and the stream descriptions."""
    got: dict[int, Written] = {}
    decoded: dict[int, int] = {}
    level = av.logging.get_level()
    av.logging.set_level(av.logging.ERROR)
    try:
        with av.logging.Capture() as logs:
            streams = _demux_and_decode(path, got, decoded)
    finally:
        av.logging.set_level(level)
    # Decoders conceal many errors and only log them: a clean read logs nothing.
    assert logs == []
    return got, decoded, streams


def _demux_and_decode(path: Path, got: dict[int, Written], decoded: dict[int, int]) -> Any:
    with av.open(str(path)) as container:
        streams = [(s.index, s.type, s.codec_context.name,
                    *(getattr(s.codec_context, a, 0) for a in ("width", "height",
                                                               "sample_rate", "channels")),
                    s.time_base) for s in container.streams]
        for s in container.streams:
            got[s.index + 1] = Written(s.type, [], [], [], [])
            decoded[s.index + 1] = 0
        for packet in container.demux():
            n = packet.stream.index + 1
            if packet.size:
                w = got[n]
                w.pts.append(packet.pts)
                w.dts.append(packet.dts)
                w.keyframe.append(packet.is_keyframe)
                w.sizes.append(packet.size)
            # The empty packet at the end of each stream flushes its decoder.
            decoded[n] += len(packet.decode())
    return streams


def read_with_ffprobe(path: Path) -> tuple[dict[int, Written], list[dict[str, Any]]]:
    out = subprocess.run(
        [require_tool("ffprobe"), "-v", "error", "-show_packets", "-show_streams", "-of", "json",
         str(path)], capture_output=True, check=True, text=True)
    assert out.stderr == "", out.stderr
    doc = json.loads(out.stdout)
    got: dict[int, Written] = {s["index"] + 1: Written(s["codec_type"], [], [], [], [])
                               for s in doc["streams"]}
    for p in doc["packets"]:
        w = got[p["stream_index"] + 1]
        w.pts.append(int(p["pts"]))
        w.dts.append(int(p["dts"]))
        w.keyframe.append(p["flags"].startswith("K"))
        w.sizes.append(int(p["size"]))
    return got, doc["streams"]


def mux(tmp_path: Path, case: VideoCase, audio: Encoded, pts_aligned: bool = False
        ) -> tuple[Path, dict[int, Written]]:
    vtrack = CmafTrack(1, case.info, VIDEO_TS)
    atrack = CmafTrack(2, TrackInfo(track_id=1, kind="audio", codec="aac", timescale=AUDIO_RATE,
                                    config=audio.config, sample_rate=AUDIO_RATE, channels=2),
                       AUDIO_RATE)
    vsamples = samples_from(case.encoded.packets, case.samples_data, FRAME_TICKS, pts_aligned)
    asamples = samples_from(audio.packets, [p[3] for p in audio.packets], 1024)
    path = tmp_path / f"{case.codec}.mp4"
    written = write_file(path, [(vtrack, vsamples, "video"), (atrack, asamples, "audio")],
                         FRAMES_PER_FRAGMENT)
    return path, written


# --- read-back through real demuxers and decoders ---------------------------------------------


def test_pyav_reads_back_every_packet_and_decodes(tmp_path: Path, video: VideoCase,
                                                  aac: Encoded) -> None:
    path, written = mux(tmp_path, video, aac)
    got, decoded, streams = read_with_pyav(path)
    assert got == written
    assert decoded == {1: FRAMES, 2: len(aac.packets)}
    (_, vtype, vname, width, height, _, _, vtb), (_, atype, aname, _, _, rate, ch, atb) = streams
    assert (vtype, width, height, vtb) == ("video", 320, 240, Fraction(1, VIDEO_TS))
    assert vname in {"h264": ("h264",), "hevc": ("hevc",), "av1": ("libdav1d", "av1")}[
        video.codec]
    assert (atype, aname, rate, ch, atb) == ("audio", "aac", AUDIO_RATE, 2,
                                             Fraction(1, AUDIO_RATE))
    if video.encoded.packets[0][0] != video.encoded.packets[0][1]:
        assert any(p != d for p, d in zip(written[1].pts, written[1].dts, strict=True))


@pytest.mark.interop
def test_ffprobe_reads_back_every_packet(tmp_path: Path, video: VideoCase,
                                         aac: Encoded) -> None:
    path, written = mux(tmp_path, video, aac)
    got, streams = read_with_ffprobe(path)
    assert got == written
    v, a = streams
    assert (v["codec_name"], v["width"], v["height"], v["time_base"]) == (
        video.codec, 320, 240, f"1/{VIDEO_TS}")
    assert v["codec_tag_string"] == {"h264": "avc1", "hevc": "hvc1", "av1": "av01"}[video.codec]
    assert (a["codec_name"], a["sample_rate"], a["channels"], a["time_base"]) == (
        "aac", str(AUDIO_RATE), 2, f"1/{AUDIO_RATE}")
    assert a["profile"] == "LC"
    decode = subprocess.run([require_tool("ffmpeg"), "-v", "error", "-i", str(path), "-f", "null",
                             "-"], capture_output=True, text=True)
    assert (decode.returncode, decode.stderr) == (0, "")


@pytest.fixture(scope="module")
def h264() -> VideoCase:
    return video_case("h264")


def test_negative_composition_offsets_read_back(tmp_path: Path, h264: VideoCase,
                                                aac: Encoded) -> None:
    path, written = mux(tmp_path, h264, aac, pts_aligned=True)
    lowest = min(p - d for p, d in zip(written[1].pts, written[1].dts, strict=True))
    assert lowest < 0
    versions = {t.trun_version for t in _all_trafs(path.read_bytes()) if t.track_id == 1}
    assert versions == {1}
    # FFmpeg's mov demuxer keeps pts >= dts by adding the most negative offset it has seen
    # (its dts_shift) to every pts; dts, sizes, flags and the audio track are untouched.
    expected = dict(written)
    expected[1] = replace(written[1], pts=[p - lowest for p in written[1].pts])
    got, decoded, _ = read_with_pyav(path)
    assert got == expected
    assert decoded[1] == FRAMES
    if _has_ffprobe():
        assert read_with_ffprobe(path)[0] == expected


def test_opus_reads_back(tmp_path: Path) -> None:
    opus = encode_audio("libopus", 1.0)
    assert opus.config.startswith(b"OpusHead")
    track = CmafTrack(1, TrackInfo(track_id=1, kind="audio", codec="opus", timescale=AUDIO_RATE,
                                   config=opus.config, sample_rate=AUDIO_RATE, channels=2),
                      AUDIO_RATE)
    samples = samples_from(opus.packets, [p[3] for p in opus.packets], 960)
    path = tmp_path / "opus.mp4"
    written = write_file(path, [(track, samples, "audio")], 10)
    got, decoded, streams = read_with_pyav(path)
    assert got == written
    assert decoded == {1: len(samples)}
    assert streams[0][2:7] == ("opus", 0, 0, AUDIO_RATE, 2)
    if _has_ffprobe():
        probed, probed_streams = read_with_ffprobe(path)
        assert probed == written
        assert (probed_streams[0]["codec_name"], probed_streams[0]["channels"]) == ("opus", 2)


def _has_ffprobe() -> bool:
    from shutil import which

    return which("ffprobe") is not None


def _all_trafs(data: bytes) -> list[ParsedTraf]:
    pos = len(init_segment_of(data))
    trafs: list[ParsedTraf] = []
    while pos < len(data):
        _, found, pos = parse_fragment(data, pos)
        trafs += found
    return trafs


def init_segment_of(data: bytes) -> bytes:
    (ftyp,) = struct.unpack_from(">I", data, 0)
    (moov,) = struct.unpack_from(">I", data, ftyp)
    return data[:ftyp + moov]


# --- box structure ----------------------------------------------------------------------------

H264_INFO = TrackInfo(track_id=0, kind="video", codec="h264", timescale=VIDEO_TS,
                      config=bytes.fromhex("014d401effe100046742c01e01000468ce3c80"),
                      width=640, height=360)
AAC_INFO = TrackInfo(track_id=1, kind="audio", codec="aac", timescale=AUDIO_RATE,
                     config=b"\x11\x90", sample_rate=AUDIO_RATE, channels=2)
VTRACK = CmafTrack(1, H264_INFO, VIDEO_TS)
ATRACK = CmafTrack(2, AAC_INFO, AUDIO_RATE)


def test_init_segment_structure() -> None:
    data = init_segment([VTRACK, ATRACK])
    top = root(data)
    assert [b.kind for b in top.children] == [b"ftyp", b"moov"]
    ftyp = top.one(b"ftyp").payload(data)
    brands = [ftyp[i:i + 4] for i in range(8, len(ftyp), 4)]
    assert ftyp[:4] == b"iso6" and b"iso6" in brands
    moov = top.one(b"moov")
    assert [b.kind for b in moov.children] == [b"mvhd", b"trak", b"trak", b"mvex"]
    mvhd = moov.one(b"mvhd")
    timescale, duration = struct.unpack_from(">II", data, mvhd.body + 12)
    (next_track,) = struct.unpack_from(">I", data, mvhd.end - 4)
    assert (timescale, duration, next_track) == (1000, 0, 3)
    for trak, track in zip(moov.find(b"trak"), (VTRACK, ATRACK), strict=True):
        tkhd = trak.one(b"tkhd")
        assert version_flags(data, tkhd) == (0, 3)
        track_id, _, duration = struct.unpack_from(">III", data, tkhd.body + 12)
        assert (track_id, duration) == (track.track_id, 0)
        mdhd = trak.one(b"mdia", b"mdhd")
        timescale, duration, lang = struct.unpack_from(">IIH", data, mdhd.body + 12)
        assert (timescale, duration, lang) == (track.timescale, 0, 0x55C4)
        stbl = trak.one(b"mdia", b"minf", b"stbl")
        for table in (b"stts", b"stsc", b"stco"):
            assert stbl.one(table).payload(data) == bytes(8)
        assert stbl.one(b"stsz").payload(data) == bytes(12)
        assert trak.one(b"mdia", b"minf", b"dinf", b"dref", b"url ").payload(data) == (
            b"\x00\x00\x00\x01")
    video_trak, audio_trak = moov.find(b"trak")
    assert video_trak.one(b"mdia", b"hdlr").payload(data)[8:12] == b"vide"
    assert version_flags(data, video_trak.one(b"mdia", b"minf", b"vmhd")) == (0, 1)
    width, height = struct.unpack_from(">II", data, video_trak.one(b"tkhd").end - 8)
    assert (width, height) == (640 << 16, 360 << 16)
    avc1 = video_trak.one(b"mdia", b"minf", b"stbl", b"stsd", b"avc1")
    assert struct.unpack_from(">HH", data, avc1.body + 24) == (640, 360)
    assert avc1.one(b"avcC").payload(data) == H264_INFO.config
    assert audio_trak.one(b"mdia", b"hdlr").payload(data)[8:12] == b"soun"
    mp4a = audio_trak.one(b"mdia", b"minf", b"stbl", b"stsd", b"mp4a")
    channels, bits, _, _, rate = struct.unpack_from(">HHHHI", data, mp4a.body + 16)
    assert (channels, bits, rate) == (2, 16, AUDIO_RATE << 16)
    esds = mp4a.one(b"esds").payload(data)
    assert esds[4:] == bytes.fromhex("03190000000411401500000000000000000000000502119006"
                                     "0102")
    trex = moov.find(b"mvex", b"trex")
    assert [struct.unpack_from(">IIIII", data, t.body + 4) for t in trex] == [
        (1, 1, 0, 0, 0), (2, 1, 0, 0, 0)]


def test_sample_entries_for_other_codecs() -> None:
    for codec, kind, child in (("hevc", b"hvc1", b"hvcC"), ("av1", b"av01", b"av1C")):
        info = TrackInfo(track_id=0, kind="video", codec=codec, timescale=VIDEO_TS,  # type: ignore[arg-type]
                         config=b"\x01cfg", width=1280, height=720)
        data = init_segment([CmafTrack(7, info, VIDEO_TS)])
        entry = root(data).one(b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd", kind)
        assert entry.one(child).payload(data) == b"\x01cfg"
    head = (b"OpusHead\x01\x02" + struct.pack("<HIhB", 312, 44100, -5, 0))
    info = TrackInfo(track_id=1, kind="audio", codec="opus", timescale=48000, config=head,
                     sample_rate=48000, channels=2)
    data = init_segment([CmafTrack(1, info, 48000)])
    entry = root(data).one(b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd", b"Opus")
    assert entry.one(b"dOps").payload(data) == struct.pack(">BBHIhB", 0, 2, 312, 44100, -5, 0)


def test_aac_without_config_gets_a_2_byte_lc_config() -> None:
    info = TrackInfo(track_id=1, kind="audio", codec="aac", timescale=44100, sample_rate=44100,
                     channels=2)
    data = init_segment([CmafTrack(1, info, 44100)])
    assert bytes.fromhex("0502") + b"\x12\x10" in data


@pytest.mark.parametrize("bad", [
    lambda: init_segment([]),
    lambda: init_segment([VTRACK, CmafTrack(1, AAC_INFO, AUDIO_RATE)]),
    lambda: init_segment([CmafTrack(1, TrackInfo(track_id=0, kind="video", codec="vp9",
                                                 timescale=VIDEO_TS, config=b"x", width=2,
                                                 height=2), VIDEO_TS)]),
    lambda: init_segment([CmafTrack(1, TrackInfo(track_id=0, kind="video", codec="h264",
                                                 timescale=VIDEO_TS, width=2, height=2),
                                    VIDEO_TS)]),
    lambda: CmafTrack(0, AAC_INFO, AUDIO_RATE),
    lambda: Sample(0, 0, 0, True, b""),
    lambda: Sample(-1, 1, 0, True, b""),
    lambda: Sample(0, 1, 1 << 31, True, b""),
    lambda: fragment(1, [(VTRACK, [])]),
    lambda: fragment(0, [(VTRACK, [Sample(0, 1, 0, True, b"x")])]),
    lambda: box(b"abc"),
])
def test_rejects_what_it_cannot_write(bad: Any) -> None:
    with pytest.raises(ValueError):
        bad()


def test_box_helpers() -> None:
    assert box(b"free") == b"\x00\x00\x00\x08free"
    assert box(b"abcd", b"xy", b"z") == b"\x00\x00\x00\x0babcdxyz"
    assert full_box(b"abcd", 1, 0x020304, b"q") == b"\x00\x00\x00\x0dabcd\x01\x02\x03\x04q"


def test_fragment_structure() -> None:
    video = [Sample(900000, 3000, 3000, True, b"\x00\x00\x00\x02\x65\x88"),
             Sample(903000, 3000, 6000, False, b"\x00\x00\x00\x01\x41"),
             Sample(906000, 3000, 0, False, b"\x00\x00\x00\x01\x01")]
    audio = [Sample(480000 + 1024 * i, 1024, 0, True, bytes([i]) * (i + 3)) for i in range(3)]
    data = fragment(42, [(VTRACK, video), (ATRACK, audio)])
    top = root(data)
    assert [b.kind for b in top.children] == [b"moof", b"mdat"]
    moof = top.one(b"moof")
    assert [b.kind for b in moof.children] == [b"mfhd", b"traf", b"traf"]
    for traf in moof.find(b"traf"):
        assert [b.kind for b in traf.children] == [b"tfhd", b"tfdt", b"trun"]
    seq, trafs, end = parse_fragment(data)
    assert (seq, end) == (42, len(data))
    v, a = trafs
    assert (v.track_id, a.track_id) == (1, 2)
    assert v.tfhd_flags & 0x020000 and a.tfhd_flags & 0x020000
    assert (v.tfdt, a.tfdt) == (900000, 480000)
    assert (v.trun_version, a.trun_version) == (0, 0)
    assert v.flags == [0x02000000, 0x01010000, 0x01010000]
    assert a.flags == [0x02000000] * 3
    # data_offset is relative to the moof and lands on the first sample of each traf.
    mdat = top.one(b"mdat")
    assert mdat.payload(data) == b"".join(s.data for s in video + audio)
    assert v.data == [s.data for s in video] and a.data == [s.data for s in audio]
    trun = moof.find(b"traf")[0].one(b"trun")
    (offset,) = struct.unpack_from(">i", data, trun.body + 8)
    assert offset == mdat.body - moof.start


def test_trun_v1_only_with_a_negative_offset() -> None:
    samples = [Sample(0, 3000, 0, True, b"a"), Sample(3000, 3000, -3000, False, b"b")]
    _, (traf,), _ = parse_fragment(fragment(1, [(VTRACK, samples)]))
    assert (traf.trun_version, traf.offsets) == (1, [0, -3000])
    _, (traf,), _ = parse_fragment(fragment(1, [(VTRACK, samples[:1])]))
    assert traf.trun_version == 0


def test_tracks_without_samples_get_no_traf() -> None:
    _, trafs, _ = parse_fragment(fragment(3, [(VTRACK, []), (ATRACK, [Sample(5, 1, 0, True,
                                                                             b"aa")])]))
    assert [(t.track_id, t.tfdt) for t in trafs] == [(2, 5)]


# --- property: every sample list survives a write/parse round trip ----------------------------

sample_st = st.builds(
    Sample,
    dts=st.integers(0, (1 << 64) - 1),
    duration=st.integers(1, (1 << 32) - 1),
    cts_offset=st.one_of(st.integers(-(1 << 31), (1 << 31) - 1), st.integers(-3000, 9000)),
    keyframe=st.booleans(),
    data=st.binary(max_size=64),
)


@settings(max_examples=300)
@given(st.lists(st.tuples(st.sampled_from([VTRACK, ATRACK]), st.lists(sample_st, max_size=12)),
                min_size=1, max_size=3),
       st.integers(1, (1 << 32) - 1))
def test_fragment_round_trips(parts: list[tuple[CmafTrack, list[Sample]]], seq: int) -> None:
    present = [(t, s) for t, s in parts if s]
    if not present:
        with pytest.raises(ValueError):
            fragment(seq, parts)
        return
    data = fragment(seq, parts)
    got_seq, trafs, end = parse_fragment(data)
    assert (got_seq, end) == (seq, len(data))
    assert len(trafs) == len(present)
    for traf, (track, samples) in zip(trafs, present, strict=True):
        assert traf.track_id == track.track_id
        assert traf.tfhd_flags == 0x020000
        assert traf.tfdt == samples[0].dts
        assert traf.trun_version == int(any(s.cts_offset < 0 for s in samples))
        assert traf.durations == [s.duration for s in samples]
        assert traf.sizes == [len(s.data) for s in samples]
        assert traf.offsets == [s.cts_offset for s in samples]
        assert traf.data == [s.data for s in samples]
        video = track.info.kind == "video"
        assert traf.flags == [0x02000000 if s.keyframe or not video else 0x01010000
                              for s in samples]
