"""Stream settings, validated field by field; a change reaches every viewer at once as a
``stream.settings`` event (the player's DVR window and age gate, the chat's slow mode).
The recording settings (``record``, ``recordKeepDays``, ``replaysPublic``) concern the
recorder, retention and the recordings API, not viewers' players: the ``stream.settings``
event leaves them out."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mediad.api.context import API, managed_stream
from mediad.api.validation import ABSENT, Fields
from mediad.api.views import public_settings, settings_view
from mediad.clock import iso_utc, now_ms
from mediad.http.jsonio import read_object, reply
from mediad.realtime import messages as m
from mediad.realtime.chat import MAX_SLOW_MODE_SEC
from mediad.store.streams import Stream

MAX_DVR_WINDOW_SEC = 7200
MAX_BLOCKED_WORDS = 500
MAX_WORD_LENGTH = 64
MAX_KEEP_DAYS = 36500
FIELDS = {"dvrWindowSec", "ageRestricted", "watermark", "slowModeSec", "guestsMayChat",
          "blockedWords", "realtimePlayback", "record", "recordKeepDays", "replaysPublic"}


def setup_settings(app: web.Application) -> None:
    app.router.add_get("/api/streams/{stream}/settings", get_settings)
    app.router.add_route("PATCH", "/api/streams/{stream}/settings", update_settings)


async def get_settings(request: web.Request) -> web.Response:
    stream, _ = await managed_stream(request)
    return reply(settings_view(stream, request.app[API].config))


async def update_settings(request: web.Request) -> web.Response:
    """Only the fields given change. The DVR window and the watermark apply from the next
    broadcast (a running packager keeps its window); the rest apply at once."""
    api = request.app[API]
    stream, _ = await managed_stream(request, write=True)
    fields = Fields(await read_object(request), FIELDS)
    changes = fields.changes(
        dvr_window_sec=fields.integer("dvrWindowSec", 0, MAX_DVR_WINDOW_SEC),
        age_restricted=fields.boolean("ageRestricted"),
        watermark=fields.boolean("watermark"),
        slow_mode_sec=fields.integer("slowModeSec", 0, MAX_SLOW_MODE_SEC),
        guests_may_chat=fields.boolean("guestsMayChat"),
        blocked_words=fields.words("blockedWords", max_items=MAX_BLOCKED_WORDS,
                                   max_length=MAX_WORD_LENGTH),
        realtime_playback=fields.boolean("realtimePlayback"),
        record=fields.boolean("record"),
        record_keep_days=_keep_days(fields),
        replays_public=fields.boolean("replaysPublic"))
    if not changes:
        return reply(settings_view(stream, api.config))
    updated: list[Stream] = []

    async def write() -> m.Message:
        changed = await api.store.streams.update(stream.id, **changes)
        if changed is None:
            raise web.HTTPNotFound(reason="no such stream")
        updated.append(changed)
        return public_settings(changed)

    await api.recorder.record(
        stream.id, {"type": m.STREAM_SETTINGS, "at": iso_utc(now_ms())}, write)
    return reply(settings_view(updated[0], api.config))


def _keep_days(fields: Fields) -> Any:
    """null hands the choice back to the server (``recording.keep_days``); 0 keeps
    recordings until deleted."""
    if fields.body.get("recordKeepDays", ABSENT) is None:
        return None
    return fields.integer("recordKeepDays", 0, MAX_KEEP_DAYS)
