"""Checking request bodies field by field: every problem is reported at once, by name."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from mediad.realtime.text import TextRefused, clean_text

ABSENT: Any = object()
"""What a getter returns for a field the body does not have (or has wrong)."""


def _clean(value: str, max_length: int) -> str | None:
    """Cleaned like chat text; "" when nothing is left, None when too long."""
    try:
        return clean_text(value, max_length)
    except TextRefused as exc:
        return "" if exc.code == "empty" else None


class Invalid(web.HTTPUnprocessableEntity):
    """422 with ``{"error": ..., "fields": {name: problem}}``."""

    def __init__(self, fields: dict[str, str]) -> None:
        body = {"error": "invalid " + ", ".join(f"{k}: {v}" for k, v in fields.items()),
                "fields": fields}
        super().__init__(text=json.dumps(body), content_type="application/json")


class Fields:
    """Reads a JSON object body; each getter returns the value (or the default when absent)
    and records a problem instead of raising, so ``done`` can report all of them."""

    def __init__(self, body: dict[str, Any], allowed: set[str]) -> None:
        self.body = body
        self.errors: dict[str, str] = {
            name: "unknown field" for name in body if name not in allowed}

    def require(self, *names: str) -> None:
        for name in names:
            if name not in self.body:
                self.errors.setdefault(name, "is required")

    def changes(self, **values: Any) -> dict[str, Any]:
        """The given values that the body set, after ``done``."""
        self.done()
        return {name: value for name, value in values.items() if value is not ABSENT}

    def integer(self, name: str, low: int, high: int, default: Any = ABSENT) -> Any:
        if name not in self.body:
            return default
        value = self.body[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.errors[name] = f"must be an integer from {low} to {high}"
            return default
        return value

    def boolean(self, name: str, default: Any = ABSENT) -> Any:
        if name not in self.body:
            return default
        value = self.body[name]
        if not isinstance(value, bool):
            self.errors[name] = "must be true or false"
            return default
        return value

    def text(self, name: str, *, max_length: int, min_length: int = 0,
             default: Any = ABSENT) -> Any:
        if name not in self.body:
            return default
        value = self.body[name]
        if not isinstance(value, str):
            self.errors[name] = "must be a string"
            return default
        cleaned = _clean(value, max_length)
        if cleaned is None or len(cleaned) < min_length:
            self.errors[name] = (f"must be {min_length} to {max_length} characters"
                                 if min_length else f"must be at most {max_length} characters")
            return default
        return cleaned

    def url(self, name: str, default: Any = ABSENT) -> Any:
        """An http(s) URL or a same-origin path, or "" for none."""
        value = self.text(name, max_length=2048, default=default)
        if name not in self.errors and isinstance(value, str) and value:
            parts = urlsplit(value)
            absolute = parts.scheme in ("http", "https") and bool(parts.netloc)
            if not (absolute or (value.startswith("/") and not value.startswith("//"))):
                self.errors[name] = "must be an http(s) URL or a path starting with /"
                return default
        return value

    def timestamp(self, name: str, default: Any = ABSENT) -> Any:
        """An ISO 8601 time with a zone, or null; as ms since the epoch."""
        if name not in self.body:
            return default
        value = self.body[name]
        if value is None:
            return None
        try:
            if not isinstance(value, str) or len(value) > 40:
                raise ValueError
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                raise ValueError
            return int(parsed.astimezone(UTC).timestamp() * 1000)
        except (ValueError, OverflowError):
            self.errors[name] = "must be an ISO 8601 time with a zone, or null"
            return default

    def words(self, name: str, *, max_items: int, max_length: int,
              default: Any = ABSENT) -> Any:
        if name not in self.body:
            return default
        value = self.body[name]
        if not isinstance(value, list) or len(value) > max_items:
            self.errors[name] = f"must be a list of at most {max_items} words"
            return default
        words: list[str] = []
        for item in value:
            word = (_clean(item, max_length) or "").lower() if isinstance(item, str) else ""
            if not word:
                self.errors[name] = f"each word must be 1 to {max_length} characters"
                return default
            if word not in words:
                words.append(word)
        return tuple(words)

    def done(self) -> None:
        if self.errors:
            raise Invalid(self.errors)
