"""SRT stream ids (``shared/specs/srt.md`` §4.4, §4.5): the handshake string encoding shared by
SRT_CMD_SID and SRT_CMD_CONGESTION, and the stream-id forms an ingest listener accepts.

Accepted forms (``parse_stream_id``):

- access control (access-control.md): ``#!::r=live/KEY,m=publish`` -- a flat, comma-separated
  ``key=value`` list; ``r`` (resource) is required, ``u``/``h``/``s``/``t`` are recorded,
  other keys (``user_*``, ...) are kept in ``params`` only;
- plain: ``KEY``, ``live/KEY``, ``publish:KEY``, ``publish:live/KEY`` (and ``request:``/``read:``
  for a caller that wants to receive).

The mode default differs on purpose. The ``#!::`` syntax has a documented default, ``m=request``
(the caller wants to *receive*); we keep it, so ``#!::r=live/KEY`` is a play request that an
ingest-only server refuses with SRT_REJX_BAD_MODE (1405) -- a clear answer to a caller that
asked for the wrong thing, as mediamtx does. The plain forms have no documented mode and every
publisher that sends them (OBS, ffmpeg with ``streamid=KEY``) is publishing, so a bare key means
``publish``.

The resource is ``APP/KEY`` or just ``KEY``: the key is the last path segment, the app what comes
before it (``""`` when none). Error messages never repeat the stream id: it carries the key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.srt.errors import SrtError

__all__ = [
    "MAX_SID_BYTES",
    "MODES",
    "MODE_BIDIRECTIONAL",
    "MODE_PUBLISH",
    "MODE_REQUEST",
    "StreamRequest",
    "decode_sid",
    "encode_sid",
    "parse_stream_id",
]

MAX_SID_BYTES = 512
"""SRTO_STREAMID limit, before NUL padding."""

MODE_PUBLISH = "publish"
MODE_REQUEST = "request"
MODE_BIDIRECTIONAL = "bidirectional"
MODES = frozenset({MODE_PUBLISH, MODE_REQUEST, MODE_BIDIRECTIONAL})

_PLAIN_MODES = {"publish": MODE_PUBLISH, "request": MODE_REQUEST, "read": MODE_REQUEST}
_ACCESS_CONTROL = "#!::"
# One resource path segment: printable, no whitespace and none of the characters that separate
# things in the forms above (or in a URL).
_SEGMENT = re.compile(r"[^\x00-\x20\x7f-\x9f/\\:,=?#{}\"']+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _reverse_words(data: bytes) -> bytes:
    # libsrt byte-swaps every 32-bit word of a control CIF (srt.md §1), strings included.
    return b"".join(data[i:i + 4][::-1] for i in range(0, len(data), 4))


def decode_sid(data: bytes) -> str:
    """The string carried by an SRT_CMD_SID / SRT_CMD_CONGESTION extension body."""
    if len(data) % 4:
        raise SrtError(f"stream id of {len(data)} bytes is not whole 32-bit words", "streamid")
    if len(data) > MAX_SID_BYTES:
        raise SrtError(f"stream id of {len(data)} bytes is over {MAX_SID_BYTES}", "streamid")
    raw = _reverse_words(data).rstrip(b"\0")
    if b"\0" in raw:
        raise SrtError("stream id contains a NUL byte", "streamid")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SrtError("stream id is not UTF-8", "streamid") from None


def encode_sid(text: str) -> bytes:
    """The extension body for ``text``: UTF-8, NUL-padded to whole words, each word reversed."""
    raw = text.encode("utf-8")
    if len(raw) > MAX_SID_BYTES:
        raise SrtError(f"stream id of {len(raw)} bytes is over {MAX_SID_BYTES}", "streamid")
    if b"\0" in raw:
        raise SrtError("stream id contains a NUL byte", "streamid")
    return _reverse_words(raw + bytes(-len(raw) % 4))


@dataclass(frozen=True, slots=True)
class StreamRequest:
    """What a caller asks for in its stream id."""

    key: str
    """The stream key: the resource's last path segment."""
    mode: str
    """``publish``, ``request`` or ``bidirectional`` (``MODES``); see the module docstring for
    the defaults."""
    resource: str
    """``APP/KEY`` or ``KEY`` as sent."""
    user: str | None = None
    """``u=``: the user / authorization name, if given."""
    host: str | None = None
    """``h=``: the host name of the resource, if given."""
    session: str | None = None
    """``s=``: a session id negotiated elsewhere, if given."""
    type: str = "stream"
    """``t=``: ``stream`` (default), ``file`` or ``auth``; not validated, the server decides."""
    params: tuple[tuple[str, str], ...] = ()
    """Every ``key=value`` pair of a ``#!::`` stream id, in order (custom keys included)."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}")
        if self.resource.rsplit("/", 1)[-1] != self.key or not self.key:
            raise ValueError("key must be the resource's last path segment")

    @property
    def app(self) -> str:
        """The resource before its last ``/`` (``live`` for ``live/KEY``); ``""`` if none."""
        return self.resource.rpartition("/")[0]


def _resource(resource: str) -> str:
    if not resource:
        raise SrtError("stream id names no resource", "streamid")
    if not all(_SEGMENT.fullmatch(part) for part in resource.split("/")):
        raise SrtError("stream id resource has an empty segment or a reserved character",
                       "streamid")
    return resource


def parse_stream_id(text: str) -> StreamRequest:
    """A decoded stream id as a request; ``SrtError`` (code ``streamid``) if malformed."""
    if _CONTROL.search(text):
        raise SrtError("stream id contains a control character", "streamid")
    if text.startswith("#!"):
        return _parse_access_control(text)
    mode = MODE_PUBLISH
    if ":" in text:
        prefix, _, text = text.partition(":")
        if prefix not in _PLAIN_MODES:
            raise SrtError("stream id has an unknown 'mode:' prefix", "streamid")
        mode = _PLAIN_MODES[prefix]
    resource = _resource(text)
    return StreamRequest(resource.rsplit("/", 1)[-1], mode, resource)


def _parse_access_control(text: str) -> StreamRequest:
    if not text.startswith(_ACCESS_CONTROL):
        # "#!:{" opens a nested block; "#!" + anything else is an undefined syntax.
        raise SrtError("stream id uses an unsupported '#!' syntax", "streamid")
    body = text[len(_ACCESS_CONTROL):]
    if "{" in body or "}" in body:
        raise SrtError("nested blocks in a '#!::' stream id are not supported", "streamid")
    pairs: dict[str, str] = {}
    for item in body.split(","):
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SrtError("'#!::' stream id item is not key=value", "streamid")
        if name in pairs:
            raise SrtError(f"'#!::' stream id repeats the key {name!r}", "streamid")
        pairs[name] = value
    mode = pairs.get("m", MODE_REQUEST)
    if mode not in MODES:
        raise SrtError("'#!::' stream id has an unknown mode", "streamid")
    if "r" not in pairs:
        raise SrtError("'#!::' stream id has no resource (r=)", "streamid")
    resource = _resource(pairs["r"])
    return StreamRequest(resource.rsplit("/", 1)[-1], mode, resource, user=pairs.get("u"),
                         host=pairs.get("h"), session=pairs.get("s"),
                         type=pairs.get("t", "stream"), params=tuple(pairs.items()))
