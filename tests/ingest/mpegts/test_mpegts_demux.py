"""The MPEG-TS demuxer against ffprobe's reading of the same ffmpeg-made files (fixtures are
described in ``mpegts_testing``), in any chunking; losses counted and recovered from; the 33-bit
wrap; random input raising only ProtocolError."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.errors import ProtocolError
from ingest.mpegts.demux import TsDemuxer
from ingest.mpegts.errors import MpegTsError
from ingest.mpegts.events import FrameReceived, TrackAnnounced
from tests.ingest.mpegts.mpegts_testing import (
    FIXTURE_NAMES,
    FIXTURES,
    PACKET,
    WRAP,
    Demuxed,
    demux,
    load,
    nal_units,
    packets,
    pid_of,
    probe,
    random_splits,
    shift_timestamps,
)
from tests.peers_testing import require_tool

VIDEO_PIDS = {"h264_bframes_aac.ts": 0x100, "hevc_aac.ts": 0x100, "h264_cbr_variety.ts": 0x200}


@pytest.fixture(scope="module", params=FIXTURE_NAMES)
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def whole(name: str) -> Demuxed:
    return demux([load(name)])


def test_every_frame_matches_ffprobe(name: str, whole: Demuxed) -> None:
    require_tool("ffprobe")
    probed = probe(FIXTURES / name)
    assert whole.stamps("video") == probed["video"]
    assert whole.stamps("audio") == probed["audio"]
    assert whole.demuxer.counters() == dict.fromkeys(whole.demuxer.counters(), 0)


def test_tracks(name: str, whole: Demuxed) -> None:
    video, audio = sorted(whole.tracks, key=lambda t: t.track_id)
    assert len(whole.tracks) == 2  # each announced once
    assert (video.track_id, video.kind, video.timescale) == (0, "video", 90000)
    assert (audio.track_id, audio.kind, audio.timescale) == (1, "audio", 90000)
    assert audio.codec == "aac" and audio.codec_string == "mp4a.40.2"
    if name == "h264_bframes_aac.ts":
        assert (video.codec, video.width, video.height) == ("h264", 160, 120)
        # Byte for byte what ffmpeg writes into FLV/MP4 for this encoder and size.
        assert video.config == bytes.fromhex(
            "0164000cffe100196764000cacd942847e5c0440000003004000000783c50a658001000468efbcb0"
            "fdf8f800")
        assert video.codec_string == "avc1.64000c"
        assert (audio.sample_rate, audio.channels, audio.config) == (44100, 2, b"\x12\x10")
    elif name == "hevc_aac.ts":
        assert (video.codec, video.width, video.height) == ("hevc", 160, 120)
        assert video.codec_string == "hvc1.1.6.L60.90"
        assert (audio.sample_rate, audio.channels, audio.config) == (48000, 1, b"\x11\x88")
    else:
        assert (video.codec, video.width, video.height) == ("h264", 176, 100)
        assert (audio.sample_rate, audio.channels) == (48000, 1)
    assert all(f.track is video for f in whole.of("video"))
    assert all(f.track is audio for f in whole.of("audio"))


def test_samples_hold_no_parameter_sets_or_delimiters(name: str, whole: Demuxed) -> None:
    hevc = name.startswith("hevc")
    for frame in whole.of("video"):
        kinds = [(n[0] >> 1 & 0x3F) if hevc else n[0] & 0x1F for n in nal_units(frame)]
        assert kinds and not set(kinds) & ({32, 33, 34, 35} if hevc else {7, 8, 9})
        irap = any(16 <= k <= 23 for k in kinds) if hevc else 5 in kinds
        assert frame.keyframe == irap
    assert whole.of("video")[0].keyframe


def test_config_and_samples_decode(name: str, whole: Demuxed) -> None:
    """The record and the length-prefixed samples are what an fMP4 writer carries: a decoder
    given only those produces every picture."""
    av = pytest.importorskip("av")
    video = whole.of("video")
    decoder = av.CodecContext.create(video[0].track.codec, "r")
    decoder.extradata = video[0].track.config
    pictures = 0
    for frame in video:
        pictures += len(decoder.decode(av.Packet(frame.payload)))
    pictures += len(decoder.decode(None))
    assert pictures == len(video)
    assert (decoder.width, decoder.height) == (video[0].track.width, video[0].track.height)


@pytest.mark.parametrize("name", ["h264_bframes_aac.ts", "h264_cbr_variety.ts"])
def test_avcc_is_what_ffmpeg_writes_into_mp4(tmp_path: Path, name: str) -> None:
    ffmpeg = require_tool("ffmpeg")
    av = pytest.importorskip("av")
    out = tmp_path / "remux.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-i", str(FIXTURES / name), "-map", "0:v",
                    "-c", "copy", str(out)], check=True)
    with av.open(str(out)) as container:
        extradata = container.streams.video[0].codec_context.extradata
    assert demux([load(name)]).tracks[0].config == extradata


def test_byte_by_byte_gives_the_same_events(name: str, whole: Demuxed) -> None:
    data = load(name)
    one = demux(data[i:i + 1] for i in range(len(data)))
    assert (one.tracks, one.frames) == (whole.tracks, whole.frames)


@pytest.mark.parametrize("seed", range(3))
def test_random_splits_give_the_same_events(name: str, whole: Demuxed, seed: int) -> None:
    split = demux(random_splits(load(name), seed))
    assert (split.tracks, split.frames) == (whole.tracks, whole.frames)


def test_srt_live_transmit_chunks() -> None:
    data = load("h264_bframes_aac.ts")
    chunked = demux(data[i:i + 1456] for i in range(0, len(data), 1456))
    assert chunked.frames == demux([data]).frames


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(1, 4000), min_size=1, max_size=40))
def test_any_split_gives_the_same_events(sizes: list[int]) -> None:
    data = load("hevc_aac.ts")
    pieces, pos = [], 0
    for size in sizes:
        pieces.append(data[pos:pos + size])
        pos += size
    pieces.append(data[pos:])
    assert demux(pieces).frames == demux([data]).frames


def test_arrival_is_the_time_of_the_bytes_that_completed_the_frame() -> None:
    data = load("h264_bframes_aac.ts")
    demuxer = TsDemuxer()
    arrivals: dict[str, list[float]] = {"video": [], "audio": []}
    for index, piece in enumerate(random_splits(data, 7)):
        demuxer.receive_data(piece, now=float(index))
        while (event := demuxer.next_event()) is not None:
            if isinstance(event, FrameReceived):
                arrivals[event.frame.track.kind].append(event.frame.arrival)
    for kind in ("video", "audio"):
        assert arrivals[kind] == sorted(arrivals[kind]) and arrivals[kind][0] > 0
    assert len(set(arrivals["video"])) > 20
    assert len(set(arrivals["audio"])) >= 5  # ffmpeg packs about 16 AAC frames per PES


def test_flush_hands_on_the_last_video_frame() -> None:
    data = load("h264_bframes_aac.ts")
    unflushed = demux([data], flush=False)
    flushed = demux([data])
    assert len(flushed.of("video")) == len(unflushed.of("video")) + 1
    assert flushed.of("audio") == unflushed.of("audio")  # audio PES end by their length


def test_video_before_the_first_keyframe_is_dropped_and_counted() -> None:
    data = load("h264_bframes_aac.ts")
    all_video = demux([data]).of("video")
    # Start the stream at the first video PES after the first keyframe's.
    starts = [i for i, p in enumerate(packets(data)) if pid_of(p) == 0x100 and p[1] & 0x40]
    cut = b"".join(packets(data)[:3]) + b"".join(packets(data)[starts[1]:])
    late = demux([cut])
    video = late.of("video")
    assert video[0].keyframe and video[0] == all_video[15]  # the next GOP (-g 15)
    assert late.demuxer.dropped_frames == 14  # frames 1-14: no SPS/PPS nor keyframe yet


# -- losses ---------------------------------------------------------------------------------


def video_packet_indexes(data: bytes, pid: int) -> list[int]:
    return [i for i, p in enumerate(packets(data)) if pid_of(p) == pid and p[3] & 0x10]


def test_a_lost_packet_drops_one_pes_and_is_counted(name: str, whole: Demuxed) -> None:
    data = load(name)
    all_packets = packets(data)
    indexes = video_packet_indexes(data, VIDEO_PIDS[name])
    lost = indexes[len(indexes) // 2]
    if all_packets[lost][1] & 0x40:
        lost += 1  # lose the middle of a PES, not its start
    damaged = demux([b"".join(all_packets[:lost] + all_packets[lost + 1:])])
    counters = damaged.demuxer
    assert counters.cc_errors == 1 and counters.dropped_pes == 1
    assert len(damaged.of("video")) == len(whole.of("video")) - 1
    assert damaged.of("audio") == whole.of("audio")
    assert set(damaged.stamps("video")) < set(whole.stamps("video"))


def test_losing_a_pes_start_drops_it_and_the_one_it_ended() -> None:
    data = load("h264_bframes_aac.ts")
    all_packets = packets(data)
    starts = [i for i in video_packet_indexes(data, 0x100) if all_packets[i][1] & 0x40]
    lost = starts[10]
    damaged = demux([b"".join(all_packets[:lost] + all_packets[lost + 1:])])
    assert damaged.demuxer.cc_errors == 1
    # The PES before it was unbounded: whether it ended with the lost packet or lost its
    # tail cannot be told, so it goes too (counted); the headless one is never started.
    assert damaged.demuxer.dropped_pes == 1
    whole = demux([data]).of("video")
    assert damaged.of("video") == whole[:9] + whole[11:]


def test_losing_audio_drops_that_pes_frames_only() -> None:
    data = load("h264_bframes_aac.ts")
    whole = demux([data])
    all_packets = packets(data)
    audio = [i for i, p in enumerate(all_packets) if pid_of(p) == 0x101]
    damaged = demux([b"".join(p for i, p in enumerate(all_packets) if i != audio[5])])
    assert damaged.demuxer.cc_errors == 1 and damaged.demuxer.dropped_pes == 1
    assert 0 < len(whole.of("audio")) - len(damaged.of("audio")) <= 20  # one PES
    assert damaged.of("video") == whole.of("video")


def test_a_duplicated_packet_is_dropped_silently_but_counted() -> None:
    data = load("h264_bframes_aac.ts")
    all_packets = packets(data)
    index = video_packet_indexes(data, 0x100)[30]
    damaged = demux([b"".join(all_packets[:index + 1] + all_packets[index:])])
    assert damaged.demuxer.duplicate_packets == 1 and damaged.demuxer.cc_errors == 0
    assert damaged.frames == demux([data]).frames


def test_a_transport_error_packet_is_dropped_and_its_pes_with_it() -> None:
    data = bytearray(load("h264_bframes_aac.ts"))
    index = video_packet_indexes(bytes(data), 0x100)[40]
    if data[index * PACKET + 1] & 0x40:
        index += 1
    data[index * PACKET + 1] |= 0x80
    damaged = demux([bytes(data)])
    assert damaged.demuxer.transport_errors == 1
    assert damaged.demuxer.cc_errors == 1  # the next packet on the PID sees the gap
    assert damaged.demuxer.dropped_pes == 1


def test_garbage_between_packets_is_skipped_by_resync(name: str, whole: Demuxed) -> None:
    data = load(name)
    cut = PACKET * 50
    garbage = b"\x00\x47\x12garbage\x47" + bytes(range(256)) * 2
    damaged = demux([data[:cut] + garbage + data[cut:]])
    assert damaged.demuxer.resyncs == 1
    assert damaged.demuxer.skipped_bytes == len(garbage)
    assert damaged.frames == whole.frames


def test_a_lost_srt_chunk_of_unaligned_payload_is_recovered_from() -> None:
    """srt-live-transmit sends 1456-byte payloads that cut TS packets: losing one leaves the
    next payload starting mid-packet."""
    data = load("h264_bframes_aac.ts")
    chunks = [data[i:i + 1456] for i in range(0, len(data), 1456)]
    damaged = demux(chunks[:12] + chunks[13:])
    whole = demux([data])
    assert damaged.demuxer.resyncs == 1 and damaged.demuxer.cc_errors >= 1
    assert len(whole.frames) - 12 <= len(damaged.frames) < len(whole.frames)
    assert damaged.frames[-40:] == whole.frames[-40:]


def test_no_sync_in_64_kib_is_not_a_transport_stream() -> None:
    demuxer = TsDemuxer()
    demuxer.receive_data(load("h264_bframes_aac.ts")[:PACKET * 10])
    with pytest.raises(MpegTsError) as raised:
        for _ in range(100):
            demuxer.receive_data(bytes(1316))
    assert raised.value.code == "no_sync"


def test_an_oversized_pes_is_dropped_and_counted() -> None:
    data = load("h264_bframes_aac.ts")
    whole = demux([data])
    small = demux([data], max_pes_size=2000)
    assert small.demuxer.oversized_pes > 0
    assert small.demuxer.dropped_pes == small.demuxer.oversized_pes
    assert {f.payload for f in small.of("video")} <= {f.payload for f in whole.of("video")}
    assert len(small.of("video")) < len(whole.of("video"))


# -- timestamps -----------------------------------------------------------------------------


def test_timestamps_continue_across_the_33_bit_wrap(tmp_path: Path) -> None:
    data = load("h264_bframes_aac.ts")
    whole = demux([data])
    first = whole.of("video")[0].dts
    offset = WRAP - 90000 - first  # one second before the wrap
    shifted = demux([shift_timestamps(data, offset)])
    video = shifted.stamps("video")
    assert video == [(p + offset, d + offset, k) for p, d, k in whole.stamps("video")]
    assert video[0][1] < WRAP < video[-1][1]
    audio = [f.pts for f in shifted.of("audio")]
    expected = [f.pts + offset for f in whole.of("audio")]
    # The frames after the first in a PES lie on the 1024-sample grid counted from 0, which
    # moves with the offset (44.1 kHz frames are not whole 90 kHz ticks).
    assert all(abs(a - e) <= 1 for a, e in zip(audio, expected, strict=True))
    assert audio == sorted(audio) and audio[0] < WRAP < audio[-1]
    if (ffprobe := shutil.which("ffprobe")) is not None:
        path = tmp_path / "wrapped.ts"
        path.write_bytes(shift_timestamps(data, offset))
        # ffprobe keeps continuity by putting the part before the wrap below zero.
        probed = probe(path)
        assert video == [(p + WRAP, d + WRAP, k) for p, d, k in probed["video"]], ffprobe


def test_audio_starting_after_the_wrap_is_placed_past_it() -> None:
    data = load("hevc_aac.ts")
    whole = demux([data])
    offset = WRAP - 5000 - whole.of("video")[0].dts  # video starts before the wrap, audio after
    shifted = demux([shift_timestamps(data, offset)])
    assert shifted.stamps("video") == [(p + offset, d + offset, k)
                                       for p, d, k in whole.stamps("video")]
    # 48 kHz frames are exactly 1920 ticks: no grid effect, an exact shift.
    assert [f.pts for f in shifted.of("audio")] == [f.pts + offset for f in whole.of("audio")]


# -- fuzzing --------------------------------------------------------------------------------


def _drain_all(demuxer: TsDemuxer, last_dts: dict[str, int] | None = None) -> None:
    """Take every event, checking what downstream relies on even for damaged input."""
    last_dts = {} if last_dts is None else last_dts
    while (event := demuxer.next_event()) is not None:
        if isinstance(event, FrameReceived):
            frame = event.frame
            kind = frame.track.kind
            assert frame.dts >= last_dts.get(kind, -1) and frame.pts >= frame.dts
            assert frame.payload
            last_dts[kind] = frame.dts
        else:
            assert isinstance(event, TrackAnnounced)


@settings(max_examples=300)
@given(st.binary(max_size=3000))
def test_random_bytes_raise_only_protocol_errors(data: bytes) -> None:
    demuxer = TsDemuxer()
    try:
        demuxer.receive_data(data)
        demuxer.flush()
    except ProtocolError:
        pass
    _drain_all(demuxer)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    name = draw(st.sampled_from(FIXTURE_NAMES))
    data = bytearray(load(name)[:PACKET * 150])
    for _ in range(draw(st.integers(1, 30))):
        pos = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["set", "xor", "delete", "insert"]))
        if action == "set":
            data[pos] = draw(st.integers(0, 255))
        elif action == "xor":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif action == "delete":
            del data[pos:pos + draw(st.integers(1, 300))]
        else:
            data[pos:pos] = draw(st.binary(min_size=1, max_size=300))
        if not data:
            data = bytearray(b"\x47")
    return name, bytes(data)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(), st.integers(1, 2000))
def test_mutated_streams_raise_only_protocol_errors(case: tuple[str, bytes],
                                                    chunk: int) -> None:
    _, data = case
    demuxer = TsDemuxer()
    last_dts: dict[str, int] = {}
    try:
        for pos in range(0, len(data), chunk):
            demuxer.receive_data(data[pos:pos + chunk])
            _drain_all(demuxer, last_dts)
        demuxer.flush()
    except ProtocolError:
        pass
    _drain_all(demuxer, last_dts)
