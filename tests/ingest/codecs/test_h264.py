"""H.264: SPS parsing across x264's variety, the avcC both ways (checked against what
ffmpeg writes), the codec string, the normaliser and Annex B for byte-stream readers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ingest.codecs.bits import BitstreamError
from ingest.codecs.h264 import (
    DEFAULT_CODEC_STRING,
    H264Normaliser,
    codec_string,
    config_record,
    parse_sps,
    pps_id,
    read_config_record,
    to_annex_b,
)
from ingest.codecs.nal import split_annex_b, split_length_prefixed
from ingest.media import TrackInfo
from tests.ingest.codecs.codecs_testing import (
    decoded_sizes,
    encode,
    normalise,
    prefixed,
    probed_video,
)
from tests.ingest.mpegts.mpegts_testing import (
    FIXTURES,
    annex_b,
    demux,
    load,
    nal_units,
    record_nals,
)
from tests.peers_testing import require_tool

# avcC of ffmpeg 5.1/libx264 at 160x120 (High, level 1.2); its SPS has an emulation-prevention
# byte (00 00 03).
AVCC = bytes.fromhex(
    "0164000cffe100196764000cacd942847e5c0440000003004000000783c50a658001000468efbcb0fdf8f800")
AUD = b"\x09\xf0"


def new() -> H264Normaliser:
    return H264Normaliser(0, 90000)


def access_unit(normaliser: H264Normaliser, nals: list[bytes]
                ) -> tuple[list[bytes], bool, TrackInfo | None]:
    sample, key, track, _ = normalise(normaliser, list(split_annex_b(annex_b(nals))))
    return sample, key, track


@pytest.fixture(scope="module")
def h264_units() -> tuple[TrackInfo, list[list[bytes]]]:
    """The H.264 fixture's track and its access units as NAL lists (SPS/PPS put back in
    front of the IDR, with an AUD, as ffmpeg muxes them)."""
    video = demux([load("h264_bframes_aac.ts")]).of("video")
    track = video[0].track
    units = [nal_units(f) for f in video]
    units[0] = [AUD, *record_nals(track.config, False), *units[0]]
    return track, units


# -- parameter sets -------------------------------------------------------------------------

def test_sps_with_emulation_prevention() -> None:
    sps = AVCC[8:8 + 25]
    assert b"\x00\x00\x03" in sps
    info = parse_sps(sps)
    assert (info.width, info.height, info.sps_id, info.chroma_format_idc) == (160, 120, 0, 1)


@pytest.mark.parametrize(("width", "height", "pix_fmt", "params", "profile", "depths"), [
    (1920, 1080, "yuv420p", "", 0x64, (1, 0, 0)),            # cropping 1088 -> 1080
    (176, 144, "yuv420p", "cqm=jvt", 0x64, (1, 0, 0)),        # scaling lists in the SPS
    (320, 240, "yuv420p", "interlaced=1", 0x64, (1, 0, 0)),   # frame_mbs_only_flag = 0
    (322, 242, "yuv422p", "", 0x7A, (2, 0, 0)),               # 4:2:2 crop units
    (321, 241, "yuv444p", "", 0xF4, (3, 0, 0)),               # 4:4:4, odd sizes
    (320, 240, "yuv420p10le", "", 0x6E, (1, 2, 2)),           # High 10
])
def test_sps_of_x264(width: int, height: int, pix_fmt: str, params: str, profile: int,
                     depths: tuple[int, int, int]) -> None:
    options = {"x264-params": f"annexb=0:{params}".rstrip(":")}
    extradata, _ = encode("libx264", width, height, 1, pix_fmt=pix_fmt, options=options)
    record = read_config_record(extradata)
    [sps], [pps] = record.sps, record.pps
    info = parse_sps(sps)
    assert (info.width, info.height) == (width, height)
    assert (info.chroma_format_idc, info.bit_depth_luma_minus8,
            info.bit_depth_chroma_minus8) == depths
    assert pps_id(pps) == 0 and sps[1] == profile
    # The record we would build from those sets is the one x264/ffmpeg wrote.
    assert config_record([sps], [pps], info) == extradata
    assert codec_string(extradata) == f"avc1.{profile:02x}{sps[2]:02x}{sps[3]:02x}"


def test_codec_string_fields_are_what_ffprobe_reports() -> None:
    out = probed_video(FIXTURES / "h264_bframes_aac.ts")
    track = demux([load("h264_bframes_aac.ts")]).tracks[0]
    assert out["profile"] == "High" and track.codec_string == f"avc1.6400{out['level']:02x}"
    assert codec_string(b"") == codec_string(b"\x01\x64") == DEFAULT_CODEC_STRING


def test_avcc_is_what_ffmpeg_writes_for_mp4(tmp_path: Path) -> None:
    """The record built from in-band parameter sets (MPEG-TS) equals ffmpeg's own avcC."""
    av = pytest.importorskip("av")
    out = tmp_path / "remux.mp4"
    subprocess.run([require_tool("ffmpeg"), "-v", "error", "-i",
                    str(FIXTURES / "h264_bframes_aac.ts"), "-map", "0:v", "-c", "copy",
                    str(out)], check=True)
    with av.open(str(out)) as container:
        extradata = container.streams.video[0].codec_context.extradata
    assert demux([load("h264_bframes_aac.ts")]).tracks[0].config == extradata


