"""An RTMP publisher whose every picture carries the wall clock at the moment it was drawn,
before it is encoded (``bench/clock_stamp.py``): PyAV, libx264 zerolatency (no B-frames,
1 s GOP) and AAC, in FLV, in real time. Run in its own process by ``bench/webrtc_latency.py``:

    python -m bench.stamp_publisher rtmp://127.0.0.1:PORT/live/KEY [--seconds N]
"""

from __future__ import annotations

import argparse
import math
import time
from array import array
from fractions import Fraction

import av

from bench.clock_stamp import paint_luma

STRIPE_PERIOD = 64
"""Diagonal stripes that scroll: real motion for the encoder, cheap to draw without numpy."""
SCROLL_PX = 4
AUDIO_RATE = 48000
AUDIO_SAMPLES = 1024
TONE_HZ = 440.0


class Pictures:
    """Luma planes (``stride`` bytes a row): the scrolling stripes, the stamp on top."""

    def __init__(self, width: int, height: int, stride: int) -> None:
        self.width, self.height, self.stride = width, height, stride
        # One row long enough for every offset; row y of picture n starts at (y + n*scroll).
        ramp = [40 + 160 * abs(2 * i - STRIPE_PERIOD) // STRIPE_PERIOD
                for i in range(STRIPE_PERIOD)]
        self._row = bytes(ramp[i % STRIPE_PERIOD] for i in range(width + STRIPE_PERIOD))
        self._pad = bytes(stride - width)

    def luma(self, index: int, ms: int) -> bytes:
        rows = []
        for y in range(self.height):
            start = (y + index * SCROLL_PX) % STRIPE_PERIOD
            rows.append(self._row[start:start + self.width])
            rows.append(self._pad)
        plane = bytearray(b"".join(rows))
        paint_luma(plane, self.width, self.height, self.stride, ms)
        return bytes(plane)


def tone(first_sample: int) -> bytes:
    step = 2 * math.pi * TONE_HZ / AUDIO_RATE
    return array("f", (0.2 * math.sin(step * (first_sample + i))
                       for i in range(AUDIO_SAMPLES))).tobytes()


def publish(url: str, seconds: float, width: int, height: int, fps: int, kbps: int) -> None:
    container = av.open(url, mode="w", format="flv")
    video = container.add_stream("libx264", rate=fps, options={
        "preset": "ultrafast", "tune": "zerolatency", "g": str(fps), "bf": "0"})
    video.width, video.height, video.pix_fmt = width, height, "yuv420p"
    video.bit_rate = kbps * 1000
    audio = container.add_stream("aac", rate=AUDIO_RATE, layout="mono")
    audio.bit_rate = 96000
    template = av.VideoFrame(width, height, "yuv420p")
    pictures = Pictures(width, height, template.planes[0].line_size)
    chroma = [bytes([128]) * plane.buffer_size for plane in template.planes[1:]]
    start = time.monotonic()
    frames = samples = 0
    try:
        while time.monotonic() - start < seconds:
            next_video = start + frames / fps
            next_audio = start + samples / AUDIO_RATE
            due = min(next_video, next_audio)
            time.sleep(max(0.0, due - time.monotonic()))
            if next_video <= next_audio:
                frame = av.VideoFrame(width, height, "yuv420p")
                # Drawn now, encoded at once: the stamp is this picture's glass time.
                frame.planes[0].update(pictures.luma(frames, int(time.time() * 1000)))
                for plane, data in zip(frame.planes[1:], chroma, strict=True):
                    plane.update(data)
                frame.pts, frame.time_base = frames, Fraction(1, fps)
                container.mux(video.encode(frame))
                frames += 1
            else:
                sound = av.AudioFrame(format="fltp", layout="mono", samples=AUDIO_SAMPLES)
                sound.planes[0].update(tone(samples))
                sound.sample_rate, sound.pts = AUDIO_RATE, samples
                sound.time_base = Fraction(1, AUDIO_RATE)
                container.mux(audio.encode(sound))
                samples += AUDIO_SAMPLES
    finally:
        container.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=600.0)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=360)
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--kbps", type=int, default=1500)
    args = parser.parse_args()
    publish(args.url, args.seconds, args.width, args.height, args.fps, args.kbps)


if __name__ == "__main__":
    main()
