"""The encoder watch service: one ``EncoderAdvisor`` per publishing stream, fed by a reader
of its own (``docs/architecture.md``, "a new reader"), whose advice the health service
sends with each ``health`` message.

Subscribed to the registry: when a publisher attaches, a feed task adds a reader to the
live stream and hands every track and frame to the stream's advisor; a takeover (a
``Discontinuity``) starts the advisor afresh; frames the reader had to drop are a gap, not
a long GOP. When the publisher goes the advice goes with it.
"""

from __future__ import annotations

import logging

from ingest.media import Frame, TrackInfo
from mediad.background import Tasks
from mediad.encoder_advice import Advice, AdviceSettings, EncoderAdvisor
from mediad.fanout import Reader, drain
from mediad.stream_events import PublisherAttached, Subscription
from mediad.streams import LiveStream, StreamRegistry

log = logging.getLogger("mediad.realtime")

READER_CAPACITY = 600
"""Frames queued for the advisor; it does a few arithmetic steps a frame, so this fills only
when the event loop itself is starved (and then the advisor sees a gap)."""


class _AdvisorSink:
    """One feed's reader items into the stream's advisor; frames the reader dropped are a
    gap in what the advisor saw."""

    def __init__(self, advisor: EncoderAdvisor, reader: Reader) -> None:
        self.advisor = advisor
        self.reader = reader
        self._dropped = 0

    def frame(self, frame: Frame) -> None:
        if self.reader.dropped_frames != self._dropped:
            self._dropped = self.reader.dropped_frames
            self.advisor.gap()
        self.advisor.frame(frame)

    def track_changed(self, track: TrackInfo) -> None:
        self.advisor.track(track)

    def discontinuity(self) -> None:
        self.advisor.reset()


class EncoderWatch:
    def __init__(self, registry: StreamRegistry, settings: AdviceSettings) -> None:
        self._registry = registry
        self._settings = settings
        self._advisors: dict[str, EncoderAdvisor] = {}
        self._events: Subscription | None = None
        self._tasks = Tasks()

    async def start(self) -> None:
        self._events = self._registry.subscribe("encoder advice")
        self._tasks.spawn(self._watch(self._events))

    async def stop(self) -> None:
        if self._events is not None:
            self._events.close()
        await self._tasks.cancel_all()
        self._advisors.clear()

    def advice(self, stream_id: str) -> list[Advice]:
        """The stream's current advice; none while nobody publishes."""
        advisor = self._advisors.get(stream_id)
        return advisor.advice() if advisor is not None else []

    async def _watch(self, events: Subscription) -> None:
        async for event in events:
            if isinstance(event, PublisherAttached):
                self._start_feed(event.stream_id)

    def _start_feed(self, stream_id: str) -> None:
        live = self._registry.get(stream_id)
        if live is None or not live.publishing or stream_id in self._advisors:
            return
        self._advisors[stream_id] = advisor = EncoderAdvisor(self._settings)
        self._tasks.spawn(self._feed(live, advisor))

    async def _feed(self, live: LiveStream, advisor: EncoderAdvisor) -> None:
        stream_id = live.stream_id
        reader = live.add_reader("encoder advice", READER_CAPACITY)
        failed = False
        try:
            await drain(reader, _AdvisorSink(advisor, reader))
        except Exception:
            log.exception("encoder advice failed", extra={"fields": {"stream": stream_id}})
            failed = True
        finally:
            live.remove_reader(reader)
            if self._advisors.get(stream_id) is advisor:
                del self._advisors[stream_id]
        if live.publishing and not failed:  # a new publisher came while this feed ended
            self._start_feed(stream_id)
