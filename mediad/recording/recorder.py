"""The recorder: every on-air broadcast of a stream that records, written to disk as the
packager completes its segments; clips cut from the DVR window; retention.

A reader of the registry's events like the other daemon services: a broadcast is recorded
from the moment it goes live (a preview is the creator's rehearsal) until its packaging
ends, through reconnects and takeovers (a discontinuity each). The segments are the ones
live viewers get, handed by reference to one writer thread (``writer.py``): nothing here
waits on the disk, and a disk that cannot keep up costs the recording segments, never the
stream.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mediad.background import Tasks
from mediad.clock import now_ms
from mediad.config import Config
from mediad.lifecycle import ON_AIR
from mediad.recording.active import ActiveRecording, describe, failure_reason
from mediad.recording.clips import ClipRefused, newest_covering, same_stretch
from mediad.recording.disk import Disk, LocalDisk
from mediad.recording.layout import (
    JOURNAL,
    MANIFEST,
    init_name,
    new_recording_id,
    recording_dir,
    rendition_dir,
)
from mediad.recording.library import RecordingLibrary
from mediad.recording.model import Recording, RenditionRecord, SegmentEntry
from mediad.recording.writer import DiskWriter, Job, WriteOwner
from mediad.store import Store
from mediad.store.users import User
from mediad.stream_events import PublisherAttached, StateChanged, StreamRemoved, Subscription
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import StreamRegistry
from packager.llhls import Segment
from packager.pipeline import AUDIO, SOURCE
from packager.segmenter import Segmenter

__all__ = ["ClipRefused", "Recorder"]

log = logging.getLogger("mediad.recording")

RETENTION_INTERVAL_SEC = 600.0
CLIP_WRITE_TIMEOUT_SEC = 30.0


class Recorder:
    def __init__(self, config: Config, store: Store, registry: StreamRegistry,
                 pipelines: StreamPipelines, *, disk: Disk | None = None) -> None:
        self.config = config
        self.store = store
        self.registry = registry
        self.pipelines = pipelines
        self.disk = disk if disk is not None else LocalDisk()
        self.root = config.recording.directory(config.storage.data_dir)
        self.library = RecordingLibrary(self.root, self.disk)
        self.library.remove = self._remove
        self.writer: DiskWriter | None = None
        self._wanted = frozenset(config.recording.renditions or (SOURCE, AUDIO))
        self._active: dict[str, ActiveRecording] = {}
        self._events: Subscription | None = None
        self._tasks = Tasks()

    # -- lifetime -------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.writer = DiskWriter(self.disk, self.config.recording.queue_mb << 20,
                                 loop.call_soon_threadsafe)
        self.writer.start()
        await self.library.load()
        self.pipelines.add_segment_listener(self._segment)
        self.pipelines.add_end_listener(self._packaging_ended)
        self._events = self.registry.subscribe("recording")
        self._tasks.spawn(self._watch(self._events))
        self._tasks.spawn(self._retention_loop())

    async def stop(self) -> None:
        if self._events is not None:
            self._events.close()
        await self._tasks.cancel_all()
        for stream_id, active in list(self._active.items()):
            active.recording.interrupted = True  # the daemon stopped, not the broadcast
            self._close(stream_id)
        if self.writer is not None:
            await asyncio.to_thread(self.writer.stop)

    # -- broadcasts -------------------------------------------------------------------------

    async def _watch(self, events: Subscription) -> None:
        async for event in events:
            try:
                if isinstance(event, StateChanged) and event.state == "live":
                    await self._begin(event.stream_id)
                elif isinstance(event, PublisherAttached):
                    live = self.registry.get(event.stream_id)
                    if live is not None and live.state in ON_AIR:
                        await self._begin(event.stream_id)
                elif isinstance(event, StreamRemoved):
                    await self._stream_removed(event.stream_id)
            except Exception:
                log.exception("recorder event failed", extra={"fields": {
                    "stream": event.stream_id}})

    async def _begin(self, stream_id: str) -> None:
        if stream_id in self._active:
            return  # back from reconnecting, a takeover: the same broadcast goes on
        stream = await self.store.streams.get(stream_id)
        if (stream is None or not stream.records(self.config.recording.enabled)
                or stream_id in self._active):
            return
        assert self.writer is not None
        recording_id = new_recording_id()
        recording = Recording(recording_id, stream_id, "broadcast", stream.title, now_ms(),
                              recording_dir(self.root, stream_id, recording_id))
        active = ActiveRecording(recording, self.writer, self._wanted.__contains__)
        self._active[stream_id] = active
        self.library.add(recording)
        active.begin()
        log.info("recording started", extra={"fields": {
            "stream": stream_id, "recording": recording_id}})

    def _segment(self, stream_id: str, name: str, member: Segmenter, segment: Segment) -> None:
        active = self._active.get(stream_id)
        if active is not None:
            active.segment(name, member, segment)

    def _packaging_ended(self, stream_id: str) -> None:
        self._close(stream_id)

    def _close(self, stream_id: str) -> None:
        active = self._active.pop(stream_id, None)
        if active is None:
            return
        active.close(now_ms())
        recording = active.recording
        log.info("recording ended", extra={"fields": {
            "stream": stream_id, "recording": recording.id, "state": recording.state,
            "skipped_segments": recording.skipped_segments}})

    async def _stream_removed(self, stream_id: str) -> None:
        active = self._active.pop(stream_id, None)
        if active is not None:
            active.abandon()
        for recording in self.library.for_stream(stream_id):
            await self.library.delete(recording.id)

    async def _remove(self, recording: Recording) -> None:
        """After whatever the writer still has queued for it (skipped from now on)."""
        for stream_id, active in list(self._active.items()):
            if active.recording is recording:
                active.abandon()
                del self._active[stream_id]
        await self._write(WriteOwner(f"delete {recording.id}"),
                          lambda disk: disk.remove_tree(recording.directory))

    async def _write(self, owner: WriteOwner, run: Callable[[Disk], None], size: int = 0
                     ) -> None:
        """One job, waited for (its OSError raised here)."""
        writer = self.writer
        if writer is None:  # not started (tools): do it in a thread
            await asyncio.to_thread(run, self.disk)
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def failed(exc: OSError) -> None:
            if not done.done():
                done.set_exception(exc)

        def finished() -> None:
            if not done.done():
                done.set_result(None)

        owner.on_failure = failed
        writer.submit(Job(owner, run, size, finished, must=True))
        await done

    # -- health -----------------------------------------------------------------------------

    def health(self, stream_id: str) -> dict[str, Any] | None:
        """The stream health message's ``recording`` field while a broadcast records."""
        active = self._active.get(stream_id)
        if active is None:
            return None
        recording = active.recording
        warning = None
        if recording.state == "stopped":
            warning = f"recording stopped: {recording.stop_reason}"
        elif recording.skipped_segments:
            warning = (f"recording fell behind the stream: {recording.skipped_segments}"
                       " segments left out")
        return {"recordingId": recording.id, "state": recording.state,
                "durationSec": round(recording.duration, 3), "sizeBytes": recording.size,
                "skippedSegments": recording.skipped_segments, "warning": warning}

    # -- clips ------------------------------------------------------------------------------

    async def clip(self, stream_id: str, seconds: float, title: str, user: User) -> Recording:
        """The last ``seconds`` of the stream's DVR window as a clip, on disk when this
        returns."""
        live = self.registry.get(stream_id)
        pipeline = self.pipelines.get(stream_id)
        if live is None or live.state not in ON_AIR or pipeline is None or pipeline.ended:
            raise ClipRefused(409, "the stream is not live")
        members = {name: pipeline.renditions[name] for name in pipeline.renditions
                   if name in self._wanted}
        videos = [name for name, member in members.items()
                  if not describe(name, member).audio]
        drivers = videos or list(members)
        if not drivers:
            raise ClipRefused(409, "nothing of this stream is recorded")
        driver = drivers[0]
        chosen = newest_covering(members[driver].playlist.segments, seconds)
        if not chosen:
            raise ClipRefused(409, "nothing to clip yet: the stream has no complete segment")
        start, end = chosen[0].program_date_time, chosen[-1].program_date_time + chosen[-1].duration
        recording_id = new_recording_id()
        recording = Recording(recording_id, stream_id, "clip", title, round(start * 1000),
                              recording_dir(self.root, stream_id, recording_id),
                              ended_at=round(end * 1000), state="complete",
                              created_by=user.handle, created_by_id=user.id)
        files: list[tuple[Path, bytes | memoryview]] = []
        for name, member in members.items():
            segments = chosen if name == driver else same_stretch(
                member.playlist.segments, start, end)
            record = _clip_rendition(name, member, segments, files)
            if record.segments:
                recording.renditions[name] = record
        manifest = recording.manifest()
        directory = recording.directory
        size = sum(len(data) for _, data in files)

        def write(disk: Disk) -> None:
            for relative, data in files:
                disk.write(directory / relative, data)
            disk.replace(directory / MANIFEST, manifest)

        try:
            async with asyncio.timeout(CLIP_WRITE_TIMEOUT_SEC):
                await self._write(WriteOwner(f"clip {recording_id}"), write, size)
        except TimeoutError:
            raise ClipRefused(503, "the disk is too busy to keep a clip now: try again"
                              ) from None
        except OSError as exc:
            raise ClipRefused(507, f"the clip could not be kept: {failure_reason(exc)}"
                              ) from None
        self.library.add(recording)
        log.info("clip made", extra={"fields": {
            "stream": stream_id, "recording": recording_id, "by": user.handle,
            "duration_sec": round(recording.duration, 3)}})
        return recording

    # -- retention --------------------------------------------------------------------------

    async def _retention_loop(self) -> None:
        while True:
            try:
                await self.apply_retention()
            except Exception:
                log.exception("recording retention failed")
            await asyncio.sleep(RETENTION_INTERVAL_SEC)

    async def apply_retention(self) -> list[Recording]:
        """Deletes what retention says (and recordings of streams that no longer exist)."""
        streams = {stream.id: stream for stream in await self.store.streams.list()}
        default = self.config.recording.keep_days

        def keep_days(stream_id: str) -> int:
            stream = streams.get(stream_id)
            return default if stream is None else stream.keep_days(default)

        max_bytes = round(self.config.recording.max_gb * 1e9)
        chosen = self.library.expired(now_ms(), keep_days, max_bytes)
        chosen += [r for r in self.library.all()
                   if r.stream_id not in streams and r.complete and r not in chosen]
        for recording in chosen:
            log.info("recording removed by retention", extra={"fields": {
                "recording": recording.id, "stream": recording.stream_id,
                "size_bytes": recording.size}})
            await self.library.delete(recording.id)
        return chosen


def _clip_rendition(name: str, member: Segmenter, segments: list[Segment],
                    files: list[tuple[Path, bytes | memoryview]]) -> RenditionRecord:
    """The clip's copy of one rendition's segments: files to write (relative paths), and
    the record that lists them."""
    record = describe(name, member)
    folder = rendition_dir(Path(), name)  # relative to the clip's directory
    inits: dict[bytes, int] = {}
    journal: list[bytes] = []
    for number, segment in enumerate(segments, start=1):
        init = member.playlist.inits.get(segment.init)
        if init is None:
            break
        init_number = inits.get(init)
        if init_number is None:
            init_number = inits[init] = len(inits) + 1
            files.append((folder / init_name(init_number), init))
        entry = SegmentEntry(number, init_number, segment.duration, segment.program_date_time,
                             len(segment.data), number > 1 and segment.discontinuity)
        files.append((folder / entry.file_name, segment.data))
        journal.append(entry.to_line())
        record.segments.append(entry)
    if journal:
        files.append((folder / JOURNAL, b"".join(journal)))
    return record
