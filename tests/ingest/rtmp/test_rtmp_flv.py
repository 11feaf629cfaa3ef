"""FLV bodies → TrackInfo/Frame: real encoder output (PyAV) and hand-built E-RTMP packets."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.codecs.aac import read_audio_specific_config
from ingest.errors import ProtocolError
from ingest.media import Frame, TrackInfo
from ingest.rtmp.events import FrameReceived, RtmpEvent, TrackAnnounced
from ingest.rtmp.flv import FlvDemuxer
from tests.ingest.codecs.codecs_testing import mux
from tests.ingest.mpegts.mpegts_testing import record_nals

av = pytest.importorskip("av")

AVCC = bytes.fromhex(
    "0164000cffe100196764000cacd942847e5c0440000003004000000783c50a658001000468efbcb0fdf8f800")


def pyav_flv(codec: str, width: int, height: int, pix_fmt: str = "yuv420p",
             options: dict[str, str] | None = None, frames: int = 1) -> bytes:
    return mux(codec, width, height, frames, container="flv", pix_fmt=pix_fmt,
               options=options)


def flv_tags(data: bytes) -> list[tuple[int, int, bytes]]:
    """(type, timestamp, body) of each FLV tag."""
    tags = []
    pos = 13
    while pos + 11 <= len(data):
        size = int.from_bytes(data[pos + 1:pos + 4], "big")
        ts = int.from_bytes(data[pos + 4:pos + 7], "big") | data[pos + 7] << 24
        tags.append((data[pos], ts, data[pos + 11:pos + 11 + size]))
        pos += 11 + size + 4
    return tags


def demux(tags: list[tuple[int, int, bytes]], demuxer: FlvDemuxer | None = None
          ) -> list[RtmpEvent]:
    demuxer = demuxer or FlvDemuxer()
    events: list[RtmpEvent] = []
    for type_id, ts, body in tags:
        if type_id == 9:
            events += demuxer.video(ts, body, 1.5)
        elif type_id == 8:
            events += demuxer.audio(ts, body, 1.5)
    return events


def tracks(events: list[RtmpEvent]) -> list[TrackInfo]:
    return [e.track for e in events if isinstance(e, TrackAnnounced)]


def frames(events: list[RtmpEvent]) -> list[Frame]:
    return [e.frame for e in events if isinstance(e, FrameReceived)]


def decode_all(codec: str, track: TrackInfo, payloads: list[Frame]) -> list[tuple[int, int]]:
    """Decode with FFmpeg: proves config + payloads are what a real decoder wants."""
    ctx = av.CodecContext.create(codec, "r")
    ctx.extradata = track.config
    sizes = []
    for f in payloads:
        sizes += [(p.width, p.height) for p in ctx.decode(av.Packet(f.payload))]
    sizes += [(p.width, p.height) for p in ctx.decode(None)]
    return sizes


# -- H.264 ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("width", "height", "pix_fmt", "params", "profile"), [
    (1920, 1080, "yuv420p", "", 0x64),            # cropping 1088 -> 1080
    (320, 240, "yuv420p", "", 0x64),
    (176, 144, "yuv420p", "cqm=jvt", 0x64),        # scaling lists in the SPS
    (320, 240, "yuv420p", "interlaced=1", 0x64),   # frame_mbs_only_flag = 0
    (322, 242, "yuv422p", "", 0x7A),               # 4:2:2 crop units
    (321, 241, "yuv444p", "", 0xF4),               # 4:4:4, odd sizes
    (64, 64, "yuv420p", "bframes=0:cabac=0", 0x42),  # Baseline-ish
])
def test_h264_sequence_header_from_x264(width: int, height: int, pix_fmt: str, params: str,
                                         profile: int) -> None:
    options = {"x264-params": params} if params else {}
    if profile == 0x42:
        options["profile"] = "baseline"
    data = pyav_flv("libx264", width, height, pix_fmt, options, frames=3)
    events = demux(flv_tags(data))
    [track] = tracks(events)
    assert (track.codec, track.kind, track.track_id, track.timescale) == ("h264", "video", 0,
                                                                         1000)
    assert (track.width, track.height) == (width, height)
    assert track.codec_string == f"avc1.{track.config[1:4].hex()}"
    assert track.config[1] == profile
    got = frames(events)
    assert len(got) == 3 and got[0].keyframe and got[0].arrival == 1.5
    assert decode_all("h264", track, got) == [(width, height)] * 3


def avc_frame(key: bool, cts: int, nalus: list[bytes], length_size: int = 4) -> bytes:
    body = bytes([0x17 if key else 0x27, 1]) + cts.to_bytes(3, "big", signed=True)
    return body + b"".join(len(n).to_bytes(length_size, "big") + n for n in nalus)


SEQ = b"\x17\x00\x00\x00\x00" + AVCC


def test_nal_length_size_converted_to_4_bytes() -> None:
    avcc = bytearray(AVCC)
    avcc[4] = 0xFD  # lengthSizeMinusOne = 1
    events = demux([(9, 0, b"\x17\x00\x00\x00\x00" + bytes(avcc)),
                    (9, 0, avc_frame(True, 0, [b"\x65abc", b"\x06d"], length_size=2))])
    [track] = tracks(events)
    assert track.config[4] == 0xFF and track.config[5:] == AVCC[5:]
    assert frames(events)[0].payload == b"\x00\x00\x00\x04\x65abc\x00\x00\x00\x02\x06d"


@pytest.mark.parametrize("body", [
    avc_frame(True, 0, [b"\x65abc"])[:-1],              # NAL overruns the message
    avc_frame(True, 0, [b"\x65abc"]) + b"\x00\x00",     # trailing partial length
    b"\x17\x01\x00",                                     # header truncated
])
def test_malformed_avc_frames(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        demux([(9, 0, SEQ), (9, 0, body)])


def test_short_avc_config_is_an_error() -> None:
    with pytest.raises(ProtocolError):
        demux([(9, 0, b"\x17\x00\x00\x00\x00\x01\x64")])


def test_inter_frames_before_first_keyframe_are_dropped() -> None:
    events = demux([(9, 0, SEQ), (9, 0, avc_frame(False, 0, [b"\x41a"])),
                    (9, 40, avc_frame(True, 0, [b"\x65b"])),
                    (9, 80, avc_frame(False, 0, [b"\x41c"]))])
    assert [(f.dts, f.keyframe) for f in frames(events)] == [(40, True), (80, False)]


def test_frames_before_sequence_header_are_dropped() -> None:
    assert frames(demux([(9, 0, avc_frame(True, 0, [b"\x65a"])),
                         (8, 0, b"\xaf\x01abc")])) == []


def test_timestamps_extend_across_32bit_wrap() -> None:
    stamps = [0xFFFFFF00, 0xFFFFFFF0, 0x10, 0x100, 0x7FFFFFFF, 0x80000010]
    events = demux([(9, 0, SEQ)] + [(9, ts, avc_frame(True, 5, [b"\x65x"])) for ts in stamps])
    base = 0xFFFFFF00
    expected = [base, base + 0xF0, base + 0x110, base + 0x200, (1 << 32) + 0x7FFFFFFF,
                (1 << 32) + 0x80000010]
    assert [f.dts for f in frames(events)] == expected
    assert [f.pts - f.dts for f in frames(events)] == [5] * 6


def test_backwards_dts_clamped_and_pts_not_below_dts() -> None:
    events = demux([(9, 0, SEQ), (9, 1000, avc_frame(True, 0, [b"\x65a"])),
                    (9, 900, avc_frame(False, 50, [b"\x41b"])),
                    (9, 950, avc_frame(False, -200, [b"\x41c"])),
                    (9, 1100, avc_frame(False, 0, [b"\x41d"]))])
    assert [(f.dts, f.pts) for f in frames(events)] == [(1000, 1000), (1000, 1000),
                                                         (1000, 1000), (1100, 1100)]


def test_repeated_identical_sequence_header_announces_once() -> None:
    events = demux([(9, 0, SEQ), (9, 0, avc_frame(True, 0, [b"\x65a"])), (9, 40, SEQ)])
    assert len(tracks(events)) == 1


def test_h264_is_normalised_like_every_ingest() -> None:
    """AUDs leave the samples; in-band parameter sets move into the record: the ones the
    sequence header gave are dropped silently, changed ones announce a new track that the
    frame refers to."""
    sps, pps = AVCC[8:8 + 25], AVCC[-8:-4]
    assert (sps[0], pps[0]) == (0x67, 0x68)
    # libx264 at 320x240 (High, level 1.3): another size, so another record and track.
    other_sps = bytes.fromhex("6764000dacd94141fa1000000300100000030320f1429960")
    other_pps = bytes.fromhex("68ebe3cb22c0")
    events = demux([(9, 0, SEQ),
                    (9, 0, avc_frame(True, 0, [b"\x09\xf0", sps, pps, b"\x06d", b"\x65a"])),
                    (9, 40, avc_frame(False, 0, [b"\x09\xf0"])),  # a delimiter alone
                    (9, 80, avc_frame(True, 0, [other_sps, other_pps, b"\x65b"]))])
    first, second = tracks(events)
    assert (first.width, first.height) == (160, 120)
    assert (second.width, second.height) == (320, 240) and second.config != first.config
    got = frames(events)
    assert [(f.dts, f.payload, f.track) for f in got] == [
        (0, b"\x00\x00\x00\x02\x06d\x00\x00\x00\x02\x65a", first),
        (80, b"\x00\x00\x00\x02\x65b", second)]
    assert isinstance(events[-2], TrackAnnounced) and events[-2].track == second


def test_metadata_size_is_the_fallback() -> None:
    demuxer = FlvDemuxer()
    demuxer.set_metadata({"width": 640.0, "height": 360.0})
    avcc = AVCC[:6] + b"\x00"  # no SPS at all
    [track] = tracks(demux([(9, 0, b"\x17\x00\x00\x00\x00" + avcc + b"\x00")], demuxer))
    assert (track.width, track.height) == (640, 360)


# -- AAC / Opus -----------------------------------------------------------------------------

def bits(text: str) -> bytes:
    text = text.replace(" ", "")
    text += "0" * (-len(text) % 8)
    return int(text, 2).to_bytes(len(text) // 8, "big")


@pytest.mark.parametrize(("asc", "expected", "codec_string"), [
    (bytes.fromhex("1210"), (2, 44100, 2), "mp4a.40.2"),
    (bytes.fromhex("1190"), (2, 48000, 2), "mp4a.40.2"),
    (bytes.fromhex("1188"), (2, 48000, 1), "mp4a.40.2"),
    (bytes.fromhex("138856e500"), (2, 22050, 1), "mp4a.40.2"),  # ffmpeg's SBR sync ext
    (bytes.fromhex("11b8"), (2, 48000, 8), "mp4a.40.2"),        # 7.1
    # SBR, 24 kHz core, stereo, 48 kHz extension rate, then AOT 2
    (bits("00101 0110 0010 0011 00010"), (5, 48000, 2), "mp4a.40.5"),
    (bits("00010 1111" + f"{48000:024b}" + "0010"), (2, 48000, 2), "mp4a.40.2"),  # explicit
    (bits("11111 000001 0100 0010"), (33, 44100, 2), "mp4a.40.33"),  # escaped object type
])
def test_aac_sequence_header(asc: bytes, expected: tuple[int, int, int],
                             codec_string: str) -> None:
    assert read_audio_specific_config(asc) == expected
    events = demux([(8, 0, b"\xaf\x00" + asc), (8, 23, b"\xaf\x01frame")])
    [track] = tracks(events)
    assert (track.codec, track.track_id, track.sample_rate, track.channels) == (
        "aac", 1, expected[1], expected[2])
    assert track.codec_string == codec_string and track.config == asc
    [frame] = frames(events)
    assert (frame.dts, frame.pts, frame.keyframe, frame.payload) == (23, 23, True, b"frame")


@pytest.mark.parametrize("asc", [b"", b"\x12", bytes.fromhex("1690")])  # truncated; index 13
def test_bad_audio_specific_config(asc: bytes) -> None:
    with pytest.raises(ProtocolError):
        demux([(8, 0, b"\xaf\x00" + asc)])


OPUS_HEAD = b"OpusHead\x01\x02\x38\x01\x80\xbb\x00\x00\x00\x00\x00"


def test_ex_audio_opus_and_mp4a() -> None:
    events = demux([(8, 0, b"\x90Opus" + OPUS_HEAD), (8, 0, b"\x94Opus\x01\x02\x00\x00\x00\x03"),
                    (8, 20, b"\x91Opus\xfc\xff\xfe")])
    [track] = tracks(events)
    assert (track.codec, track.codec_string, track.channels, track.sample_rate) == (
        "opus", "opus", 2, 48000)
    assert [f.payload for f in frames(events)] == [b"\xfc\xff\xfe"]
    events = demux([(8, 0, b"\x90mp4a\x11\x90"), (8, 21, b"\x91mp4aAU")])
    assert tracks(events)[0].codec == "aac" and frames(events)[0].payload == b"AU"


def test_ex_audio_multitrack_takes_track_zero() -> None:
    one = b"\x95" + bytes([0x00 << 4 | 0]) + b"Opus"
    events = demux([(8, 0, one + b"\x01" + OPUS_HEAD.replace(b"\x02\x38", b"\x06\x38")),
                    (8, 0, one + b"\x00" + OPUS_HEAD),
                    (8, 20, b"\x95" + bytes([0x01 << 4 | 1]) + b"Opus" + b"\x01\x00\x00\x02zz"
                     + b"\x00\x00\x00\x02ok")])
    [track] = tracks(events)
    assert track.channels == 2
    assert [f.payload for f in frames(events)] == [b"ok"]


@pytest.mark.parametrize("body", [b"\x2f\x00", b"\xbf\x00\x01", b"\x90fLaCxxxx", b"\x91.mp3x"])
def test_unsupported_audio_is_ignored(body: bytes) -> None:
    assert demux([(8, 0, body)]) == []


# -- Enhanced RTMP video --------------------------------------------------------------------

@pytest.fixture(scope="module")
def hevc_tags() -> list[tuple[int, int, bytes]]:
    data = pyav_flv("libx265", 322, 242, options={
        "x265-params": "log-level=error:keyint=5:bframes=2"}, frames=6)
    return flv_tags(data)


def test_hevc_from_x265(hevc_tags: list[tuple[int, int, bytes]]) -> None:
    events = demux(hevc_tags)
    [track] = tracks(events)
    assert (track.codec, track.width, track.height) == ("hevc", 322, 242)
    assert track.codec_string.startswith("hvc1.1.6.L") and track.codec_string.endswith(".90")
    assert track.config[21] & 3 == 3
    got = frames(events)
    assert len(got) == 6 and got[0].keyframe
    assert any(f.pts != f.dts for f in got), "B-frames carry composition times"
    assert decode_all("hevc", track, got) == [(322, 242)] * 6


@pytest.mark.parametrize(("width", "height", "pix_fmt", "params", "prefix"), [
    (1280, 720, "yuv420p", "temporal-layers=3", "hvc1.1.6.L93."),  # sub-layers in the PTL
    (322, 242, "yuv420p10le", "", "hvc1.2.4.L60."),                 # Main 10
    (322, 242, "yuv444p", "", "hvc1.4.10.L60."),                    # RExt, 4:4:4 crop units
])
def test_hevc_sps_variants(width: int, height: int, pix_fmt: str, params: str,
                           prefix: str) -> None:
    data = pyav_flv("libx265", width, height, pix_fmt,
                    {"x265-params": f"log-level=error:{params}"}, frames=1)
    [track] = tracks(demux(flv_tags(data)))
    assert (track.width, track.height) == (width, height)
    assert track.codec_string.startswith(prefix)


def hvcc_of(tags: list[tuple[int, int, bytes]]) -> bytes:
    return next(body[5:] for t, _, body in tags if t == 9 and body[0] == 0x90)


def nal(payload: bytes) -> bytes:
    return len(payload).to_bytes(4, "big") + payload


def ex(frame_type: int, packet_type: int) -> bytes:
    return bytes([0x80 | frame_type << 4 | packet_type])


def test_hevc_coded_frames_and_coded_frames_x(hevc_tags: list[tuple[int, int, bytes]]
                                              ) -> None:
    hvcc = hvcc_of(hevc_tags)
    events = demux([
        (9, 0, ex(1, 0) + b"hvc1" + hvcc),
        (9, 0, ex(2, 3) + b"hvc1" + nal(b"\x02\x01x")),              # inter before key
        (9, 10, ex(1, 1) + b"hvc1" + (80).to_bytes(3, "big") + nal(b"\x26\x01a")),
        (9, 43, ex(2, 3) + b"hvc1" + nal(b"\x02\x01b")),              # CodedFramesX: cts 0
        (9, 76, ex(2, 1) + b"hvc1" + (-33).to_bytes(3, "big", signed=True) + nal(b"\x02\x01c")),
        (9, 99, ex(1, 2) + b"hvc1"),                                  # SequenceEnd
        (9, 99, ex(5, 4) + b"hvc1" + b"\x02\x00\x09colorInfo\x03\x00\x00\x09"),  # Metadata
        (9, 99, ex(5, 1) + b"hvc1" + b"\x00"),                        # command frame
    ])
    assert [t.codec for t in tracks(events)] == ["hevc"]
    assert [(f.dts, f.pts, f.keyframe, f.payload[4:]) for f in frames(events)] == [
        (10, 90, True, b"\x26\x01a"), (43, 43, False, b"\x02\x01b"),
        (76, 76, False, b"\x02\x01c")]


def test_hevc_parameter_sets_only_in_the_record(hevc_tags: list[tuple[int, int, bytes]]
                                                ) -> None:
    """``hvc1`` wants VPS/SPS/PPS only in the hvcC: repeated in-band (x265 with
    repeat-headers, OBS), they leave the sample, and so does the AUD."""
    hvcc = hvcc_of(hevc_tags)
    in_band = [n for n in record_nals(hvcc, True) if n[0] >> 1 & 0x3F in (32, 33, 34)]
    assert len(in_band) == 3
    events = demux([(9, 0, ex(1, 0) + b"hvc1" + hvcc),
                    (9, 10, ex(1, 3) + b"hvc1" + b"".join(nal(n) for n in [
                        b"\x46\x01\x50", *in_band, b"\x26\x01a"]))])
    assert len(tracks(events)) == 1
    assert [f.payload for f in frames(events)] == [nal(b"\x26\x01a")]


def test_modex_timestamp_offset_nano_is_skipped(hevc_tags: list[tuple[int, int, bytes]]
                                                ) -> None:
    hvcc = hvcc_of(hevc_tags)
    nano = b"\x02" + (500_000).to_bytes(3, "big") + bytes([0 << 4 | 1])  # size-1, data, next
    big = b"\xff" + (299).to_bytes(2, "big") + bytes(300) + bytes([0 << 4 | 3])  # UI16 form
    events = demux([
        (9, 0, ex(1, 0) + b"hvc1" + hvcc),
        (9, 10, ex(1, 7) + nano + b"hvc1" + (5).to_bytes(3, "big") + nal(b"\x26\x01a")),
        (9, 20, ex(2, 7) + big + b"hvc1" + nal(b"\x02\x01b")),
    ])
    assert [(f.dts, f.pts, f.payload[4:]) for f in frames(events)] == [
        (10, 15, b"\x26\x01a"), (20, 20, b"\x02\x01b")]


def test_video_multitrack_takes_track_zero(hevc_tags: list[tuple[int, int, bytes]]) -> None:
    hvcc = hvcc_of(hevc_tags)
    frame_a = (0).to_bytes(3, "big") + nal(b"\x26\x01a")
    frame_z = (0).to_bytes(3, "big") + nal(b"\x26\x01z")
    events = demux([
        (9, 0, ex(1, 6) + bytes([0x00 << 4 | 0]) + b"hvc1" + b"\x00" + hvcc),   # OneTrack
        (9, 0, ex(1, 6) + bytes([0x00 << 4 | 1]) + b"hvc1" + b"\x01" + frame_z),  # track 1
        (9, 10, ex(1, 6) + bytes([0x01 << 4 | 1]) + b"hvc1"                        # ManyTracks
         + b"\x02" + len(frame_z).to_bytes(3, "big") + frame_z
         + b"\x00" + len(frame_a).to_bytes(3, "big") + frame_a),
        (9, 20, ex(1, 6) + bytes([0x02 << 4 | 1])                                   # ManyCodecs
         + b"av01\x01" + (3).to_bytes(3, "big") + b"obu"
         + b"hvc1\x00" + len(frame_a).to_bytes(3, "big") + frame_a),
    ])
    assert len(tracks(events)) == 1
    assert [(f.dts, f.payload[4:]) for f in frames(events)] == [(10, b"\x26\x01a"),
                                                               (20, b"\x26\x01a")]


@pytest.mark.parametrize("body", [
    ex(1, 6) + bytes([0x00 << 4 | 6]) + b"hvc1\x00",               # nested multitrack
    ex(1, 6) + bytes([0x01 << 4 | 1]) + b"hvc1\x00\x00\x00\x09x",  # track overruns
    ex(1, 7) + b"\x05ab",                                            # ModEx truncated
    ex(1, 1) + b"hv",                                                # FourCC truncated
    ex(1, 1) + b"hvc1\x00",                                          # CTS truncated
])
def test_malformed_enhanced_video(body: bytes, hevc_tags: list[tuple[int, int, bytes]]) -> None:
    with pytest.raises(ProtocolError):
        demux([(9, 0, ex(1, 0) + b"hvc1" + hvcc_of(hevc_tags)), (9, 0, body)])


@pytest.mark.parametrize("body", [b"\x14\x00abc", b"\x22abc", ex(1, 0) + b"vp08xx",
                                  ex(1, 0) + b"vvc1xx", b"\x57\x00"])
def test_unsupported_video_is_ignored(body: bytes) -> None:
    assert demux([(9, 0, body)]) == []


def test_av1_from_svtav1() -> None:
    data = pyav_flv("libsvtav1", 322, 242, options={"svtav1-params": "svt-log-level=0"},
                    frames=4)
    events = demux(flv_tags(data))  # no onMetaData: the size comes from the sequence header
    [track] = tracks(events)
    assert (track.codec, track.width, track.height) == ("av1", 322, 242)
    assert track.codec_string.startswith("av01.0.") and track.codec_string.endswith("M.08")
    assert track.config[0] == 0x81
    got = frames(events)
    assert len(got) == 4 and got[0].keyframe and not got[1].keyframe
    assert all(f.pts == f.dts for f in got)


def test_av1_size_from_keyframe_when_record_has_no_sequence_header() -> None:
    tags = flv_tags(pyav_flv("libsvtav1", 322, 242, options={"svtav1-params": "svt-log-level=0"},
                             frames=2))
    tags = [(t, ts, body[:9] if t == 9 and body[0] == 0x90 else body) for t, ts, body in tags]
    announced = tracks(demux(tags))
    # Announced once its keyframe gives the size: a track without one cannot be packaged.
    assert [(t.width, t.height) for t in announced] == [(322, 242)]
    assert len(announced[0].config) == 4


def test_av1_codec_string_fields() -> None:
    av1c = bytes([0x81, 0x2D, 0xC0, 0x00])  # profile 1, level 13, high tier, 10-bit
    demuxer = FlvDemuxer()
    demuxer.set_metadata({"width": 640.0, "height": 360.0})  # the record has no size
    events = demux([(9, 0, ex(1, 0) + b"av01" + av1c)], demuxer)
    assert tracks(events)[0].codec_string == "av01.1.13H.10"


def test_vp9_size_from_first_keyframe() -> None:
    events = demux(flv_tags(pyav_flv("libvpx-vp9", 322, 242, frames=3)))
    announced = tracks(events)
    assert [(t.width, t.height) for t in announced] == [(322, 242)]
    assert announced[-1].codec == "vp9"
    assert announced[-1].codec_string == f"vp09.00.{announced[-1].config[1]:02d}.08"
    got = frames(events)
    assert len(got) == 3 and got[0].keyframe and got[0].track == announced[-1]


# -- hostile input --------------------------------------------------------------------------

@settings(max_examples=400, deadline=1000)
@given(st.binary(max_size=120), st.booleans(), st.integers(0, 0xFFFFFFFF))
def test_random_bodies_only_protocol_errors(body: bytes, video: bool, ts: int) -> None:
    demuxer = FlvDemuxer()
    assert len(demuxer.video(0, SEQ, 0.0)) == len(demuxer.audio(0, b"\xaf\x00\x12\x10", 0.0)) == 1
    try:
        if video:
            demuxer.video(ts, bytes([body[0] | 0x80]) + body[1:] if body else body, 0.0)
            demuxer.video(ts, body, 0.0)
        else:
            demuxer.audio(ts, body, 0.0)
            demuxer.audio(ts, b"\x90" + body, 0.0)
    except ProtocolError:
        pass
