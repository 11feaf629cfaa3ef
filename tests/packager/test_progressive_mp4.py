"""Recorded fragments to a progressive MP4: init sections and moofs parse back to what
``packager/cmaf.py`` wrote, the sample tables and chunk offsets of the output point at the
right bytes (checked box by box), a plan's slices are the file's bytes, real fragments of the
pipeline read back whole in PyAV, and malformed input raises only ``Mp4Error``."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.media import TrackInfo
from packager.cmaf import CmafTrack, Sample, fragment, init_segment, sample_entry
from packager.llhls import PlaylistSettings
from packager.pipeline import StreamPipeline
from packager.progressive_mp4 import (
    Chunk,
    FileRange,
    Mp4Error,
    Plan,
    index_fragments,
    parse_init,
    parse_moof,
    progressive_mp4,
)
from tests.packager.packager_testing import Source, encode_source

av: Any = pytest.importorskip("av")

AVCC = bytes.fromhex("0142c00dffe10009" "6742c00d8c8d40a0fd" "010004" "68ce3c80")
VIDEO = TrackInfo(0, "video", "h264", 90000, AVCC, "avc1.42c00d", 320, 240)
SMALL = TrackInfo(0, "video", "h264", 90000, AVCC, "avc1.42c00d", 160, 120)
IN_BAND = (b"\0\0\0\x09" + bytes.fromhex("6742c00d8c8d40a0fd")
           + b"\0\0\0\x04" + bytes.fromhex("68ce3c80"))
"""AVCC's SPS and PPS as 4-byte length-prefixed NAL units."""
AUDIO = TrackInfo(1, "audio", "aac", 48000, bytes.fromhex("1188"), "mp4a.40.2",
                  sample_rate=48000, channels=1)


def video_samples(first: int, count: int, dts0: int, key_every: int = 4) -> list[Sample]:
    # A B-frame-like pattern: composition offsets 6000, 0, -3000, 3000...
    offsets = [6000, 0, -3000, 3000]
    return [Sample(dts0 + n * 3000, 3000, offsets[n % 4], (first + n) % key_every == 0,
                   bytes([first + n]) * (100 + n)) for n in range(count)]


def audio_samples(count: int, dts0: int) -> list[Sample]:
    return [Sample(dts0 + n * 1024, 1024, 0, True, bytes([0xA0 + n]) * (20 + n))
            for n in range(count)]


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, bytes]]:
    """(type, payload) of each box (no 64-bit sizes: the tests' files are small)."""
    end = len(data) if end is None else end
    out = []
    while start < end:
        size, kind = struct.unpack_from(">I4s", data, start)
        out.append((kind, data[start + 8:start + size]))
        start += size
    return out


def child(data: bytes, *path: bytes) -> bytes:
    for kind in path:
        data = next(payload for found, payload in boxes(data) if found == kind)
    return data


def traks(mp4: bytes) -> list[bytes]:
    return [payload for kind, payload in boxes(child(mp4, b"moov")) if kind == b"trak"]


def table(trak: bytes, kind: bytes) -> bytes:
    return child(trak, b"mdia", b"minf", b"stbl", kind)


def materialize(plan: Plan, files: list[bytes]) -> bytes:
    return b"".join(p if isinstance(p, bytes) else files[p.source][p.offset:p.offset + p.length]
                    for p in plan.pieces)


def reader(data: bytes) -> Callable[[int, int], bytes]:
    return lambda offset, length: data[offset:offset + length]


def chunks_of(files: list[tuple[bytes, bytes]]) -> tuple[list[bytes], list[list[Chunk]]]:
    """(the fragment files, per handler its chunks) of (init, fragment file) pairs."""
    data: list[bytes] = []
    tracks: dict[bytes, list[Chunk]] = {}
    for init_bytes, body in files:
        init = parse_init(init_bytes)
        data.append(body)
        source = len(data) - 1
        for run in index_fragments(reader(body), len(body), init):
            track = init.track(run.track_id)
            tracks.setdefault(track.handler, []).append(Chunk(source, track, run))
    return data, [tracks[h] for h in (b"vide", b"soun") if h in tracks]


