"""An audio re-encoder's thread and its bounded input: what ``AudioToAac`` (HLS) and
``AudioToOpus`` (WebRTC) share. Frames come in from the event loop and never block it (a
full queue drops the frame and counts it, unless ``lossless``: tests); ``stop`` lets the
thread encode what is queued and end, and never blocks the loop either when not waited for
(a queue that is full then is emptied to make room for the end)."""

from __future__ import annotations

import queue
import threading
from abc import ABC, abstractmethod

from ingest.media import Frame


class AudioThread(ABC):
    def __init__(self, name: str, capacity: int, *, lossless: bool = False) -> None:
        self.lossless = lossless
        self._queue: queue.Queue[Frame | None] = queue.Queue(capacity)
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def waiting(self) -> int:
        """Frames queued before the encoder now."""
        return self._queue.qsize()

    def push(self, frame: Frame) -> None:
        try:
            self._queue.put(frame, block=self.lossless)
        except queue.Full:
            self._dropped()

    def stop(self, *, wait: bool = True) -> None:
        if not self._thread.is_alive():
            return
        try:
            self._queue.put(None, block=wait)
        except queue.Full:  # behind and not waited for: make room for the end marker
            self._drain_queue()
            self._queue.put_nowait(None)
        if wait:
            self._thread.join()

    def _drain_queue(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def _next(self) -> Frame | None:
        """The encoder thread's next frame; None: the end."""
        return self._queue.get()

    @abstractmethod
    def _run(self) -> None:
        """The encoder thread: ``_next()`` until None."""

    @abstractmethod
    def _dropped(self) -> None:
        """A frame was dropped because the thread was behind: count it."""
