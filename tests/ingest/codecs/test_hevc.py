"""HEVC: SPS parsing across x265's variety, the hvcC both ways (checked against what ffmpeg
writes for hvc1), the codec string, the normaliser and Annex B for byte-stream readers."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ingest.codecs.bits import BitstreamError
from ingest.codecs.hevc import (
    HevcNormaliser,
    codec_string,
    config_record,
    hevc_config,
    parse_sps,
    pps_id,
    read_config_record,
    to_annex_b,
    vps_id,
)
from ingest.codecs.nal import split_annex_b
from tests.ingest.codecs.codecs_testing import (
    decoded_sizes,
    encode,
    normalise,
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

AUD = b"\x46\x01\x50"


def new() -> HevcNormaliser:
    return HevcNormaliser(0, 90000)


def x265(width: int, height: int, frames: int, pix_fmt: str = "yuv420p", params: str = ""
         ) -> tuple[bytes, list[tuple[bytes, bool]]]:
    """x265 output: extradata and packets in Annex B (libx265 never writes an hvcC)."""
    return encode("libx265", width, height, frames, pix_fmt=pix_fmt,
                  options={"x265-params": f"log-level=error:{params}".rstrip(":")})


def sets_of(extradata: bytes) -> list[bytes]:
    return [bytes(n) for n in split_annex_b(extradata)]


# -- parameter sets -------------------------------------------------------------------------

@pytest.mark.parametrize(("width", "height", "pix_fmt", "params", "prefix"), [
    (1280, 720, "yuv420p", "temporal-layers=3", "hvc1.1.6.L93."),  # sub-layers in the PTL
    (322, 242, "yuv420p10le", "", "hvc1.2.4.L60."),                 # Main 10
    (322, 242, "yuv444p", "", "hvc1.4.10.L60."),                    # RExt, 4:4:4 crop units
    (160, 120, "yuv420p", "", "hvc1.1.6.L30."),
])
def test_sps_of_x265(width: int, height: int, pix_fmt: str, params: str, prefix: str) -> None:
    extradata, _ = x265(width, height, 1, pix_fmt, params)
    vps, sps, pps = (n for n in sets_of(extradata) if n[0] >> 1 & 0x3F in (32, 33, 34))
    info = parse_sps(sps)
    assert (info.width, info.height, info.sps_id) == (width, height, 0)
    assert (vps_id(vps), pps_id(pps)) == (0, 0)
    record = hevc_config(vps, sps, pps)
    assert config_record([vps], [sps], [pps], info) == record
    assert codec_string(record).startswith(prefix)
    assert read_config_record(record).nals == [vps, sps, pps]
    assert read_config_record(record).length_size == 4


def test_codec_strings() -> None:
    main = bytes([1, 0x01, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 93])
    assert codec_string(main) == "hvc1.1.6.L93.90"
    main10_high = bytes([1, 0x22, 0x20, 0, 0, 0, 0xB0, 0, 0, 0, 0, 0, 120])
    assert codec_string(main10_high) == "hvc1.2.4.H120.B0"
    space = bytes([1, 0x41, 0x60, 0, 0, 0, 0x90, 0x01, 0, 0, 0, 0, 93])
    assert codec_string(space) == "hvc1.A1.6.L93.90.1"
    assert codec_string(main, "hev1") == "hev1.1.6.L93.90"
    with pytest.raises(BitstreamError):
        codec_string(main[:12])


def test_codec_string_fields_are_what_ffprobe_reports() -> None:
    out = probed_video(FIXTURES / "hevc_aac.ts")
    track = demux([load("hevc_aac.ts")]).tracks[0]
    assert out["profile"] == "Main"  # general_profile_idc 1, compatible with 1 and 2
    assert track.codec_string == f"hvc1.1.6.L{out['level']}.90"


def test_hevc_parameter_sets_into_hvcc() -> None:
    video = demux([load("hevc_aac.ts")]).of("video")
    track = video[0].track
    vps, sps, pps = record_nals(track.config, True)
    assert [n[0] >> 1 & 0x3F for n in (vps, sps, pps)] == [32, 33, 34]
    assert hevc_config(vps, sps, pps) == track.config
    normaliser = new()
    idr = nal_units(video[0])
    sample, key, announced, _ = normalise(
        normaliser, list(split_annex_b(annex_b([AUD, vps, sps, pps, *idr]))))
    assert key and announced == track and sample == idr
    cra = next(f for f in video[1:] if f.keyframe)
    assert any(n[0] >> 1 & 0x3F == 21 for n in nal_units(cra))  # x265's open GOP: a CRA


def test_hvcc_is_what_ffmpeg_writes_for_hvc1(tmp_path: Path) -> None:
    av = pytest.importorskip("av")
    out = tmp_path / "remux.mp4"
    subprocess.run([require_tool("ffmpeg"), "-v", "error", "-i", str(FIXTURES / "hevc_aac.ts"),
                    "-map", "0:v", "-c", "copy", "-tag:v", "hvc1", str(out)], check=True)
    with av.open(str(out)) as container:
        extradata = container.streams.video[0].codec_context.extradata
    assert demux([load("hevc_aac.ts")]).tracks[0].config == extradata


def test_all_three_parameter_sets_are_needed() -> None:
    track = demux([load("hevc_aac.ts")]).tracks[0]
    vps, sps, pps = record_nals(track.config, True)
    normaliser = new()
    assert normalise(normaliser, [sps, pps])[2] is None
    assert normalise(normaliser, [vps])[2] == track


def test_other_layers_stay_in_the_sample_delimiters_go() -> None:
    track = demux([load("hevc_aac.ts")]).tracks[0]
    vps, sps, pps = record_nals(track.config, True)
    layer_1_sps = bytes([sps[0] | 1]) + sps[1:]  # nuh_layer_id 32
    filler = b"\x4c\x01\xff\xff\x80"
    sample, key, announced, _ = normalise(new(), [AUD, vps, sps, pps, layer_1_sps, filler, b"\x26"])
    assert sample == [layer_1_sps] and announced == track and not key  # b"\x26": no header


def test_configure_then_in_band_sets() -> None:
    extradata, _ = x265(160, 120, 1)
    vps, sps, pps = (n for n in sets_of(extradata) if n[0] >> 1 & 0x3F in (32, 33, 34))
    record = bytearray(hevc_config(vps, sps, pps))
    record[21] = record[21] & 0xFC | 1  # lengthSizeMinusOne = 1
    normaliser = HevcNormaliser(0, 1000)
    track = normaliser.configure(bytes(record))
    assert track.config == hevc_config(vps, sps, pps) and normaliser.length_size == 2
    assert (track.width, track.height, track.codec_string) == (160, 120, "hvc1.1.6.L30.90")
    idr = b"\x26\x01" + bytes(range(1, 100))
    sample, key, announced, _ = normalise(normaliser, [AUD, vps, sps, pps, idr])
    assert sample == [idr] and key and announced is None
    other, _ = x265(320, 240, 1)
    sample, _, announced, _ = normalise(normaliser, [*sets_of(other), idr])
    assert announced is not None and (announced.width, announced.height) == (320, 240)
    assert [n for n in sample if n[0] >> 1 & 0x3F != 39] == [idr]  # x265's SEI stays


def test_to_annex_b_puts_parameter_sets_before_each_irap_and_decodes() -> None:
    extradata, packets = x265(160, 120, 20, params="keyint=5:bframes=0")
    normaliser = new()
    samples = []
    for i, (data, _) in enumerate(packets):
        nals = list(split_annex_b((extradata if i == 0 else b"") + data))
        samples.append(normaliser.access_unit(nals).sample())
    assert normaliser.track is not None
    record = normaliser.track.config
    streams = [to_annex_b(sample, record) for sample in samples]
    keys = [i for i, (_, key) in enumerate(packets) if key]
    for i, stream in enumerate(streams):
        kinds = [n[0] >> 1 & 0x3F for n in split_annex_b(stream)]
        assert (kinds[:3] == [32, 33, 34]) == (i in keys)
    assert decoded_sizes("hevc", None, streams[keys[1]:]) == [(160, 120)] * (20 - keys[1])
    assert decoded_sizes("hevc", record, samples) == [(160, 120)] * 20
    for stream, sample in zip(streams, samples, strict=True):
        unit = normaliser.access_unit(split_annex_b(stream))
        assert unit.sample() == sample and unit.track is None
