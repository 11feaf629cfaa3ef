"""The live test signal the LL-HLS interop tests publish: the ffmpeg CLI over RTMP, 640x360
at 30 fps with 1 s GOPs and AAC, in real time."""

from __future__ import annotations

import subprocess


def publish(ffmpeg: str, url: str, seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
         "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
         "-g", "30", "-c:a", "aac", "-f", "flv", url],
        stdin=subprocess.DEVNULL)
