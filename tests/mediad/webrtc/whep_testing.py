"""A daemon app with WHIP/WHEP routes and a stream fed, at its real pace, with real encoded
H.264 (no B-frames) and AAC through the registry as the RTMP server feeds it; and an aiortc
WHEP client. For the WHEP endpoint tests and the Chromium WHEP interop tests."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

from ingest.media import Frame
from mediad.auth import Tokens
from mediad.config import Config
from mediad.http.app import create_app
from mediad.publisher import Publisher
from mediad.realtime.setup import setup_realtime
from mediad.store import Store
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import StreamRegistry
from mediad.webrtc.setup import setup_webrtc
from mediad.webrtc.whep import WHEP_FEEDS
from tests.mediad.registry_testing import Kicks, make_stream
from tests.packager.packager_testing import Source

Client = TestClient[web.Request, web.Application]


@dataclass
class WhepEnv:
    client: Client
    registry: StreamRegistry
    stream_id: str
    key: str
    source: Source
    publisher: Publisher | None = None
    feeding: asyncio.Task[None] | None = None
    kicks: Kicks = field(default_factory=Kicks)

    async def publish(self, source: Source | None = None) -> Publisher:
        """Attach an RTMP publisher and feed ``source`` (looped, at its own pace)."""
        source = source or self.source
        publisher = self.publisher = await self.registry.start_publish(
            protocol="rtmp", key=self.key, peer="127.0.0.1:50000", disconnect=self.kicks)
        publisher.announce_track(source.video)
        publisher.announce_track(source.audio)
        self.feeding = asyncio.get_running_loop().create_task(feed_forever(publisher, source))
        return publisher

    async def stop_feeding(self) -> None:
        if self.feeding is not None:
            self.feeding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.feeding


async def feed_forever(publisher: Publisher, source: Source) -> None:
    """The source's frames, looped with their timestamps moved on, as a publisher sends
    them (paced by their decode times, in milliseconds)."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    span = max(f.dts for f in source.frames) + 34
    lap = 0
    while True:
        for frame in source.frames:
            at = lap * span + frame.dts
            delay = start + at / 1000 - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            publisher.push_frame(dataclasses.replace(
                frame, dts=at, pts=lap * span + frame.pts, arrival=loop.time()))
        lap += 1


@contextlib.asynccontextmanager
async def whep_env(tmp_path: Path, source: Source, *, config: Config | None = None
                   ) -> AsyncIterator[WhepEnv]:
    """A daemon app (WHIP/WHEP, LL-HLS packaging) on a real store; ICE on loopback."""
    config = config or Config()
    config = replace(config, webrtc=replace(config.webrtc, bind_addresses=("127.0.0.1",),
                                            session_setup_timeout_sec=10.0))
    store = await Store.open(tmp_path / "db.sqlite3")
    registry = StreamRegistry(store)
    pipelines = StreamPipelines(config.hls, registry, store)
    app = create_app(config, store, registry)
    setup_webrtc(app, config, store, registry, pipelines)
    setup_realtime(app, Tokens(b"whep-tests-secret-0123456789abcdef", 900, 3600),
                   pipelines=pipelines.get, webrtc=app[WHEP_FEEDS].health_message)
    stream_id, key, _ = await make_stream(store)
    await pipelines.start()
    env = WhepEnv(TestClient(TestServer(app)), registry, stream_id, key, source)
    try:
        async with env.client:
            yield env
    finally:
        await env.stop_feeding()
        await pipelines.stop()
        await registry.close()
        await store.close()


def recvonly_client() -> RTCPeerConnection:
    """A WHEP player: receives one video and one audio track."""
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="recvonly")
    pc.addTransceiver("audio", direction="recvonly")
    return pc


async def whep_offer(pc: RTCPeerConnection) -> str:
    """The client's offer, every candidate gathered (WHEP without trickle)."""
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def play(client: Client, stream_id: str, pc: RTCPeerConnection
               ) -> tuple[str, dict[str, MediaStreamTrack]]:
    """POST the offer, apply the answer: (the session's Location, the tracks by kind)."""
    tracks: dict[str, MediaStreamTrack] = {}

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        tracks[track.kind] = track

    offer = await whep_offer(pc)
    response = await client.post(f"/whep/{stream_id}", data=offer,
                                 headers={"Content-Type": "application/sdp"})
    body = await response.text()
    assert response.status == 201, body
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body, type="answer"))
    return response.headers["Location"], tracks


def frames_of(source: Source, kind: str) -> list[Frame]:
    return [f for f in source.frames if f.track.kind == kind]
