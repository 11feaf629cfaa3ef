"""VP9 in fMP4 (``vp09`` with a ``vpcC`` box, the VP Codec ISO Media File Format Binding):
frames from libvpx, as the RTMP ingest delivers them (one raw frame per sample, the
VPCodecConfigurationRecord as announced), go through the pipeline; PyAV reads the init
section and fragments back and decodes every picture, and a VP9 source feeds the ladder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ingest.media import Frame, TrackInfo
from packager.cmaf import CmafTrack, init_segment
from packager.llhls import MediaPlaylist, PlaylistSettings
from packager.pipeline import StreamPipeline
from tests.packager.packager_testing import VP9_RECORD, Rung, encode_vp9

av: Any = pytest.importorskip("av")

SETTINGS = PlaylistSettings(part_target=0.2, segment_target=1.0, dvr_window=60)


@pytest.fixture(scope="module")
def frames() -> list[Frame]:
    return encode_vp9()


def run(frames: list[Frame], pipeline: StreamPipeline) -> StreamPipeline:
    pipeline.track_changed(frames[0].track)
    for frame in frames:
        pipeline.push(frame)
    pipeline.end(flush=True)
    return pipeline


def write(playlist: MediaPlaylist, path: Path) -> Path:
    segments = [s for s in playlist.segments if s.complete]
    path.write_bytes(playlist.inits[segments[0].init] + b"".join(s.data for s in segments))
    return path


def test_the_sample_entry_carries_the_record_in_a_vpcc_full_box() -> None:
    track = TrackInfo(0, "video", "vp9", 1000, VP9_RECORD + b"\x00\x00", "vp09.00.10.08", 320,
                      240)
    data = init_segment([CmafTrack(1, track, 90000)])
    entry = data.index(b"vp09")
    at = data.index(b"vpcC")
    assert entry < at
    size = int.from_bytes(data[at - 4:at], "big")
    # FullBox version 1, flags 0; no codec initialization data (VP9 has none).
    assert data[at + 4:at - 4 + size] == b"\x01\x00\x00\x00" + VP9_RECORD[:6] + b"\x00\x00"


def test_vp9_reads_back_and_decodes(frames: list[Frame], tmp_path: Path) -> None:
    pipeline = run(frames, StreamPipeline(SETTINGS, lambda arrival: 1.79e9 + arrival))
    playlist = pipeline.renditions["source"].playlist
    assert len([s for s in playlist.segments if s.complete]) == 3
    assert all(s.parts[0].independent for s in playlist.segments)
    with av.open(str(write(playlist, tmp_path / "vp9.mp4"))) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "vp9"
        keys: list[bool] = []
        pictures = []
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            keys.append(bool(packet.is_keyframe))
            pictures += packet.decode()
        pictures += stream.codec_context.decode(None)
    assert [(p.width, p.height) for p in pictures] == [(320, 240)] * len(frames)
    assert keys == [f.keyframe for f in frames] and keys.count(True) == 3
    assert 'CODECS="vp09.00.10.08"' in pipeline.multivariant().text.decode()


def test_a_vp9_source_feeds_the_ladder(frames: list[Frame], tmp_path: Path) -> None:
    pipeline = run(frames, StreamPipeline(SETTINGS, lambda arrival: 1.79e9 + arrival,
                                          ladder=[Rung("120p", 120, 200)], lossless=True))
    with av.open(str(write(pipeline.renditions["120p"].playlist,
                           tmp_path / "120p.mp4"))) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        pictures = list(container.decode(stream))
    assert [(p.width, p.height) for p in pictures] == [(160, 120)] * len(frames)
    text = pipeline.multivariant().text.decode()
    assert 'CODECS="vp09.00.10.08"' in text and 'CODECS="avc1.' in text
