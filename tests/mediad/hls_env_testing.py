"""A real pipeline fed with real encoded frames behind an LL-HLS app, for tests of the HTTP
side: the pipeline, the frames not fed yet, and the client."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from aiohttp.test_utils import TestClient

from ingest.media import Frame
from packager.llhls import MediaPlaylist, PlaylistSettings
from packager.pipeline import StreamPipeline
from tests.packager.packager_testing import Source


def ready_pipeline(source: Source) -> tuple[StreamPipeline, Iterator[Frame]]:
    """A ``source`` rendition (0.2 s parts, 1 s segments) fed until it can be served, and
    the frames left to feed."""
    pipeline = StreamPipeline(PlaylistSettings(0.2, 1.0, dvr_window=60), lambda a: 1.79e9 + a)
    pipeline.track_changed(source.video)
    pipeline.track_changed(source.audio)
    frames = iter(source.frames)
    while not pipeline.ready:
        pipeline.push(next(frames))
    return pipeline, frames


@dataclass
class HlsEnv:
    client: TestClient
    pipeline: StreamPipeline
    frames: Iterator[Frame]
    stream: str

    @property
    def playlist(self) -> MediaPlaylist:
        return self.pipeline.renditions["source"].playlist

    @property
    def base(self) -> str:
        return f"/hls/{self.stream}/{self.pipeline.session}/source/"

    def advance(self, parts: int = 1) -> None:
        """Feed frames until ``parts`` more parts are published."""
        target = len(list(self._parts())) + parts
        while len(list(self._parts())) < target:
            self.pipeline.push(next(self.frames))

    def _parts(self) -> Iterator[object]:
        for segment in self.playlist.segments:
            yield from segment.parts
