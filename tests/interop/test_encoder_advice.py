"""Encoder advice from a real publisher: the ffmpeg CLI over RTMP with a 5 s keyframe
interval (``-g 150`` at 30 fps) gets the keyframe advice on the health channel, as a
WebSocket client in the control room receives it; a clean publish (1 s GOPs) on the same key
gets none."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from mediad.testing import DaemonProcess
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

CONFIG = "[transcode]\nenabled = false\n[realtime]\nhealth_interval_sec = 0.5\n"


def publish(ffmpeg: str, url: str, seconds: int, gop: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
         "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
         "-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast", "-g", str(gop),
         "-keyint_min", str(gop), "-sc_threshold", "0", "-c:a", "aac", "-f", "flv", url],
        stdin=subprocess.DEVNULL)


async def health_messages(ws: aiohttp.ClientWebSocketResponse) -> AsyncIterator[dict[str, Any]]:
    async for frame in ws:
        if frame.type != aiohttp.WSMsgType.TEXT:
            break
        body = json.loads(frame.data)
        for message in body if isinstance(body, list) else [body]:
            if message.get("type") == "health":
                yield message


def attachments(daemon: DaemonProcess) -> int:
    return len([line for line in daemon.stderr_lines if "publisher attached" in line])


def stop(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait()


async def test_a_long_gop_gets_the_keyframe_advice_and_a_clean_publish_none() -> None:
    ffmpeg = require_tool("ffmpeg")
    with DaemonProcess(extra_config=CONFIG) as daemon:
        ws_url = f"ws://127.0.0.1:{daemon.http_port}/ws/streams/{daemon.banner.stream_id}"
        async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
            long_gop = publish(ffmpeg, daemon.rtmp_url(), 30, gop=150)
            try:
                async with asyncio.timeout(20):
                    async for health in health_messages(ws):
                        advice = {a["code"]: a for a in health.get("advice", [])}
                        if "keyframe_interval" in advice:
                            break
            finally:
                stop(long_gop)
            keyframes = advice["keyframe_interval"]
            print(f"\nadvice: {keyframes['value']} {keyframes['unit']}: {keyframes['message']}")
            assert list(advice) == ["keyframe_interval"]
            assert 2.0 < keyframes["value"] <= 5.1 and keyframes["limit"] == 2.0
            assert "Keyframe Interval" in keyframes["obs"]

            daemon.wait_for_log("rtmp connection closed", timeout=15)
            before = attachments(daemon)
            clean = publish(ffmpeg, daemon.rtmp_url(), 30, gop=30)
            try:
                async with asyncio.timeout(15):
                    while attachments(daemon) <= before:  # noqa: ASYNC110 -- a log
                        await asyncio.sleep(0.05)
                settle = time.monotonic() + 4  # the first GOPs and samples of the new publisher
                seen: list[Any] = []
                async with asyncio.timeout(20):
                    async for health in health_messages(ws):
                        if time.monotonic() > settle:
                            seen.append(health.get("advice"))
                            if len(seen) >= 6:
                                break
            finally:
                stop(clean)
            assert seen == [[]] * 6
