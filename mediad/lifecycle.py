"""The ``preview -> live -> ended`` lifecycle of a stream, as one table.

Rules: a publisher connecting starts a new broadcast in ``preview`` (from ``preview`` or
``ended``); the creator, or ``streams.auto_live``, takes it ``live`` only while a publisher
is attached; losing the publisher or the creator ending it gives ``ended``. Anything not in
the table is refused.
"""

from __future__ import annotations

from typing import Literal

from mediad.store.streams import StreamState

Event = Literal["publisher_attached", "go_live", "publisher_lost", "end"]


class TransitionRefused(Exception):
    pass


_TABLE: dict[tuple[StreamState, Event], StreamState] = {
    ("preview", "publisher_attached"): "preview",
    ("ended", "publisher_attached"): "preview",
    ("live", "publisher_attached"): "live",  # a backup key took over: the show goes on
    ("preview", "go_live"): "live",
    ("live", "go_live"): "live",
    ("preview", "publisher_lost"): "ended",
    ("live", "publisher_lost"): "ended",
    ("ended", "publisher_lost"): "ended",
    ("preview", "end"): "ended",
    ("live", "end"): "ended",
    ("ended", "end"): "ended",
}


def transition(state: StreamState, event: Event, *, publishing: bool) -> StreamState:
    if event == "go_live" and not publishing:
        raise TransitionRefused("a stream can go live only while a publisher is connected")
    try:
        return _TABLE[(state, event)]
    except KeyError:
        raise TransitionRefused(f"cannot {event.replace('_', ' ')} while {state}") from None
