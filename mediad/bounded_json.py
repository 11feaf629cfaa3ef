"""JSON (and msgpack) from strangers with a nesting limit.

``json.loads`` recurses once per array or object level and raises ``RecursionError`` near
a thousand; 16 KB of ``[`` is enough for that. No body mediad accepts nests deeper than a
few levels, so input is refused past ``MAX_DEPTH`` *before* it is parsed: one regular
expression pass (in C) that steps over string literals and counts brackets, then a single
``json.loads``. Decoded msgpack is checked afterwards (its unpacker stops at its own stack
limit; a small command is cheap to walk).
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgpack

MAX_DEPTH = 32

# A whole string literal (skipped: its brackets are text) or one bracket.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_OPENERS = frozenset("[{")


class TooDeep(ValueError):
    """The document nests arrays and objects deeper than allowed."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(f"nested deeper than {max_depth} levels")
        self.max_depth = max_depth


def check_json_depth(text: str, max_depth: int = MAX_DEPTH) -> None:
    """``TooDeep`` when ``text`` opens more than ``max_depth`` brackets at once."""
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in _OPENERS:
            depth += 1
            if depth > max_depth:
                raise TooDeep(max_depth)
        elif token[0] != '"':
            depth -= 1  # unbalanced input is json.loads's to refuse


def loads(raw: str | bytes | bytearray, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` that raises only ``ValueError`` (``TooDeep`` past ``max_depth``;
    ``UnicodeDecodeError`` is one too)."""
    text = raw if isinstance(raw, str) else bytes(raw).decode(json.detect_encoding(raw))
    check_json_depth(text, max_depth)
    return json.loads(text)


def check_value_depth(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """``TooDeep`` when a decoded value nests lists and dicts deeper than ``max_depth``
    (walked with an explicit stack: no recursion to run out of)."""
    pending: list[tuple[Any, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        if depth + 1 > max_depth:
            raise TooDeep(max_depth)
        pending.extend((child, depth + 1) for child in children)


def unpack_msgpack(raw: bytes, max_depth: int = MAX_DEPTH) -> Any:
    """``msgpack.unpackb`` held to the same depth; raises ``ValueError`` or
    ``msgpack.UnpackException``."""
    value = msgpack.unpackb(raw)
    check_value_depth(value, max_depth)
    return value
