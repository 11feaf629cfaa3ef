"""A stream's past broadcasts (recordings), one recording, its deletion, and the recent
replays of discovery. Who sees what: a stream's replays are public unless its creator made
them private; then only its creator, admins and its moderators list or get them (anyone
else gets 404 for one recording, as if it did not exist, and 401/403 for the stream's list).
The recording ids are 96 random bits, so a private replay's URLs are not guessable either."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from mediad.api.context import (
    API,
    charge_write,
    current_user,
    find_stream,
    may_manage,
    require_user,
)
from mediad.api.views import recording_view
from mediad.http.jsonio import query_int, reply
from mediad.recording.layout import RECORDING_ID
from mediad.recording.model import Recording
from mediad.recording.recorder import Recorder
from mediad.recording.setup import RECORDINGS
from mediad.store import Store
from mediad.store.streams import Stream
from mediad.store.users import User

MAX_REPLAYS = 50
DEFAULT_REPLAYS = 12


def setup_recordings(app: web.Application) -> None:
    add = app.router.add_route
    add("GET", "/api/streams/{stream}/recordings", list_recordings)
    add("GET", "/api/recordings/{recording}", get_recording)
    add("DELETE", "/api/recordings/{recording}", delete_recording)
    add("GET", "/api/replays", recent_replays)


def recorder_of(request: web.Request) -> Recorder:
    return request.app[RECORDINGS]


async def sees_private_replays(store: Store, user: User | None, stream: Stream) -> bool:
    """The stream's creator, an admin, or one of its moderators."""
    if user is None:
        return False
    return may_manage(user, stream) or await store.moderators.is_moderator(stream.id, user.id)


async def replays_stream(request: web.Request) -> Stream:
    """The stream of the URL if the caller may see its replays: 404 no such stream; for
    private replays 401 anonymous, 403 signed in but not its creator, an admin or one of
    its moderators."""
    stream = await find_stream(request)
    user = await current_user(request)
    if stream.replays_public or await sees_private_replays(
            request.app[API].store, user, stream):
        return stream
    if user is None:
        raise web.HTTPUnauthorized(reason="this stream's replays are private: sign in first",
                                   headers={"WWW-Authenticate": "Bearer"})
    raise web.HTTPForbidden(reason="this stream's replays are private")


async def list_recordings(request: web.Request) -> web.Response:
    """Broadcast recordings, newest first (one in progress included, state "recording")."""
    stream = await replays_stream(request)
    recordings = recorder_of(request).library.for_stream(stream.id, "broadcast")
    return reply({"recordings": [recording_view(r) for r in recordings]})


async def visible_recording(request: web.Request, user: User | None
                            ) -> tuple[Recording, Stream]:
    """The recording of the URL and its stream, 404 unless the caller may see it (one whose
    stream is gone is not found: the recorder removes those)."""
    recording_id = request.match_info["recording"]
    recording = (recorder_of(request).library.get(recording_id)
                 if RECORDING_ID.fullmatch(recording_id) else None)
    if recording is not None:
        stream = await request.app[API].store.streams.get(recording.stream_id)
        if stream is not None and (stream.replays_public or await sees_private_replays(
                request.app[API].store, user, stream)):
            return recording, stream
    raise web.HTTPNotFound(reason="no such recording")


async def get_recording(request: web.Request) -> web.Response:
    recording, _ = await visible_recording(request, await current_user(request))
    return reply(recording_view(recording))


async def may_delete(store: Store, user: User, recording: Recording, stream: Stream
                     ) -> bool:
    """A broadcast recording: the stream's creator or an admin. A clip: them, the stream's
    moderators, and whoever cut it."""
    if may_manage(user, stream):
        return True
    if recording.kind != "clip":
        return False
    return (recording.created_by_id == user.id
            or await store.moderators.is_moderator(stream.id, user.id))


async def delete_recording(request: web.Request) -> web.Response:
    """204 once the recording is no longer listed and its files are gone from the disk
    (a recording in progress stops first)."""
    api = request.app[API]
    user = await require_user(request)
    recording, stream = await visible_recording(request, user)
    if not await may_delete(api.store, user, recording, stream):
        raise web.HTTPForbidden(
            reason="only the stream's creator or an admin may delete a recording"
            if recording.kind == "broadcast" else
            "only the stream's creator, its moderators or an admin may delete a clip")
    charge_write(request, user)
    if not await recorder_of(request).library.delete(recording.id):
        raise web.HTTPNotFound(reason="no such recording")  # deleted meanwhile
    return web.Response(status=204)


async def recent_replays(request: web.Request) -> web.Response:
    """Discovery's recent replays: complete broadcast recordings of the streams whose
    replays are public, newest first, each with its stream's title and creator."""
    api = request.app[API]
    limit = query_int(request, "limit", DEFAULT_REPLAYS, 1, MAX_REPLAYS)
    public = {stream.id: stream for stream in await api.store.streams.with_public_replays()}
    recordings = recorder_of(request).library.recent("broadcast", limit, public.__contains__)
    owners = await api.store.users.get_many({public[r.stream_id].owner_id for r in recordings})
    replays: list[dict[str, Any]] = []
    for recording in recordings:
        stream = public[recording.stream_id]
        owner = owners.get(stream.owner_id)
        replays.append({**recording_view(recording), "streamTitle": stream.title,
                        "creator": {"handle": owner.handle if owner else "",
                                    "displayName": owner.display_name if owner else ""}})
    return reply({"replays": replays})
