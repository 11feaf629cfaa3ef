"""Posters from real media: libx264 (with B-frames) and AAC from PyAV, packaged by our own
pipeline and fMP4 writer; the JPEG read back by PyAV must be the segment's keyframe, at the
size asked for, with the picture's shape."""

from __future__ import annotations

import io
from fractions import Fraction
from typing import Any

import pytest

from ingest.media import Frame, TrackInfo
from packager.llhls import MediaPlaylist, PlaylistSettings, Segment
from packager.pipeline import StreamPipeline
from packager.poster import PosterError, poster_jpeg, poster_size
from tests.packager.packager_testing import FPS, Source, encode_source

av: Any = pytest.importorskip("av")

SETTINGS = PlaylistSettings(part_target=0.25, segment_target=1.0, dvr_window=60)


def package(video: TrackInfo | None, audio: TrackInfo | None, frames: list[Frame]
            ) -> MediaPlaylist:
    """The ``source`` playlist of a pipeline without a ladder (audio muxed with video)."""
    pipeline = StreamPipeline(SETTINGS, lambda arrival: 1_790_000_000.0 + arrival)
    for track in (video, audio):
        if track is not None:
            pipeline.track_changed(track)
    for frame in frames:
        pipeline.push(frame)
    pipeline.end()
    return pipeline.renditions["source"].playlist


def second_segment(playlist: MediaPlaylist) -> Segment:
    segment = [s for s in playlist.segments if s.complete][1]
    assert segment.parts[0].independent
    return segment


def decode_jpeg(jpeg: bytes) -> Any:
    with av.open(io.BytesIO(jpeg), mode="r", format="image2pipe") as container:
        assert container.streams.video[0].codec_context.name == "mjpeg"
        return next(container.decode(video=0))


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source(640, 360, seconds=3, b_frames=2)


@pytest.fixture(scope="module")
def muxed(source: Source) -> MediaPlaylist:
    return package(source.video, source.audio, source.frames)


def test_the_poster_is_the_segment_keyframe_scaled_down(muxed: MediaPlaylist) -> None:
    segment = second_segment(muxed)
    jpeg, width, height = poster_jpeg(muxed.inits[segment.init], segment.parts[0].data, 320)
    assert (width, height) == (320, 180)
    picture = decode_jpeg(jpeg)
    assert (picture.width, picture.height) == (320, 180)
    # Every source picture is flat: picture i has luma (7 i) mod 256 in video range. The
    # second segment starts at the second GOP (picture 30), whose luma, in a JPEG's full
    # range, is (210 - 16) * 255 / 219.
    luma = picture.planes[0]
    centre = bytes(luma)[90 * luma.line_size + 160]
    assert abs(centre - (7 * FPS % 256 - 16) * 255 / 219) <= 3


def test_the_whole_segment_gives_the_same_poster_as_its_first_part(
        muxed: MediaPlaylist) -> None:
    segment = second_segment(muxed)
    init = muxed.inits[segment.init]
    assert poster_jpeg(init, segment.data, 320) == poster_jpeg(init, segment.parts[0].data, 320)


@pytest.mark.parametrize(("max_width", "expected"), [
    (1920, (640, 360)),  # never scaled up
    (301, (300, 168)),   # even sides, within the width asked for
])
def test_the_size_asked_for_is_the_size_decoded(muxed: MediaPlaylist, max_width: int,
                                                expected: tuple[int, int]) -> None:
    segment = second_segment(muxed)
    jpeg, *size = poster_jpeg(muxed.inits[segment.init], segment.parts[0].data, max_width)
    picture = decode_jpeg(jpeg)
    assert tuple(size) == (picture.width, picture.height) == expected


