"""Replays over HTTP: playlists and media of a recording as the daemon serves them; only
the files its journal names; private replays never stored by shared caches."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import m3u8
import pytest

from tests.mediad.api.conftest import ApiEnv, close_api_env, make_api_env
from tests.mediad.api.recordings_testing import keep


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[ApiEnv]:
    made = await make_api_env(tmp_path)
    try:
        yield made
    finally:
        await close_api_env(made)


async def test_a_replay_is_served_as_recorded(env: ApiEnv) -> None:
    recording = await keep(env, env.stream.id, ladder=True)
    client = env.client
    top = await client.get(f"/vod/{recording.id}/index.m3u8")
    assert top.status == 200 and top.headers["Access-Control-Allow-Origin"] == "*"
    assert "immutable" in top.headers["Cache-Control"]
    assert top.headers["Cache-Control"].startswith("public")
    variants = m3u8.loads(await top.text())
    videos = [r.name for r in recording.video_renditions()]
    assert videos[0] == "source" and len(videos) > 1  # the tallest first, as live
    assert [p.uri for p in variants.playlists] == [f"{name}/index.m3u8" for name in videos]
    assert all(p.stream_info.audio == "audio" for p in variants.playlists)
    assert [m.uri for m in variants.media] == ["audio/index.m3u8"]
    for name in [*videos, "audio"]:
        response = await client.get(f"/vod/{recording.id}/{name}/index.m3u8")
        media = m3u8.loads(await response.text())
        assert media.playlist_type == "vod" and media.is_endlist
        entries = recording.renditions[name].segments
        assert [s.uri for s in media.segments] == [e.file_name for e in entries]
        for uri in [media.segments[0].init_section.uri, media.segments[-1].uri]:
            file = await client.get(f"/vod/{recording.id}/{name}/{uri}")
            assert file.status == 200 and "immutable" in file.headers["Cache-Control"]
            assert await file.read() == (recording.directory / name / uri).read_bytes()


async def test_a_recording_in_progress_is_an_event_playlist(env: ApiEnv) -> None:
    recording = await keep(env, env.stream.id, state="recording")
    response = await env.client.get(f"/vod/{recording.id}/source/index.m3u8")
    media = m3u8.loads(await response.text())
    assert media.playlist_type == "event" and not media.is_endlist
    assert response.headers["Cache-Control"] == "public, max-age=1"


async def test_private_replays_are_not_kept_by_shared_caches(env: ApiEnv) -> None:
    recording = await keep(env, env.stream.id)
    await env.store.streams.update(env.stream.id, replays_public=False)
    for path in ("index.m3u8", "source/index.m3u8", "source/seg1.m4s", "download.mp4"):
        response = await env.client.get(f"/vod/{recording.id}/{path}")
        assert response.status == 200
        assert response.headers["Cache-Control"].startswith("private")


async def test_a_public_download_may_be_cached_by_anyone(env: ApiEnv) -> None:
    recording = await keep(env, env.stream.id)
    response = await env.client.head(f"/vod/{recording.id}/download.mp4")
    assert response.status == 200 and response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Cache-Control"].startswith("public")


@pytest.mark.parametrize("path", [
    "AAAAAAAAAAAAAAAA/index.m3u8",  # no such recording
    "short/index.m3u8",
    "{id}/nope/index.m3u8",
    "{id}/source/seg999.m4s",
    "{id}/source/init7.mp4",
    "{id}/source/segments.jsonl",
    "{id}/source/..%2Frecording.json",
    "{id}/source/recording.json",
])
async def test_only_what_the_journal_names_is_served(env: ApiEnv, path: str) -> None:
    recording = await keep(env, env.stream.id)
    response = await env.client.get("/vod/" + path.format(id=recording.id))
    assert response.status == 404
    assert (await response.json())["error"]


async def test_a_deleted_replay_is_gone(env: ApiEnv) -> None:
    recording = await keep(env, env.stream.id)
    assert await env.recorder.library.delete(recording.id)
    response = await env.client.get(f"/vod/{recording.id}/index.m3u8")
    assert response.status == 404
    assert not recording.directory.exists()
