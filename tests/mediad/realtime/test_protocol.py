"""The message protocol over a real aiohttp server and real WebSocket clients."""

from __future__ import annotations

import asyncio

import msgpack
from aiohttp import WSMsgType

from mediad.realtime.identity import guest_handle
from tests.mediad.realtime.conftest import Env


async def test_join_gets_hello_and_history(env: Env) -> None:
    first = await env.connect("viewer")
    assert (await first.next("hello"))["you"] == {
        "id": f"u:{env.users['viewer'].id}", "handle": "vic", "role": "viewer",
        "canChat": True, "canModerate": False}
    for n in range(55):
        assert (await first.command(type="chat.send", text=f"message {n}"))["type"] == "ack"
    second = await env.connect("moderator")
    hello = await second.next("hello")
    assert hello["you"]["role"] == "moderator" and hello["you"]["canModerate"]
    assert hello["cursor"] == 55
    history = await second.next("chat.history")
    assert [m["text"] for m in history["messages"]] == [f"message {n}" for n in range(5, 55)]


async def test_a_message_is_stored_acknowledged_and_broadcast(env: Env) -> None:
    sender, reader = await env.connect("viewer"), await env.connect()
    await reader.next("chat.history")
    ack = await sender.command(type="chat.send", text="  hello\x07 <b>world</b>\u202e ")
    assert ack["type"] == "ack" and ack["seq"] == 1
    stored = await env.store.chat.get(env.stream.id, ack["id"])
    assert stored is not None and stored.text == "hello <b>world</b>"
    message = await reader.next("chat.message")
    # Text stays text: no markup is produced or interpreted by the server.
    assert message == {"type": "chat.message", "id": ack["id"], "seq": 1, "at": ack["at"],
                       "text": "hello <b>world</b>",
                       "author": {"id": f"u:{env.users['viewer'].id}", "handle": "vic",
                                  "role": "viewer"}}


async def test_guests_get_a_signed_cookie_and_a_stable_handle(env: Env) -> None:
    response = await env.client.get(f"/api/streams/{env.stream.id}/events")
    cookie = response.cookies["mediad_guest"].value
    body = await response.json()
    guest_id = cookie.split(".")[0]
    assert body["events"][0]["you"]["handle"] == guest_handle(guest_id)
    socket = await env.connect(cookies={"mediad_guest": cookie})
    assert (await socket.next("hello"))["you"]["id"] == f"g:{guest_id}"
    forged = await env.connect(cookies={"mediad_guest": "0123456789ab.forged"})
    assert (await forged.next("hello"))["you"]["id"] != "g:0123456789ab"


async def test_msgpack_subprotocol(env: Env) -> None:
    socket = await env.connect("viewer", protocols=("msgpack",))
    assert socket.ws.protocol == "msgpack"
    frame = await socket.ws.receive()
    assert frame.type == WSMsgType.BINARY
    assert msgpack.unpackb(frame.data)["type"] == "hello"
    await socket.ws.send_bytes(msgpack.packb({"type": "chat.send", "text": "packed", "ref": 7}))
    ack = await socket.next("ack")
    assert ack["ref"] == 7
    assert (await socket.next("chat.message"))["text"] == "packed"


async def test_messages_ready_together_share_a_frame(env: Env) -> None:
    reader = await env.connect()
    await reader.next("chat.history")
    sender = await env.connect("creator")
    for n in range(20):
        await sender.ws.send_json({"type": "chat.send", "text": f"burst {n}"})
    frames = 0
    texts: list[str] = []
    while len(texts) < 20:
        frame = await asyncio.wait_for(reader.ws.receive(), 5)
        body = msgpack.unpackb(frame.data) if frame.type == WSMsgType.BINARY else frame.json()
        batch = body if isinstance(body, list) else [body]
        texts += [m["text"] for m in batch if m["type"] == "chat.message"]
        frames += 1
    assert sorted(texts) == sorted(f"burst {n}" for n in range(20))
    assert frames < 20


