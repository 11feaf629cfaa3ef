"""The tips service: a payment provider's webhook delivery, verified and parsed
(``tips.py``), stored once per idempotency key and broadcast as a durable ``tip``."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from mediad.config import TipsConfig
from mediad.metrics.realtime import tip_received
from mediad.realtime import messages as m
from mediad.realtime.currencies import major_amount
from mediad.realtime.recorder import Recorder
from mediad.realtime.text import BlockedWords
from mediad.realtime.tips import WebhookRefused, parse, verify
from mediad.store import Store
from mediad.store.tips import Tip


@dataclass(frozen=True, slots=True)
class TipReceived:
    tip_id: int
    seq: int | None
    """The broadcast's ``seq``; None for a retried delivery (counted before, not again)."""


class TipWebhook:
    def __init__(self, config: TipsConfig, blocked_words: BlockedWords, store: Store,
                 recorder: Recorder, *, wall_clock: Callable[[], float] = time.time) -> None:
        self._config = config
        self.blocked_words = blocked_words
        """Words a tip's message may not show (the tip counts; the message is blanked)."""
        self._store = store
        self._recorder = recorder
        self._wall_clock = wall_clock

    @property
    def enabled(self) -> bool:
        return bool(self._config.webhook_secret)

    async def receive(self, signature: str, body: bytes) -> TipReceived:
        """Count a delivery; ``WebhookRefused`` when it is not signed, fresh and valid."""
        verify(self._config.webhook_secret, signature, body, self._wall_clock(),
               self._config.max_age_sec)
        tip = parse(body, self.blocked_words)
        store = self._store
        if await store.streams.get(tip.stream_id) is None:
            raise WebhookRefused(404, "no such stream")
        added: list[Tip] = []

        async def write() -> m.Message | bool:
            found, new = await store.tips.add(tip.stream_id, tip.idempotency_key,
                                              tip.amount_minor, tip.currency, tip.sender,
                                              tip.message, int(self._wall_clock() * 1000))
            added.append(found)
            return m.tip_message(found) if new else False

        published = await self._recorder.record(tip.stream_id, {}, write)
        if published is not None:
            tip_received(tip.currency, major_amount(tip.amount_minor, tip.currency))
        return TipReceived(added[0].id, None if published is None else published["seq"])