V1 = CmafTrack(1, VIDEO, 90000)
A2 = CmafTrack(2, AUDIO, 48000)


def test_init_section_parses_back() -> None:
    init = parse_init(init_segment([V1, A2]))
    video, audio = init.tracks
    assert (video.track_id, video.handler, video.timescale, video.width, video.height) == (
        1, b"vide", 90000, 320, 240)
    assert video.entries == (sample_entry(VIDEO),)
    assert (audio.track_id, audio.handler, audio.timescale) == (2, b"soun", 48000)
    assert audio.entries == (sample_entry(AUDIO),)
    assert audio.language == 0x55C4 and audio.media_header.startswith(b"\0\0\0\x10smhd")


def test_moof_parses_back_to_the_samples_written() -> None:
    video, audio = video_samples(0, 8, 90000), audio_samples(5, 48000)
    data = fragment(7, [(V1, video), (A2, audio)])
    moof_size = struct.unpack_from(">I", data)[0]
    runs = parse_moof(data[:moof_size], 1000, parse_init(init_segment([V1, A2])))
    assert [r.track_id for r in runs] == [1, 2]
    for run, samples in zip(runs, (video, audio), strict=True):
        assert run.base_dts == samples[0].dts and run.moof_offset == 1000
        assert run.durations == tuple(s.duration for s in samples)
        assert run.sizes == tuple(len(s.data) for s in samples)
        assert run.sync == tuple(s.keyframe for s in samples)
        assert run.cts == tuple(s.cts_offset for s in samples)
        start = run.offset - 1000
        assert data[start:start + run.length] == b"".join(s.data for s in samples)


def two_inits() -> tuple[list[bytes], list[list[Chunk]], list[list[Sample]]]:
    """Three video+audio fragments under one init, two more under a smaller picture's."""
    first, second = init_segment([V1, A2]), init_segment([CmafTrack(1, SMALL, 90000), A2])
    files, fed_video, fed_audio = [], [], []
    for n in range(5):
        video = video_samples(n * 8, 8, n * 24000, key_every=8)
        # 8 audio samples of 1600 (at 48 kHz) tile the 24000 (at 90 kHz) of 8 pictures.
        audio = [Sample(n * 12800 + k * 1600, 1600, 0, True, bytes([n, k]) * (20 + k))
                 for k in range(8)]
        fed_video += video
        fed_audio += audio
        files.append((first if n < 3 else second,
                      fragment(n + 1, [(V1, video[:4]), (A2, audio[:4])])
                      + fragment(n + 100, [(V1, video[4:]), (A2, audio[4:])])))
    data, tracks = chunks_of(files)
    return data, tracks, [fed_video, fed_audio]


