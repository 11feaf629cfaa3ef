"""The HTTP side of the WHIP/WHEP interop tests: FFmpeg's WHIP muxer as a subprocess, offers
made by aiortc (a WebRTC stack we did not write) for the refusals, raw POSTs, and the
stream's state as the API reports it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping

from aiortc import RTCPeerConnection, RTCRtpSender

from mediad.testing import DaemonProcess


def ffmpeg_whip(url: str, token: str, seconds: float, keyint: int = 30
                ) -> subprocess.Popen[bytes]:
    """FFmpeg's WHIP muxer publishing 640x360 H.264 (a keyframe every ``keyint`` frames at
    30 fps) and Opus in real time; its close at the end DELETEs the session."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.interop.whip_publisher_testing", url, token,
         str(seconds), str(keyint)], stdin=subprocess.DEVNULL)


def post(url: str, body: bytes, headers: Mapping[str, str]
         ) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) of one POST; an error status is an answer too."""
    request = urllib.request.Request(url, data=body, method="POST", headers=dict(headers))
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return (int(response.status), dict(response.headers),
                    response.read().decode(errors="replace"))
    except urllib.error.HTTPError as error:
        return int(error.code), dict(error.headers), error.read().decode(errors="replace")


def post_offer(url: str, offer: str, token: str | None = None,
               content_type: str = "application/sdp") -> tuple[int, dict[str, str], str]:
    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return post(url, offer.encode(), headers)


def error_text(body: str) -> str:
    """The ``{"error": ...}`` of a refusal."""
    return str(json.loads(body)["error"])


async def _offer(video_codec: str) -> str:
    pc = RTCPeerConnection()
    try:
        video = pc.addTransceiver("video", direction="sendonly")
        pc.addTransceiver("audio", direction="sendonly")
        wanted = f"video/{video_codec}".lower()
        video.setCodecPreferences([c for c in RTCRtpSender.getCapabilities("video").codecs
                                   if c.mimeType.lower() == wanted])
        await pc.setLocalDescription(await pc.createOffer())  # gathers every candidate
        return str(pc.localDescription.sdp)
    finally:
        await pc.close()


def aiortc_offer(video_codec: str) -> str:
    """A sendonly video (only ``video_codec``: ``H264``, ``VP8``) + Opus audio offer, with
    its candidates, as aiortc writes it."""
    return asyncio.run(_offer(video_codec))


def stream_state(daemon: DaemonProcess) -> str:
    with urllib.request.urlopen(f"{daemon.base_url}/api/streams/{daemon.banner.stream_id}",
                                timeout=15) as response:
        return str(json.loads(response.read())["state"])


def wait_state(daemon: DaemonProcess, state: str, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while (now := stream_state(daemon)) != state:
        assert time.monotonic() < deadline, f"the stream is {now}, not {state}"
        time.sleep(0.1)
