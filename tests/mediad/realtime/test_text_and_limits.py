"""Chat text cleaning and the word and link filters, as pure functions."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mediad.realtime.text import BlockedWords, TextRefused, clean_text, contains_link


@pytest.mark.parametrize("raw,clean", [
    ("  hi  ", "hi"),
    ("a\nb\r\nc\td", "a b c d"),
    ("bell\x07 null\x00 esc\x1b[31m", "bell null esc[31m"),
    ("rtl \u202eevil\u202c text", "rtl evil text"),
    ("e\u0301", "\u00e9"),  # NFC
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),  # text, not markup
])
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw, 100) == clean


@pytest.mark.parametrize("raw,code", [("", "empty"), (" \n\x00 ", "empty"),
                                      ("x" * 11, "too_long")])
def test_clean_text_refusals(raw: str, code: str) -> None:
    with pytest.raises(TextRefused) as caught:
        clean_text(raw, 10)
    assert caught.value.code == code


@given(st.text(max_size=300))
def test_clean_text_never_returns_controls(raw: str) -> None:
    try:
        text = clean_text(raw, 500)
    except TextRefused:
        return
    assert text == text.strip() and text
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in text)
    assert not any(c in text for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


@pytest.mark.parametrize("text,found", [
    ("https://x.y/z", True), ("see www.example.com", True), ("evil.tv", True),
    ("EXAMPLE.COM/path", True), ("version 1.2.3", False), ("end of sentence.Next", False),
    ("mail me at a@b", False),
])
def test_contains_link(text: str, found: bool) -> None:
    assert contains_link(text) is found


def test_blocked_words_match_whole_words_case_insensitively() -> None:
    words = BlockedWords(["Spoiler", "bad phrase", " ", "c++"])
    assert words.found_in("a SPOILER!") and words.found_in("so bad phrase")
    assert words.found_in("i like c++")
    assert not words.found_in("spoilers") and not words.found_in("badphrase")
    assert not BlockedWords([]).found_in("anything")