def test_non_square_pixels_are_shown_in_the_picture_shape() -> None:
    """360x240 coded with 16:9 pixels is shown 8:3 wide: the poster keeps the width and
    shrinks the height, never stretching either side."""
    encoder = av.CodecContext.create("libx264", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 360, 240, "yuv420p"
    encoder.time_base, encoder.framerate, encoder.gop_size = Fraction(1, 1000), Fraction(FPS), FPS
    encoder.sample_aspect_ratio = Fraction(16, 9)
    encoder.flags |= av.codec.context.Flags.global_header
    encoder.options = {"preset": "ultrafast", "x264-params": "annexb=0:scenecut=0"}
    encoder.open()
    packets: list[Any] = []
    for i in range(2 * FPS + 5):
        picture = av.VideoFrame(360, 240, "yuv420p")
        picture.pts = round(i * 1000 / FPS)
        packets += encoder.encode(picture)
    packets += encoder.encode(None)
    track = TrackInfo(0, "video", "h264", 1000, bytes(encoder.extradata), "avc1.42c00d",
                      360, 240)
    playlist = package(track, None, [
        Frame(track, int(p.dts), int(p.pts), p.is_keyframe, bytes(p), arrival=int(p.dts) / 1000)
        for p in packets])
    segment = second_segment(playlist)
    jpeg, width, height = poster_jpeg(playlist.inits[segment.init], segment.parts[0].data, 640)
    assert (width, height) == (360, 136)
    picture = decode_jpeg(jpeg)
    assert (picture.width, picture.height) == (360, 136)


@pytest.mark.parametrize(("size", "aspect", "max_width", "expected"), [
    ((1920, 1080), None, 640, (640, 360)),
    ((1280, 720), None, 500, (500, 282)),
    ((320, 240), None, 640, (320, 240)),
    ((320, 240), Fraction(1), 640, (320, 240)),
    ((720, 576), Fraction(16, 15), 1920, (720, 540)),   # PAL 4:3, wide pixels
    ((720, 480), Fraction(8, 9), 1920, (640, 480)),     # NTSC 4:3, narrow pixels
    ((720, 480), Fraction(8, 9), 320, (320, 240)),
    ((101, 57), None, 640, (100, 56)),
    ((4000, 2), None, 64, (64, 2)),
])
def test_poster_sizes(size: tuple[int, int], aspect: Fraction | None, max_width: int,
                      expected: tuple[int, int]) -> None:
    assert poster_size(*size, aspect, max_width) == expected


def test_an_audio_only_fragment_has_no_poster(source: Source) -> None:
    playlist = package(None, source.audio, [f for f in source.frames if not f.is_video])
    segment = next(s for s in playlist.segments if s.complete)
    with pytest.raises(PosterError, match="no video track"):
        poster_jpeg(playlist.inits[segment.init], segment.data, 320)


def test_a_part_without_a_keyframe_has_no_poster(muxed: MediaPlaylist) -> None:
    segment = second_segment(muxed)
    assert not segment.parts[1].independent
    with pytest.raises(PosterError, match="no video keyframe"):
        poster_jpeg(muxed.inits[segment.init], segment.parts[1].data, 320)


@pytest.mark.parametrize("init", [b"", b"\x00\x00\x00\x08junk" * 50, b"garbage" * 100])
def test_garbage_raises_poster_error(init: bytes, muxed: MediaPlaylist) -> None:
    with pytest.raises(PosterError):
        poster_jpeg(init, second_segment(muxed).parts[0].data[:100], 320)


def test_a_truncated_keyframe_raises_poster_error_or_decodes(muxed: MediaPlaylist) -> None:
    """Cut through the keyframe's sample: PyAV either conceals the damage or fails, and a
    failure is a ``PosterError``, never another exception."""
    segment = second_segment(muxed)
    data = segment.parts[0].data
    try:
        jpeg, width, height = poster_jpeg(muxed.inits[segment.init], data[:len(data) // 2], 320)
    except PosterError:
        return
    assert (width, height) == (320, 180) and jpeg[:2] == b"\xff\xd8"
