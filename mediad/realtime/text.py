"""What a chat message may contain: cleaned text, blocked words, links from newcomers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Bidirectional overrides and isolates can make a message display as something else.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_LINK = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.(?:com|net|org|io|tv|gg|ly|me|co|xyz|ru|cn|"
    r"info|biz|app|dev|link|live|site|online|top|shop|club|be|de|uk|fr|us)\b(?:/\S*)?",
    re.IGNORECASE,
)


class TextRefused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def clean_text(text: str, max_length: int) -> str:
    """NFC; control, lone-surrogate and bidi-override characters removed; whitespace runs
    collapsed; trimmed.

    Newlines become spaces (a chat line is one line); the length limit counts characters
    after cleaning.
    """
    text = unicodedata.normalize("NFC", text)
    text = "".join(" " if ch in "\t\n\r\v\f" else ch for ch in text
                   if ch in "\t\n\r\v\f" or unicodedata.category(ch) not in ("Cc", "Cs"))
    text = _BIDI.sub("", text)
    text = re.sub(r"\s{2,}", " ", text).strip()
    if not text:
        raise TextRefused("empty", "the message is empty")
    if len(text) > max_length:
        raise TextRefused("too_long", f"messages are limited to {max_length} characters")
    return text


def contains_link(text: str) -> bool:
    return _LINK.search(text) is not None


class BlockedWords:
    """Whole-word, case-insensitive matching of a list of words or phrases."""

    def __init__(self, words: Iterable[str]) -> None:
        cleaned = sorted({w.strip().casefold() for w in words if w.strip()}, key=len,
                         reverse=True)
        self.words = tuple(cleaned)
        self._pattern = (re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, cleaned))
                                    + r")(?!\w)") if cleaned else None)

    def found_in(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(text.casefold()) is not None
