"""Where a recording's files are::

    ROOT/<stream id>/<recording id>/recording.json        the manifest (replaced atomically)
    ROOT/<stream id>/<recording id>/poster.jpg            made on first request
    ROOT/<stream id>/<recording id>/<rendition>/init<n>.mp4
    ROOT/<stream id>/<recording id>/<rendition>/seg<n>.m4s
    ROOT/<stream id>/<recording id>/<rendition>/segments.jsonl   the journal

Segment and init files hold exactly the bytes live viewers were served (numbered within the
recording, so that several publishes of one broadcast never collide)."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

MANIFEST = "recording.json"
JOURNAL = "segments.jsonl"
POSTER = "poster.jpg"

RECORDING_ID = re.compile(r"[A-Za-z0-9_-]{16}")
"""Recording ids are 96 random bits: a private replay's URLs cannot be guessed."""
RENDITION_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
INIT_FILE = re.compile(r"init(\d{1,9})\.mp4")
SEGMENT_FILE = re.compile(r"seg(\d{1,12})\.m4s")


def new_recording_id() -> str:
    return secrets.token_urlsafe(12)


def init_name(number: int) -> str:
    return f"init{number}.mp4"


def recording_dir(root: Path, stream_id: str, recording_id: str) -> Path:
    return root / stream_id / recording_id


def rendition_dir(directory: Path, rendition: str) -> Path:
    if not RENDITION_NAME.fullmatch(rendition):
        raise ValueError(f"not a rendition name: {rendition!r}")
    return directory / rendition
