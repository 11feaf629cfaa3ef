"""Recordings at the API: a stream's past broadcasts, one recording, deletion, and
discovery's recent replays, over real recordings on disk in the daemon's recorder."""

from __future__ import annotations

from typing import Any

from mediad.clock import iso_utc
from mediad.recording.model import Recording
from tests.mediad.api.conftest import ApiEnv
from tests.mediad.api.recordings_testing import keep, on_air, until


def _files_size(recording: Recording) -> int:
    return sum(path.stat().st_size for path in recording.directory.rglob("seg*.m4s"))


async def test_a_streams_broadcasts_are_listed_newest_first_with_what_they_hold(
        env: ApiEnv) -> None:
    older = await keep(env, env.stream.id, title="Monday", hours_ago=48)
    newer = await keep(env, env.stream.id, title="Tuesday", hours_ago=24)
    await keep(env, env.stream.id, kind="clip", title="A clip", hours_ago=1,
               by=env.users["viewer"])
    await keep(env, env.other_stream.id, title="Otto's")
    status, body = await env.call("GET", f"/api/streams/{env.stream.id}/recordings")
    assert status == 200
    assert [r["id"] for r in body["recordings"]] == [newer.id, older.id]
    view = body["recordings"][0]
    source = newer.renditions["source"]
    assert view == {
        "id": newer.id, "streamId": env.stream.id, "kind": "broadcast", "title": "Tuesday",
        "state": "complete", "interrupted": False,
        "startedAt": iso_utc(newer.started_at), "endedAt": iso_utc(newer.ended_at or 0),
        "durationSec": round(newer.duration, 3), "sizeBytes": _files_size(newer),
        "renditions": [{"name": "source", "width": 320, "height": 240,
                        "codecs": source.codecs, "bandwidth": source.peak_bps}],
        "posterUrl": f"/vod/{newer.id}/poster.jpg",
        "playbackUrl": f"/vod/{newer.id}/index.m3u8",
        "downloadUrl": f"/vod/{newer.id}/download.mp4", "createdBy": None}
    assert 1.5 < view["durationSec"] < 2.5 and "avc1" in source.codecs
    assert source.peak_bps > 0


async def test_a_ladder_recording_lists_its_renditions_tallest_first_then_the_audio(
        env: ApiEnv) -> None:
    recording = await keep(env, env.stream.id, ladder=True)
    _, view = await env.call("GET", f"/api/recordings/{recording.id}")
    assert [(r["name"], r["width"], r["height"]) for r in view["renditions"]] == [
        ("source", 320, 240), ("120p", 160, 120), ("audio", 0, 0)]
    assert "mp4a" in view["renditions"][-1]["codecs"]
    assert view["sizeBytes"] == _files_size(recording)


async def test_public_replays_are_anyones_to_list_and_get(env: ApiEnv) -> None:
    recording = await keep(env, env.stream.id)
    clip = await keep(env, env.stream.id, kind="clip", by=env.users["moderator"])
    for who in (None, "viewer", "other_creator"):
        status, body = await env.call("GET", f"/api/recordings/{recording.id}", who)
        assert status == 200 and body["id"] == recording.id, who
        status, body = await env.call("GET", f"/api/recordings/{clip.id}", who)
        assert status == 200 and body["kind"] == "clip" and body["createdBy"] == "moe"
        status, body = await env.call("GET", f"/api/streams/{env.stream.id}/recordings", who)
        assert status == 200 and [r["id"] for r in body["recordings"]] == [recording.id]


async def test_private_replays_are_hidden_from_all_but_the_creator_admins_and_moderators(
        env: ApiEnv) -> None:
    recording = await keep(env, env.stream.id)
    status, _ = await env.call("PATCH", f"/api/streams/{env.stream.id}/settings", "creator",
                               json={"replaysPublic": False})
    assert status == 200
    path = f"/api/streams/{env.stream.id}/recordings"
    for who in ("creator", "admin", "moderator"):
        status, body = await env.call("GET", path, who)
        assert status == 200 and [r["id"] for r in body["recordings"]] == [recording.id], who
        assert (await env.call("GET", f"/api/recordings/{recording.id}", who))[0] == 200
    status, body = await env.call("GET", path)
    assert status == 401 and "private" in body["error"]
    for who in ("viewer", "other_creator"):
        status, body = await env.call("GET", path, who)
        assert status == 403 and "private" in body["error"], who
    for who in (None, "viewer", "other_creator"):
        status, body = await env.call("GET", f"/api/recordings/{recording.id}", who)
        assert status == 404 and body == {"error": "no such recording"}, who
    # Public again: at once, for everyone.
    await env.call("PATCH", f"/api/streams/{env.stream.id}/settings", "creator",
                   json={"replaysPublic": True})
    assert (await env.call("GET", f"/api/recordings/{recording.id}"))[0] == 200


