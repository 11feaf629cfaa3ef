"""WHEP viewers that are not browsers, many in one process, as load for
``bench/webrtc_latency.py``: each an aiortc ``RTCPeerConnection`` (recvonly video + audio)
that POSTs its offer to ``/whep/{stream}``, takes the 201 answer and receives.

aiortc's whole receive path runs (ICE, DTLS, SRTP, RTP, NACK/PLI, the jitter buffer putting
access units back together); each access unit is then counted instead of decoded, since
a hundred H.264 decoders would measure this process, not the server.

    python -m bench.webrtc_load_clients URL --clients N --seconds S --out REPORT.json

Prints ``ready`` once every viewer has connected or failed, then reads every viewer's count
of pictures each second for S seconds, writes the report, DELETEs every session.
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

    by_thread: dict[int, CountingDecoder] = {}
    """Each receiver has its own decoder thread, which makes its decoder on its first frame."""

    def __init__(self) -> None:
        self.count = 0  # written by this decoder's one thread only
        self.by_thread[threading.get_ident()] = self

    def decode(self, encoded_frame: JitterFrame) -> list[Frame]:
        self.count += 1
        return []


def counting_decoder(codec: RTCRtpCodecParameters) -> Decoder:
    return CountingDecoder()


_DECODER_THREAD = "_RTCRtpReceiver__decoder_thread"


def count_instead_of_decoding() -> None:
    """aiortc 1.16's receiver looks its decoder up by this module-level name, in a thread
    of its own (which tells the viewers' counts apart)."""
    names = vars(aiortc.rtcrtpreceiver)
    if "get_decoder" not in names:
        raise SystemExit(f"aiortc {aiortc.__version__}: no rtcrtpreceiver.get_decoder to replace")
    names["get_decoder"] = counting_decoder


@dataclass
class Viewer:
    pc: RTCPeerConnection
    location: str | None = None
    error: str | None = None
    frames: list[tuple[float, int]] = field(default_factory=list)
    """(monotonic time, video access units received so far), one reading a second."""

    def video_frames(self) -> int:
        for transceiver in self.pc.getTransceivers():
            if transceiver.kind == "video":
                receiver = vars(transceiver.receiver)
                if _DECODER_THREAD not in receiver:
                    raise SystemExit(f"aiortc {aiortc.__version__}: no {_DECODER_THREAD}")
                thread = receiver[_DECODER_THREAD]  # None until the receiver starts
                decoder = CountingDecoder.by_thread.get(thread.ident) if thread else None
                return decoder.count if decoder is not None else 0
        return 0


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


async def packets(viewer: Viewer) -> dict[str, int]:
    """RTP packets this viewer has received, per kind."""
    counts = {"video": 0, "audio": 0}
    for stats in (await viewer.pc.getStats()).values():
        if getattr(stats, "type", "") == "inbound-rtp":
            counts[stats.kind] += stats.packetsReceived
    return counts


def rate(readings: list[tuple[float, int]]) -> float:
    (t0, n0), (t1, n1) = readings[0], readings[-1]
    return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


async def run(url: str, clients: int, seconds: float) -> dict[str, object]:
    gate = asyncio.Semaphore(SETUP_AT_ONCE)
    async with aiohttp.ClientSession() as session:
        started = time.monotonic()
        viewers = await asyncio.gather(*(join(session, url, gate) for _ in range(clients)))
        setup_s = time.monotonic() - started
        live = [v for v in viewers if v.error is None]
        print("ready", len(live), len(viewers) - len(live), flush=True)
        before = await asyncio.gather(*(packets(v) for v in live))
        begin = time.monotonic()
        for tick in range(int(seconds) + 1):
            await asyncio.sleep(max(0.0, begin + tick - time.monotonic()))
            now = time.monotonic()
            for viewer in live:
                viewer.frames.append((now, viewer.video_frames()))
        window = time.monotonic() - begin
        after = await asyncio.gather(*(packets(v) for v in live))
        deletes = await asyncio.gather(*(session.delete(v.location) for v in live
                                         if v.location is not None))
        for response in deletes:
            response.release()
    await asyncio.gather(*(v.pc.close() for v in viewers))
    # A viewer kept receiving when no one-second reading found it without a new picture.
    stalled = sum(1 for v in live if any(
        b <= a for (_, a), (_, b) in zip(v.frames, v.frames[1:], strict=False)))
    per_viewer = [rate(v.frames) for v in live]
    return {
        "clients": clients,
        "connected": len(live),
        "failed": len(viewers) - len(live),
        "errors": sorted({v.error for v in viewers if v.error})[:5],
        "setup_s": setup_s,
        "window_s": window,
        "stalled": stalled,
        "video_frames_per_viewer_per_s": sum(per_viewer) / len(live) if live else 0.0,
        "slowest_viewer_frames_per_s": min(per_viewer, default=0.0),
        "video_packets_per_viewer_per_s": sum(
            a["video"] - b["video"] for a, b in zip(after, before, strict=True))
        / max(1, len(live)) / window,
        "without_audio": sum(1 for a, b in zip(after, before, strict=True)
                             if a["audio"] <= b["audio"]),
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
