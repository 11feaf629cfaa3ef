"""WHEP viewers that are not browsers, many in one process, as load for
``bench/webrtc_latency.py``: each an aiortc ``RTCPeerConnection`` (recvonly video + audio)
that POSTs its offer to ``/whep/{stream}``, takes the 201 answer and receives.

aiortc's whole receive path runs (ICE, DTLS, SRTP, RTP, NACK/PLI, the jitter buffer putting
access units back together); each access unit is then counted instead of decoded, since
a hundred H.264 decoders would measure this process, not the server.

    python -m bench.webrtc_load_clients URL --clients N --seconds S --out REPORT.json

Prints ``ready`` once every viewer has connected or failed, then samples every viewer's
received RTP packets each second for S seconds, writes the report, DELETEs every session.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from dataclasses import dataclass, field

import aiohttp
import aiortc
import aiortc.rtcrtpreceiver
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpCodecParameters
from aiortc import RTCSessionDescription as Description
from aiortc.codecs.base import Decoder
from aiortc.jitterbuffer import JitterFrame
from av.frame import Frame
from yarl import URL

from bench.harness import raise_open_files_limit, run_on_uvloop

SETUP_AT_ONCE = 10
"""Offers in flight together: a join burst, not a hundred DTLS handshakes in one instant."""
CONNECT_TIMEOUT_S = 30.0


class CountingDecoder(Decoder):
    """Where aiortc would decode: counts the access unit and returns no picture."""

    instances: list[CountingDecoder] = []
    lock = threading.Lock()

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.count = 0  # written by this decoder's one thread only
        with self.lock:
            self.instances.append(self)

    def decode(self, encoded_frame: JitterFrame) -> list[Frame]:
        self.count += 1
        return []

    @classmethod
    def total(cls, kind: str) -> int:
        with cls.lock:
            return sum(d.count for d in cls.instances if d.kind == kind)


def counting_decoder(codec: RTCRtpCodecParameters) -> Decoder:
    return CountingDecoder(codec.mimeType.split("/")[0].lower())


def count_instead_of_decoding() -> None:
    """aiortc's receiver looks its decoder up by this module-level name (aiortc 1.16)."""
    names = vars(aiortc.rtcrtpreceiver)
    if "get_decoder" not in names:
        raise SystemExit(f"aiortc {aiortc.__version__}: no rtcrtpreceiver.get_decoder to replace")
    names["get_decoder"] = counting_decoder


@dataclass
class Viewer:
    pc: RTCPeerConnection
    location: str | None = None
    error: str | None = None
    packets: list[int] = field(default_factory=list)
    """Video RTP packets received so far, one reading a second."""
    audio_packets: int = 0


async def join(session: aiohttp.ClientSession, url: str, gate: asyncio.Semaphore) -> Viewer:
    viewer = Viewer(RTCPeerConnection(RTCConfiguration(iceServers=[])))
    viewer.pc.addTransceiver("video", direction="recvonly")
    viewer.pc.addTransceiver("audio", direction="recvonly")
    connected = asyncio.Event()

    @viewer.pc.on("connectionstatechange")
    def changed() -> None:
        if viewer.pc.connectionState in ("connected", "failed", "closed"):
            connected.set()

    try:
        async with gate:
            # aiortc gathers every candidate inside setLocalDescription: nothing to trickle.
            await viewer.pc.setLocalDescription(await viewer.pc.createOffer())
            offer = viewer.pc.localDescription.sdp
            async with session.post(url, data=offer,
                                    headers={"Content-Type": "application/sdp"}) as response:
                answer = await response.text()
                if response.status != 201:
                    raise RuntimeError(f"POST {response.status}: {answer[:200]}")
                viewer.location = str(response.url.join(URL(response.headers["Location"])))
            await viewer.pc.setRemoteDescription(Description(sdp=answer, type="answer"))
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                await connected.wait()
            if viewer.pc.connectionState != "connected":
                raise RuntimeError(f"connection {viewer.pc.connectionState}")
    except (OSError, RuntimeError, TimeoutError, aiohttp.ClientError, ValueError) as exc:
        viewer.error = f"{type(exc).__name__}: {exc}"
    return viewer


async def received(viewer: Viewer) -> tuple[int, int]:
    """(video, audio) RTP packets this viewer has received."""
    video = audio = 0
    for stats in (await viewer.pc.getStats()).values():
        if getattr(stats, "type", "") == "inbound-rtp":
            if stats.kind == "video":
                video += stats.packetsReceived
            else:
                audio += stats.packetsReceived
    return video, audio


async def run(url: str, clients: int, seconds: float) -> dict[str, object]:
    gate = asyncio.Semaphore(SETUP_AT_ONCE)
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        viewers = await asyncio.gather(*(join(session, url, gate) for _ in range(clients)))
        setup_s = time.monotonic() - started
        live = [v for v in viewers if v.error is None]
        print("ready", len(live), len(viewers) - len(live), flush=True)
        frames0 = CountingDecoder.total("video")
        begin = time.monotonic()
        for tick in range(1, int(seconds) + 1):
            await asyncio.sleep(max(0.0, begin + tick - time.monotonic()))
            for viewer, (video, audio) in zip(
                    live, await asyncio.gather(*(received(v) for v in live)), strict=True):
                viewer.packets.append(video)
                viewer.audio_packets = audio
        window = time.monotonic() - begin
        frames = CountingDecoder.total("video") - frames0
        deletes = await asyncio.gather(*(session.delete(v.location) for v in live
                                         if v.location is not None))
        for response in deletes:
            response.release()
    await asyncio.gather(*(v.pc.close() for v in viewers))
    # A viewer kept receiving when no one-second reading found it without new video packets.
    stalled = sum(1 for v in live
                  if any(b <= a for a, b in zip(v.packets, v.packets[1:], strict=False)))
    return {
        "clients": clients,
        "connected": len(live),
        "failed": len(viewers) - len(live),
        "errors": sorted({v.error for v in viewers if v.error})[:5],
        "setup_s": setup_s,
        "window_s": window,
        "stalled": stalled,
        "video_frames_per_viewer_per_s": frames / window / len(live) if live else 0.0,
        "video_packets_per_viewer_per_s": (
            sum(v.packets[-1] - v.packets[0] for v in live) / len(live) / (seconds - 1)
            if live and seconds > 1 else 0.0),
        "without_audio": sum(1 for v in live if v.audio_packets == 0),
        "delete_statuses": sorted({r.status for r in deletes}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    raise_open_files_limit()
    count_instead_of_decoding()
    report = run_on_uvloop(run(args.url, args.clients, args.seconds))
    with open(args.out, "w") as out:
        json.dump(report, out)


if __name__ == "__main__":
    main()
