"""The ``preview -> live -> reconnecting -> ended`` lifecycle of a stream, as one table.

Rules: a publisher connecting starts a new broadcast in ``preview`` (from ``preview`` or
``ended``); the creator, or ``streams.auto_live``, takes it ``live`` only while a publisher
is attached. A live stream that loses its publisher is ``reconnecting``: its viewers wait
through ``streams.reconnect_grace_sec`` (``mediad/reconnect_grace.py``) and a publisher
attaching takes it back to ``live``; the grace passing with no publisher, or the creator
ending it, gives ``ended``. A preview that loses its publisher stays ``preview``: nobody
watches it but the creator, who may start the encoder again or go live later, so there is
nothing to end. Anything not in the table is refused.
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
    ("reconnecting", "publisher_attached"): "live",  # the encoder came back in time
    ("preview", "go_live"): "live",
    ("live", "go_live"): "live",
    ("preview", "publisher_lost"): "preview",
    ("live", "publisher_lost"): "reconnecting",
    ("reconnecting", "publisher_lost"): "reconnecting",
    ("ended", "publisher_lost"): "ended",
    ("preview", "end"): "ended",
    ("live", "end"): "ended",
    ("reconnecting", "end"): "ended",  # the creator, or the grace passed
    ("ended", "end"): "ended",
}

ON_AIR: frozenset[StreamState] = frozenset({"live", "reconnecting"})
"""States in which viewers are watching the broadcast (discovery lists them as live)."""


def transition(state: StreamState, event: Event, *, publishing: bool) -> StreamState:
    if event == "go_live" and not publishing:
        raise TransitionRefused("a stream can go live only while a publisher is connected")
    try:
        return _TABLE[(state, event)]
    except KeyError:
        raise TransitionRefused(f"cannot {event.replace('_', ' ')} while {state}") from None
