"""Stream cards and detail name the live poster (``/thumbs/{id}.jpg``) only while the
stream is on air: before a broadcast and after it there is no picture to show."""

from __future__ import annotations

from typing import Any

from tests.mediad.api.api_testing import publish
from tests.mediad.api.conftest import ApiEnv


def _card(cards: list[dict[str, Any]], stream_id: str) -> dict[str, Any]:
    return next(card for card in cards if card["id"] == stream_id)


async def test_the_thumbnail_is_named_while_on_air_and_not_before_or_after(
        env: ApiEnv) -> None:
    detail_path = f"/api/streams/{env.stream.id}"
    assert (await env.call("GET", detail_path))[1]["thumbnailUrl"] is None
    _, connection = await publish(env, env.stream.id)
    assert (await env.call("GET", detail_path))[1]["thumbnailUrl"] is None  # preview
    await env.registry.go_live(env.stream.id)
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
    await publish(env, env.stream.id)
    await env.registry.go_live(env.stream.id)
    _, detail = await env.call("GET", f"/api/streams/{env.stream.id}")
    assert detail["posterUrl"] == "/posters/mine.jpg"
    assert detail["thumbnailUrl"] == f"/thumbs/{env.stream.id}.jpg"