@pytest.mark.parametrize("large", [False, True])
def test_tables_and_offsets_point_at_each_sample(large: bool) -> None:
    data, tracks, fed = two_inits()
    plan = progressive_mp4(tracks, large_offsets=large)
    mp4 = materialize(plan, data)
    assert len(mp4) == plan.size
    assert [kind for kind, _ in boxes(mp4)] == [b"ftyp", b"moov", b"mdat"]
    for trak, samples in zip(traks(mp4), fed, strict=True):
        video = samples is fed[0]
        # The keyframes under the second sample entry carry its SPS and PPS in band.
        stored = [IN_BAND + s.data if video and n >= 24 and s.keyframe else s.data
                  for n, s in enumerate(samples)]
        sizes = struct.unpack_from(f">{len(samples)}I", table(trak, b"stsz"), 12)
        assert list(sizes) == [len(sample_bytes) for sample_bytes in stored]
        stco = table(trak, b"co64" if large else b"stco")
        count = struct.unpack_from(">I", stco, 4)[0]
        offsets = struct.unpack_from(f">{count}{'Q' if large else 'I'}", stco, 8)
        stsc = table(trak, b"stsc")
        entries = [struct.unpack_from(">III", stsc, 8 + 12 * i)
                   for i in range(struct.unpack_from(">I", stsc, 4)[0])]
        # Two samples descriptions for the video (two picture sizes), one for the audio.
        assert entries == ([(1, 4, 1), (7, 4, 2)] if video else [(1, 4, 1)])
        n = 0
        for offset in offsets:
            at = offset
            for sample_bytes in stored[n:n + 4]:
                assert mp4[at:at + len(sample_bytes)] == sample_bytes
                at += len(sample_bytes)
            n += 4
        assert n == len(samples)
        entries_count = struct.unpack_from(">I", table(trak, b"stsd"), 4)[0]
        assert entries_count == (2 if video else 1)
    video_trak = traks(mp4)[0]
    ctts = table(video_trak, b"ctts")
    assert ctts[0] == 1, "negative composition offsets need ctts version 1"
    stss = table(video_trak, b"stss")
    assert struct.unpack_from(">6I", stss, 4) == (5, 1, 9, 17, 25, 33)
    audio_tables = [kind for kind, _ in boxes(child(traks(mp4)[1], b"mdia", b"minf", b"stbl"))]
    assert b"stss" not in audio_tables and b"ctts" not in audio_tables


def test_stts_tiles_the_timeline_and_a_hole_stretches_the_sample_before_it() -> None:
    init = init_segment([V1])
    first = fragment(1, [(V1, video_samples(0, 4, 0))])
    second = fragment(2, [(V1, video_samples(4, 4, 4 * 3000 + 9000))])  # 0.1 s missing
    data, tracks = chunks_of([(init, first), (init, second)])
    mp4 = materialize(progressive_mp4(tracks), data)
    stts = table(traks(mp4)[0], b"stts")
    runs = [struct.unpack_from(">II", stts, 8 + 8 * i)
            for i in range(struct.unpack_from(">I", stts, 4)[0])]
    assert runs == [(3, 3000), (1, 12000), (4, 3000)]


def test_edit_lists_start_each_track_where_it_is_presented() -> None:
    init = init_segment([V1, A2])
    body = fragment(1, [(V1, video_samples(0, 4, 90000)), (A2, audio_samples(4, 44800))])
    data, tracks = chunks_of([(init, body)])
    mp4 = materialize(progressive_mp4(tracks), data)
    video_elst = child(traks(mp4)[0], b"edts", b"elst")
    audio_elst = child(traks(mp4)[1], b"edts", b"elst")
    # Audio starts at 0.9333 s; the first picture shown (pts 93000: dts 96000 - 3000) is
    # 3000 after the video's first dts, at 1.0333 s: 100 ms of empty edit, then media.
    assert struct.unpack_from(">I", audio_elst, 4)[0] == 1
    assert struct.unpack_from(">IiHH", audio_elst, 8)[1] == 0
    count = struct.unpack_from(">I", video_elst, 4)[0]
    assert count == 2
    empty, media = (struct.unpack_from(">IiHH", video_elst, 8 + 12 * i) for i in range(2))
    assert empty[1] == -1 and empty[0] == round((1 + 3000 / 90000 - 44800 / 48000) * 1000)
    assert media[1] == 3000


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_plans_slices_are_the_files_bytes(draw: st.DataObject) -> None:
    data, tracks, _ = two_inits()
    plan = progressive_mp4(tracks)
    mp4 = materialize(plan, data)
    start = draw.draw(st.integers(0, plan.size))
    stop = draw.draw(st.integers(start, plan.size))
    got = b"".join(p if isinstance(p, bytes) else
                   data[p.source][p.offset:p.offset + p.length]
                   for p in plan.slice(start, stop))
    assert got == mp4[start:stop]
    assert all(not isinstance(p, FileRange) or p.length > 0 for p in plan.slice(start, stop))


