"""Chat commands, from a WebSocket or the HTTP fallback alike: sending and moderation.

Every rule is enforced here, on the server: who may post (guests only where the stream
allows them; not while banned or timed out), how often (per-chatter and per-address rate
limits, the stream's slow mode), and what (cleaned text, blocked words, no links from
newcomers). The creator, admins and the stream's moderators moderate; nobody moderates the
creator, and moderators do not moderate each other.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

from mediad.clock import iso_utc, now_ms
from mediad.config import ChatConfig
from mediad.metrics.realtime import CHAT_MESSAGES, MODERATION_ACTIONS, RATELIMIT_REFUSALS
from mediad.ratelimit import RateLimiter
from mediad.realtime import messages as m
from mediad.realtime.identity import STAFF, ChatRole, Identity, chat_role, guest_handle
from mediad.realtime.recorder import Recorder
from mediad.realtime.text import BlockedWords, TextRefused, clean_text, contains_link
from mediad.store import Store
from mediad.store.chat import ChatMessage
from mediad.store.streams import Stream

MAX_TIMEOUT_SEC = 14 * 86400
MAX_SLOW_MODE_SEC = 3600


class CommandRefused(Exception):
    """A command that is not carried out: ``status`` for HTTP, ``code`` for clients."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def new_message_id() -> str:
    # Sortable by time (ms, hex), unique by its random tail.
    return f"{now_ms():011x}{secrets.token_hex(5)}"


def _string(command: m.Message, name: str, limit: int = 200) -> str:
    value = command.get(name)
    if not isinstance(value, str) or not value or len(value) > limit or not value.isascii():
        raise CommandRefused(400, "bad_request", f"{name!r} must be a non-empty ASCII string")
    return value


def _int(command: m.Message, name: str, lo: int, hi: int) -> int:
    value = command.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise CommandRefused(400, "bad_request", f"{name!r} must be an integer in {lo}..{hi}")
    return value


