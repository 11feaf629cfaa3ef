"""Clips at the API: cut by a signed-in viewer or the creator from a stream really on air
(the recorder takes whole segments of its DVR window), validated, rate limited per
account, listed on the stream's page, deleted by those who may."""

from __future__ import annotations

from pathlib import Path

import pytest

from mediad.config import ClipsConfig
from mediad.recording.layout import MANIFEST
from tests.mediad.api.conftest import ApiEnv, close_api_env, make_api_env
from tests.mediad.api.recordings_testing import keep, on_air


async def test_a_viewer_clips_the_last_seconds_of_a_live_stream(env: ApiEnv) -> None:
    pipeline = await on_air(env, env.stream.id, seconds=4)
    path = f"/api/streams/{env.stream.id}/clips"
    response = await env.client.post(path, json={"durationSec": 2},
                                     headers=env.headers("viewer"))
    assert response.status == 201
    clip = await response.json()
    assert response.headers["Location"] == f"/api/recordings/{clip['id']}"
    assert clip["kind"] == "clip" and clip["state"] == "complete"
    assert clip["streamId"] == env.stream.id and clip["createdBy"] == "vic"
    assert clip["title"] == f"Clip of {env.stream.title}"
    # Whole segments (1 s GOPs here): within one GOP of what was asked.
    assert abs(clip["durationSec"] - 2) <= 1.0
    segments = [s for s in pipeline.renditions["source"].playlist.segments if s.complete]
    assert clip["durationSec"] <= sum(s.duration for s in segments) + 0.001
    assert [r["name"] for r in clip["renditions"]] == ["source"]
    directory = env.recorder.root / env.stream.id / clip["id"]
    assert (directory / MANIFEST).is_file()
    assert clip["sizeBytes"] == sum(p.stat().st_size for p in directory.rglob("seg*.m4s")) > 0
    status, listed = await env.call("GET", path)
    assert status == 200 and [c["id"] for c in listed["clips"]] == [clip["id"]]
    status, again = await env.call("GET", f"/api/recordings/{clip['id']}")
    assert status == 200 and again == clip
    # A clip is not one of the stream's broadcasts.
    _, broadcasts = await env.call("GET", f"/api/streams/{env.stream.id}/recordings")
    assert clip["id"] not in [r["id"] for r in broadcasts["recordings"]]


async def test_the_creator_names_a_clip_and_an_empty_title_gets_the_default(
        env: ApiEnv) -> None:
    await on_air(env, env.stream.id, seconds=3)
    path = f"/api/streams/{env.stream.id}/clips"
    status, named = await env.call("POST", path, "creator",
                                   json={"durationSec": 1, "title": "  That goal!  "})
    assert status == 201 and named["title"] == "That goal!" and named["createdBy"] == "carla"
    status, unnamed = await env.call("POST", path, "creator", json={"title": ""})
    assert status == 201 and unnamed["title"] == f"Clip of {env.stream.title}"
    _, listed = await env.call("GET", path)
    assert {c["id"] for c in listed["clips"]} == {unnamed["id"], named["id"]}


async def test_a_long_stream_title_still_makes_a_default_title_within_the_limit(
        env: ApiEnv) -> None:
    await env.call("PATCH", f"/api/streams/{env.stream.id}", "creator",
                   json={"title": "a" * 140})
    await on_air(env, env.stream.id, seconds=3)
    status, clip = await env.call("POST", f"/api/streams/{env.stream.id}/clips", "viewer",
                                  json={})
    assert status == 201 and clip["title"] == ("Clip of " + "a" * 140)[:120]


async def test_signing_in_comes_first_and_a_stream_off_air_has_nothing_to_clip(
        env: ApiEnv) -> None:
    path = f"/api/streams/{env.stream.id}/clips"
    status, body = await env.call("POST", path, json={"durationSec": 5})
    assert status == 401 and body["error"]
    status, body = await env.call("POST", path, "viewer", json={"durationSec": 5})
    assert status == 409 and body == {"error": "the stream is not live"}
    status, body = await env.call("POST", "/api/streams/nosuchstream/clips", "viewer",
                                  json={"durationSec": 5})
    assert status == 404
    assert env.recorder.library.for_stream(env.stream.id) == []


