"""Stream keys: a primary and a backup per stream, found by key in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

import aiosqlite

from mediad.clock import now_ms
from mediad.store.database import fetch_one

KeyKind = Literal["primary", "backup"]
KEY_KINDS: tuple[KeyKind, ...] = ("primary", "backup")


@dataclass(frozen=True, slots=True)
class StreamKey:
    stream_id: str
    kind: KeyKind
    secret: str
    created_at: int

    @property
    def masked(self) -> str:
        return mask_key(self.secret)


def new_key_secret() -> str:
    # 192 bits, URL- and SRT-streamid-safe, prefixed so a leaked key is recognisable.
    return "live_" + secrets.token_urlsafe(24)


def mask_key(secret: str) -> str:
    return secret[:5] + "•" * 8 + secret[-4:] if len(secret) > 12 else "•" * 8


def _lookup(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _key(row: aiosqlite.Row) -> StreamKey:
    return StreamKey(row["stream_id"], row["kind"], row["secret"], row["created_at"])


class StreamKeyRepository:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def issue(self, stream_id: str, kind: KeyKind) -> StreamKey:
        """Create or replace (rotate) one key of a stream; the old secret stops at once."""
        secret = new_key_secret()
        row = await fetch_one(
            self._db,
            "INSERT INTO stream_keys (stream_id, kind, secret, lookup, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream_id, kind) DO UPDATE SET"
            " secret = excluded.secret, lookup = excluded.lookup,"
            " created_at = excluded.created_at RETURNING *",
            (stream_id, kind, secret, _lookup(secret), now_ms()))
        assert row is not None
        return _key(row)

    async def for_stream(self, stream_id: str) -> dict[KeyKind, StreamKey]:
        async with self._db.execute(
            "SELECT * FROM stream_keys WHERE stream_id = ?", (stream_id,)
        ) as cur:
            found = {row["kind"]: _key(row) for row in await cur.fetchall()}
        return {kind: found[kind] for kind in KEY_KINDS if kind in found}

    async def find(self, secret: str) -> StreamKey | None:
        """The key whose secret equals ``secret``.

        The index lookup is on a hash (which reveals nothing about how many leading bytes
        matched), and the final comparison is constant-time.
        """
        row = await fetch_one(
            self._db,
            "SELECT * FROM stream_keys WHERE lookup = ?", (_lookup(secret),))
        if row is None:
            return None
        key = _key(row)
        if not hmac.compare_digest(key.secret.encode(), secret.encode("utf-8", "surrogatepass")):
            return None
        return key
