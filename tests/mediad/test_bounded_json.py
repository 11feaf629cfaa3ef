"""The nesting limit of JSON and msgpack from clients."""

from __future__ import annotations

import json

import msgpack
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediad.bounded_json import (
    MAX_DEPTH,
    TooDeep,
    check_value_depth,
    loads,
    unpack_msgpack,
)
from tests.mediad.nesting_testing import nested_json

_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.text(alphabet='ab[]{}"\\,: \n'),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                               max_size=3),
    max_leaves=20)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@given(_VALUES)
def test_documents_within_the_limit_parse_as_json_does(value: object) -> None:
    text = json.dumps(value)
    assert loads(text) == json.loads(text)
    assert loads(text.encode("utf-16")) == value
    assert unpack_msgpack(msgpack.packb(value)) == value


@given(nested_json(min_depth=1, max_depth=MAX_DEPTH))
def test_nesting_up_to_the_limit_is_accepted(text: str) -> None:
    assert loads(text) == json.loads(text)


@given(nested_json())
def test_deeper_nesting_is_refused_as_a_value_error(text: str) -> None:
    with pytest.raises(TooDeep):
        loads(text)
    with pytest.raises(ValueError):
        loads(text.encode())


def test_brackets_in_strings_do_not_count() -> None:
    text = json.dumps({"text": "[" * 500 + '\\"{' * 100})
    assert loads(text) == json.loads(text)


def test_invalid_json_is_still_a_value_error() -> None:
    for bad in ("[" * 10, "{not json", '"unterminated [[[[', b"\xff\xfe\xfd"):
        with pytest.raises(ValueError):
            loads(bad)


def test_decoded_values_are_held_to_the_same_depth() -> None:
    value: object = 1
    for _ in range(MAX_DEPTH):
        value = [value]
    check_value_depth(value)
    assert _depth(value) == MAX_DEPTH
    with pytest.raises(TooDeep):
        check_value_depth({"a": value})
    packed = b"\x91" * 900 + b"\xc0"  # 900 nested one-element arrays
    with pytest.raises(TooDeep):
        unpack_msgpack(packed)
