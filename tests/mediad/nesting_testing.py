"""Hypothesis strategies for deeply nested JSON, built as text (``json.dumps`` of such a
value would itself run out of recursion) and kept under the API's 16 KB body limit."""

from __future__ import annotations

import json

from hypothesis import strategies as st

from mediad.bounded_json import MAX_DEPTH

_LEAVES = st.sampled_from(["null", "1", "true", '"x"', '"]]}"', "[]", "{}"])


@st.composite
def nested_json(draw: st.DrawFn, min_depth: int = MAX_DEPTH + 1,
                max_depth: int = 2000) -> str:
    """A value nested ``min_depth..max_depth`` levels, each level a list or an object and
    some with siblings, e.g. ``{"a":[1,{"b":[[null]]}]}``."""
    depth = draw(st.integers(min_depth, max_depth))
    text = draw(_LEAVES)
    levels = depth - (1 if text in ("[]", "{}") else 0)  # an empty container is a level too
    kinds = draw(st.lists(st.sampled_from("[{,"), min_size=levels, max_size=levels))
    for kind in reversed(kinds):
        if kind == "[":
            text = f"[{text}]"
        elif kind == "{":
            text = '{"k":' + text + "}"
        else:
            text = '[0,"[",' + text + "]"  # a sibling, and a bracket inside a string
    return text


def with_field(nested: str, name: str, **fields: object) -> bytes:
    """An object body whose ``name`` holds ``nested``, beside ordinary ``fields``."""
    before = json.dumps(fields)[:-1]
    return f'{before}{", " if fields else ""}"{name}": {nested}}}'.encode()