@pytest.mark.parametrize("body, field, problem", [
    ({"durationSec": 0}, "durationSec", "from 1 to 60"),
    ({"durationSec": 61}, "durationSec", "from 1 to 60"),
    ({"durationSec": 2.5}, "durationSec", "integer"),
    ({"durationSec": "10"}, "durationSec", "integer"),
    ({"durationSec": True}, "durationSec", "integer"),
    ({"title": "x" * 121}, "title", "at most 120"),
    ({"title": 5}, "title", "string"),
    ({"start": 3}, "start", "unknown field"),
])
async def test_a_clip_request_is_validated(env: ApiEnv, body: dict[str, object], field: str,
                                           problem: str) -> None:
    await on_air(env, env.stream.id, seconds=2)
    status, reply = await env.call("POST", f"/api/streams/{env.stream.id}/clips", "viewer",
                                   json=body)
    assert status == 422 and list(reply["fields"]) == [field]
    assert problem in reply["fields"][field]
    assert env.recorder.library.for_stream(env.stream.id, "clip") == []


async def test_clips_are_limited_per_account(tmp_path: Path) -> None:
    env = await make_api_env(tmp_path, clips=ClipsConfig(max_sec=10, per_user_per_hour=2))
    try:
        await on_air(env, env.stream.id, seconds=3)
        path = f"/api/streams/{env.stream.id}/clips"
        for _ in range(2):
            assert (await env.call("POST", path, "viewer", json={"durationSec": 1}))[0] == 201
        response = await env.client.post(path, json={"durationSec": 1},
                                         headers=env.headers("viewer"))
        assert response.status == 429
        assert 1 <= int(response.headers["Retry-After"]) <= 1800
        assert "clips" in (await response.json())["error"]
        # Another account has its own allowance; the limit follows clips.max_sec too.
        assert (await env.call("POST", path, "moderator", json={"durationSec": 1}))[0] == 201
        status, body = await env.call("POST", path, "creator", json={"durationSec": 11})
        assert status == 422 and "from 1 to 10" in body["fields"]["durationSec"]
        assert len(env.recorder.library.for_stream(env.stream.id, "clip")) == 3
    finally:
        await close_api_env(env)


async def test_private_replays_are_clipped_only_by_those_who_may_watch_them(
        env: ApiEnv) -> None:
    await env.call("PATCH", f"/api/streams/{env.stream.id}/settings", "creator",
                   json={"replaysPublic": False})
    await on_air(env, env.stream.id, seconds=3)
    path = f"/api/streams/{env.stream.id}/clips"
    assert (await env.call("POST", path, "viewer", json={"durationSec": 1}))[0] == 403
    assert (await env.call("POST", path, None, json={"durationSec": 1}))[0] == 401
    status, clip = await env.call("POST", path, "moderator", json={"durationSec": 1})
    assert status == 201
    assert (await env.call("GET", path, "viewer"))[0] == 403
    assert (await env.call("GET", path))[0] == 401
    assert (await env.call("GET", f"/api/recordings/{clip['id']}", "viewer"))[0] == 404
    _, listed = await env.call("GET", path, "creator")
    assert [c["id"] for c in listed["clips"]] == [clip["id"]]


async def test_who_deletes_a_clip(env: ApiEnv) -> None:
    viewer, other = env.users["viewer"], env.users["other_creator"]
    by_viewer = await keep(env, env.stream.id, kind="clip", by=viewer)
    by_other = await keep(env, env.stream.id, kind="clip", by=other)
    # Someone else's clip: a viewer or another creator may not; its cutter may.
    status, body = await env.call("DELETE", f"/api/recordings/{by_other.id}", "viewer")
    assert status == 403 and "moderators" in body["error"]
    assert (await env.call("DELETE", f"/api/recordings/{by_viewer.id}", "other_creator")
            )[0] == 403
    assert (await env.call("DELETE", f"/api/recordings/{by_viewer.id}", "viewer"))[0] == 204
    assert not by_viewer.directory.exists()
    assert (await env.call("DELETE", f"/api/recordings/{by_other.id}", "moderator"))[0] == 204
    assert not by_other.directory.exists()
    assert env.recorder.library.for_stream(env.stream.id) == []
