"""What a client is told when it joins: who it is, the stream, and the recent chat."""

from __future__ import annotations

from mediad.config import ChatConfig
from mediad.realtime import messages as m
from mediad.realtime.identity import STAFF, Identity, chat_role
from mediad.realtime.viewer_counts import ViewerCounts
from mediad.store import Store

POLL_AFTER_MS = 4000


class Snapshots:
    def __init__(self, store: Store, chat: ChatConfig, viewers: ViewerCounts) -> None:
        self._store = store
        self._chat = chat
        self._viewers = viewers

    async def hello(self, stream_id: str, identity: Identity, cursor: int) -> m.Message:
        store = self._store
        stream = await store.streams.get(stream_id)
        if stream is None:
            return m.error("not_found", "the stream was deleted")
        role = await chat_role(store, stream, identity)
        sanction = None if role in STAFF else await store.chat.sanction(stream_id,
                                                                        identity.subject)
        can_chat = not (role == "guest" and not stream.guests_may_chat) and not (
            sanction is not None and sanction.banned)
        return {
            "type": m.HELLO,
            "streamId": stream_id,
            "cursor": cursor,
            "you": {"id": identity.subject, "handle": identity.handle, "role": role,
                    "canChat": can_chat, "canModerate": role in STAFF},
            "stream": {"state": stream.state, "title": stream.title},
            "chat": {"slowModeSec": stream.slow_mode_sec,
                     "guestsMayChat": stream.guests_may_chat,
                     "maxMessageLength": self._chat.max_message_length},
            "viewers": self._viewers.total(stream_id),
            "pollAfterMs": POLL_AFTER_MS,
        }

    async def history(self, stream_id: str) -> m.Message:
        store = self._store
        recent = await store.chat.recent(stream_id, self._chat.history)
        stream = await store.streams.get(stream_id)
        pinned = None
        if stream is not None and stream.pinned_message_id is not None:
            found = await store.chat.get(stream_id, stream.pinned_message_id)
            if found is not None and found.deleted_at is None:
                pinned = m.chat_message(found)
        return {"type": m.CHAT_HISTORY, "messages": [m.chat_message(x) for x in recent],
                "pinned": pinned}
