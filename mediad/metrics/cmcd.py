"""Common Media Client Data (CTA-5004): what a player says of itself with each request.

CMCD comes in four headers (``CMCD-Request``, ``CMCD-Object``, ``CMCD-Status``,
``CMCD-Session``) or in one ``CMCD`` query argument; each is a Structured Field dictionary
(RFC 8941): ``bl=21300,br=3200,ot=v,sid="6e2f...",su``. This module is sans-IO: text in,
``Cmcd`` out, or ``CmcdError``. Unknown keys (other versions, custom ``x-`` keys) are
skipped; a known key with a value of the wrong type is an error, as is anything that is not
a dictionary. Parameters on members are allowed by the grammar and ignored here; a number
given as an inner list (CMCD v2, ``br=(3200 1500)``) counts as its first item.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

HEADERS = ("CMCD-Request", "CMCD-Object", "CMCD-Status", "CMCD-Session")
QUERY_ARG = "CMCD"
MAX_LENGTH = 4096
"""Longer input is refused unread: CMCD is a few hundred characters at most."""

Item = int | float | str | bool | bytes
"""A bare item; a token is a ``Token`` (a ``str`` subclass)."""
Value = Item | tuple[Item, ...]
"""A member: a bare item or an inner list."""

_LCALPHA = "abcdefghijklmnopqrstuvwxyz"
_DIGITS = "0123456789"
_KEY_FIRST = frozenset(_LCALPHA + "*")
_KEY_REST = frozenset(_LCALPHA + _DIGITS + "_-.*")
_TOKEN_FIRST = frozenset(_LCALPHA + _LCALPHA.upper() + "*")
_TOKEN_REST = frozenset(_LCALPHA + _LCALPHA.upper() + _DIGITS + "!#$%&'*+-.^_`|~:/")
_BASE64 = frozenset(_LCALPHA + _LCALPHA.upper() + _DIGITS + "+/=")


class CmcdError(ValueError):
    """Input that is not CMCD: a malformed dictionary or a key with the wrong type."""


class Token(str):
    """A Structured Field token (``ot=v``), apart from a string (``cid="v"``)."""


@dataclass(frozen=True, slots=True)
class Cmcd:
    """The keys of CTA-5004 that mediad reads; None where the player did not send one.
    Units are the spec's: kilobits per second and milliseconds."""

    session_id: str | None = None
    """``sid``: the player session (a GUID per playback, shared by all its requests)."""
    content_id: str | None = None
    """``cid``: what is played."""
    buffer_ms: int | None = None
    """``bl``: buffer length when the request was made."""
    throughput_kbps: int | None = None
    """``mtp``: throughput the player measured."""
    bitrate_kbps: int | None = None
    """``br``: encoded bitrate of the requested object's rendition."""
    top_bitrate_kbps: int | None = None
    """``tb``: highest bitrate the player could play."""
    duration_ms: int | None = None
    """``d``: playback duration of the requested object."""
    deadline_ms: int | None = None
    """``dl``: how soon the object is needed (buffer / playback rate)."""
    requested_throughput_kbps: int | None = None
    """``rtp``: the most throughput the player asks of the server."""
    object_type: str | None = None
    """``ot``: m (manifest), a, v, av, i (init), c, tt, k, o."""
    stream_type: str | None = None
    """``st``: v (VOD) or l (live)."""
    streaming_format: str | None = None
    """``sf``: h (HLS), d (DASH), s, o."""
    playback_rate: float | None = None
    """``pr``: 1 when playing at real time."""
    version: int | None = None
    """``v``: the CMCD version (1 when absent)."""
    startup: bool = False
    """``su``: the object is needed for startup or a seek (no stall from it)."""
    starved: bool = False
    """``bs``: the buffer ran empty since the previous request (a stall)."""


_MAX_STRING = 64  # CTA-5004: sid and cid are at most 64 characters


