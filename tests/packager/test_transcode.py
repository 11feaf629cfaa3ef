"""The transcoding ladder with real PyAV encoders: every rung at its size and frame rate with
keyframes where the source has them (read back by PyAV), no upscaling, a mid-stream
resolution change, drops counted when an encoder cannot keep up, a corrupt packet skipped,
and a clear error for a missing encoder."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ingest.media import Frame
from packager.ladder_plan import SourceRate, plan_ladder
from packager.llhls import PlaylistSettings
from packager.pipeline import StreamPipeline
from packager.transcode import (
    EncoderUnavailable,
    RungSpec,
    VideoLadder,
    check_encoder,
)
from tests.packager.packager_testing import Rung, Source, encode_source

av: Any = pytest.importorskip("av")

SETTINGS = PlaylistSettings(part_target=0.2, segment_target=1.0, dvr_window=60)


LADDER = (Rung("720p", 720, 2000), Rung("360p", 360, 600), Rung("180p", 180, 200, fps_max=15))


@pytest.fixture(scope="module")
def hd() -> Source:
    return encode_source(1280, 720, seconds=3, b_frames=0)


HD_RATE = SourceRate(kbps=4000)
"""What the HD source's publisher says: the 720p rung at 2000 kbit/s is well below it."""


def run_ladder(source: Source, ladder: tuple[Rung, ...] = LADDER,
               rate: SourceRate = HD_RATE) -> StreamPipeline:
    pipeline = StreamPipeline(SETTINGS, lambda a: 1.79e9 + a, ladder=ladder, lossless=True)
    pipeline.track_changed(source.video, rate)
    pipeline.track_changed(source.audio)
    for frame in source.frames:
        pipeline.push(frame)
    pipeline.end(flush=True)
    return pipeline


def read_rung(pipeline: StreamPipeline, name: str, path: Path) -> tuple[Any, list[int]]:
    """(PyAV's video stream, keyframe pts in seconds x 1000) of one rung, every packet
    decoded without error."""
    playlist = pipeline.renditions[name].playlist
    segments = [s for s in playlist.segments if s.complete]
    path.write_bytes(playlist.inits[segments[0].init] + b"".join(s.data for s in segments))
    keys: list[int] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = 0
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            frames += len(packet.decode())
            if packet.is_keyframe:
                keys.append(round(float(packet.pts * packet.time_base) * 1000))
        return (stream.codec_context.width, stream.codec_context.height, frames), keys


def test_every_rung_has_its_size_rate_and_the_sources_keyframes(hd: Source,
                                                                tmp_path: Path) -> None:
    pipeline = run_ladder(hd)
    assert set(pipeline.renditions) == {"source", "720p", "360p", "180p", "audio"}
    health = pipeline.health()
    assert health.dropped_pictures == {"720p": 0, "360p": 0, "180p": 0}
    source_keys = None
    expected = {"source": (1280, 720, 90), "720p": (1280, 720, 90), "360p": (640, 360, 90),
                "180p": (320, 180, 45)}
    for name, shape in expected.items():
        (width, height, frames), keys = read_rung(pipeline, name, tmp_path / f"{name}.mp4")
        assert (width, height, frames) == shape, name
        if source_keys is None:
            source_keys = keys
        assert keys == source_keys, f"{name} keyframes are not aligned"
    # Segment boundaries line up, so players can switch between rungs.
    starts = {name: [round(s.program_date_time, 3) for s in r.playlist.segments]
              for name, r in pipeline.renditions.items() if name != "audio"}
    assert len({tuple(v) for v in starts.values()}) == 1, starts
    text = pipeline.multivariant().text.decode()
    assert text.count("#EXT-X-STREAM-INF") == 4 and 'AUDIO="audio"' in text
    assert "RESOLUTION=320x180" in text and "FRAME-RATE=15.000" in text
    durations = {r.playlist.target_duration for r in pipeline.renditions.values()}
    assert durations == {1}, "one TARGETDURATION for every media playlist"


def test_rungs_not_smaller_than_the_source_are_skipped() -> None:
    small = encode_source(640, 360, seconds=1, b_frames=0)
    assert [r.name for r in plan_ladder(small.video, LADDER)] == ["180p"], \
        "720p is taller, 360p would copy the source at more bandwidth"
    [spec] = plan_ladder(small.video, LADDER)
    assert (spec.width, spec.height) == (320, 180)
    pipeline = run_ladder(small, rate=SourceRate(kbps=800))
    assert set(pipeline.renditions) == {"source", "180p", "audio"}


