from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from mediad.bootstrap import bootstrap_if_empty
from mediad.config import Config
from mediad.passwords import hash_password, verify_password
from mediad.store import Store
from mediad.store.keys import mask_key


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(tmp_path / "db.sqlite3")
    yield s
    await s.close()


async def test_keys_found_by_secret_and_rotation_revokes(store: Store) -> None:
    user = await store.users.create("bob", "Bob", "creator", hash_password("pw"))
    stream = await store.streams.create(user.id, "Show")
    primary = await store.keys.issue(stream.id, "primary")
    backup = await store.keys.issue(stream.id, "backup")
    assert primary.secret != backup.secret
    assert (await store.keys.find(primary.secret)) == primary
    assert (await store.keys.find(backup.secret)) == backup
    assert await store.keys.find(primary.secret[:-1]) is None
    assert await store.keys.find("") is None

    rotated = await store.keys.issue(stream.id, "primary")
    assert rotated.secret != primary.secret
    assert await store.keys.find(primary.secret) is None
    assert await store.keys.find(rotated.secret) == rotated
    assert list(await store.keys.for_stream(stream.id)) == ["primary", "backup"]


def test_masked_key_shows_only_its_ends() -> None:
    masked = mask_key("live_abcdefghijklmnopqrstuvwxyz")
    assert masked.startswith("live_") and masked.endswith("wxyz")
    assert "abcdef" not in masked
    assert mask_key("short") == "•" * 8


async def test_handles_are_unique_ignoring_case(store: Store) -> None:
    await store.users.create("Carol", "Carol", "viewer", "x")
    with pytest.raises(Exception, match="UNIQUE"):
        await store.users.create("carol", "Other", "viewer", "x")


def test_password_hashing() -> None:
    encoded = hash_password("correct horse")
    assert verify_password("correct horse", encoded)
    assert not verify_password("wrong", encoded)
    assert not verify_password("x", "garbage")
    assert hash_password("a") != hash_password("a")


async def test_bootstrap_runs_once(store: Store) -> None:
    result = await bootstrap_if_empty(store, Config())
    assert result is not None
    admin = await store.users.get_by_handle("admin")
    assert admin is not None and admin.role == "admin"
    assert verify_password(result.password, admin.password_hash)
    keys = await store.keys.for_stream(result.stream_id)
    assert keys["primary"].secret == result.primary_key
    assert keys["backup"].secret == result.backup_key
    stream = await store.streams.get(result.stream_id)
    assert stream is not None and stream.state == "preview"
    assert len(stream.srt_passphrase) >= 10
    assert await bootstrap_if_empty(store, Config()) is None
