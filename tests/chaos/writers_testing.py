"""The store writes a round runs while the daemon is killed under it: bursts of chat
messages (WebSocket, acknowledged by ``ack``), settings changes, moderation actions,
signed tip webhooks and key rotations (HTTP, acknowledged by a 2xx). Each writes one
thing at a time until the daemon dies under it or its count is done, and records in the
ledger what was answered and what was in flight."""

from __future__ import annotations

import asyncio
import random
import string
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp

from tests.chaos.api_testing import TRANSPORT_ERRORS, Api
from tests.chaos.ledger_testing import Ledger

Writer = Callable[[Api, Ledger, str, random.Random], Coroutine[Any, Any, None]]

TIP_SECRET = "whsec-chaos-0123456789abcdef"
GUESTS = tuple(f"g:{n:012x}" for n in (0xC4A05, 0xBAD1, 0xF00D, 0x5EED))
"""The chatters moderation acts on (a guest's author id is any 12 hex digits)."""
WRITES = 40
SPREAD_SEC = 1.6
"""Each burst spreads its writes over about this long, the span the kill lands in."""


async def _pause(rng: random.Random, writes: int) -> None:
    await asyncio.sleep(rng.uniform(0, 2 * SPREAD_SEC / writes))


async def chat_burst(api: Api, ledger: Ledger, tag: str, rng: random.Random) -> None:
    """The creator chats over a WebSocket, several messages in flight at once."""
    try:
        async with api.session.ws_connect(
                f"{api.daemon.base_url}/ws/streams/{api.stream_id}",
                headers={"Authorization": f"Bearer {api.token}"}) as ws:
            sent = 0
            while sent < WRITES:
                for _ in range(rng.randint(1, 4)):
                    await ws.send_json({"type": "chat.send", "ref": sent,
                                        "text": f"{tag} message {sent}"})
                    sent += 1
                await _read_acks(ws, ledger, until_ref=sent - 1)
                await _pause(rng, WRITES // 2)
    except TRANSPORT_ERRORS:
        return


async def _read_acks(ws: aiohttp.ClientWebSocketResponse, ledger: Ledger, until_ref: int
                     ) -> None:
    while True:
        frame = await ws.receive(timeout=10)
        if frame.type != aiohttp.WSMsgType.TEXT:
            raise aiohttp.ClientError(f"socket ended: {frame.type}")
        body = frame.json()
        for message in body if isinstance(body, list) else [body]:
            if message.get("type") == "error":
                raise AssertionError(f"chat refused: {message}")
            if message.get("type") == "ack" and message.get("command") == "chat.send":
                ledger.chat[str(message["id"])] = int(message["seq"])
                if message["ref"] == until_ref:
                    return


async def settings_burst(api: Api, ledger: Ledger, tag: str, rng: random.Random) -> None:
    for _ in range(WRITES):
        wanted = {"dvrWindowSec": rng.randrange(30, 600), "ageRestricted": rng.random() < 0.5,
                  "guestsMayChat": rng.random() < 0.5,
                  "blockedWords": sorted({_word(rng) for _ in range(rng.randint(0, 3))})}
        ledger.settings_in_flight = [wanted]
        try:
            status, body = await api.call("PATCH", f"/api/streams/{api.stream_id}/settings",
                                          wanted)
        except TRANSPORT_ERRORS:
            return
        assert status == 200, body
        ledger.settings, ledger.settings_in_flight = wanted, []
        await _pause(rng, WRITES)


def _word(rng: random.Random) -> str:
    return "zq" + "".join(rng.choices(string.ascii_lowercase, k=6))


async def moderation_burst(api: Api, ledger: Ledger, tag: str, rng: random.Random) -> None:
    base = f"/api/streams/{api.stream_id}/moderation"
    for _ in range(WRITES // 2):
        target = rng.choice(GUESTS)
        action = rng.choice(("ban", "unban", "timeout"))
        if action != "timeout":
            ledger.bans_in_flight[target] = action == "ban"
        try:
            if action == "timeout":
                status, body = await api.call("POST", f"{base}/timeouts",
                                              {"target": target, "seconds": rng.randint(1, 600)})
            else:
                status, body = await api.call("PUT" if action == "ban" else "DELETE",
                                              f"{base}/bans/{target}")
        except TRANSPORT_ERRORS:
            return
        assert status == 200, body
        ledger.moderation.append((int(body["seq"]), action, target))
        if action != "timeout":
            ledger.bans[target] = ledger.bans_in_flight.pop(target)
        await _pause(rng, WRITES // 2)


async def tip_burst(api: Api, ledger: Ledger, tag: str, rng: random.Random) -> None:
    for n in range(WRITES // 2):
        key = f"{tag}-tip-{n}"
        tip = {"streamId": api.stream_id, "idempotencyKey": key,
               "amountMinor": rng.randint(1, 100_000), "currency": rng.choice(("EUR", "USD")),
               "from": f"fan {n}", "message": f"{tag} tip {n}"}
        ledger.tip_bodies[key] = tip
        ledger.tips_unacked.add(key)
        try:
            status, body = await api.deliver_tip(TIP_SECRET, tip)
        except TRANSPORT_ERRORS:
            return
        assert status == 201 and not body["duplicate"], body
        ledger.tips_unacked.discard(key)
        ledger.tips[key] = (int(body["id"]), int(body["seq"]))
        await _pause(rng, WRITES // 2)


async def key_rotations(api: Api, ledger: Ledger, tag: str, rng: random.Random) -> None:
    """Rotating the primary key drops the publisher using it: a rotation while live."""
    for _ in range(WRITES // 4):
        ledger.rotation_in_flight = True
        try:
            status, body = await api.call(
                "POST", f"/api/streams/{api.stream_id}/keys/primary/rotate")
        except TRANSPORT_ERRORS:
            return
        assert status == 200, body
        ledger.keys.append(str(body["key"]))
        ledger.rotation_in_flight = False
        await _pause(rng, WRITES // 4)


WRITERS: dict[str, Writer] = {
    "chat": chat_burst,
    "settings": settings_burst,
    "moderation": moderation_burst,
    "tips": tip_burst,
    "key rotation": key_rotations,
}
