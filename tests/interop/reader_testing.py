"""What the ingest interop environments read from a live stream: its reader's items, kept
in order, up to the publish's end."""

from __future__ import annotations

import asyncio

from mediad.fanout import Reader, ReaderItem, StreamEnd


async def collect_until_end(reader: Reader, items: list[ReaderItem],
                            within: float) -> list[ReaderItem]:
    """Appends ``reader``'s items to ``items`` until its ``StreamEnd``; returns ``items``."""
    async with asyncio.timeout(within):
        while True:
            item = await reader.get()
            items.append(item)
            if isinstance(item, StreamEnd):
                return items