async def test_unknown_and_malformed_recording_ids_are_not_found(env: ApiEnv) -> None:
    await keep(env, env.stream.id)
    for recording_id in ("AAAAAAAAAAAAAAAA", "short", "x" * 40, "%2e%2e%2fetc", "a.b"):
        status, body = await env.call("GET", f"/api/recordings/{recording_id}", "admin")
        assert status == 404 and body == {"error": "no such recording"}, recording_id
        status, _ = await env.call("DELETE", f"/api/recordings/{recording_id}", "admin")
        assert status == 404, recording_id
    status, body = await env.call("GET", "/api/streams/nosuchstream/recordings")
    assert status == 404 and body == {"error": "no such stream"}


async def test_deleting_a_recording_removes_its_files_before_the_answer(env: ApiEnv) -> None:
    recording = await keep(env, env.stream.id)
    kept = await keep(env, env.stream.id, hours_ago=30)
    assert (recording.directory / "source" / "seg1.m4s").is_file()
    status, body = await env.call("DELETE", f"/api/recordings/{recording.id}", "creator")
    assert status == 204 and body is None
    assert not recording.directory.exists()
    assert kept.directory.is_dir()
    assert (await env.call("GET", f"/api/recordings/{recording.id}", "creator"))[0] == 404
    _, body = await env.call("GET", f"/api/streams/{env.stream.id}/recordings")
    assert [r["id"] for r in body["recordings"]] == [kept.id]
    status, _ = await env.call("DELETE", f"/api/recordings/{recording.id}", "creator")
    assert status == 404


async def test_the_broadcast_on_air_is_listed_while_it_records_and_deleting_it_stops_it(
        env: ApiEnv) -> None:
    await on_air(env, env.stream.id)
    _, body = await env.call("GET", f"/api/streams/{env.stream.id}/recordings")
    [live] = body["recordings"]
    assert live["state"] == "recording" and live["endedAt"] is None
    assert live["title"] == env.stream.title
    status, _ = await env.call("DELETE", f"/api/recordings/{live['id']}", "creator")
    assert status == 204
    _, body = await env.call("GET", f"/api/streams/{env.stream.id}/recordings")
    assert body["recordings"] == []
    assert not (env.recorder.root / env.stream.id / live["id"]).exists()


async def test_titles_are_returned_as_json_text_only(env: ApiEnv) -> None:
    title = "<img src=x onerror=alert(1)> & \"friends\""
    recording = await keep(env, env.stream.id, title=title)
    response = await env.client.get(f"/api/recordings/{recording.id}")
    assert response.content_type == "application/json"
    assert (await response.json())["title"] == title


def _ids(body: dict[str, Any]) -> list[str]:
    return [r["id"] for r in body["replays"]]


async def test_replays_are_the_newest_complete_public_broadcasts_of_all_streams(
        env: ApiEnv) -> None:
    mine = await keep(env, env.stream.id, title="Carla's", hours_ago=3)
    ottos = await keep(env, env.other_stream.id, title="Otto's", hours_ago=2)
    oldest = await keep(env, env.stream.id, title="Old", hours_ago=72)
    await keep(env, env.stream.id, kind="clip", hours_ago=1, by=env.users["viewer"])
    await keep(env, env.other_stream.id, state="recording", hours_ago=0.5)
    status, body = await env.call("GET", "/api/replays")
    assert status == 200 and _ids(body) == [ottos.id, mine.id, oldest.id]
    first = body["replays"][0]
    assert first["streamTitle"] == env.other_stream.title
    assert first["creator"] == {"handle": "otto", "displayName": "Otto"}
    assert first["title"] == "Otto's" and first["kind"] == "broadcast"
    assert first["playbackUrl"] == f"/vod/{ottos.id}/index.m3u8"
    assert _ids((await env.call("GET", "/api/replays?limit=1"))[1]) == [ottos.id]
    await env.call("PATCH", f"/api/streams/{env.other_stream.id}/settings", "other_creator",
                   json={"replaysPublic": False})
    assert _ids((await env.call("GET", "/api/replays", "other_creator"))[1]) == [
        mine.id, oldest.id]


async def test_the_replays_limit_is_checked(env: ApiEnv) -> None:
    for bad in ("0", "51", "ten", "-1"):
        status, body = await env.call("GET", f"/api/replays?limit={bad}")
        assert status == 400 and "limit" in body["error"], bad
    status, body = await env.call("GET", "/api/replays?limit=50")
    assert status == 200 and body == {"replays": []}


async def test_deleting_a_stream_deletes_its_recordings_and_clips(env: ApiEnv) -> None:
    broadcast = await keep(env, env.stream.id)
    clip = await keep(env, env.stream.id, kind="clip", by=env.users["viewer"])
    ottos = await keep(env, env.other_stream.id)
    assert (await env.call("DELETE", f"/api/streams/{env.stream.id}", "creator"))[0] == 204
    await until(lambda: env.recorder.library.for_stream(env.stream.id) == [])
    await until(lambda: not broadcast.directory.exists() and not clip.directory.exists())
    assert (await env.call("GET", f"/api/recordings/{broadcast.id}", "admin"))[0] == 404
    assert (await env.call("GET", f"/api/recordings/{ottos.id}"))[0] == 200