def test_a_rung_as_tall_as_the_source_is_kept_when_it_is_cheaper() -> None:
    small = encode_source(640, 360, seconds=1, b_frames=0)
    same = (Rung("360p", 360, 600),)
    assert plan_ladder(small.video, same, SourceRate(kbps=1200)) != [], "half the bit rate"
    assert plan_ladder(small.video, same, SourceRate(kbps=800)) == [], "not well below"
    assert plan_ladder(small.video, same, SourceRate(fps=60)) != [], "half the frame rate"
    assert plan_ladder(small.video, same, SourceRate(fps=30)) == []


def test_resolution_change_rebuilds_the_ladder(hd: Source, tmp_path: Path) -> None:
    pipeline = StreamPipeline(SETTINGS, lambda a: 1.79e9 + a, ladder=LADDER, lossless=True)
    pipeline.track_changed(hd.video, HD_RATE)
    pipeline.track_changed(hd.audio)
    for frame in hd.frames:
        pipeline.push(frame)
    smaller = encode_source(640, 360, seconds=2, b_frames=0)
    shift = hd.frames[-1].dts + 40
    pipeline.track_changed(smaller.video, SourceRate(kbps=1200))
    for frame in smaller.frames:
        if frame.is_video:  # the same publisher: its clock goes on
            pipeline.push(Frame(frame.track, frame.dts + shift, frame.pts + shift,
                                frame.keyframe, frame.payload, frame.arrival + shift / 1000))
    pipeline.end(flush=True)
    source = pipeline.renditions["source"].playlist
    assert len({s.init for s in source.segments}) == 2
    assert any(s.discontinuity for s in source.segments)
    rung = pipeline.renditions["360p"].playlist
    assert any(s.discontinuity for s in rung.segments), "a new encoder: a discontinuity"
    (_, _, frames), _ = read_rung(pipeline, "360p", tmp_path / "360p.mp4")
    assert frames >= 90 + 60 - 2, "the 360p rung went on through the change"
    assert len(pipeline.retired_ladder_stats) >= 1


def test_slow_encoder_drops_pictures_and_counts_them(hd: Source) -> None:
    produced: dict[str, int] = {}

    def deliver(name: str, frame: Frame) -> None:
        produced[name] = produced.get(name, 0) + 1

    spec = RungSpec("360p", 640, 360, 600, 30, "ultrafast")
    ladder = VideoLadder(hd.video, [spec], deliver, slow_down=lambda: time.sleep(0.1))
    ladder.start()
    for frame in hd.frames:
        if frame.is_video:
            ladder.push(frame)
            time.sleep(1 / 30)  # a real-time source
    ladder.stop()
    dropped = ladder.stats.dropped_pictures["360p"]
    assert dropped > 30, ladder.stats
    assert produced["360p"] + dropped + ladder.stats.dropped_packets >= 90
    assert produced["360p"] == ladder.stats.encoded["360p"]


def test_a_takeovers_burst_reaches_the_decoder_whole() -> None:
    """A hot-standby backup takes over with its warm GOP in one burst: the decoder takes it
    all (dropping to the next keyframe would cost every rung a GOP)."""
    source = encode_source(320, 240, seconds=3, b_frames=0)
    produced: list[Frame] = []
    ladder = VideoLadder(source.video, [RungSpec("120p", 160, 120, 200, 30, "ultrafast")],
                         lambda name, frame: produced.append(frame))
    ladder.start()
    for frame in source.frames:
        if frame.is_video:
            ladder.push(frame)  # all at once
    ladder.stop()
    assert ladder.stats.dropped_packets == 0
    assert ladder.stats.decoded == 90 and produced[0].keyframe


def test_corrupt_packet_is_skipped_and_the_stream_goes_on(hd: Source) -> None:
    produced: list[Frame] = []
    spec = RungSpec("180p", 320, 180, 200, 30, "ultrafast")
    ladder = VideoLadder(hd.video, [spec], lambda _, f: produced.append(f), lossless=True)
    ladder.start()
    video = [f for f in hd.frames if f.is_video]
    for i, frame in enumerate(video):
        if i == 40:
            ladder.push(Frame(frame.track, frame.dts, frame.pts, False,
                              b"\x00\x00\x00\x08\x65\xff\xff\xff\xff\xff\xff\xff"))
            continue
        ladder.push(frame)
    ladder.stop()
    assert len(produced) >= len(video) - 31  # at most the rest of that GOP is lost
    assert produced[-1].pts == video[-1].pts


def test_missing_encoder_is_a_clear_error() -> None:
    with pytest.raises(EncoderUnavailable, match=r"h264_vaapi.*not available"):
        check_encoder("h264_vaapi")
    check_encoder("libx264")


