"""A recording's MP4 download against real readers, over a real aiohttp server: ffprobe
reports its duration and streams, ffmpeg decodes it without an error, and Debian's
Chromium plays it in a ``<video>`` (playwright-core) past 1 s and seeks in it through byte
ranges; also across a picture-size change (two sample entries)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from mediad.recording.download import serve_download
from mediad.recording.model import Recording
from tests.mediad.recording.disk_recording_testing import DiskRecording, record_to_disk
from tests.packager.packager_testing import FPS
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

HLSJS_DIR = Path(__file__).resolve().parent / "hlsjs"
"""Where playwright-core is installed."""

# Played until currentTime passes 1 s, then sought near the end; one JSON line back.
PLAY_AND_SEEK = """
import { chromium } from 'playwright-core';
const [url, seekTo] = [process.argv[1], Number(process.argv[2])];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required', '--mute-audio'],
});
const report = { played: false, sought: false, error: null };
try {
  const page = await browser.newPage();
  await page.goto(url);
  Object.assign(report, await page.evaluate(async (seekTo) => {
    const video = document.getElementById('v');
    const out = { played: false, sought: false, error: null };
    const until = (check, ms) => new Promise((resolve) => {
      const started = Date.now();
      const tick = () => (check() || Date.now() - started > ms) ? resolve(check())
        : setTimeout(tick, 50);
      tick();
    });
    video.play().catch((e) => { out.error = String(e); });
    out.played = await until(() => video.currentTime > 1, 20000);
    out.playedTo = video.currentTime;
    out.duration = video.duration;
    out.width = video.videoWidth;
    video.currentTime = seekTo;
    await until(() => !video.seeking && video.currentTime >= seekTo, 15000);
    out.sought = !video.seeking && video.currentTime >= seekTo;
    out.soughtTo = video.currentTime;
    await until(() => video.ended, 15000);
    out.ended = video.ended;
    out.endWidth = video.videoWidth;
    out.decoded = video.getVideoPlaybackQuality().totalVideoFrames;
    out.error = out.error || (video.error && `${video.error.code} ${video.error.message}`);
    return out;
  }, seekTo));
} catch (e) {
  report.error = String(e);
} finally {
  await browser.close();
}
console.log(JSON.stringify(report));
"""


@dataclass
class Server:
    url: str
    recordings: dict[str, Recording]
    ranges: list[str] = field(default_factory=list)


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    recordings: dict[str, Recording] = {}
    ranges: list[str] = []

    async def page(request: web.Request) -> web.Response:
        src = f"/vod/{request.match_info['id']}/download.mp4"
        return web.Response(text=f'<video id="v" muted playsinline src="{src}"></video>',
                            content_type="text/html")

    async def mp4(request: web.Request) -> web.StreamResponse:
        ranges.append(request.headers.get("Range", ""))
        return await serve_download(request, recordings[request.match_info["id"]])

    app = web.Application()
    app.router.add_get("/watch/{id}", page)
    app.router.add_get("/vod/{id}/download.mp4", mp4)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Server(f"http://127.0.0.1:{port}", recordings, ranges)
    finally:
        await runner.cleanup()


async def run(*command: str, cwd: Path | None = None, limit_sec: float = 90) -> str:
    proc = await asyncio.create_subprocess_exec(
        *command, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await asyncio.wait_for(proc.communicate(), limit_sec)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode == 0, err.decode(errors="replace")[-3000:]
    assert err.decode(errors="replace").strip() == "", err.decode(errors="replace")[-3000:]
    return out.decode()


def span(recording: Recording) -> float:
    """From the first sample to the end of the last, with what lies between two publishes
    (``duration`` sums the segments only)."""
    return max(r.segments[-1].end - r.segments[0].start for r in recording.renditions.values())


def serve(server: Server, written: DiskRecording) -> str:
    server.recordings[written.recording.id] = written.recording
    return f"{server.url}/vod/{written.recording.id}/download.mp4"


@pytest.mark.parametrize("shape", ["muxed", "ladder"])
async def test_ffprobe_and_ffmpeg_read_the_download(server: Server, tmp_path: Path,
                                                    shape: str) -> None:
    ffprobe, ffmpeg = require_tool("ffprobe"), require_tool("ffmpeg")
    written = record_to_disk(tmp_path, seconds=4, ladder=shape == "ladder")
    url = serve(server, written)
    probed: dict[str, Any] = json.loads(await run(
        ffprobe, "-v", "error", "-show_format", "-show_streams", "-of", "json", url))
    kinds = sorted(s["codec_type"] for s in probed["streams"])
    assert kinds == ["audio", "video"]
    assert probed["format"]["nb_streams"] == 2
    duration = float(probed["format"]["duration"])
    # What the download holds: the tallest video rendition and the audio (a ladder rung,
    # encoded in a thread, may end a little later or earlier than the source).
    recording = written.recording
    held = [recording.video_renditions()[0], recording.audio_rendition()]
    expected = max(r.duration for r in held if r is not None)
    assert abs(duration - expected) <= 1 / FPS, (duration, expected)
    video = next(s for s in probed["streams"] if s["codec_type"] == "video")
    assert int(video["nb_frames"]) == sum(1 for f in written.publishes[0].frames if f.is_video)
    await run(ffmpeg, "-nostdin", "-v", "error", "-i", url, "-f", "null", "-")


@pytest.mark.parametrize("resize", [None, (160, 120)])
async def test_chromium_plays_and_seeks_the_download(server: Server, tmp_path: Path,
                                                     resize: tuple[int, int] | None) -> None:
    node = require_tool("node")
    require_tool("chromium")
    if not (HLSJS_DIR / "node_modules" / "playwright-core").is_dir():
        pytest.fail("tests/interop/hlsjs/node_modules is missing: run npm ci there")
    written = record_to_disk(tmp_path, seconds=4, resize=resize)
    serve(server, written)
    seek_to = written.recording.duration - 1.5
    out = await run(node, "--input-type=module", "-e", PLAY_AND_SEEK,
                    f"{server.url}/watch/{written.recording.id}", str(seek_to),
                    cwd=HLSJS_DIR, limit_sec=120)
    report = json.loads(out.strip().splitlines()[-1])
    assert report["error"] is None, report
    assert report["played"] and report["width"] == 320, report
    # Within a few frames: the audio runs a frame or two past the last picture of each
    # publish (ffprobe's test pins the duration to a frame).
    assert abs(report["duration"] - span(written.recording)) <= 0.15, report
    assert report["sought"] and report["ended"], report
    if resize is not None:
        assert report["endWidth"] == resize[0], report
    assert any(r.startswith("bytes=") for r in server.ranges), server.ranges
