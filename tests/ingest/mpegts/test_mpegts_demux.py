"""The MPEG-TS demuxer against ffprobe's reading of the same ffmpeg-made files, in any
chunking; losses counted and recovered from; random input raising only ProtocolError.

Fixture (tests/fixtures/mpegts/h264_bframes_aac.ts), made with:
    ffmpeg -f lavfi -i testsrc2=size=160x120:rate=15 -f lavfi -i sine=frequency=440:\
sample_rate=44100 -t 2 -c:v libx264 -preset veryfast -bf 2 -g 15 -b:v 150k -pix_fmt yuv420p \
-c:a aac -b:a 48k -ac 2 -f mpegts h264_bframes_aac.ts
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.errors import ProtocolError
from ingest.media import Frame, TrackInfo
from ingest.mpegts.demux import PACKET, TsDemuxer, _Clock
from ingest.mpegts.events import FrameReceived, TrackAnnounced
from tests.peers import require_tool

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "mpegts" / "h264_bframes_aac.ts"


def demux(pieces: list[bytes]) -> tuple[list[TrackInfo], list[Frame], TsDemuxer]:
    demuxer = TsDemuxer()
    tracks: list[TrackInfo] = []
    frames: list[Frame] = []
    for piece in pieces:
        demuxer.receive_data(piece)
        while (event := demuxer.next_event()) is not None:
            if isinstance(event, TrackAnnounced):
                tracks.append(event.track)
            elif isinstance(event, FrameReceived):
                frames.append(event.frame)
    demuxer.flush()
    while (event := demuxer.next_event()) is not None:
        if isinstance(event, FrameReceived):
            frames.append(event.frame)
    return tracks, frames, demuxer


@pytest.fixture(scope="module")
def probed() -> dict[str, list[tuple[int, int, bool]]]:
    ffprobe = require_tool("ffprobe")
    out = subprocess.run([ffprobe, "-v", "error", "-show_entries",
                          "packet=codec_type,pts,dts,flags", "-of", "json", str(FIXTURE)],
                         capture_output=True, text=True, check=True).stdout
    packets: dict[str, list[tuple[int, int, bool]]] = {"video": [], "audio": []}
    for p in json.loads(out)["packets"]:
        packets[p["codec_type"]].append((int(p["pts"]), int(p["dts"]), "K" in p["flags"]))
    return packets


def check(frames: list[Frame], probed: dict[str, list[tuple[int, int, bool]]]) -> None:
    video = [(f.pts, f.dts, f.keyframe) for f in frames if f.is_video]
    assert video == probed["video"]
    audio = [f.pts for f in frames if not f.is_video]
    assert len(audio) == len(probed["audio"])
    # ffmpeg's parser interpolates the frames inside one PES with its own rounding.
    assert all(abs(a - p[0]) <= 1 for a, p in zip(audio, probed["audio"], strict=True))


def splits(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)
    pieces, pos = [], 0
    while pos < len(data):
        size = rng.randint(1, 1456)
        pieces.append(data[pos:pos + size])
        pos += size
    return pieces


def test_whole_file_matches_ffprobe(probed: dict[str, list[tuple[int, int, bool]]]) -> None:
    tracks, frames, demuxer = demux([FIXTURE.read_bytes()])
    check(frames, probed)
    video, audio = tracks
    assert (video.codec, video.width, video.height) == ("h264", 160, 120)
    assert video.config[0] == 1 and video.codec_string.startswith("avc1.")
    assert (audio.codec, audio.sample_rate, audio.channels) == ("aac", 44100, 2)
    assert audio.config == bytes.fromhex("1210")
    assert demuxer.cc_errors == demuxer.broken_pes == demuxer.resyncs == 0
    first = next(f for f in frames if f.is_video)
    assert first.keyframe and first.payload[4] & 0x1F in (5, 6)  # SEI or IDR: no SPS/PPS/AUD


@pytest.mark.parametrize("seed", range(3))
def test_any_chunking_gives_the_same_frames(probed: dict[str, list[tuple[int, int, bool]]],
                                            seed: int) -> None:
    data = FIXTURE.read_bytes()
    check(demux(splits(data, seed))[1], probed)


def test_byte_by_byte(probed: dict[str, list[tuple[int, int, bool]]]) -> None:
    data = FIXTURE.read_bytes()[:PACKET * 60]
    whole = demux([data])[1]
    assert demux([data[i:i + 1] for i in range(len(data))])[1] == whole


def test_a_lost_packet_is_counted_and_the_stream_goes_on() -> None:
    data = FIXTURE.read_bytes()
    packets = [data[i:i + PACKET] for i in range(0, len(data), PACKET)]
    _, all_frames, _ = demux([data])
    video_pids = {(p[1] & 0x1F) << 8 | p[2] for p in packets[20:40] if p[3] & 0x10}
    lost = next(i for i in range(40, len(packets))
                if (packets[i][1] & 0x1F) << 8 | packets[i][2] in video_pids)
    _, frames, demuxer = demux([b"".join(packets[:lost] + packets[lost + 1:])])
    assert demuxer.cc_errors >= 1 and demuxer.broken_pes >= 1
    assert len(all_frames) - 3 <= len(frames) < len(all_frames)


def test_garbage_between_packets_is_skipped_by_resync() -> None:
    data = FIXTURE.read_bytes()
    _, all_frames, _ = demux([data])
    cut = PACKET * 50
    _, frames, demuxer = demux([data[:cut] + b"\x00\x47\x12garbage" + data[cut:]])
    assert demuxer.resyncs >= 1
    assert len(frames) == len(all_frames)


def test_timestamps_continue_across_the_33_bit_wrap() -> None:
    clock = _Clock()
    values = [(1 << 33) - 3000, (1 << 33) - 10, 5, 3000, 2990]
    assert [clock.extend(v) for v in values] == [
        (1 << 33) - 3000, (1 << 33) - 10, (1 << 33) + 5, (1 << 33) + 3000, (1 << 33) + 2990]


@settings(max_examples=200)
@given(st.binary(max_size=2000))
def test_random_bytes_raise_only_protocol_errors(data: bytes) -> None:
    try:
        demux([data])
    except ProtocolError:
        pass


@settings(max_examples=100)
@given(st.lists(st.tuples(st.integers(0, 53955), st.integers(0, 255)), max_size=20))
def test_mutated_streams_raise_only_protocol_errors(mutations: list[tuple[int, int]]) -> None:
    data = bytearray(FIXTURE.read_bytes()[:PACKET * 100])
    for pos, value in mutations:
        if pos < len(data):
            data[pos] = value
    try:
        demux([bytes(data)])
    except ProtocolError:
        pass


HEVC_FIXTURE = FIXTURE.with_name("hevc_aac.ts")
"""Made like the H.264 one with ``-c:v libx265 -x265-params bframes=2:keyint=15``, 48 kHz."""


def test_hevc_matches_ffprobe_and_its_record_decodes() -> None:
    ffprobe = require_tool("ffprobe")
    av = pytest.importorskip("av")
    out = subprocess.run([ffprobe, "-v", "error", "-select_streams", "v", "-show_entries",
                          "packet=pts,dts,flags", "-of", "json", str(HEVC_FIXTURE)],
                         capture_output=True, text=True, check=True).stdout
    probed = [(int(p["pts"]), int(p["dts"]), "K" in p["flags"])
              for p in json.loads(out)["packets"]]
    tracks, frames, _ = demux([HEVC_FIXTURE.read_bytes()])
    video = [f for f in frames if f.is_video]
    assert [(f.pts, f.dts, f.keyframe) for f in video] == probed
    track = tracks[0]
    assert (track.codec, track.width, track.height) == ("hevc", 160, 120)
    assert track.codec_string.startswith("hvc1.")
    # The record and the length-prefixed samples decode: what the fMP4 writer will carry.
    decoder = av.CodecContext.create("hevc", "r")
    decoder.extradata = track.config
    pictures = 0
    for frame in video:
        packet = av.Packet(frame.payload)
        pictures += len(decoder.decode(packet))
    pictures += len(decoder.decode(None))
    assert pictures == len(video)
