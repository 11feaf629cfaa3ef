"""Streams: discovery order, create/update/delete with validation, the lifecycle driven by
the creator through the real registry (a publisher attached the way RTMP and SRT do)."""

from __future__ import annotations

import pytest

from tests.mediad.api.api_testing import publish
from tests.mediad.api.conftest import ApiEnv


async def test_a_creator_creates_a_stream_with_keys(env: ApiEnv) -> None:
    status, body = await env.call("POST", "/api/streams", "creator", json={
        "title": "  Friday   jam ", "posterUrl": "https://cdn.example/p.jpg",
        "startAt": "2030-01-02T18:00:00+01:00"})
    assert status == 201
    assert body["title"] == "Friday jam" and body["state"] == "preview"
    assert body["startAt"] == "2030-01-02T17:00:00.000Z"
    assert body["creator"]["handle"] == "carla"
    assert body["hlsUrl"].endswith(f"/hls/{body['id']}/index.m3u8")
    assert body["whepUrl"] == f"http://localhost:8080/whep/{body['id']}"
    assert body["clipMaxSec"] == 60
    keys = await env.store.keys.for_stream(body["id"])
    assert set(keys) == {"primary", "backup"}


@pytest.mark.parametrize("who, status", [(None, 401), ("viewer", 403), ("moderator", 403),
                                         ("admin", 201), ("other_creator", 201)])
async def test_who_may_create_a_stream(env: ApiEnv, who: str | None, status: int) -> None:
    assert (await env.call("POST", "/api/streams", who, json={"title": "t"}))[0] == status


@pytest.mark.parametrize("body, bad", [
    ({}, "title"),
    ({"title": ""}, "title"),
    ({"title": "x" * 141}, "title"),
    ({"title": 5}, "title"),
    ({"title": "ok", "posterUrl": "javascript:alert(1)"}, "posterUrl"),
    ({"title": "ok", "posterUrl": "//evil.example/x.png"}, "posterUrl"),
    ({"title": "ok", "startAt": "tomorrow"}, "startAt"),
    ({"title": "ok", "startAt": "2030-01-02T18:00:00"}, "startAt"),  # no zone
    ({"title": "ok", "state": "live"}, "state"),
])
async def test_stream_fields_are_validated(env: ApiEnv, body: dict, bad: str) -> None:
    status, reply = await env.call("POST", "/api/streams", "creator", json=body)
    assert status == 422 and list(reply["fields"]) == [bad], reply


async def test_discovery_lists_live_then_scheduled_then_ended(env: ApiEnv) -> None:
    made = {}
    for title, start in (("later", "2031-01-01T00:00:00Z"), ("sooner", "2030-01-01T00:00:00Z"),
                         ("private", None), ("over", None)):
        body = {"title": title} if start is None else {"title": title, "startAt": start}
        made[title] = (await env.call("POST", "/api/streams", "creator", json=body))[1]["id"]
    await publish(env, env.stream.id)
    await env.registry.go_live(env.stream.id)
    await env.registry.end(made["over"])
    status, body = await env.call("GET", "/api/streams")
    assert status == 200
    order = [card["id"] for card in body["streams"]]
    assert order == [env.stream.id, made["sooner"], made["later"], made["over"]]
    live = body["streams"][0]
    assert live["state"] == "live" and live["creator"]["handle"] == "carla"
    assert set(live) >= {"title", "posterUrl", "viewers", "startAt", "ageRestricted"}
    assert (await env.call("GET", "/api/streams?limit=0"))[0] == 400


async def test_update_changes_only_what_is_given(env: ApiEnv) -> None:
    status, body = await env.call("PATCH", f"/api/streams/{env.stream.id}", "creator",
                                  json={"posterUrl": "/posters/a.png"})
    assert status == 200 and body["posterUrl"] == "/posters/a.png"
    assert body["title"] == env.stream.title
    status, body = await env.call("PATCH", f"/api/streams/{env.stream.id}", "creator",
                                  json={"startAt": None, "title": "New"})
    assert status == 200 and body["startAt"] is None and body["title"] == "New"


async def test_go_live_needs_a_publisher_and_end_drops_it(env: ApiEnv) -> None:
    path = f"/api/streams/{env.stream.id}/state"
    status, body = await env.call("PUT", path, "creator", json={"state": "live"})
    assert status == 409 and "publisher" in body["error"]
    _, connection = await publish(env, env.stream.id)
    assert (await env.call("GET", f"/api/streams/{env.stream.id}"))[1]["state"] == "preview"
    status, body = await env.call("PUT", path, "creator", json={"state": "live"})
    assert status == 200 and body["state"] == "live"
    status, body = await env.call("PUT", path, "creator", json={"state": "ended"})
    assert status == 200 and body["state"] == "ended" and body["endedAt"]
    assert connection.dropped == ["ended by the creator"]
    status, body = await env.call("PUT", path, "creator", json={"state": "preview"})
    assert status == 422 and "state" in body["fields"]


async def test_delete_disconnects_and_forgets(env: ApiEnv) -> None:
    _, connection = await publish(env, env.stream.id)
    status, _ = await env.call("DELETE", f"/api/streams/{env.stream.id}", "creator")
    assert status == 204 and connection.dropped == ["stream deleted"]
    assert (await env.call("GET", f"/api/streams/{env.stream.id}"))[0] == 404
    assert await env.store.keys.for_stream(env.stream.id) == {}
    assert (await env.call("DELETE", f"/api/streams/{env.stream.id}", "creator"))[0] == 404


async def test_a_dropped_publisher_leaves_the_stream_reconnecting_not_ended(env: ApiEnv) -> None:
    path = f"/api/streams/{env.stream.id}"
    publisher, _ = await publish(env, env.stream.id)
    await env.registry.go_live(env.stream.id)
    publisher.detach("connection reset")  # the encoder dropped: it may come back
    await env.registry.close()  # the state writes reach the store
    status, body = await env.call("GET", path)
    assert status == 200 and body["state"] == "reconnecting" and body["endedAt"] is None
    cards = (await env.call("GET", "/api/streams"))[1]["streams"]
    assert [(c["id"], c["state"]) for c in cards] == [(env.stream.id, "reconnecting")]
    await publish(env, env.stream.id)
    status, body = await env.call("GET", path)
    assert body["state"] == "live" and body["endedAt"] is None
    status, body = await env.call("PUT", f"{path}/state", "creator", json={"state": "ended"})
    assert status == 200 and body["state"] == "ended" and body["endedAt"]
