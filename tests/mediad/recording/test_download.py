"""``serve_download`` over HTTP (aiohttp test client) on real recordings on disk: the whole
MP4, which PyAV reads back frame for frame against what was recorded; byte ranges, 416,
HEAD; rendition choice and refusals; caching; the body read off the loop in bounded
chunks."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from mediad.recording import download
from mediad.recording.model import Recording
from tests.mediad.recording.disk_recording_testing import DiskRecording, record_to_disk

av: Any = pytest.importorskip("av")

RECORDINGS = web.AppKey("recordings", dict[str, Recording])


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, DiskRecording]:
    root = tmp_path_factory.mktemp("recordings")
    return {
        "muxed": record_to_disk(root, seconds=3, title="Late show: ünïcode/\"quotes\""),
        "ladder": record_to_disk(root, seconds=3, ladder=True),
        "resized": record_to_disk(root, seconds=2, resize=(160, 120)),
    }


async def handler(request: web.Request) -> web.StreamResponse:
    recording = request.app[RECORDINGS].get(request.match_info["id"])
    if recording is None:
        raise web.HTTPNotFound()
    return await download.serve_download(request, recording)


@pytest.fixture
async def client(recorded: dict[str, DiskRecording]) -> AsyncIterator[TestClient[Any, Any]]:
    app = web.Application()
    app[RECORDINGS] = {w.recording.id: w.recording for w in recorded.values()}
    app.router.add_get("/vod/{id}/download.mp4", handler)
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def url(written: DiskRecording) -> str:
    return f"/vod/{written.recording.id}/download.mp4"


def read_back(path: Path) -> tuple[dict[str, list[tuple[int, int, bool]]], list[tuple[int, int]]]:
    """(per kind: every packet's pts, dts, key; every decoded picture's size)."""
    got: dict[str, list[tuple[int, int, bool]]] = {"video": [], "audio": []}
    sizes = []
    with av.open(str(path)) as container:
        for packet in container.demux():
            if packet.size == 0:
                continue
            got[packet.stream.type].append(
                (int(packet.pts), int(packet.dts), bool(packet.is_keyframe)))
            for frame in packet.decode():
                if packet.stream.type == "video":
                    sizes.append((frame.width, frame.height))
        for stream in container.streams.video:
            sizes += [(f.width, f.height) for f in stream.codec_context.decode(None)]
    return got, sizes


def expected_video(written: DiskRecording, shift: int) -> list[tuple[int, int, bool]]:
    frames = [f for f in written.publishes[0].frames if f.is_video]
    return [(f.pts * 90 + shift, f.dts * 90 + shift, f.keyframe) for f in frames]


def audio_count(sources: Sequence[Any]) -> int:
    return sum(1 for source in sources for f in source.frames if not f.is_video)


async def test_the_whole_mp4_reads_back_frame_for_frame(
        client: TestClient[Any, Any], recorded: dict[str, DiskRecording], tmp_path: Path) -> None:
    for name in ("muxed", "ladder"):
        written = recorded[name]
        response = await client.get(url(written))
        assert response.status == 200
        body = await response.read()
        assert response.headers["Content-Type"] == "video/mp4"
        assert response.headers["Accept-Ranges"] == "bytes"
        assert int(response.headers["Content-Length"]) == len(body)
        assert response.headers["Cache-Control"] == "private, max-age=31536000, immutable"
        path = tmp_path / f"{name}.mp4"
        path.write_bytes(body)
        got, sizes = read_back(path)
        shift = got["video"][0][1] - expected_video(written, 0)[0][1]
        assert got["video"] == expected_video(written, shift), name
        assert len(got["audio"]) == audio_count(written.publishes), name
        assert set(sizes) == {(320, 240)}


async def test_a_rendition_can_be_asked_for_and_an_unknown_one_is_refused(
        client: TestClient[Any, Any], recorded: dict[str, DiskRecording], tmp_path: Path) -> None:
    written = recorded["ladder"]
    response = await client.get(url(written), params={"rendition": "120p"})
    assert response.status == 200
    (tmp_path / "low.mp4").write_bytes(await response.read())
    got, sizes = read_back(tmp_path / "low.mp4")
    assert set(sizes) == {(160, 120)} and len(got["audio"]) == audio_count(written.publishes)
    assert got["video"][0][2], "the download starts on a keyframe"

    response = await client.get(url(written), params={"rendition": "1080p"})
    assert response.status == 400
    reason = (await response.json())["error"]
    assert "1080p" in reason and "source" in reason and "120p" in reason

    response = await client.get(url(written), params={"rendition": "audio"})
    assert response.status == 200
    (tmp_path / "audio.mp4").write_bytes(await response.read())
    got, _ = read_back(tmp_path / "audio.mp4")
    assert got["video"] == [] and len(got["audio"]) == audio_count(written.publishes)


async def test_a_picture_size_change_plays_through_in_one_file(
        client: TestClient[Any, Any], recorded: dict[str, DiskRecording], tmp_path: Path) -> None:
    written = recorded["resized"]
    response = await client.get(url(written))
    (tmp_path / "resized.mp4").write_bytes(await response.read())
    got, sizes = read_back(tmp_path / "resized.mp4")
    pictures = sum(1 for s in written.publishes for f in s.frames if f.is_video)
    assert len(got["video"]) == len(sizes) == pictures
    assert sizes[0] == (320, 240) and sizes[-1] == (160, 120)
    dts = [d for _, d, _ in got["video"]]
    assert dts == sorted(dts) and len(set(dts)) == len(dts)


async def test_byte_ranges_and_head(client: TestClient[Any, Any],
                                    recorded: dict[str, DiskRecording]) -> None:
    target = url(recorded["muxed"])
    whole = await (await client.get(target)).read()
    size = len(whole)
    for header, start, stop in (("bytes=0-99", 0, 100), ("bytes=1000-", 1000, size),
                                ("bytes=-500", size - 500, size),
                                (f"bytes={size - 10}-{size + 1000}", size - 10, size),
                                ("bytes=5000-70000", 5000, min(70001, size))):
        response = await client.get(target, headers={"Range": header})
        assert response.status == 206, header
        assert response.headers["Content-Range"] == f"bytes {start}-{stop - 1}/{size}"
        assert await response.read() == whole[start:stop], header

    response = await client.get(target, headers={"Range": f"bytes={size}-"})
    assert response.status == 416
    assert response.headers["Content-Range"] == f"bytes */{size}"
    for ignored in ("bytes=0-1,5-9", "lines=1-2", "bytes=9-3"):
        response = await client.get(target, headers={"Range": ignored})
        assert response.status == 200 and await response.read() == whole, ignored

    etag = (await client.head(target)).headers["ETag"]
    response = await client.get(target, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert response.status == 206
    response = await client.get(target, headers={"Range": "bytes=0-9", "If-Range": '"old"'})
    assert response.status == 200 and len(await response.read()) == size

    response = await client.head(target)
    assert response.status == 200
    assert int(response.headers["Content-Length"]) == size
    assert await response.read() == b""
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="Late show_ _n_code_quotes.mp4"')
    assert "filename*=UTF-8''Late%20show%3A%20%C3%BCn%C3%AFcode%2F%22quotes%22.mp4" in disposition


async def test_a_recording_without_media_is_404(client: TestClient[Any, Any],
                                                tmp_path: Path) -> None:
    empty = Recording("AAAAAAAAAAAAAAAA", "stream1", "broadcast", "nothing", 0, tmp_path,
                      state="complete")
    client.app[RECORDINGS][empty.id] = empty
    response = await client.get(f"/vod/{empty.id}/download.mp4")
    assert response.status == 404
    assert "no media" in (await response.json())["error"]


async def test_the_body_is_read_off_the_loop_in_bounded_chunks(
        client: TestClient[Any, Any], recorded: dict[str, DiskRecording],
        monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[tuple[int, int]] = []
    plans: list[int] = []
    real_read, real_plan = download._read, download._plan

    def read(paths: Any, ranges: Any) -> bytes:
        data = real_read(paths, ranges)
        reads.append((threading.get_ident(), len(data)))
        return data

    def plan(*args: Any) -> Any:
        plans.append(threading.get_ident())
        return real_plan(*args)

    monkeypatch.setattr(download, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(download, "_read", read)
    monkeypatch.setattr(download, "_plan", plan)
    monkeypatch.setattr(download, "_PLANS", download._PlanCache(1 << 20))
    written = recorded["ladder"]
    response = await client.get(url(written))
    body = b""
    async for piece in response.content.iter_chunked(65536):
        body += piece
    assert len(body) == int(response.headers["Content-Length"])
    loop_thread = threading.get_ident()
    assert len(reads) > len(body) // 4096 - 2
    assert max(size for _, size in reads) <= 4096
    assert loop_thread not in {thread for thread, _ in reads} | set(plans)

    # Complete: planned once, then served from the cache.
    again = await client.get(url(written), headers={"Range": "bytes=0-9"})
    assert again.status == 206 and len(plans) == 1


async def test_a_recording_still_being_recorded_is_planned_afresh(
        client: TestClient[Any, Any], tmp_path: Path) -> None:
    written = record_to_disk(tmp_path, seconds=3, state="recording")
    recording = written.recording
    source = recording.renditions["source"]
    segments = list(source.segments)
    source.segments = segments[:2]
    client.app[RECORDINGS][recording.id] = recording
    first = await client.get(url(written))
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert "ETag" not in first.headers
    short = len(await first.read())
    source.segments = segments  # the recorder appended a segment
    longer = len(await (await client.get(url(written))).read())
    assert longer > short
