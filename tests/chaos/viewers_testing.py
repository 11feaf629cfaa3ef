"""The campaign's real viewers: a guest's chat socket that resumes from its cursor after
every restart, and LL-HLS fetches of the multivariant and a media playlist."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import aiohttp

from tests.chaos.api_testing import TRANSPORT_ERRORS, Api


class ChatViewer:
    """A guest watching the chat: what it was told, by seq, across every restart. A
    message told to a viewer was stored first, so the log must still hold it after any
    crash, under the same seq."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.seen: dict[int, tuple[str, Any]] = {}
        self.wrong: list[str] = []
        self._task: asyncio.Task[None] | None = None
        self._advanced = asyncio.Event()

    @property
    def cursor(self) -> int:
        return max(self.seen, default=0)

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        query = f"?cursor={self.cursor}" if self.seen else ""
        url = f"{self.api.daemon.base_url}/ws/streams/{self.api.stream_id}{query}"
        try:
            async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as own, \
                    own.ws_connect(url, heartbeat=None) as ws:
                async for frame in ws:
                    if frame.type != aiohttp.WSMsgType.TEXT:
                        return
                    body = frame.json()
                    for message in body if isinstance(body, list) else [body]:
                        self._told(message)
        except TRANSPORT_ERRORS:
            return  # the daemon died under it; the campaign reconnects it

    def _told(self, message: dict[str, Any]) -> None:
        if message.get("type") == "resync":
            self.wrong.append(f"resumed from cursor {self.cursor} and got resync: {message}")
        seq = message.get("seq")
        if not isinstance(seq, int):
            return
        told = (str(message["type"]), message.get("id"))
        if seq in self.seen and self.seen[seq] != told:
            self.wrong.append(f"seq {seq} was {self.seen[seq]}, now {told}: reused")
        elif self.seen and seq != self.cursor + 1 and seq not in self.seen:
            self.wrong.append(f"after seq {self.cursor} the viewer got {seq}: a gap")
        self.seen[seq] = told
        self._advanced.set()

    async def caught_up(self, latest: int, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                while self.cursor < latest:
                    self._advanced.clear()
                    await self._advanced.wait()
        return self.cursor >= latest

    def check_against(self, log: dict[int, dict[str, Any]]) -> list[str]:
        """What the viewer was told is what the log holds."""
        wrong = list(self.wrong)
        self.wrong.clear()
        for seq, (kind, ident) in self.seen.items():
            event = log.get(seq)
            if event is None or event["type"] != kind or event.get("id") != ident:
                wrong.append(f"the viewer was told seq {seq} = {kind} {ident}, the log after "
                             f"the restart has {event}")
        return wrong


async def _get(session: aiohttp.ClientSession, url: str) -> tuple[int, str]:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=8)) as response:
        return response.status, await response.text()


async def plays(session: aiohttp.ClientSession, base_url: str, stream_id: str) -> bool:
    """The multivariant playlist answers 200 and its first media playlist lists a segment."""
    root = f"{base_url}/hls/{stream_id}"
    status, text = await _get(session, f"{root}/index.m3u8")
    if status != 200:
        return False
    media = next((line for line in text.splitlines() if line and not line.startswith("#")),
                 None)
    if media is None:
        return False
    status, text = await _get(session, f"{root}/{media}")
    return status == 200 and "#EXTINF:" in text


async def plays_within(session: aiohttp.ClientSession, base_url: str, stream_id: str,
                       seconds: float) -> float | None:
    """Seconds until it plays, or None if it did not within ``seconds``."""
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        with contextlib.suppress(*TRANSPORT_ERRORS):
            if await plays(session, base_url, stream_id):
                return time.monotonic() - start
        await asyncio.sleep(0.1)
    return None


async def watch_hls(session: aiohttp.ClientSession, base_url: str, stream_id: str) -> None:
    """A viewer reloading the playlists twice a part target while the round runs: the
    daemon dies with players attached. Cancelled at the end of the round."""
    while True:
        with contextlib.suppress(*TRANSPORT_ERRORS):
            await plays(session, base_url, stream_id)
        await asyncio.sleep(0.1)
