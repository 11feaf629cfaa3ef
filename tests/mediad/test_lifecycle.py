from __future__ import annotations

import itertools
import typing

import pytest

from mediad.lifecycle import Event, TransitionRefused, transition
from mediad.store.streams import StreamState

STATES: tuple[StreamState, ...] = typing.get_args(StreamState)
EVENTS: tuple[Event, ...] = typing.get_args(Event)

# Every (state, event) pair: what it gives, or that it is refused.
EXPECTED: dict[tuple[StreamState, Event], StreamState | None] = {
    ("preview", "publisher_attached"): "preview",
    ("live", "publisher_attached"): "live",  # the backup key took over
    ("reconnecting", "publisher_attached"): "live",  # the encoder came back within the grace
    ("ended", "publisher_attached"): "preview",  # a new broadcast
    ("preview", "go_live"): "live",
    ("live", "go_live"): "live",
    ("reconnecting", "go_live"): None,  # no publisher to go live with
    ("ended", "go_live"): None,
    ("preview", "publisher_lost"): "preview",  # only the creator watched: nothing to end
    ("live", "publisher_lost"): "reconnecting",  # viewers wait through the grace
    ("reconnecting", "publisher_lost"): "reconnecting",
    ("ended", "publisher_lost"): "ended",
    ("preview", "end"): "ended",
    ("live", "end"): "ended",
    ("reconnecting", "end"): "ended",  # the creator, or the grace passed
    ("ended", "end"): "ended",
}


def test_the_table_covers_every_state_and_event() -> None:
    assert set(EXPECTED) == set(itertools.product(STATES, EVENTS))


@pytest.mark.parametrize(("state", "event"), list(EXPECTED))
def test_lifecycle_table(state: StreamState, event: Event) -> None:
    expected = EXPECTED[(state, event)]
    publishing = event in ("publisher_attached", "go_live")
    if expected is None:
        with pytest.raises(TransitionRefused):
            transition(state, event, publishing=publishing)
    else:
        assert transition(state, event, publishing=publishing) == expected


def test_going_live_needs_a_publisher() -> None:
    with pytest.raises(TransitionRefused, match="only while a publisher is connected"):
        transition("preview", "go_live", publishing=False)
