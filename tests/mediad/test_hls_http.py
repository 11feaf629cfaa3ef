"""LL-HLS over HTTP: blocking playlist reload, preload-hint blocking, delta updates, errors
and caching headers. A real pipeline fed with real encoded frames stands behind the app."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from mediad.config import Config
from mediad.http.app import PLAYBACK_OBSERVERS, create_app
from mediad.http.hls import setup_hls
from mediad.store import Store
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import StreamRegistry
from tests.mediad.hls_env_testing import HlsEnv as Env
from tests.mediad.hls_env_testing import ready_pipeline
from tests.packager.packager_testing import Source, encode_source

STREAM = "teststream01"


@pytest.fixture(scope="module")
def source() -> Source:
    return encode_source(seconds=10, b_frames=0)


@pytest.fixture
async def env(tmp_path: Path, source: Source) -> AsyncIterator[Env]:
    store = await Store.open(tmp_path / "db.sqlite3")
    config = Config()
    config = replace(config, hls=replace(config.hls, block_timeout_sec=1.0))
    registry = StreamRegistry(store)
    pipelines = StreamPipelines(config.hls, registry, store)
    pipeline, frames = ready_pipeline(source)
    pipelines.pipelines[STREAM] = pipeline
    env = Env(TestClient(TestServer(setup_app(config, store, registry, pipelines))),
              pipeline, frames, STREAM)
    async with env.client:
        yield env
    await store.close()


async def test_a_request_through_an_edge_counts_no_viewer(env: Env) -> None:
    seen: list[str] = []
    env.client.app[PLAYBACK_OBSERVERS].append(lambda stream, request: seen.append(stream))
    for path in (f"/hls/{STREAM}/index.m3u8", env.base + "index.m3u8"):
        assert (await env.client.get(path, headers={"Via": "1.1 mediad-edge"})).status == 200
    assert seen == []
    for path in (f"/hls/{STREAM}/index.m3u8", env.base + "index.m3u8"):
        assert (await env.client.get(path)).status == 200
    assert seen == [STREAM, STREAM]


def setup_app(config: Config, store: Store, registry: StreamRegistry,
              pipelines: StreamPipelines
              ) -> object:
    app = create_app(config, store, registry)
    setup_hls(app, pipelines)
    return app


async def test_multivariant_and_media_playlist_headers(env: Env) -> None:
    r = await env.client.get(f"/hls/{STREAM}/index.m3u8")
    assert r.status == 200
    assert r.headers["Content-Type"] == "application/vnd.apple.mpegurl"
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Age" in r.headers["Access-Control-Expose-Headers"]
    text = await r.text()
    assert f"{env.pipeline.session}/source/index.m3u8" in text

    r = await env.client.get(env.base + "index.m3u8")
    assert r.status == 200
    assert r.headers["Cache-Control"] == "max-age=1"  # TD / 2, at least a second
    body = await r.text()
    assert body.startswith("#EXTM3U") and "#EXT-X-PRELOAD-HINT" in body


async def test_playlists_are_gzipped_when_asked(env: Env) -> None:
    r = await env.client.get(env.base + "index.m3u8", headers={"Accept-Encoding": "gzip"},
                             auto_decompress=False)
    assert r.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(await r.read()) == env.playlist.render().text


async def test_blocking_reload_answers_when_the_part_appears(env: Env) -> None:
    msn, part = env.playlist.hint() or (0, 0)
    request = asyncio.ensure_future(
        env.client.get(env.base + f"index.m3u8?_HLS_msn={msn}&_HLS_part={part}"))
    await asyncio.sleep(0.1)
    assert not request.done(), "held until the part exists"
    env.advance()
    r = await asyncio.wait_for(request, 1)
    assert r.status == 200
    assert f'URI="seg{msn}.{part}.m4s"' in await r.text()
    assert r.headers["Cache-Control"] == f"public, max-age={6 * env.playlist.target_duration}"


async def test_blocking_on_a_closed_parent_waits_for_the_next_segment(env: Env) -> None:
    last_complete = env.playlist.last_complete_msn()
    while env.playlist.open_segment is not None:  # run to a segment boundary
        env.advance()
        last_complete = env.playlist.last_complete_msn()
    closed = env.playlist.segment(last_complete)
    assert closed is not None
    past = len(closed.parts)  # hls.js asks for the part after the final one
    request = asyncio.ensure_future(
        env.client.get(env.base + f"index.m3u8?_HLS_msn={last_complete}&_HLS_part={past}"))
    await asyncio.sleep(0.1)
    assert not request.done()
    env.advance()
    r = await asyncio.wait_for(request, 1)
    assert f'URI="seg{last_complete + 1}.0.m4s"' in await r.text()


async def test_blocking_playlist_times_out_with_503(env: Env) -> None:
    msn, part = env.playlist.hint() or (0, 0)
    r = await env.client.get(env.base + f"index.m3u8?_HLS_msn={msn}&_HLS_part={part}")
    assert r.status == 503 and "error" in await r.json()


@pytest.mark.parametrize("query", [
    "_HLS_part=1",  # part without msn
    "_HLS_msn=999",  # far ahead
    "_HLS_msn=abc",
    "_HLS_msn=1&_HLS_part=-1",
    "_HLS_skip=maybe",
])
async def test_bad_directives_get_400(env: Env, query: str) -> None:
    r = await env.client.get(env.base + f"index.m3u8?{query}")
    assert r.status == 400 and "error" in await r.json()


async def test_preload_hint_part_is_served_when_complete(env: Env) -> None:
    msn, part = env.playlist.hint() or (0, 0)
    request = asyncio.ensure_future(env.client.get(env.base + f"seg{msn}.{part}.m4s"))
    await asyncio.sleep(0.1)
    assert not request.done()
    env.advance()
    r = await asyncio.wait_for(request, 1)
    assert r.status == 200 and r.headers["Content-Type"] == "video/mp4"
    published = env.playlist.part(msn, part)
    assert published is not None and await r.read() == bytes(published.data)
    assert "immutable" in r.headers["Cache-Control"]


async def test_media_urls(env: Env) -> None:
    r = await env.client.get(env.base + "seg1.m4s")
    segment = env.playlist.segment(1)
    assert r.status == 200 and segment is not None and await r.read() == segment.data
    assert segment is not None
    r = await env.client.get(env.base + f"init{segment.init}.mp4")
    assert r.status == 200 and (await r.read())[4:8] == b"ftyp"
    msn, part = env.playlist.hint() or (0, 0)
    for name in (f"seg{msn}.m4s", f"seg{msn}.{part + 1}.m4s", "init9.mp4", "seg1.0.ts",
                 "seg1.x.m4s"):
        r = await env.client.get(env.base + name)
        assert r.status == 404, name
    r = await env.client.get(f"/hls/{STREAM}/oldsession/source/index.m3u8")
    assert r.status == 404
    r = await env.client.get("/hls/nosuchstream/index.m3u8")
    assert r.status == 404 and "error" in await r.json()


async def test_delta_update_skips_old_segments(env: Env) -> None:
    while env.playlist.last_complete_msn() < 8:  # segment 1 ends 7 s before the end: > 6 s
        env.advance()
    r = await env.client.get(env.base + "index.m3u8?_HLS_skip=YES")
    text = await r.text()
    assert "#EXT-X-SKIP:SKIPPED-SEGMENTS=" in text and "#EXT-X-VERSION:9" in text
    full = await (await env.client.get(env.base + "index.m3u8")).text()
    assert "#EXT-X-SKIP" not in full and len(full) > len(text)


async def test_end_releases_waiters_with_endlist(env: Env) -> None:
    msn, part = env.playlist.hint() or (0, 0)
    request = asyncio.ensure_future(
        env.client.get(env.base + f"index.m3u8?_HLS_msn={msn + 1}&_HLS_part={part}"))
    hinted = asyncio.ensure_future(env.client.get(env.base + f"seg{msn}.{part}.m4s"))
    await asyncio.sleep(0.1)
    env.pipeline.end()
    r = await asyncio.wait_for(request, 1)
    assert r.status == 200 and "#EXT-X-ENDLIST" in await r.text()
    assert (await asyncio.wait_for(hinted, 1)).status in (200, 404)