def test_samples_outside_every_mdat_are_refused() -> None:
    init = parse_init(init_segment([V1]))
    body = fragment(1, [(V1, video_samples(0, 4, 0))])
    truncated = body[:-10]
    moof_size = struct.unpack_from(">I", body)[0]
    lying = body[:moof_size] + struct.pack(">I4s", 8 + 100, b"mdat") + bytes(100)
    with pytest.raises(Mp4Error, match="outside every mdat"):
        index_fragments(reader(lying), len(lying), init)
    with pytest.raises(Mp4Error):
        index_fragments(reader(truncated), len(truncated), init)


def test_a_timescale_change_is_refused_clearly() -> None:
    other = init_segment([CmafTrack(1, VIDEO, 1000)])
    _, tracks = chunks_of([
        (init_segment([V1]), fragment(1, [(V1, video_samples(0, 2, 0))])),
        (other, fragment(2, [(CmafTrack(1, VIDEO, 1000), video_samples(2, 2, 6000))]))])
    with pytest.raises(Mp4Error, match="timescale"):
        progressive_mp4(tracks)


REAL_INIT = init_segment([V1, A2])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_as_a_moof_raise_only_mp4error(junk: bytes) -> None:
    init = parse_init(REAL_INIT)
    for moof in (junk, struct.pack(">I4s", len(junk) + 8, b"moof") + junk):
        try:
            parse_moof(moof, 0, init)
        except Mp4Error:
            pass
        try:
            index_fragments(reader(moof), len(moof), init)
        except Mp4Error:
            pass


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 400), st.integers(0, 255))
def test_a_corrupted_fragment_or_init_raises_only_mp4error(at: int, value: int) -> None:
    body = bytearray(fragment(1, [(V1, video_samples(0, 4, 0)), (A2, audio_samples(3, 0))]))
    init_bytes = bytearray(REAL_INIT)
    body[at % len(body)] = value
    init_bytes[at % len(init_bytes)] = value
    try:
        init = parse_init(bytes(init_bytes))
    except Mp4Error:
        init = parse_init(REAL_INIT)
    try:
        runs = index_fragments(reader(bytes(body)), len(body), init)
        tracks: dict[int, list[Chunk]] = {}
        for run in runs:
            tracks.setdefault(run.track_id, []).append(Chunk(0, init.track(run.track_id), run))
        if tracks:
            progressive_mp4(list(tracks.values()))
    except Mp4Error:
        pass


# --- real fragments -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source(seconds=3)


def test_real_fragments_read_back_frame_for_frame(source: Source, tmp_path: Path) -> None:
    pipeline = StreamPipeline(PlaylistSettings(part_target=0.25, segment_target=1.0,
                                               dvr_window=60), lambda a: 1.79e9 + a)
    pipeline.track_changed(source.video)
    pipeline.track_changed(source.audio)
    for frame in source.frames:
        pipeline.push(frame)
    pipeline.end()
    playlist = pipeline.renditions["source"].playlist
    data, tracks = chunks_of([(playlist.inits[s.init], s.data) for s in playlist.segments])
    path = tmp_path / "out.mp4"
    path.write_bytes(materialize(progressive_mp4(tracks), data))
    got: dict[str, list[tuple[int, int, bool]]] = {"video": [], "audio": []}
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.size:
                got[packet.stream.type].append(
                    (int(packet.pts), int(packet.dts), bool(packet.is_keyframe)))
                packet.decode()
    video_in = [f for f in source.frames if f.is_video]
    shift = got["video"][0][1] - video_in[0].dts * 90
    assert got["video"] == [(f.pts * 90 + shift, f.dts * 90 + shift, f.keyframe)
                            for f in video_in]
    assert len(got["audio"]) == len(source.frames) - len(video_in)