async def test_moderation_messages_reach_everyone(env: Env) -> None:
    viewer, creator = await env.connect("viewer"), await env.connect("creator")
    sent = await viewer.command(type="chat.send", text="pin me")
    assert (await creator.command(type="chat.pin", messageId=sent["id"]))["type"] == "ack"
    pinned = await viewer.next("chat.pinned")
    assert pinned["message"]["id"] == sent["id"] and pinned["by"]["handle"] == "carla"
    late = await env.connect()
    assert (await late.next("chat.history"))["pinned"]["id"] == sent["id"]
    assert (await creator.command(type="chat.delete", messageId=sent["id"]))["type"] == "ack"
    assert (await viewer.next("chat.deleted"))["id"] == sent["id"]
    assert (await viewer.next("chat.pinned"))["message"] is None  # deleting unpins
    await creator.command(type="moderation.slow_mode", seconds=10)
    assert (await viewer.next("moderation.slow_mode"))["seconds"] == 10
    await creator.command(type="moderation.timeout", target=f"u:{env.users['viewer'].id}",
                          seconds=60)
    timeout = await viewer.next("moderation.timeout")
    assert timeout["target"]["handle"] == "vic" and timeout["seconds"] == 60
    await creator.command(type="chat.clear")
    assert (await viewer.next("chat.cleared"))["by"]["handle"] == "carla"
    assert (await env.connect()).ws is not None
    assert (await env.sockets[-1].next("chat.history"))["messages"] == []
    actions = [a["action"] for a in await env.store.chat.actions(env.stream.id)]
    assert actions == ["clear", "timeout", "slow_mode", "unpin", "delete", "pin"]


async def test_resume_from_a_cursor_over_websocket(env: Env) -> None:
    sender = await env.connect("creator")
    away = await env.connect("viewer")
    await sender.command(type="chat.send", text="one")
    seen = await away.next("chat.message")
    await away.close()
    for text in ("two", "three"):
        await sender.command(type="chat.send", text=text)
    await sender.command(type="chat.delete", messageId=seen["id"])
    back = await env.connect("viewer", cursor=seen["seq"])
    assert (await back.next("hello"))["cursor"] == 4
    replay = [await back.next() for _ in range(3)]
    assert [(m["type"], m.get("text")) for m in replay] == [
        ("chat.message", "two"), ("chat.message", "three"), ("chat.deleted", None)]
    await sender.command(type="chat.send", text="four")
    assert (await back.next("chat.message"))["text"] == "four"
    texts = [m.get("text") for m in back.seen if m["type"] == "chat.message"]
    assert texts == ["two", "three", "four"]  # nothing twice
    assert not any(m["type"] == "chat.history" for m in back.seen)


async def test_polling_resumes_from_its_cursor_and_misses_nothing(env: Env) -> None:
    path = f"/api/streams/{env.stream.id}/events"
    first = await (await env.client.get(path)).json()
    assert [e["type"] for e in first["events"]][:2] == ["hello", "chat.history"]
    cursor = first["cursor"]
    sender = await env.connect("creator")
    got: list[str] = []
    for round_ in range(4):
        for n in range(3):
            await sender.command(type="chat.send", text=f"{round_}.{n}")
        body = await (await env.client.get(path, params={"cursor": cursor})).json()
        got += [e["text"] for e in body["events"] if e["type"] == "chat.message"]
        assert body["events"][-1]["type"] == "viewers"
        cursor = body["cursor"]
    assert got == [f"{r}.{n}" for r in range(4) for n in range(3)]
    empty = await (await env.client.get(path, params={"cursor": cursor})).json()
    assert [e["type"] for e in empty["events"]] == ["viewers"]


