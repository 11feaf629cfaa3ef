"""PyAV (libavformat's own RTMP client and FLV muxer) as a publisher, in its own process:
PyAV holds the GIL while libavformat blocks on the socket, so it cannot share a process
with the event loop that serves it.

    python -m tests.interop.pyav_publisher_testing URL ENCODER FRAMES FPS
"""

from __future__ import annotations

import sys
from fractions import Fraction

import av


def publish(url: str, encoder: str, frames: int, fps: int) -> None:
    out = av.open(url, "w", format="flv")
    stream = out.add_stream(encoder, rate=fps)
    stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
    stream.time_base = Fraction(1, fps)
    stream.codec_context.gop_size = fps
    stream.codec_context.max_b_frames = 0
    # A keyframe exactly every `fps` frames, so the receiving side knows what to expect.
    params = f"keyint={fps}:min-keyint={fps}:scenecut=0:bframes=0"
    stream.codec_context.options = {
        "x265-params" if encoder == "libx265" else "x264-params": params}
    for i in range(frames):
        frame = av.VideoFrame(320, 240, "yuv420p")
        frame.pts = i
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)
    out.close()


if __name__ == "__main__":
    publish(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