def test_daemon_refuses_to_start_with_a_missing_encoder(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "mediad", "check-config"],
        env={"MEDIAD_TRANSCODE_ENCODER": "h264_vaapi", "PATH": "/usr/bin:/bin",
             "MEDIAD_STORAGE_DATA_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])
    assert run.returncode == 2
    assert "transcode.encoder" in run.stderr and "h264_vaapi" in run.stderr
    assert "Traceback" not in run.stderr


def test_watermark_is_drawn_on_every_transcoded_rung(hd: Source, tmp_path: Path) -> None:
    plain = run_ladder(hd, (Rung("360p", 360, 600),))
    marked = StreamPipeline(SETTINGS, lambda a: 1.79e9 + a, ladder=(Rung("360p", 360, 600),),
                            lossless=True, watermark="@creator_1")
    marked.track_changed(hd.video)
    for frame in hd.frames:
        marked.push(frame)
    marked.end(flush=True)

    def lumas(pipeline: StreamPipeline, name: str) -> list[tuple[bytes, int]]:
        playlist = pipeline.renditions["360p"].playlist
        segments = [s for s in playlist.segments if s.complete]
        path = tmp_path / name
        path.write_bytes(playlist.inits[segments[0].init] + b"".join(s.data for s in segments))
        with av.open(str(path)) as container:
            return [(bytes(p.planes[0]), p.planes[0].line_size)
                    for p in container.decode(video=0)]

    def changed(a: tuple[bytes, int], b: tuple[bytes, int], xs: range, ys: range) -> int:
        (da, stride), (db, _) = a, b
        return sum(1 for y in ys for x in xs
                   if abs(da[y * stride + x] - db[y * stride + x]) > 30)

    with_mark, without = lumas(marked, "marked.mp4"), lumas(plain, "plain.mp4")
    assert len(with_mark) == len(without) == 90
    for a, b in zip(with_mark, without, strict=True):
        assert changed(a, b, range(440, 632), range(300, 352)) > 300  # the text, bottom right
        assert changed(a, b, range(8, 200), range(8, 60)) < 20  # nothing elsewhere


def test_opus_audio_becomes_the_shared_aac_rendition(hd: Source, tmp_path: Path) -> None:
    import array
    import math
    from fractions import Fraction

    from ingest.media import TrackInfo

    encoder = av.CodecContext.create("libopus", "w")
    encoder.sample_rate, encoder.layout, encoder.format = 48000, "stereo", "flt"
    encoder.time_base = Fraction(1, 48000)
    encoder.open()
    opus = TrackInfo(1, "audio", "opus", 1000, bytes(encoder.extradata or b""), "opus",
                     sample_rate=48000, channels=2)
    frames: list[Frame] = []
    for n in range(150):  # 3 s of 20 ms frames
        tone = array.array("f", (0.2 * math.sin(2 * math.pi * 440 * (n * 960 + k) / 48000)
                                 for k in range(960) for _ in (0, 1)))
        pcm = av.AudioFrame(format="flt", layout="stereo", samples=960)
        pcm.planes[0].update(tone.tobytes())
        pcm.sample_rate, pcm.pts = 48000, n * 960
        for packet in encoder.encode(pcm):
            ms = round(int(packet.pts) / 48)
            frames.append(Frame(opus, ms, ms, True, bytes(packet), arrival=ms / 1000))
    pipeline = StreamPipeline(SETTINGS, lambda a: 1.79e9 + a, ladder=(Rung("360p", 360, 600),),
                              lossless=True)
    pipeline.track_changed(hd.video)
    pipeline.track_changed(opus)
    video = [f for f in hd.frames if f.is_video]
    for frame in sorted([*video, *frames], key=lambda f: f.dts):
        pipeline.push(frame)
    pipeline.end(flush=True)
    audio = pipeline.renditions["audio"]
    assert audio.codecs() == "mp4a.40.2"
    playlist = audio.playlist
    segments = [s for s in playlist.segments if s.complete]
    path = tmp_path / "audio.mp4"
    path.write_bytes(playlist.inits[segments[0].init] + b"".join(s.data for s in segments))
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == "aac" and stream.codec_context.sample_rate == 48000
        decoded = sum(f.samples for f in container.decode(stream))
    assert abs(decoded - 3 * 48000) < 4 * 1024
    assert 'CODECS="avc1.' in pipeline.multivariant().text.decode()


def test_skipped_rungs_are_logged_once_per_change(caplog: pytest.LogCaptureFixture) -> None:
    small = encode_source(640, 360, seconds=1, b_frames=0)
    pipeline = StreamPipeline(SETTINGS, lambda a: 1.79e9 + a, ladder=LADDER, lossless=True)
    with caplog.at_level("INFO", logger="mediad.packager"):
        for _ in range(3):  # the publisher reconnects with the same settings
            pipeline.track_changed(small.video)
            pipeline.publisher_changed()
        pipeline.track_changed(small.video, SourceRate(kbps=1200))  # now 360p is worth it
    pipeline.end()
    skips = [r for r in caplog.records if "rungs skipped" in r.getMessage()]
    assert [r.__dict__["fields"]["rungs"] for r in skips] == [["720p", "360p"], ["720p"]]
