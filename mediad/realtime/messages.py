"""The messages of the real-time protocol (``docs/realtime.md``) and their encodings.

A message is a JSON object with a ``type``. Durable ones (chat, tips, moderation, status)
carry ``seq``, the stream's event counter that a client resumes from; ephemeral ones
(health, viewers) do not. A WebSocket frame holds one message, or an array of them when
several were ready at once. JSON text frames by default; msgpack binary frames when the
client asked for the ``msgpack`` subprotocol.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from typing import Any

import msgpack

from mediad.clock import iso_utc
from mediad.store.chat import ChatMessage
from mediad.store.tips import Tip

Message = dict[str, Any]

MSGPACK = "msgpack"

# Server to client.
CHAT_MESSAGE = "chat.message"
CHAT_DELETED = "chat.deleted"
CHAT_PINNED = "chat.pinned"
CHAT_CLEARED = "chat.cleared"
TIP = "tip"
HEALTH = "health"
VIEWERS = "viewers"
STREAM_STATUS = "stream.status"
STREAM_SETTINGS = "stream.settings"
MODERATION_TIMEOUT = "moderation.timeout"
MODERATION_BAN = "moderation.ban"
MODERATION_UNBAN = "moderation.unban"
MODERATION_SLOW_MODE = "moderation.slow_mode"
HELLO = "hello"
CHAT_HISTORY = "chat.history"
ACK = "ack"
ERROR = "error"
RESYNC = "resync"

DURABLE_TYPES = frozenset({
    CHAT_MESSAGE, CHAT_DELETED, CHAT_PINNED, CHAT_CLEARED, TIP, STREAM_STATUS,
    STREAM_SETTINGS, MODERATION_TIMEOUT, MODERATION_BAN, MODERATION_UNBAN,
    MODERATION_SLOW_MODE,
})


def encode_json(message: Message | Sequence[Message]) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()


def encode_msgpack(message: Message | Sequence[Message]) -> bytes:
    return bytes(msgpack.packb(message, use_bin_type=True))


def decode_json(body: str) -> Message:
    value = json.loads(body)
    if not isinstance(value, dict):
        raise ValueError("not an object")
    return value


OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8


def ws_frame(payload: bytes, opcode: int) -> bytes:
    """A whole, final, unmasked server frame (RFC 6455 §5.2): built once, written to many."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", 0x80 | opcode, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", 0x80 | opcode, 126, size)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, size)
    return header + payload


def author(subject: str, handle: str, role: str) -> Message:
    return {"id": subject, "handle": handle, "role": role}


def chat_message(message: ChatMessage) -> Message:
    return {"type": CHAT_MESSAGE, "id": message.id,
            "author": author(message.author_id, message.author_handle, message.author_role),
            "text": message.text, "at": iso_utc(message.created_at)}


def tip_message(tip: Tip) -> Message:
    return {"type": TIP, "id": tip.id, "amountMinor": tip.amount_minor,
            "currency": tip.currency, "from": tip.sender, "message": tip.message,
            "at": iso_utc(tip.created_at)}


def error(code: str, text: str, ref: object = None, **extra: Any) -> Message:
    message: Message = {"type": ERROR, "code": code, "message": text, **extra}
    if ref is not None:
        message["ref"] = ref
    return message
