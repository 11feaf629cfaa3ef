"""``mediad user add|passwd|list`` as a self-hoster runs them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from mediad.passwords import verify_password
from mediad.store import Store


def mediad(tmp_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    config = tmp_path / "mediad.toml"
    config.write_text(f'[storage]\ndata_dir = "{tmp_path / "data"}"\n')
    return subprocess.run([sys.executable, "-m", "mediad", "--config", str(config), *args],
                          input=stdin, capture_output=True, text=True, timeout=60)


def stored_hash(tmp_path: Path, handle: str) -> str:
    async def read() -> str:
        store = await Store.open(tmp_path / "data" / "mediad.sqlite3")
        try:
            user = await store.users.get_by_handle(handle)
            assert user is not None
            return user.password_hash
        finally:
            await store.close()
    return asyncio.run(read())


def test_add_list_and_change_a_password(tmp_path: Path) -> None:
    added = mediad(tmp_path, "user", "add", "dana", "--display-name", "Dana D")
    assert added.returncode == 0, added.stderr
    generated = added.stdout.strip().rsplit("password: ", 1)[1]
    assert verify_password(generated, stored_hash(tmp_path, "dana"))
    admin = mediad(tmp_path, "user", "add", "root2", "--role", "admin", "--password-stdin",
                   stdin="a long enough secret\n")
    assert admin.returncode == 0 and "password" not in admin.stdout.split(",", 1)[-1]
    listed = mediad(tmp_path, "user", "list").stdout.splitlines()
    assert [line.split()[1:3] for line in listed] == [["dana", "creator"], ["root2", "admin"]]
    changed = mediad(tmp_path, "user", "passwd", "dana", "--password-stdin",
                     stdin="another good one\n")
    assert changed.returncode == 0
    assert verify_password("another good one", stored_hash(tmp_path, "dana"))
    assert not verify_password(generated, stored_hash(tmp_path, "dana"))


def test_bad_requests_are_refused_clearly(tmp_path: Path) -> None:
    assert mediad(tmp_path, "user", "add", "ok_user").returncode == 0
    taken = mediad(tmp_path, "user", "add", "OK_USER")
    assert taken.returncode == 1 and "taken" in taken.stderr
    bad = mediad(tmp_path, "user", "add", "<script>")
    assert bad.returncode == 1 and "handle" in bad.stderr
    short = mediad(tmp_path, "user", "passwd", "ok_user", "--password-stdin", stdin="short\n")
    assert short.returncode == 1 and "at least 8" in short.stderr
    missing = mediad(tmp_path, "user", "passwd", "ghost")
    assert missing.returncode == 1 and "no account" in missing.stderr
