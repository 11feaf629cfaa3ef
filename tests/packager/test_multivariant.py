"""The pure multivariant model: a description of variants and audio renditions rendered,
read back by the ``m3u8`` parser (a reader we did not write) and compared attribute by
attribute; a variant that plays an audio group carries the group's bandwidth and codecs."""

from __future__ import annotations

import m3u8
import pytest

from packager.multivariant import AudioRendition, Variant, render_multivariant

AUDIO = AudioRendition("audio", "audio", "s/audio/index.m3u8", 2, "mp4a.40.2", 130_000,
                       128_000)


def test_variants_with_an_audio_group() -> None:
    variants = [
        Variant("s/source/index.m3u8", 2_500_000, 2_000_000, "avc1.64001f", (1280, 720),
                30.0, "audio"),
        Variant("s/360p/index.m3u8", 700_000.4, 600_000, "avc1.42c01e", (640, 360), 15.0,
                "audio"),
    ]
    parsed = m3u8.loads(render_multivariant(variants, [AUDIO]).text.decode())
    assert parsed.version == 6 and parsed.is_independent_segments
    [media] = parsed.media
    assert (media.type, media.group_id, media.name, media.default, media.autoselect,
            media.channels, media.uri) == ("AUDIO", "audio", "audio", "YES", "YES", "2",
                                           "s/audio/index.m3u8")
    got = [(p.uri, p.stream_info.bandwidth, p.stream_info.average_bandwidth,
            p.stream_info.codecs, p.stream_info.resolution, p.stream_info.frame_rate,
            p.stream_info.audio) for p in parsed.playlists]
    assert got == [
        ("s/source/index.m3u8", 2_630_000, 2_128_000, "avc1.64001f,mp4a.40.2", (1280, 720),
         30.0, "audio"),
        ("s/360p/index.m3u8", 830_000, 728_000, "avc1.42c01e,mp4a.40.2", (640, 360), 15.0,
         "audio"),
    ]


def test_a_muxed_variant_without_audio_group() -> None:
    variant = Variant("s/source/index.m3u8", 1_000_000, 900_000, "avc1.42c00d,mp4a.40.2",
                      (320, 240), 29.97)
    text = render_multivariant([variant]).text.decode()
    assert "#EXT-X-MEDIA" not in text and "AUDIO=" not in text
    [playlist] = m3u8.loads(text).playlists
    info = playlist.stream_info
    assert (info.bandwidth, info.codecs, info.resolution, info.frame_rate) == (
        1_000_000, "avc1.42c00d,mp4a.40.2", (320, 240), 29.97)


def test_unknown_attributes_are_left_out() -> None:
    text = render_multivariant([Variant("a/index.m3u8", 0, 0, "")]).text.decode()
    assert text.endswith("#EXT-X-STREAM-INF:BANDWIDTH=0,AVERAGE-BANDWIDTH=0\na/index.m3u8\n")


def test_largest_rendition_of_a_group_counts() -> None:
    small = AudioRendition("audio", "low", "low.m3u8", 1, "mp4a.40.5", 40_000, 32_000)
    variant = Variant("v.m3u8", 1_000_000, 1_000_000, "vp09.00.10.08", audio_group="audio")
    [playlist] = m3u8.loads(render_multivariant([variant], [small, AUDIO]).text
                            .decode()).playlists
    assert playlist.stream_info.bandwidth == 1_130_000
    assert playlist.stream_info.codecs == "vp09.00.10.08,mp4a.40.5,mp4a.40.2"


def test_a_variant_naming_a_missing_group_is_an_error() -> None:
    with pytest.raises(ValueError, match="audio group"):
        render_multivariant([Variant("v.m3u8", 1, 1, "", audio_group="audio")])
