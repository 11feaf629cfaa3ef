"""Who may moderate: every command by every kind of chatter, checked on the server."""

from __future__ import annotations

import pytest

from tests.mediad.realtime.conftest import Env

COMMANDS = ["chat.delete", "chat.pin", "chat.clear", "moderation.timeout", "moderation.ban",
            "moderation.unban", "moderation.slow_mode"]
# (who, allowed): the creator of another stream is a stranger here.
ACTORS = [(None, False), ("viewer", False), ("other_creator", False), ("moderator", True),
          ("creator", True), ("admin", True)]


async def _command(env: Env, kind: str, message_id: str, target: str) -> dict[str, object]:
    return {"chat.delete": {"messageId": message_id}, "chat.pin": {"messageId": message_id},
            "chat.clear": {}, "moderation.timeout": {"target": target, "seconds": 10},
            "moderation.ban": {"target": target}, "moderation.unban": {"target": target},
            "moderation.slow_mode": {"seconds": 2}}[kind]


@pytest.mark.parametrize("who,allowed", ACTORS)
@pytest.mark.parametrize("kind", COMMANDS)
async def test_moderation_matrix(env: Env, kind: str, who: str | None, allowed: bool) -> None:
    guest = await env.connect()
    target = (await guest.next("hello"))["you"]["id"]
    message = await guest.command(type="chat.send", text="a message to act on")
    socket = await env.connect(who)
    reply = await socket.command(type=kind, **await _command(env, kind, message["id"], target))
    if allowed:
        assert reply["type"] == "ack", reply
        assert [a["action"] for a in await env.store.chat.actions(env.stream.id)]
    else:
        code = "sign_in_required" if who is None else "forbidden"
        assert reply["type"] == "error" and reply["code"] == code, reply
        assert await env.store.chat.actions(env.stream.id) == []
        assert (await env.store.chat.get(env.stream.id, message["id"])) is not None
        assert (await env.store.chat.sanction(env.stream.id, target)) is None


@pytest.mark.parametrize("who", ["moderator", "creator", "admin"])
async def test_nobody_moderates_the_creator(env: Env, who: str) -> None:
    socket = await env.connect(who)
    creator = f"u:{env.users['creator'].id}"
    for kind in ("moderation.timeout", "moderation.ban"):
        reply = await socket.command(type=kind, target=creator, seconds=10)
        assert reply["code"] == "forbidden"


async def test_moderators_do_not_moderate_staff_but_the_creator_does(env: Env) -> None:
    moderator = f"u:{env.users['moderator'].id}"
    await env.store.moderators.add(env.stream.id, env.users["viewer"].id, 0)
    other_mod = await env.connect("viewer")
    assert (await other_mod.command(type="moderation.ban", target=moderator))["code"] == (
        "forbidden")
    creator = await env.connect("creator")
    assert (await creator.command(type="moderation.timeout", target=moderator, seconds=5)
            )["type"] == "ack"


async def test_a_moderator_of_one_stream_is_a_viewer_in_another(env: Env) -> None:
    socket = await env.connect("moderator", stream=env.other_stream.id)
    hello = await socket.next("hello")
    assert hello["you"]["role"] == "viewer"
    assert (await socket.command(type="chat.clear"))["code"] == "forbidden"


@pytest.mark.parametrize("who,status", [(None, 401), ("viewer", 403), ("other_creator", 403),
                                        ("moderator", 200), ("creator", 200), ("admin", 200)])
async def test_staff_views(env: Env, who: str | None, status: int) -> None:
    base = f"/api/streams/{env.stream.id}"
    for path in ("/moderation/bans", "/moderation/actions", "/health"):
        response = await env.client.get(base + path, headers=env.headers(who))
        assert response.status == status, path
