"""Recordings for the API tests, all real: broadcasts and clips written on disk in the
recording layout by ``disk_recording_testing`` (libx264 + AAC through a real packager) and
read back into the recorder's library as the daemon reads them; and a stream really on
air, its publisher's frames packaged into the DVR window the recorder clips from."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from ingest.media import Frame
from mediad.clock import now_ms
from mediad.publisher import Publisher
from mediad.recording.layout import MANIFEST
from mediad.recording.model import Recording, RecordingKind, RecordingState
from mediad.recording.recovery import load_recording
from mediad.store.users import User
from packager.pipeline import StreamPipeline
from tests.mediad.api.api_testing import publish
from tests.mediad.api.conftest import ApiEnv
from tests.mediad.recording.disk_recording_testing import encoded, record_to_disk

HOUR_MS = 3_600_000


async def keep(env: ApiEnv, stream_id: str, *, kind: RecordingKind = "broadcast",
               title: str = "Last night's show", state: RecordingState = "complete",
               hours_ago: float = 24.0, by: User | None = None, seconds: int = 2,
               ladder: bool = False) -> Recording:
    """A recording of ``stream_id`` on disk under the recorder's root, started
    ``hours_ago``, in the library as the daemon's start finds it."""
    written = record_to_disk(env.recorder.root, seconds=seconds, ladder=ladder,
                             stream_id=stream_id, title=title, state=state, kind=kind)
    recording = written.recording
    shift = round(hours_ago * HOUR_MS)
    recording.started_at = now_ms() - shift
    if recording.ended_at is not None:
        recording.ended_at = recording.started_at + round(recording.duration * 1000)
    if by is not None:
        recording.created_by, recording.created_by_id = by.handle, by.id
    (recording.directory / MANIFEST).write_bytes(recording.manifest())
    loaded = load_recording(recording.directory, env.recorder.disk, repair=False)
    assert loaded is not None
    env.recorder.library.add(loaded)
    return loaded


async def until(check: Callable[[], bool], within: float = 20.0) -> None:
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 -- the packager's feed task changes it
            await asyncio.sleep(0.02)


def complete_segments(pipeline: StreamPipeline | None) -> int:
    if pipeline is None:
        return 0
    member = pipeline.renditions["source"] if "source" in pipeline.renditions else None
    return 0 if member is None else sum(1 for s in member.playlist.segments if s.complete)


async def on_air(env: ApiEnv, stream_id: str, *, seconds: int = 4) -> StreamPipeline:
    """The stream live, with ``seconds`` of a real publish packaged (whole segments of it
    in the DVR window)."""
    session, _ = await publish(env, stream_id)
    await env.registry.go_live(stream_id)
    return await package(env, session, stream_id, seconds=seconds)


async def package(env: ApiEnv, session: Publisher, stream_id: str, *, seconds: int
                  ) -> StreamPipeline:
    """``seconds`` of a real publish through ``session``, packaged (whole segments of it in
    the DVR window)."""
    source = encoded(320, 240, seconds)
    loop = asyncio.get_running_loop()
    session.announce_track(source.video)
    session.announce_track(source.audio)
    for frame in source.frames:
        session.push_frame(Frame(frame.track, frame.dts, frame.pts, frame.keyframe,
                                 frame.payload, loop.time()))
        await asyncio.sleep(0)
    await until(lambda: complete_segments(env.pipelines.get(stream_id)) >= seconds - 1)
    pipeline = env.pipelines.get(stream_id)
    assert pipeline is not None
    return pipeline