class _Reader:
    """RFC 8941 §4.2 over one string; every step consumes input or raises."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def fail(self, what: str) -> CmcdError:
        return CmcdError(f"CMCD: {what} at character {self.at}")

    def skip(self, spaces: str) -> None:
        while self.peek() and self.peek() in spaces:
            self.at += 1

    def dictionary(self) -> dict[str, Value]:
        members: dict[str, Value] = {}
        self.skip(" ")
        while self.at < len(self.text):
            key = self.key()
            value: Value
            if self.peek() == "=":
                self.at += 1
                value = self.inner_list() if self.peek() == "(" else self.bare_item()
            else:
                value = True
            self.parameters()
            members[key] = value  # a repeated key: the last one counts (RFC 8941)
            self.skip(" \t")
            if self.at >= len(self.text):
                break
            if self.peek() != ",":
                raise self.fail("expected ','")
            self.at += 1
            self.skip(" \t")
            if self.at >= len(self.text):
                raise self.fail("a trailing ','")
        return members

    def key(self) -> str:
        start = self.at
        if self.peek() not in _KEY_FIRST or not self.peek():
            raise self.fail("expected a key")
        self.at += 1
        while self.peek() and self.peek() in _KEY_REST:
            self.at += 1
        return self.text[start:self.at]

    def parameters(self) -> None:
        while self.peek() == ";":
            self.at += 1
            self.skip(" ")
            self.key()
            if self.peek() == "=":
                self.at += 1
                self.bare_item()

    def inner_list(self) -> tuple[Item, ...]:
        self.at += 1  # "("
        items: list[Item] = []
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.at += 1
                return tuple(items)
            items.append(self.bare_item())
            self.parameters()
            if self.peek() not in (" ", ")"):
                raise self.fail("expected ' ' or ')' in an inner list")

    def bare_item(self) -> Item:
        first = self.peek()
        if first == "-" or (first and first in _DIGITS):
            return self.number()
        if first == '"':
            return self.string()
        if first == "?":
            return self.boolean()
        if first == ":":
            return self.byte_sequence()
        if first and first in _TOKEN_FIRST:
            start = self.at
            self.at += 1
            while self.peek() and self.peek() in _TOKEN_REST:
                self.at += 1
            return Token(self.text[start:self.at])
        raise self.fail("expected a value")

    def number(self) -> int | float:
        start = self.at
        if self.peek() == "-":
            self.at += 1
        digits_start = self.at
        while self.peek() and self.peek() in _DIGITS:
            self.at += 1
        whole = self.at - digits_start
        if whole == 0:
            raise self.fail("expected a digit")
        if self.peek() != ".":
            if whole > 15:
                raise self.fail("an integer longer than 15 digits")
            return int(self.text[start:self.at])
        self.at += 1
        fraction_start = self.at
        while self.peek() and self.peek() in _DIGITS:
            self.at += 1
        fraction = self.at - fraction_start
        if whole > 12 or not 1 <= fraction <= 3:
            raise self.fail("a decimal must have at most 12 digits and 1-3 decimals")
        return float(self.text[start:self.at])

    def string(self) -> str:
        self.at += 1  # opening quote
        chars: list[str] = []
        while True:
            char = self.peek()
            if not char:
                raise self.fail("an unterminated string")
            self.at += 1
            if char == '"':
                return "".join(chars)
            if char == "\\":
                escaped = self.peek()
                if escaped not in ('"', "\\") or not escaped:
                    raise self.fail("a bad escape in a string")
                self.at += 1
                chars.append(escaped)
            elif not " " <= char <= "~":
                raise self.fail("a character a string may not hold")
            else:
                chars.append(char)

    def boolean(self) -> bool:
        value = self.text[self.at + 1:self.at + 2]
        if value not in ("0", "1"):
            raise self.fail("a boolean is ?0 or ?1")
        self.at += 2
        return value == "1"

    def byte_sequence(self) -> bytes:
        end = self.text.find(":", self.at + 1)
        if end < 0:
            raise self.fail("an unterminated byte sequence")
        body = self.text[self.at + 1:end]
        if any(char not in _BASE64 for char in body):
            raise self.fail("a byte sequence that is not base64")
        self.at = end + 1
        try:
            return base64.b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as exc:
            raise self.fail("a byte sequence that is not base64") from exc


# The common case, one regular expression per member: bare items without parameters (what
# CMCD v1 players send). Anything else (inner lists, parameters, an error) is left to
# _Reader, which says what is wrong; both give the same dictionary where both parse.
_MEMBER = re.compile(
    r"([a-z*][a-z0-9_.*-]*)"
    r"(?:=(?:(-?\d{1,12}\.\d{1,3})|(-?\d{1,15})"
    r'|"((?:[ !#-\[\]-~]|\\["\\])*)"'
    r"|\?([01])"
    r"|([A-Za-z*][A-Za-z0-9!#$%&'*+.^_`|~:/-]*)"
    r"|:([A-Za-z0-9+/=]*):))?"
    r"[ \t]*(,[ \t]*)?")
_ESCAPE = re.compile(r"\\(.)")


def _fast_dictionary(text: str) -> dict[str, Value] | None:
    members: dict[str, Value] = {}
    at, end = 0, len(text)
    while at < end:
        match = _MEMBER.match(text, at)
        if match is None or (match[8] is None and match.end() < end) \
                or (match[8] is not None and match.end() == end):
            return None  # not followed by a comma, or a trailing comma
        key, decimal, integer, string, boolean, token, octets, _ = match.groups()
        value: Value
        if decimal is not None:
            value = float(decimal)
        elif integer is not None:
            value = int(integer)
        elif string is not None:
            value = _ESCAPE.sub(r"\1", string)
        elif boolean is not None:
            value = boolean == "1"
        elif token is not None:
            value = Token(token)
        elif octets is not None:
            try:
                value = base64.b64decode(octets + "=" * (-len(octets) % 4))
            except (binascii.Error, ValueError):
                return None
        elif text.startswith("=", match.end(1)):
            return None  # "key=" and a value the expression does not take
        else:
            value = True
        members[key] = value
        at = match.end()
    return members


@functools.lru_cache(maxsize=2048)
def _parsed(text: str) -> dict[str, Value]:
    """``parse_dictionary``, remembered: most header values recur (every viewer of a
    rendition sends the same CMCD-Object, a session the same CMCD-Session). Read only."""
    if len(text) > MAX_LENGTH:
        raise CmcdError(f"CMCD: longer than {MAX_LENGTH} characters")
    text = text.strip(" ")
    fast = _fast_dictionary(text)
    return fast if fast is not None else _Reader(text).dictionary()


def parse_dictionary(text: str) -> dict[str, Value]:
    """One Structured Field dictionary; the empty string is an empty dictionary."""
    return dict(_parsed(text))


def _scalar(members: Mapping[str, Value], key: str) -> Item | None:
    """A member's value; of an inner list (CMCD v2: one value per object type), the first."""
    value = members.get(key)
    if isinstance(value, tuple):
        return value[0] if value else None
    return value


