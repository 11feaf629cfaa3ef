"""AV1 and VP9: picture sizes from sequence headers and keyframes (real encoder output),
their configuration records and codec strings, the frame normaliser that completes a track
lacking a size."""

from __future__ import annotations

import pytest

from ingest.codecs import av1, vp9
from ingest.codecs.av1 import Av1Normaliser
from ingest.codecs.bits import BitstreamError
from ingest.codecs.vp9 import Vp9Normaliser
from tests.ingest.codecs.codecs_testing import encode, muxed

SVT = {"svtav1-params": "svt-log-level=0"}


@pytest.mark.parametrize(("width", "height"), [(322, 242), (1280, 720)])
def test_av1_sizes_from_svtav1(width: int, height: int) -> None:
    record, packets = muxed("libsvtav1", width, height, 2, options=SVT)
    av1.check_config_record(record)
    header = av1.find_sequence_header(record[4:])
    assert header is not None and av1.sequence_header_size(header) == (width, height)
    assert av1.obus_size(packets[0]) == (width, height) and av1.obus_size(packets[1]) is None
    # Main profile, 8-bit: the level follows the size (2.0 = 00, 3.1 = 05 for 720p).
    assert av1.codec_string(record) == f"av01.0.{0 if width < 640 else 5:02d}M.08"
    raw, _ = encode("libsvtav1", width, height, 1, options=SVT)  # bare OBUs, no av1C
    assert av1.obus_size(raw) == (width, height)


def test_av1_codec_string_fields() -> None:
    assert av1.codec_string(bytes([0x81, 0x2D, 0xC0, 0x00])) == "av01.1.13H.10"
    assert av1.codec_string(bytes([0x81, 0x04, 0x60, 0x00])) == "av01.0.04M.12"
    assert av1.codec_string(bytes([0x81, 0x08, 0x0C, 0x00])) == "av01.0.08M.08"
    with pytest.raises(BitstreamError):
        av1.codec_string(b"\x81\x00")


def test_av1_normaliser_completes_a_track_from_a_keyframe() -> None:
    record, packets = muxed("libsvtav1", 322, 242, 2, options=SVT)
    normaliser = Av1Normaliser(0, 1000)
    track = normaliser.configure(record[:4], 0, 0)  # a record without configOBUs
    assert (track.width, track.height, track.config) == (0, 0, record[:4])
    assert normaliser.keyframe(packets[1]) is None  # no sequence header in it
    completed = normaliser.keyframe(packets[0])
    assert completed is not None and (completed.width, completed.height) == (322, 242)
    assert completed.codec_string == track.codec_string
    assert normaliser.keyframe(packets[0]) is None  # the size is known now
    assert Av1Normaliser(0, 1000).configure(record, 1, 1).width == 322
    for bad in (b"", b"\x01\x00\x00\x00", record[:3]):
        with pytest.raises(BitstreamError):
            Av1Normaliser(0, 1000).configure(bad)


def test_vp9_keyframe_sizes_from_libvpx() -> None:
    for pix_fmt, width, height in (("yuv420p", 322, 242), ("yuv444p", 64, 48),
                                   ("yuv422p", 100, 60)):
        _, packets = encode("libvpx-vp9", width, height, 2, pix_fmt=pix_fmt)
        assert vp9.keyframe_size(packets[0][0]) == (width, height)
        assert vp9.keyframe_size(packets[1][0]) is None


def test_vp9_record_and_codec_string() -> None:
    # Level 1 holds 36864 luma samples a picture, level 2 122880 (VP9 Annex A).
    for width, height, level in ((160, 120, 10), (322, 242, 20)):
        record, _ = muxed("libvpx-vp9", width, height, 1)
        assert vp9.codec_string(vp9.read_config_record(record)) == f"vp09.00.{level}.08"
    bare = bytes([0, 10, 0x82, 0x02, 0x02, 0x02, 0, 0])  # profile 0, level 1, 8-bit 4:2:0
    assert vp9.read_config_record(bare) == bare
    assert vp9.read_config_record(b"\x01\x00\x00\x00" + bare) == bare  # ffmpeg's FullBox
    assert vp9.codec_string(bare) == "vp09.00.10.08"
    assert vp9.codec_string(bytes([2, 31, 0xA2])) == "vp09.02.31.10"
    with pytest.raises(BitstreamError):
        vp9.read_config_record(bare[:7])


def test_vp9_normaliser_takes_the_size_from_the_first_keyframe() -> None:
    _, packets = encode("libvpx-vp9", 322, 242, 2)
    normaliser = Vp9Normaliser(0, 1000)
    bare = bytes([0, 10, 0x82, 0x02, 0x02, 0x02, 0, 0])
    assert normaliser.configure(bare).width == 0
    assert Vp9Normaliser(0, 1000).configure(bare, 640, 360).width == 640  # onMetaData's
    completed = normaliser.keyframe(packets[0][0])
    assert completed is not None and (completed.width, completed.height) == (322, 242)
