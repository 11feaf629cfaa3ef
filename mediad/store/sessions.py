"""Refresh tokens: one row per signed-in browser, kept as a hash and revocable."""

from __future__ import annotations

import hashlib
import secrets

import aiosqlite


def _lookup(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class RefreshTokens:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def issue(self, user_id: int, now: int, ttl_ms: int, token_generation: int = 0
                    ) -> str:
        """``token_generation``: the account's, at issue (``User.token_generation``)."""
        token = secrets.token_urlsafe(32)
        await self._db.execute(
            "INSERT INTO refresh_tokens (lookup, user_id, created_at, expires_at,"
            " token_generation) VALUES (?, ?, ?, ?, ?)",
            (_lookup(token), user_id, now, now + ttl_ms, token_generation))
        return token

    async def consume(self, token: str, now: int) -> int | None:
        """Revoke a live token and return its user (refresh rotates: each token works once).
        A token of an older generation than its account's is not live (signed out).

        The index lookup is on the hash, so no comparison leaks how much of a guess matched.
        """
        async with self._db.execute(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE lookup = ? AND revoked_at IS NULL"
            " AND expires_at > ? AND token_generation = (SELECT token_generation FROM users"
            " WHERE users.id = refresh_tokens.user_id) RETURNING user_id",
            (now, _lookup(token), now),
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else None

    async def revoke(self, token: str, now: int) -> bool:
        cur = await self._db.execute(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE lookup = ? AND revoked_at IS NULL",
            (now, _lookup(token)))
        return cur.rowcount == 1

    async def revoke_user(self, user_id: int, now: int) -> int:
        """Sign a user out everywhere (their password changed)."""
        cur = await self._db.execute(
            "UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL",
            (now, user_id))
        return cur.rowcount

    async def prune(self, now: int) -> int:
        cur = await self._db.execute(
            "DELETE FROM refresh_tokens WHERE expires_at < ? OR revoked_at < ?",
            (now, now - 86_400_000))
        return cur.rowcount