def _integer(members: Mapping[str, Value], key: str) -> int | None:
    value = _scalar(members, key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CmcdError(f"CMCD: {key} must be a non-negative integer")
    return value


def _string(members: Mapping[str, Value], key: str) -> str | None:
    value = members.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or isinstance(value, Token) or len(value) > _MAX_STRING:
        raise CmcdError(f"CMCD: {key} must be a string of at most {_MAX_STRING} characters")
    return value


def _token(members: Mapping[str, Value], key: str) -> str | None:
    value = members.get(key)
    if value is None:
        return None
    if not isinstance(value, Token):
        raise CmcdError(f"CMCD: {key} must be a token")
    return str(value)


def _flag(members: Mapping[str, Value], key: str) -> bool:
    value = members.get(key, False)
    if not isinstance(value, bool):
        raise CmcdError(f"CMCD: {key} is a boolean (the key alone)")
    return value


def _rate(members: Mapping[str, Value], key: str) -> float | None:
    value = _scalar(members, key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise CmcdError(f"CMCD: {key} must be a non-negative number")
    return float(value)


def _typed(members: Mapping[str, Value]) -> Cmcd:
    return Cmcd(
        session_id=_string(members, "sid"), content_id=_string(members, "cid"),
        buffer_ms=_integer(members, "bl"), throughput_kbps=_integer(members, "mtp"),
        bitrate_kbps=_integer(members, "br"), top_bitrate_kbps=_integer(members, "tb"),
        duration_ms=_integer(members, "d"), deadline_ms=_integer(members, "dl"),
        requested_throughput_kbps=_integer(members, "rtp"),
        object_type=_token(members, "ot"), stream_type=_token(members, "st"),
        streaming_format=_token(members, "sf"), playback_rate=_rate(members, "pr"),
        version=_integer(members, "v"), startup=_flag(members, "su"),
        starved=_flag(members, "bs"))


def parse_cmcd(parts: Iterable[str]) -> Cmcd:
    """The CMCD of one request from its dictionaries (the four headers' values, or the
    query argument's), merged: a key in any of them counts."""
    members: dict[str, Value] = {}
    for text in parts:
        members.update(_parsed(text))
    return _typed(members)


def request_cmcd(headers: Mapping[str, str], query: Mapping[str, str]) -> Cmcd | None:
    """The CMCD a request carries (headers, else the ``CMCD`` query argument), None when
    it carries none."""
    texts = [headers[name] for name in HEADERS if name in headers]
    if not texts and QUERY_ARG in query:
        texts = [query[QUERY_ARG]]
    return parse_cmcd(texts) if texts else None
