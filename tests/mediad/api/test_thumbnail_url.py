"""Stream cards and detail name the live poster (``/thumbs/{id}.jpg``) only while the
stream is on air and has a picture: before a broadcast, in its first seconds (no complete
segment yet) and after it there is none to show, and a page would load a 404."""

from __future__ import annotations

from typing import Any

from tests.mediad.api.api_testing import publish
from tests.mediad.api.conftest import ApiEnv
from tests.mediad.api.recordings_testing import on_air, package


def _card(cards: list[dict[str, Any]], stream_id: str) -> dict[str, Any]:
    return next(card for card in cards if card["id"] == stream_id)


async def test_the_thumbnail_is_named_while_on_air_with_a_picture_and_not_before_or_after(
        env: ApiEnv) -> None:
    detail_path = f"/api/streams/{env.stream.id}"
    assert (await env.call("GET", detail_path))[1]["thumbnailUrl"] is None
    session, connection = await publish(env, env.stream.id)
    assert (await env.call("GET", detail_path))[1]["thumbnailUrl"] is None  # preview
    await env.registry.go_live(env.stream.id)
    live = (await env.call("GET", detail_path))[1]
    assert live["state"] == "live" and live["thumbnailUrl"] is None  # no segment yet
    _, discovery = await env.call("GET", "/api/streams")
    assert _card(discovery["streams"], env.stream.id)["thumbnailUrl"] is None
    await package(env, session, env.stream.id, seconds=3)
    wanted = f"/thumbs/{env.stream.id}.jpg"
    assert (await env.call("GET", detail_path))[1]["thumbnailUrl"] == wanted
    _, discovery = await env.call("GET", "/api/streams")
    assert _card(discovery["streams"], env.stream.id)["thumbnailUrl"] == wanted
    _, me = await env.call("GET", "/api/me", "creator")
    assert _card(me["streams"], env.stream.id)["thumbnailUrl"] == wanted
    await env.registry.end(env.stream.id)
    assert connection.dropped
    _, ended = await env.call("GET", detail_path)
    assert ended["state"] == "ended" and ended["thumbnailUrl"] is None
    _, discovery = await env.call("GET", "/api/streams")
    assert _card(discovery["streams"], env.stream.id)["thumbnailUrl"] is None


async def test_a_creators_own_poster_stays_beside_the_thumbnail(env: ApiEnv) -> None:
    await env.call("PATCH", f"/api/streams/{env.stream.id}", "creator",
                   json={"posterUrl": "/posters/mine.jpg"})
    await on_air(env, env.stream.id, seconds=3)
    _, detail = await env.call("GET", f"/api/streams/{env.stream.id}")
    assert detail["posterUrl"] == "/posters/mine.jpg"
    assert detail["thumbnailUrl"] == f"/thumbs/{env.stream.id}.jpg"
