"""Handing freed memory back: what only reference cycles hold is freed first."""

from __future__ import annotations

import gc
import weakref

from mediad.freed_memory import give_back_freed_memory


class _Window:
    """A released window that its parts still point back to (as a playlist's callback
    points at its rendition set)."""

    def __init__(self) -> None:
        self.media = bytearray(4 << 20)
        self.callback = self.close

    def close(self) -> None:
        pass


def test_a_window_held_only_by_its_own_cycle_is_freed() -> None:
    gc.disable()  # the collector must not run on its own during the test
    try:
        window = _Window()
        gone = weakref.ref(window)
        del window
        assert gone() is not None  # reference counting alone cannot free a cycle
        give_back_freed_memory()
        assert gone() is None
    finally:
        gc.enable()
