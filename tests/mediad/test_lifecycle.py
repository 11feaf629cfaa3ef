from __future__ import annotations

import pytest

from mediad.lifecycle import TransitionRefused, transition


@pytest.mark.parametrize(("state", "event", "publishing", "expected"), [
    ("preview", "publisher_attached", True, "preview"),
    ("ended", "publisher_attached", True, "preview"),
    ("live", "publisher_attached", True, "live"),
    ("preview", "go_live", True, "live"),
    ("preview", "go_live", False, TransitionRefused),
    ("ended", "go_live", True, TransitionRefused),
    ("live", "publisher_lost", False, "ended"),
    ("preview", "publisher_lost", False, "ended"),
    ("live", "end", True, "ended"),
    ("preview", "end", False, "ended"),
    ("ended", "end", False, "ended"),
])
def test_lifecycle_table(state: str, event: str, publishing: bool,
                         expected: str | type[Exception]) -> None:
    if isinstance(expected, str):
        assert transition(state, event, publishing=publishing) == expected  # type: ignore[arg-type]
    else:
        with pytest.raises(expected):
            transition(state, event, publishing=publishing)  # type: ignore[arg-type]
