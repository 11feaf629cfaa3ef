"""Record what a real RTMP publisher sends, for the ``tests/fixtures/rtmp/*.bin`` fixtures.

A throwaway asyncio server drives our own ``RtmpConnection`` (accepting everything) and
writes the client's bytes, exactly as read from the socket, to a file. Regenerate with::

    PYTHONPATH=. .venv/bin/python -m tests.ingest.rtmp.capture_testing PUBLISHER OUT.bin

PUBLISHER/OUT: ``ffmpeg`` → ffmpeg_h264_aac.bin, ``pyav-hevc`` → pyav_hevc_opus.bin,
``pyav-av1`` → pyav_av1_aac.bin, ``pyav-vp9`` → pyav_vp9_opus.bin (in tests/fixtures/rtmp/).
"""

from __future__ import annotations

import asyncio
import sys
from fractions import Fraction
from pathlib import Path

from ingest.rtmp import ConnectRequested, PublishRequested, RtmpConnection


async def serve_once(port_ready: asyncio.Future[int], record: bytearray) -> None:
    done = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = RtmpConnection()
        try:
            while data := await reader.read(65536):
                record.extend(data)
                conn.receive_data(data)
                while (event := conn.next_event()) is not None:
                    if isinstance(event, ConnectRequested):
                        conn.accept_connect()
                    elif isinstance(event, PublishRequested):
                        conn.accept_publish()
                writer.write(conn.data_to_send())
                await writer.drain()
        finally:
            writer.close()
            done.set()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port_ready.set_result(server.sockets[0].getsockname()[1])
    async with server:
        await done.wait()


async def capture(publisher: str, path: Path) -> None:
    record = bytearray()
    port: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(serve_once(port, record))
    url = f"rtmp://127.0.0.1:{await port}/live/streamkey123?token=abc"
    if publisher == "ffmpeg":
        proc = await asyncio.create_subprocess_exec(
            "ffmpeg", "-hide_banner", "-loglevel", "error",
            "-f", "lavfi", "-i", "testsrc2=size=160x120:rate=15",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050",
            "-t", "1", "-c:v", "libx264", "-preset", "veryfast", "-bf", "2", "-g", "15",
            "-b:v", "150k", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "32k", "-ac", "1",
            "-f", "flv", url)
        await proc.wait()
    else:
        # A subprocess, not a thread: PyAV can hold the GIL in a blocking network write,
        # which would starve this event loop (observed with PyAV 18).
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c",
            "import sys; from tests.ingest.rtmp.capture_testing import pyav_publish as p; "
            "p(*sys.argv[1:])", url, *PYAV_PUBLISHERS[publisher])
        await proc.wait()
    await asyncio.wait_for(task, 10)
    await asyncio.to_thread(path.write_bytes, bytes(record))
    print(f"{path}: {len(record)} bytes")


def pyav_publish(url: str, video_codec: str, audio_codec: str) -> None:
    """libavformat >= 7.1 (PyAV's) speaks Enhanced RTMP: hvc1/av01/vp09 video, Opus audio."""
    import av

    out = av.open(url, "w", format="flv")
    video = out.add_stream(video_codec, rate=15)
    assert isinstance(video, av.VideoStream)
    video.width, video.height, video.pix_fmt = 160, 120, "yuv420p"
    video.time_base = Fraction(1, 15)
    video.codec_context.gop_size = 15
    if video_codec == "libx265":
        video.codec_context.options = {"x265-params": "keyint=15:bframes=2:log-level=error"}
    elif video_codec == "libsvtav1":
        video.codec_context.options = {"svtav1-params": "keyint=15:svt-log-level=0"}
    audio = out.add_stream(audio_codec, rate=48000)
    assert isinstance(audio, av.AudioStream)
    audio.layout = "mono"
    samples = 960 if audio_codec == "libopus" else 1024
    audio_pts = 0
    for i in range(15):
        frame = av.VideoFrame(160, 120, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes([(i * 16) & 0xFF]) * plane.buffer_size)
        frame.pts = i
        for packet in video.encode(frame):
            out.mux(packet)
        while audio_pts < (i + 1) * 48000 // 15:
            chunk = av.AudioFrame(format=audio.format.name, layout="mono",
                                  samples=samples)
            for audio_plane in chunk.planes:
                audio_plane.update(bytes(audio_plane.buffer_size))
            chunk.sample_rate = 48000
            chunk.pts = audio_pts
            audio_pts += samples
            for packet in audio.encode(chunk):
                out.mux(packet)
    for packet in [*video.encode(None), *audio.encode(None)]:
        out.mux(packet)
    out.close()


PYAV_PUBLISHERS = {
    "pyav-hevc": ("libx265", "libopus"),
    "pyav-av1": ("libsvtav1", "aac"),
    "pyav-vp9": ("libvpx-vp9", "libopus"),
}


if __name__ == "__main__":
    asyncio.run(capture(sys.argv[1], Path(sys.argv[2])))
