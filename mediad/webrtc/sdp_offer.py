"""What an SDP offer asks for, read before aiortc sees it: which media sections it has, their
codecs and directions. WHIP and WHEP refuse an offer they cannot serve with a reason
(RFC 9725 leaves the status to the server; we answer 400), rather than answering an SDP
that negotiates nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

MAX_OFFER_BYTES = 64 * 1024
"""Far above a real offer (OBS: ~2 KB, Chromium with simulcast: ~10 KB)."""

MAX_SECTIONS = 4
"""Media sections an offer may have: audio, video and a data channel are three. aiortc makes
a transceiver (and, for what it receives, a thread) per section: an offer cannot ask for
hundreds."""

DIRECTIONS = frozenset({"sendrecv", "sendonly", "recvonly", "inactive"})


class OfferError(ValueError):
    """The body is not an SDP offer we can read; the message says why."""


@dataclass
class MediaSection:
    kind: str
    """``audio``, ``video`` or ``application``."""
    port: int
    codecs: set[str] = field(default_factory=set)
    """Lower-case encoding names from ``a=rtpmap`` (``h264``, ``opus``, ``rtx`` ...)."""
    direction: str = "sendrecv"

    @property
    def sends(self) -> bool:
        """The offerer sends media in this section."""
        return self.port != 0 and self.direction in ("sendrecv", "sendonly")

    @property
    def receives(self) -> bool:
        return self.port != 0 and self.direction in ("sendrecv", "recvonly")


REPAIR_CODECS = frozenset({"rtx", "red", "ulpfec"})
"""Retransmission and FEC payloads: not media codecs, never named in a refusal."""


def offered_codecs(sections: list[MediaSection]) -> str:
    """The media codecs ``sections`` offer, for a refusal's reason ("none" when none)."""
    names = set().union(*(section.codecs for section in sections)) - REPAIR_CODECS
    return ", ".join(sorted(names)) or "none"


def read_offer(text: str) -> list[MediaSection]:
    """The media sections of ``text``; raises ``OfferError`` for what is not an SDP."""
    lines = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    if not lines or lines[0] != "v=0":
        raise OfferError("the body is not an SDP (it must begin with v=0)")
    sections: list[MediaSection] = []
    session_direction = "sendrecv"
    for line in lines[1:]:
        if len(line) < 2 or line[1] != "=":
            raise OfferError(f"not an SDP line: {line[:40]!r}")
        if line.startswith("m="):
            parts = line[2:].split()
            if len(parts) < 4 or not parts[1].split("/")[0].isdigit():
                raise OfferError(f"malformed media line: {line[:60]!r}")
            if len(sections) == MAX_SECTIONS:
                raise OfferError(f"the offer has more than {MAX_SECTIONS} media sections")
            sections.append(MediaSection(parts[0], int(parts[1].split("/")[0]),
                                         direction=session_direction))
        elif line.startswith("a="):
            attribute = line[2:]
            name, _, value = attribute.partition(":")
            if name in DIRECTIONS and not value:
                if sections:
                    sections[-1].direction = name
                else:
                    session_direction = name
            elif name == "rtpmap" and sections:
                encoding = value.split(maxsplit=1)[1:] or [""]
                sections[-1].codecs.add(encoding[0].split("/")[0].lower())
    if not sections:
        raise OfferError("the offer has no media section")
    return sections