def test_avcc_layout(h264_units: tuple[TrackInfo, list[list[bytes]]]) -> None:
    track, _ = h264_units
    sps, pps = record_nals(track.config, False)
    config = config_record([sps], [pps], parse_sps(sps))
    assert config == track.config
    assert config[:6] == bytes((1, sps[1], sps[2], sps[3], 0xFF, 0xE1))
    assert config[-4:] == b"\xfd\xf8\xf8\x00"  # High: 4:2:0, 8-bit luma and chroma
    baseline = b"\x67\x42\xc0\x0d" + sps[4:]  # profile 66: no chroma/bit-depth tail
    assert config_record([baseline], [pps], parse_sps(sps))[-len(pps):] == pps
    read = read_config_record(config)
    assert (read.length_size, read.sps, read.pps) == (4, [sps], [pps])


def test_read_config_record_is_lenient_past_the_fixed_fields() -> None:
    assert read_config_record(AVCC[:-6]).pps == []  # the PPS is cut short (tail: 4 bytes)
    assert read_config_record(AVCC[:7]).sps == []
    with pytest.raises(BitstreamError):
        read_config_record(AVCC[:6])


# -- the normaliser -------------------------------------------------------------------------

def test_parameter_sets_leave_the_sample_for_the_record(
        h264_units: tuple[TrackInfo, list[list[bytes]]]) -> None:
    track, units = h264_units
    normaliser = new()
    sample, key, announced = access_unit(normaliser, units[0])
    assert key and announced == track and normaliser.track == track
    kinds = [n[0] & 0x1F for n in sample]
    assert 5 in kinds and not {7, 8, 9} & set(kinds)
    sample, key, announced = access_unit(normaliser, units[1])
    assert not key and announced is None and sample == units[1]
    # The same parameter sets again (every IDR carries them): nothing new to announce.
    assert access_unit(normaliser, units[0])[2] is None


def test_without_pps_there_is_no_track(h264_units: tuple[TrackInfo, list[list[bytes]]]
                                       ) -> None:
    _, units = h264_units
    normaliser = new()
    _, key, announced = access_unit(normaliser, [n for n in units[0] if n[0] & 0x1F != 8])
    assert key and announced is None and normaliser.track is None


def test_a_changed_sps_announces_a_new_track(
        h264_units: tuple[TrackInfo, list[list[bytes]]]) -> None:
    _, units = h264_units
    other = demux([load("h264_cbr_variety.ts")]).tracks[0]
    normaliser = new()
    access_unit(normaliser, units[0])
    _, _, announced = access_unit(normaliser, record_nals(other.config, False))
    assert announced == other and (announced.width, announced.height) == (176, 100)


