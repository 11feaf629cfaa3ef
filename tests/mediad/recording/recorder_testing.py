"""A recorder over a real store, registry and packaging, and disks that misbehave."""

from __future__ import annotations

import asyncio
import errno
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ingest.media import Frame
from ingest.sink import PublishSession
from mediad.config import Config, HlsConfig, RecordingConfig, StorageConfig
from mediad.recording.disk import Disk, LocalDisk
from mediad.recording.recorder import Recorder
from mediad.store import Store
from mediad.stream_pipelines import StreamPipelines
from mediad.streams import StreamRegistry
from packager.llhls import Segment
from packager.segmenter import Segmenter
from tests.mediad.registry_testing import Kicks
from tests.packager.packager_testing import Source


@dataclass
class Rig:
    store: Store
    registry: StreamRegistry
    pipelines: StreamPipelines
    recorder: Recorder
    served: dict[str, list[tuple[Segment, bytes]]] = field(default_factory=dict)
    """What live viewers could fetch: each rendition's segments and their init sections."""

    async def idle(self) -> None:
        """Every queued write done, and the loop told of each."""
        writer = self.recorder.writer
        assert writer is not None
        assert await asyncio.to_thread(writer.wait_idle, 10.0)
        for _ in range(3):
            await asyncio.sleep(0)


def recorder_config(root: Path, **recording: Any) -> Config:
    return replace(Config(), hls=HlsConfig(block_timeout_sec=5.0),
                   storage=StorageConfig(data_dir=str(root)),
                   recording=RecordingConfig(**recording))


@asynccontextmanager
async def recorder_rig(store: Store, config: Config, disk: Disk | None = None
                       ) -> AsyncIterator[Rig]:
    registry = StreamRegistry(store)
    pipelines = StreamPipelines(config.hls, registry, store)
    recorder = Recorder(config, store, registry, pipelines, disk=disk)
    rig = Rig(store, registry, pipelines, recorder)

    def served(stream_id: str, name: str, member: Segmenter, segment: Segment) -> None:
        inits = member.playlist.inits
        rig.served.setdefault(name, []).append((segment, inits[segment.init]))

    await pipelines.start()
    pipelines.add_segment_listener(served)
    await recorder.start()
    try:
        yield rig
    finally:
        await recorder.stop()
        await pipelines.stop()
        await registry.close()


async def publish(registry: StreamRegistry, key: str, source: Source, *,
                  shift_ms: int = 0) -> PublishSession:
    """``source`` as one publish, as fast as the loop takes it (the packager copies video)."""
    session = await registry.start_publish(protocol="rtmp", key=key, peer="enc",
                                           disconnect=Kicks())
    session.announce_track(source.video)
    session.announce_track(source.audio)
    await push(session, source, shift_ms)
    return session


async def push(session: PublishSession, source: Source, shift_ms: int) -> None:
    """``source``'s frames again, ``shift_ms`` later on the publisher's clock."""
    loop = asyncio.get_running_loop()
    for number, frame in enumerate(source.frames):
        ticks = shift_ms * frame.track.timescale // 1000
        session.push_frame(Frame(frame.track, frame.dts + ticks, frame.pts + ticks,
                                 frame.keyframe, frame.payload, loop.time()))
        if number % 10 == 0:
            await asyncio.sleep(0)


async def until(check: Callable[[], bool], within: float = 20.0) -> None:
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 -- the feed and the writer thread change it
            await asyncio.sleep(0.02)


class GatedDisk(LocalDisk):
    """A disk that writes segments only when the test opens the gate (a slow disk)."""

    def __init__(self) -> None:
        self.gate = threading.Event()

    def write(self, path: Path, data: bytes | memoryview) -> None:
        if path.suffix == ".m4s":
            self.gate.wait(30)
        super().write(path, data)


class FullDisk(LocalDisk):
    """Room for ``files`` segment files, then ENOSPC for every write (``error`` to fail
    another way)."""

    def __init__(self, files: int, error: int = errno.ENOSPC) -> None:
        self.files = files
        self.error = error

    def write(self, path: Path, data: bytes | memoryview) -> None:
        if path.suffix == ".m4s":
            if self.files <= 0:
                raise OSError(self.error, "simulated")
            self.files -= 1
        super().write(path, data)