async def test_http_commands_match_the_socket_ones(env: Env) -> None:
    base = f"/api/streams/{env.stream.id}"
    reader = await env.connect()
    status, sent = await env.post(f"{base}/chat", {"text": "over http"}, "viewer")
    assert status == 201 and sent["command"] == "chat.send"
    assert (await reader.next("chat.message"))["id"] == sent["id"]
    status, _ = await env.post(f"{base}/chat-pin", {"messageId": sent["id"]}, "moderator",
                               method="PUT")
    assert status == 200 and (await reader.next("chat.pinned"))["message"]["id"] == sent["id"]
    target = f"u:{env.users['viewer'].id}"
    status, _ = await env.post(f"{base}/moderation/bans/{target}", None, "creator", "PUT")
    assert status == 200 and (await reader.next("moderation.ban"))["target"]["id"] == target
    response = await env.client.get(f"{base}/moderation/bans", headers=env.headers("creator"))
    assert (await response.json())["bans"] == [{"id": target, "handle": "vic"}]
    status, refused = await env.post(f"{base}/chat", {"text": "still here?"}, "viewer")
    assert status == 403 and refused["code"] == "banned"
    status, _ = await env.post(f"{base}/moderation/bans/{target}", None, "creator", "DELETE")
    assert status == 200 and (await reader.next("moderation.unban"))["target"]["id"] == target
    assert (await env.post(f"{base}/chat", {"text": "back"}, "viewer"))[0] == 201
    status, _ = await env.post(f"{base}/slow-mode", {"seconds": 5}, "creator", "PUT")
    assert status == 200
    status, _ = await env.post(f"{base}/moderation/timeouts", {"target": target, "seconds": 30},
                               "creator")
    assert status == 200
    status, refused = await env.post(f"{base}/chat", {"text": "muted?"}, "viewer")
    assert status == 403 and refused["code"] == "timed_out" and refused["retryAfterMs"] > 29000
    response = await env.client.delete(f"{base}/chat/{sent['id']}",
                                       headers=env.headers("creator"))
    assert response.status == 200
    assert (await env.post(f"{base}/chat-clear", None, "creator"))[0] == 200


async def test_bad_requests_get_clear_errors(env: Env) -> None:
    base = f"/api/streams/{env.stream.id}"
    assert (await env.client.get("/api/streams/nope/events")).status == 404
    assert (await env.client.get(f"{base}/events?cursor=-1")).status == 400
    response = await env.client.get(f"{base}/events",
                                    headers={"Authorization": "Bearer not-a-token"})
    assert response.status == 401 and "error" in await response.json()
    response = await env.client.post(f"{base}/chat", data=b"{not json",
                                     headers={"Content-Type": "application/json"})
    assert response.status == 400 and "error" in await response.json()
    status, body = await env.post(f"{base}/chat", {"text": 5}, "viewer")
    assert status == 400 and body["code"] == "bad_request"
    status, body = await env.post(f"{base}/chat", {"text": " \n\t "}, "viewer")
    assert status == 400 and body["code"] == "empty"
    status, body = await env.post(f"{base}/chat", {"text": "x" * 501}, "viewer")
    assert status == 400 and body["code"] == "too_long"
    assert (await env.client.get(f"/ws/streams/{env.stream.id}")).status == 400
    socket = await env.connect("viewer")
    await socket.ws.send_str("not json")
    assert (await socket.next("error"))["code"] == "bad_request"
    assert (await socket.command(type="chat.explode"))["code"] == "unknown_command"
    assert (await socket.command(type="moderation.timeout", target="u:1", seconds=-4)
            )["code"] == "forbidden"
    moderator = await env.connect("moderator")
    refused = await moderator.command(type="moderation.timeout", target="u:1", seconds=9)
    assert refused["code"] == "forbidden"  # the admin is staff
    refused = await moderator.command(type="moderation.timeout",
                                      target=f"u:{env.users['viewer'].id}", seconds=-4)
    assert refused["code"] == "bad_request"
    assert (await moderator.command(type="chat.delete", messageId="nope"))["code"] == "not_found"


async def test_signing_in_on_an_open_socket(env: Env) -> None:
    socket = await env.connect()
    assert (await socket.next("hello"))["you"]["role"] == "guest"
    refused = await socket.command(type="auth", token="forged")
    assert refused["type"] == "error" and refused["code"] == "unauthorized"
    token = env.tokens.issue_access(env.users["moderator"])
    hello = await socket.command(type="auth", token=token)
    assert hello["type"] == "hello" and hello["you"]["role"] == "moderator"
    assert (await socket.command(type="moderation.slow_mode", seconds=3))["type"] == "ack"


async def test_stream_status_is_broadcast(env: Env) -> None:
    socket = await env.connect()
    await socket.next("chat.history")
    publisher = await env.registry.start_publish(protocol="rtmp", key=(
        await env.store.keys.issue(env.stream.id, "primary")).secret, peer="test",
        disconnect=lambda reason: None)
    assert (await socket.next("stream.status"))["state"] == "live"
    publisher.detach("gone")
    assert (await socket.next("stream.status"))["state"] == "reconnecting"
    await env.registry.end(env.stream.id)
    assert (await socket.next("stream.status"))["state"] == "ended"
