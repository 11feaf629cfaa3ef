"""A live VP9 + AAC publisher over Enhanced RTMP (libavformat's FLV muxer and RTMP client,
through PyAV; Debian's ffmpeg 5.1 cannot put VP9 in FLV): 640x360 at 30 fps with 1 s GOPs,
paced in real time, in its own process (PyAV holds the GIL while libavformat blocks).

    python -m tests.interop.vp9_publisher_testing URL SECONDS
"""

from __future__ import annotations

import array
import math
import sys
import time
from fractions import Fraction

import av

FPS = 30
RATE = 48000


def publish(url: str, seconds: float) -> None:
    out = av.open(url, "w", format="flv")
    video = out.add_stream("libvpx-vp9", rate=FPS)
    video.width, video.height, video.pix_fmt = 640, 360, "yuv420p"
    video.time_base = Fraction(1, FPS)
    video.codec_context.gop_size = FPS
    video.codec_context.bit_rate = 800_000
    video.codec_context.options = {"deadline": "realtime", "cpu-used": "8",
                                   "lag-in-frames": "0"}
    audio = out.add_stream("aac", rate=RATE)
    audio.layout = "mono"
    start = time.monotonic()
    samples = 0
    for i in range(int(seconds * FPS)):
        picture = av.VideoFrame(640, 360, "yuv420p")
        for n, plane in enumerate(picture.planes):
            plane.update(bytes([(i * 5 + n * 60) & 0xFF]) * plane.buffer_size)
        picture.pts = i
        for packet in video.encode(picture):
            out.mux(packet)
        while samples < (i + 1) * RATE // FPS:
            tone = array.array("f", (0.1 * math.sin(2 * math.pi * 440 * (samples + k) / RATE)
                                     for k in range(1024)))
            pcm = av.AudioFrame(format="fltp", layout="mono", samples=1024)
            pcm.planes[0].update(tone.tobytes())
            pcm.sample_rate, pcm.pts = RATE, samples
            samples += 1024
            for packet in audio.encode(pcm):
                out.mux(packet)
        time.sleep(max(0.0, start + (i + 1) / FPS - time.monotonic()))
    for stream in (video, audio):
        for packet in stream.encode(None):
            out.mux(packet)
    out.close()


if __name__ == "__main__":
    publish(sys.argv[1], float(sys.argv[2]))