def test_several_pps_all_go_into_the_record(
        h264_units: tuple[TrackInfo, list[list[bytes]]]) -> None:
    track, _ = h264_units
    sps, pps = record_nals(track.config, False)
    pps_1 = b"\x68\x5b\xef\x2c"  # the same PPS with pic_parameter_set_id 1 (ue "010")
    assert pps == b"\x68\xef\xbc\xb0" and pps_id(pps_1) == 1
    normaliser = new()
    access_unit(normaliser, [sps, pps, pps_1])
    assert normaliser.track is not None
    assert record_nals(normaliser.track.config, False) == [sps, pps, pps_1]
    assert normaliser.track.config[5] == 0xE1 and normaliser.track.config[6 + 2 + len(sps)] == 2


def test_an_unreadable_sps_stays_in_the_sample_and_is_counted() -> None:
    broken = b"\x67\x64\x01"  # cut after the profile bytes
    sample, _, announced, errors = normalise(new(), [broken, b"\x65\x88\x84"])
    assert sample == [broken, b"\x65\x88\x84"] and announced is None and errors == 1


def test_delimiters_filler_and_empty_units_are_dropped_sei_stays() -> None:
    sei, idr = b"\x06\x05\x01\x00\x80", b"\x65\x88\x84"
    sample, key, _, _ = normalise(new(), [AUD, b"", sei, b"\x0c\xff\xff\x80", idr])
    assert sample == [sei, idr] and key


def test_configure_from_a_sequence_header_then_in_band_sets() -> None:
    """What an RTMP publisher sends: the avcC first, then samples that may repeat or change
    the parameter sets in-band (OBS with repeat-headers, an encoder reconfigured)."""
    sps, pps = record_nals(AVCC, False)
    record = bytearray(AVCC)
    record[4] = 0xFD  # lengthSizeMinusOne = 1
    normaliser = H264Normaliser(0, 1000)
    track = normaliser.configure(bytes(record))
    assert (track.width, track.height, track.timescale) == (160, 120, 1000)
    assert track.config == AVCC and normaliser.length_size == 2
    assert track.codec_string == "avc1.64000c"
    idr = b"\x65" + bytes(range(1, 200))
    nals = split_length_prefixed(prefixed([AUD, sps, pps, idr], 2), normaliser.length_size)
    sample, key, announced, _ = normalise(normaliser, list(nals))
    assert sample == [idr] and key and announced is None  # the same sets: nothing new
    other = demux([load("h264_cbr_variety.ts")]).tracks[0]
    sample, _, announced, _ = normalise(normaliser, [*record_nals(other.config, False), idr])
    assert sample == [idr] and announced is not None
    assert (announced.width, announced.height, announced.timescale) == (176, 100, 1000)


def test_configure_keeps_the_given_size_when_no_sps_parses() -> None:
    track = new().configure(AVCC[:6] + b"\x00", 640, 360)  # no SPS at all
    assert (track.width, track.height) == (640, 360)
    with pytest.raises(BitstreamError):
        new().configure(b"\x01\x64\x00")


# -- Annex B for byte-stream readers --------------------------------------------------------

def test_to_annex_b_puts_parameter_sets_before_each_idr_and_decodes() -> None:
    extradata, packets = encode("libx264", 160, 120, 30,
                                options={"x264-params": "annexb=0:keyint=10"})
    samples = [data for data, _ in packets]
    streams = [to_annex_b(sample, extradata) for sample in samples]
    sps, pps = record_nals(extradata, False)
    for stream, (_, key) in zip(streams, packets, strict=True):
        nals = [bytes(n) for n in split_annex_b(stream)]
        assert (nals[:2] == [sps, pps]) == key
    # A byte-stream decoder without extradata, joining at the second keyframe.
    second = [i for i, (_, key) in enumerate(packets) if key][1]
    assert decoded_sizes("h264", None, streams[second:]) == [(160, 120)] * (30 - second)
    # And back: the normaliser takes the sets out again, leaving the samples as they were.
    normaliser = new()
    normaliser.configure(extradata)
    for stream, sample in zip(streams, samples, strict=True):
        unit = normaliser.access_unit(split_annex_b(stream))
        assert unit.sample() == sample and unit.track is None
