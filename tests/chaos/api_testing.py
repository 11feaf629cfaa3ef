"""The daemon's HTTP API as the campaign calls it, asynchronously: JSON in and out, signed
in as the first-start admin (the stream's creator), one connection per request so that a
request after a restart never lands on a socket the killed process left behind."""

from __future__ import annotations

import json
import time
from typing import Any

import aiohttp

from mediad.realtime.tips import SIGNATURE_HEADER, sign
from mediad.testing import DaemonProcess

TRANSPORT_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)
"""What a request in flight when the daemon dies raises: it was not acknowledged."""


class Api:
    def __init__(self, daemon: DaemonProcess, session: aiohttp.ClientSession) -> None:
        self.daemon = daemon
        self.session = session
        self.token = ""

    @property
    def stream_id(self) -> str:
        return self.daemon.banner.stream_id

    async def call(self, method: str, path: str, body: Any = None, *,
                   headers: dict[str, str] | None = None, raw: bytes | None = None,
                   signed_in: bool = True) -> tuple[int, Any]:
        sent = dict(headers or {})
        if signed_in and self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        async with self.session.request(method, self.daemon.base_url + path, data=data,
                                        headers=sent,
                                        timeout=aiohttp.ClientTimeout(total=15)) as response:
            text = await response.read()
            return response.status, json.loads(text) if text else None

    async def sign_in(self) -> None:
        status, body = await self.call(
            "POST", "/api/auth/login", signed_in=False,
            body={"handle": "admin", "password": self.daemon.banner.admin_password})
        assert status == 200, body
        self.token = str(body["accessToken"])

    async def stream(self) -> dict[str, Any]:
        status, body = await self.call("GET", f"/api/streams/{self.stream_id}")
        assert status == 200, body
        return dict(body)

    async def event_log(self) -> dict[int, dict[str, Any]]:
        """Every durable message of the stream, by ``seq``, read with the HTTP fallback."""
        found: dict[int, dict[str, Any]] = {}
        cursor, more = 0, True
        while more:
            status, body = await self.call(
                "GET", f"/api/streams/{self.stream_id}/events?cursor={cursor}")
            assert status == 200, body
            for event in body["events"]:
                if "seq" in event:
                    found[int(event["seq"])] = event
                elif event["type"] == "resync":
                    raise AssertionError("the event log lost its start: resync from cursor 0")
            cursor, more = int(body["cursor"]), bool(body["more"])
        return found

    async def deliver_tip(self, secret: str, tip: dict[str, Any]) -> tuple[int, Any]:
        """One webhook delivery, signed now (a redelivery is signed afresh, as a
        provider's retry is)."""
        raw = json.dumps(tip).encode()
        signature = sign(secret, int(time.time()), raw)
        return await self.call("POST", "/api/webhooks/tips", raw=raw, signed_in=False,
                               headers={SIGNATURE_HEADER: signature})
