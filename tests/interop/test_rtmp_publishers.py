"""Real publishers we did not write push to our RTMP server: ffmpeg (native rtmpproto),
PyAV (libavformat 62, Enhanced RTMP for HEVC), GStreamer rtmp2sink and rtmpsink (librtmp,
the code OBS's RTMP output grew from)."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path

import pytest

from ingest.media import Frame
from mediad.fanout import Discontinuity, StreamEnd, TrackChange
from tests.interop.rtmp_env_testing import Packet, probe_packets, rtmp_env, run_peer
from tests.peers_testing import require_gst_element, require_tool

pytestmark = pytest.mark.interop

SECONDS = 5
FPS = 30


@pytest.fixture(scope="module")
def h264_aac_flv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """5 s of test signal, H.264 with B-frames (so composition times matter) + AAC."""
    ffmpeg = require_tool("ffmpeg")
    require_tool("ffprobe")
    path = tmp_path_factory.mktemp("media") / "ref.flv"
    import subprocess

    subprocess.run([
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FPS}",
        "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100",
        "-t", str(SECONDS), "-c:v", "libx264", "-preset", "veryfast", "-bf", "2",
        "-g", str(FPS), "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k",
        "-f", "flv", str(path),
    ], check=True)
    return path


def relative(frames: list[Frame]) -> list[Packet]:
    base = frames[0].dts
    return [Packet(f.dts - base, f.pts - base, f.keyframe) for f in frames]


def relative_packets(packets: list[Packet]) -> list[Packet]:
    base = packets[0].dts
    return [Packet(p.dts - base, p.pts - base, p.key) for p in packets]


def assert_tracks(items: list[object]) -> None:
    tracks = [i.track for i in items if isinstance(i, TrackChange)]
    video = next(t for t in tracks if t.kind == "video")
    audio = next(t for t in tracks if t.kind == "audio")
    assert (video.codec, video.width, video.height) == ("h264", 320, 240)
    assert video.codec_string.startswith("avc1.") and video.config[0] == 1
    assert audio.codec == "aac" and audio.sample_rate == 44100 and audio.channels == 1
    assert audio.codec_string == "mp4a.40.2"


async def test_ffmpeg_publish_delivers_every_frame(tmp_path: Path, h264_aac_flv: Path) -> None:
    async with rtmp_env(tmp_path) as env:
        code, out = await run_peer("ffmpeg", "-hide_banner", "-loglevel", "error", "-i",
                                   str(h264_aac_flv), "-c", "copy", "-f", "flv", env.url())
        assert code == 0, out
        items = await env.collect_until_end()
    assert_tracks(items)
    video, audio = env.frames("video"), env.frames("audio")
    assert relative(video) == relative_packets(probe_packets(h264_aac_flv, "v"))
    assert relative(audio) == relative_packets(probe_packets(h264_aac_flv, "a"))
    assert any(f.pts != f.dts for f in video), "B-frames: composition times must survive"
    assert all(f.payload[:4] != b"\x00\x00\x00\x01" for f in video), "length-prefixed NALUs"
    end = items[-1]
    assert isinstance(end, StreamEnd)
    # The publish ended without the creator ending the broadcast: it waits for a reconnect.
    assert not env.live.publishing and env.live.state == "reconnecting"


def wrong_key_command(publisher: str, url: str) -> list[str]:
    if publisher == "ffmpeg":
        return [require_tool("ffmpeg"), "-hide_banner", "-loglevel", "verbose", "-f", "lavfi",
                "-i", "testsrc2=size=160x120:rate=10", "-t", "2", "-c:v", "libx264", "-f", "flv",
                url]
    if publisher == "pyav":
        return [sys.executable, "-m", "tests.interop.pyav_publisher_testing", url, "libx264",
                "30", "30"]
    require_tool("gst-launch-1.0")
    require_gst_element(publisher)
    return ["gst-launch-1.0", "videotestsrc", "num-buffers=30", "!", "x264enc", "!",
            "h264parse", "!", "flvmux", "!", publisher, f"location={url}"]


@pytest.mark.parametrize(("publisher", "says"), [
    ("ffmpeg", "unknown stream key"),  # rtmpproto prints the onStatus description
    ("pyav", "Operation not permitted"),  # libavformat maps a publish error to EPERM
    ("rtmp2sink", "NetStream.Publish.BadName"),
    ("rtmpsink", ""),  # librtmp gives up silently (or dies writing to the closed socket)
])
async def test_wrong_key_is_refused(tmp_path: Path, publisher: str, says: str) -> None:
    async with rtmp_env(tmp_path) as env:
        code, out = await run_peer(*wrong_key_command(publisher, env.url("live_wrongkey")),
                                   within=30)
        assert code != 0, out
        assert says in out
        assert not env.live.publishing and env.items == []
        assert env.live.stats.publishers == 0


async def test_pyav_publishes_h264_and_hevc(tmp_path: Path) -> None:
    """libavformat 62 (PyAV's FFmpeg) muxes HEVC as Enhanced RTMP (ExVideoTagHeader, hvc1)."""
    for encoder, codec in (("libx264", "h264"), ("libx265", "hevc")):
        async with rtmp_env(tmp_path / codec) as env:
            code, out = await run_peer(sys.executable, "-m", "tests.interop.pyav_publisher_testing",
                                       env.url(), encoder, str(2 * FPS), str(FPS))
            assert code == 0, out
            items = await env.collect_until_end()
        video = env.frames("video")
        track = next(i.track for i in items if isinstance(i, TrackChange))
        assert track.codec == codec and (track.width, track.height) == (320, 240)
        assert len(video) == 2 * FPS
        assert [i for i, f in enumerate(video) if f.keyframe] == [0, FPS], codec
        assert [f.pts - video[0].pts for f in video] == [round(i * 1000 / FPS)
                                                          for i in range(2 * FPS)]


@pytest.mark.parametrize("sink", ["rtmp2sink", "rtmpsink"])
async def test_gstreamer_publish(tmp_path: Path, sink: str) -> None:
    require_tool("gst-launch-1.0")
    require_gst_element(sink)
    require_gst_element("x264enc")
    require_gst_element("voaacenc")
    frames = SECONDS * FPS
    async with rtmp_env(tmp_path) as env:
        code, out = await run_peer(
            "gst-launch-1.0", "-q", "-e",
            "videotestsrc", f"num-buffers={frames}", "!",
            f"video/x-raw,width=320,height=240,framerate={FPS}/1", "!",
            "x264enc", "tune=zerolatency", f"key-int-max={FPS}", "speed-preset=veryfast", "!",
            "h264parse", "!", "flvmux", "name=mux", "streamable=true", "!",
            sink, f"location={env.url()}",
            "audiotestsrc", f"num-buffers={SECONDS * 44100 // 1024}", "samplesperbuffer=1024",
            "!", "audio/x-raw,rate=44100,channels=1", "!", "voaacenc", "!", "mux.")
        assert code == 0, out
        items = await env.collect_until_end()
    assert_tracks(items)
    video, audio = env.frames("video"), env.frames("audio")
    assert len(video) == frames
    assert [f.keyframe for f in video].count(True) == SECONDS
    assert video[0].keyframe
    dts = [f.dts for f in video]
    assert dts == sorted(dts) and dts[-1] - dts[0] == pytest.approx(1000 * (frames - 1) / FPS,
                                                                     abs=2)
    assert len(audio) >= SECONDS * 44100 // 1024 - 2


async def start_ffmpeg_live(url: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        "ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
        f"testsrc2=size=320x240:rate={FPS}", "-c:v", "libx264", "-preset", "ultrafast",
        "-g", str(FPS), "-f", "flv", url,
        stdin=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


async def test_killed_publisher_ends_stream_within_a_second(tmp_path: Path) -> None:
    require_tool("ffmpeg")
    async with rtmp_env(tmp_path) as env:
        other = await env.registry.live_stream(env.stream_id)
        proc = await start_ffmpeg_live(env.url())
        try:
            await env.wait_frames(10)
            assert env.live.state == "live"
            proc.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            while env.live.publishing or env.live.state == "live":
                assert time.monotonic() - killed < 1.0, "still live 1 s after the kill"
                await asyncio.sleep(0.01)
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()
        assert other is env.live
        assert env.server.connections == 0


async def test_backup_key_takes_over_without_ending(tmp_path: Path) -> None:
    require_tool("ffmpeg")
    async with rtmp_env(tmp_path) as env:
        primary = await start_ffmpeg_live(env.url())
        backup = None
        try:
            await env.wait_frames(10)
            backup = await start_ffmpeg_live(env.url(env.backup))
            async with asyncio.timeout(15):
                while env.live.standby is None:  # noqa: ASYNC110 -- the backup waits, warm
                    await asyncio.sleep(0.05)
            primary.kill()  # the primary fails: the backup takes over
            await primary.wait()
            before = len(env.items)
            await env.wait_frames(before + 10)
            assert env.live.state == "live" and env.live.publishing
            assert env.live.publisher is not None and env.live.publisher.kind == "backup"
            kinds = [type(i).__name__ for i in env.items]
            assert "Discontinuity" in kinds and "StreamEnd" not in kinds
            after = env.items[kinds.index("Discontinuity") + 1:]
            first_frame = next(i for i in after if isinstance(i, Frame))
            assert first_frame.keyframe
        finally:
            for proc in (primary, backup):
                if proc is not None and proc.returncode is None:
                    proc.kill()
                    await proc.wait()
        assert any(isinstance(i, Discontinuity) for i in env.items)