class ChatCommands:
    def __init__(self, store: Store, config: ChatConfig, recorder: Recorder, *,
                 clock: Callable[[], float] = time.monotonic,
                 wall_ms: Callable[[], int] = now_ms) -> None:
        self.store = store
        self.config = config
        self.recorder = recorder
        self.clock = clock
        self.wall_ms = wall_ms
        self.per_chatter = RateLimiter(config.messages_per_minute, 60.0, limit="chat")
        self.per_ip = RateLimiter(config.messages_per_minute_per_ip, 60.0,
                                  limit="chat_address")
        self._global_words = BlockedWords(config.blocked_words)
        self._stream_words: dict[str, tuple[tuple[str, ...], BlockedWords]] = {}
        self._handlers: dict[str, Callable[[Identity, Stream, ChatRole, m.Message],
                                           Awaitable[m.Message]]] = {
            "chat.send": self._send,
            "chat.delete": self._delete,
            "chat.pin": self._pin,
            "chat.clear": self._clear,
            "moderation.timeout": self._timeout,
            "moderation.ban": self._ban,
            "moderation.unban": self._unban,
            "moderation.slow_mode": self._slow_mode,
        }

    @property
    def command_types(self) -> frozenset[str]:
        return frozenset(self._handlers)

    async def execute(self, identity: Identity, stream_id: str, command: m.Message
                      ) -> m.Message:
        """Carry out ``command``; the acknowledgement, or ``CommandRefused``."""
        handler = self._handlers.get(command.get("type", ""))
        if handler is None:
            raise CommandRefused(400, "unknown_command",
                                 f"unknown command type {command.get('type')!r}")
        stream = await self.store.streams.get(stream_id)
        if stream is None:
            raise CommandRefused(404, "not_found", "no such stream")
        role = await chat_role(self.store, stream, identity)
        if command["type"] != "chat.send" and role not in STAFF:
            if role == "guest":
                raise CommandRefused(401, "sign_in_required", "sign in to moderate")
            raise CommandRefused(403, "forbidden",
                                 "only the creator and the stream's moderators may moderate")
        return await handler(identity, stream, role, command)

    # -- sending ---------------------------------------------------------------------

    def _blocked_words(self, stream: Stream) -> BlockedWords:
        cached = self._stream_words.get(stream.id)
        if cached is None or cached[0] != stream.blocked_words:
            cached = (stream.blocked_words, BlockedWords(stream.blocked_words))
            self._stream_words[stream.id] = cached
        return cached[1]

    async def _send(self, identity: Identity, stream: Stream, role: ChatRole,
                    command: m.Message) -> m.Message:
        raw = command.get("text")
        if not isinstance(raw, str) or len(raw) > 4 * self.config.max_message_length + 64:
            raise CommandRefused(400, "bad_request", "'text' must be a string")
        staff = role in STAFF
        if role == "guest" and not stream.guests_may_chat:
            raise CommandRefused(403, "sign_in_required", "sign in to chat in this stream")
        now = self.wall_ms()
        if not staff:
            sanction = await self.store.chat.sanction(stream.id, identity.subject)
            if sanction is not None and sanction.banned:
                raise CommandRefused(403, "banned", "you are banned from this chat")
            if sanction is not None and sanction.muted_until > now:
                wait = sanction.muted_until - now
                raise CommandRefused(403, "timed_out", "you are timed out", retryAfterMs=wait)
            for limiter, key in ((self.per_chatter, identity.subject),
                                 (self.per_ip, identity.ip)):
                wait_s = limiter.acquire(key, self.clock())
                if wait_s > 0:
                    raise CommandRefused(429, "rate_limited", "you are sending too fast",
                                         retryAfterMs=int(wait_s * 1000) + 1)
        try:
            text = clean_text(raw, self.config.max_message_length)
        except TextRefused as exc:
            raise CommandRefused(400, exc.code, exc.message) from None
        if not staff:
            if stream.slow_mode_sec > 0:
                last = await self.store.chat.last_sent_at(stream.id, identity.subject)
                if last is not None and now - last < stream.slow_mode_sec * 1000:
                    wait = stream.slow_mode_sec * 1000 - (now - last)
                    RATELIMIT_REFUSALS.labels("slow_mode").inc()
                    raise CommandRefused(429, "slow_mode",
                                         f"slow mode: one message every {stream.slow_mode_sec} s",
                                         retryAfterMs=wait)
            if self._global_words.found_in(text) or self._blocked_words(stream).found_in(text):
                raise CommandRefused(400, "blocked_word",
                                     "your message contains a word this chat does not allow")
            if contains_link(text) and self._is_new(identity, now):
                raise CommandRefused(400, "link_not_allowed",
                                     "links are not allowed from new viewers")
        message = ChatMessage(new_message_id(), stream.id, identity.subject, identity.handle,
                              role, text, now)
        published = await self.recorder.record(stream.id, m.chat_message(message),
                                               lambda: self.store.chat.add(message))
        assert published is not None
        CHAT_MESSAGES.inc()
        return {"id": message.id, "seq": published["seq"], "at": iso_utc(now)}

    def _is_new(self, identity: Identity, now: int) -> bool:
        if identity.account_created_at is None:
            return True
        age_hours = (now - identity.account_created_at) / 3_600_000
        return age_hours < self.config.link_min_account_age_hours

    # -- moderation ------------------------------------------------------------------

    async def _action(self, identity: Identity, stream: Stream, action: str,
                      target: str | None, details: dict[str, Any], message: m.Message,
                      change: Callable[[], Awaitable[object]] | None = None) -> m.Message:
        at = self.wall_ms()
        by = {"id": identity.subject, "handle": identity.handle}

        async def write() -> None:
            if change is not None:
                await change()
            await self.store.chat.log_action(stream.id, action, identity.subject,
                                             identity.handle, target, details, at)

        published = await self.recorder.record(stream.id, {**message, "by": by,
                                                           "at": iso_utc(at)}, write)
        assert published is not None
        MODERATION_ACTIONS.labels(action).inc()
        return {"seq": published["seq"]}

    async def _message(self, stream: Stream, command: m.Message) -> ChatMessage:
        message_id = _string(command, "messageId", 64)
        found = await self.store.chat.get(stream.id, message_id)
        if found is None or found.deleted_at is not None:
            raise CommandRefused(404, "not_found", "no such message")
        return found

    async def _delete(self, identity: Identity, stream: Stream, role: ChatRole,
                      command: m.Message) -> m.Message:
        found = await self._message(stream, command)
        at = self.wall_ms()
        ack = await self._action(
            identity, stream, "delete", found.author_id, {"messageId": found.id},
            {"type": m.CHAT_DELETED, "id": found.id},
            lambda: self.store.chat.delete(stream.id, found.id, identity.subject, at))
        if stream.pinned_message_id == found.id:
            await self._set_pin(identity, stream, None)
        return ack

    async def _pin(self, identity: Identity, stream: Stream, role: ChatRole,
                   command: m.Message) -> m.Message:
        found = None if command.get("messageId") is None else await self._message(stream,
                                                                                   command)
        return await self._set_pin(identity, stream, found)

    async def _set_pin(self, identity: Identity, stream: Stream,
                       found: ChatMessage | None) -> m.Message:
        return await self._action(
            identity, stream, "pin" if found else "unpin", found.author_id if found else None,
            {"messageId": found.id if found else None},
            {"type": m.CHAT_PINNED, "message": m.chat_message(found) if found else None},
            lambda: self.store.streams.update(stream.id,
                                              pinned_message_id=found.id if found else None))

    async def _clear(self, identity: Identity, stream: Stream, role: ChatRole,
                     command: m.Message) -> m.Message:
        at = self.wall_ms()

        async def change() -> None:
            await self.store.chat.clear(stream.id, identity.subject, at)
            await self.store.streams.update(stream.id, pinned_message_id=None)

        return await self._action(identity, stream, "clear", None, {},
                                  {"type": m.CHAT_CLEARED}, change)

    async def _target(self, stream: Stream, role: ChatRole, command: m.Message
                      ) -> tuple[str, str]:
        """The chatter a sanction is for, as (subject, handle); staff are protected."""
        subject = _string(command, "target", 40)
        kind, _, ident = subject.partition(":")
        if kind == "g" and len(ident) == 12 and all(c in "0123456789abcdef" for c in ident):
            return subject, guest_handle(ident)
        if kind == "u" and ident.isdigit() and len(ident) < 19:
            user = await self.store.users.get(int(ident))
            if user is None:
                raise CommandRefused(404, "not_found", "no such user")
            if user.id == stream.owner_id:
                raise CommandRefused(403, "forbidden", "the creator cannot be moderated")
            target_is_staff = user.role == "admin" or await self.store.moderators.is_moderator(
                stream.id, user.id)
            if target_is_staff and role == "moderator":
                raise CommandRefused(403, "forbidden", "moderators cannot moderate staff")
            return subject, user.handle
        raise CommandRefused(400, "bad_request", "'target' must be an author id (u:N or g:ID)")

    async def _timeout(self, identity: Identity, stream: Stream, role: ChatRole,
                       command: m.Message) -> m.Message:
        subject, handle = await self._target(stream, role, command)
        seconds = _int(command, "seconds", 1, MAX_TIMEOUT_SEC)
        at = self.wall_ms()
        until = at + seconds * 1000
        return await self._action(
            identity, stream, "timeout", subject, {"seconds": seconds},
            {"type": m.MODERATION_TIMEOUT, "target": {"id": subject, "handle": handle},
             "seconds": seconds, "until": iso_utc(until)},
            lambda: self.store.chat.set_sanction(stream.id, subject, handle, at,
                                                 muted_until=until))

    async def _ban(self, identity: Identity, stream: Stream, role: ChatRole,
                   command: m.Message) -> m.Message:
        return await self._set_ban(identity, stream, role, command, True)

    async def _unban(self, identity: Identity, stream: Stream, role: ChatRole,
                     command: m.Message) -> m.Message:
        return await self._set_ban(identity, stream, role, command, False)

    async def _set_ban(self, identity: Identity, stream: Stream, role: ChatRole,
                       command: m.Message, banned: bool) -> m.Message:
        subject, handle = await self._target(stream, role, command)
        at = self.wall_ms()
        return await self._action(
            identity, stream, "ban" if banned else "unban", subject, {},
            {"type": m.MODERATION_BAN if banned else m.MODERATION_UNBAN,
             "target": {"id": subject, "handle": handle}},
            lambda: self.store.chat.set_sanction(stream.id, subject, handle, at, banned=banned,
                                                 muted_until=None if banned else 0))

    async def _slow_mode(self, identity: Identity, stream: Stream, role: ChatRole,
                         command: m.Message) -> m.Message:
        seconds = _int(command, "seconds", 0, MAX_SLOW_MODE_SEC)
        return await self._action(
            identity, stream, "slow_mode", None, {"seconds": seconds},
            {"type": m.MODERATION_SLOW_MODE, "seconds": seconds},
            lambda: self.store.streams.update(stream.id, slow_mode_sec=seconds))
