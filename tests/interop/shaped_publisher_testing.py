"""Publishers of a chosen shape for the publish-change interop tests: the ffmpeg CLI over
RTMP, in real time, sending video only, audio only or both, at a picture size, frame rate
and (constant) bitrate of the test's choosing; and the daemon settings those tests run
under (a small ladder, a reconnect grace long enough to reconnect in)."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Shape:
    """What one publish sends."""

    video: tuple[int, int] | None = (320, 180)
    """Picture size, or None for an audio-only publish."""
    fps: int = 15
    audio: bool = True
    video_kbps: int | None = None
    """Constant bitrate (x264 CBR with filler, as onMetaData announces it); None: x264's
    own rate for the test picture."""

    def __post_init__(self) -> None:
        if self.video is None and not self.audio:
            raise ValueError("a publish sends at least one track")

    def ffmpeg_args(self, seconds: float) -> list[str]:
        inputs: list[str] = []
        codecs: list[str] = []
        if self.video is not None:
            width, height = self.video
            inputs += ["-re", "-f", "lavfi", "-i",
                       f"testsrc2=size={width}x{height}:rate={self.fps}"]
            # One keyframe a second: ~1 s segments, like a streamer's recommended settings.
            codecs += ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
                       "-g", str(self.fps), "-pix_fmt", "yuv420p"]
            if self.video_kbps is not None:
                rate = f"{self.video_kbps}k"
                codecs += ["-b:v", rate, "-maxrate", rate, "-bufsize", rate,
                           "-x264-params", "nal-hrd=cbr"]
        if self.audio:
            inputs += ["-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
            codecs += ["-c:a", "aac", "-b:a", "64k"]
        return [*inputs, "-t", str(seconds), *codecs]


def publish_shape(ffmpeg: str, url: str, shape: Shape, seconds: float) -> subprocess.Popen[bytes]:
    """ffmpeg publishing ``shape`` to ``url`` for ``seconds`` of media, then unpublishing."""
    return subprocess.Popen(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
         *shape.ffmpeg_args(seconds), "-f", "flv", url],
        stdin=subprocess.DEVNULL)


@dataclass(frozen=True)
class LadderRung:
    name: str
    height: int
    bitrate_kbps: int


def daemon_config(ladder: Sequence[LadderRung] | None, grace_sec: float = 20.0) -> str:
    """``extra_config`` for ``DaemonProcess``: ``ladder`` replaces the default 720p/480p/360p
    one (ultrafast rungs: the machine running the suite has few cores); None turns
    transcoding off (the source passthrough only)."""
    text = f"[streams]\nreconnect_grace_sec = {grace_sec}\n"
    if ladder is None:
        return text + "[transcode]\nenabled = false\n"
    for rung in ladder:
        text += (f'[[transcode.ladder]]\nname = "{rung.name}"\nheight = {rung.height}\n'
                 f'bitrate_kbps = {rung.bitrate_kbps}\npreset = "ultrafast"\n')
    return text


def stop(*publishers: subprocess.Popen[bytes] | None) -> None:
    """Ends whatever publishers a test left running."""
    for publisher in publishers:
        if publisher is not None and publisher.poll() is None:
            publisher.kill()
            publisher.wait()
