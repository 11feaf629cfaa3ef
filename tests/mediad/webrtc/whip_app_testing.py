"""A daemon app with WHIP (and WHEP) for aiohttp's test client: the real store, registry,
pipelines and routes, no listeners; and an aiortc publisher that sends H.264 + Opus."""

from __future__ import annotations

import asyncio
import fractions
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import av
from aiohttp import web
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AUDIO_PTIME, VIDEO_CLOCK_RATE, VIDEO_PTIME

from mediad.bootstrap import BootstrapResult, bootstrap_if_empty
from mediad.config import Config, load_config
from mediad.http.app import create_app
from mediad.store import Store
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import StreamRegistry
from mediad.webrtc.context import WebRtcContext
from mediad.webrtc.setup import setup_webrtc


@dataclass
class WhipApp:
    app: web.Application
    config: Config
    store: Store
    registry: StreamRegistry
    pipelines: StreamPipelines
    webrtc: WebRtcContext
    first: BootstrapResult


@asynccontextmanager
async def whip_app(tmp_path: Path, webrtc_lines: str = "", extra: str = ""
                   ) -> AsyncIterator[WhipApp]:
    """``webrtc_lines``: more lines of the ``[webrtc]`` section; ``extra``: more sections."""
    conf = tmp_path / "mediad.toml"
    conf.write_text(f'[storage]\ndata_dir = "{tmp_path}"\n'
                    f'[webrtc]\nbind_addresses = ["127.0.0.1"]\n{webrtc_lines}\n'
                    '[transcode]\nenabled = false\n' + extra)
    config = load_config(conf, environ={})
    store = await Store.open(config.storage.database_path)
    first = await bootstrap_if_empty(store, config)
    assert first is not None
    registry = StreamRegistry(store)
    pipelines = StreamPipelines(config.hls, registry, store, transcode=config.transcode)
    await pipelines.start()
    app = create_app(config, store, registry)
    webrtc = setup_webrtc(app, config, store, registry, pipelines)
    try:
        yield WhipApp(app, config, store, registry, pipelines, webrtc, first)
    finally:
        await webrtc.sessions.close_all()
        await pipelines.stop()
        await registry.close()
        await store.close()


class MovingBar(MediaStreamTrack):
    """Frames of a moving bar at 30 fps, for aiortc's own H.264 encoder."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._count = 0

    async def recv(self) -> av.VideoFrame:
        await asyncio.sleep(VIDEO_PTIME)
        frame = av.VideoFrame(320, 240, "yuv420p")
        luma = bytearray(b"\x20" * (320 * 240))
        left = (self._count * 4) % 288
        for row in range(240):
            luma[row * 320 + left:row * 320 + left + 32] = b"\xe0" * 32
        frame.planes[0].update(bytes(luma))
        frame.pts = self._count * int(VIDEO_CLOCK_RATE * VIDEO_PTIME)
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK_RATE)
        self._count += 1
        return frame


class Silence(MediaStreamTrack):
    """20 ms of silence at a time, for aiortc's Opus encoder."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        self._count = 0

    async def recv(self) -> av.AudioFrame:
        await asyncio.sleep(AUDIO_PTIME)
        samples = int(48000 * AUDIO_PTIME)
        frame = av.AudioFrame(format="s16", layout="stereo", samples=samples)
        frame.planes[0].update(bytes(samples * 4))
        frame.sample_rate = 48000
        frame.pts = self._count * samples
        frame.time_base = fractions.Fraction(1, 48000)
        self._count += 1
        return frame


async def publisher_offer(video: bool = True, audio: bool = True) -> RTCPeerConnection:
    """An aiortc peer sending H.264 (forced) and Opus, its offer made."""
    pc = RTCPeerConnection()
    if video:
        sender = pc.addTrack(MovingBar())
        transceiver = next(t for t in pc.getTransceivers() if t.sender is sender)
        codecs = [c for c in (sender.getCapabilities("video").codecs)
                  if c.mimeType in ("video/H264", "video/rtx")]
        transceiver.setCodecPreferences(codecs)
    if audio:
        pc.addTrack(Silence())
    await pc.setLocalDescription(await pc.createOffer())
    return pc


async def accept_answer(pc: RTCPeerConnection, answer: str) -> None:
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
