"""``mediad user add|passwd|list``: accounts from the command line, for the self-hoster."""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any

from mediad.clock import iso_utc, now_ms
from mediad.config import Config
from mediad.passwords import generate_password, hash_password
from mediad.store import Store

HANDLE = re.compile(r"[A-Za-z0-9_.-]{2,32}")
MIN_PASSWORD = 8


def add_user_commands(sub: Any) -> None:
    user = sub.add_parser("user", help="add, list and change accounts")
    commands = user.add_subparsers(dest="user_command", required=True)
    add = commands.add_parser("add", help="create an account (prints a generated password)")
    add.add_argument("handle", help="2-32 letters, digits, '_', '.', '-'")
    add.add_argument("--role", choices=["creator", "admin", "viewer"], default="creator")
    add.add_argument("--display-name", help="shown in chat (default: the handle)")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input instead of generating one")
    passwd = commands.add_parser("passwd", help="set a new password; signs the account out")
    passwd.add_argument("handle")
    passwd.add_argument("--password-stdin", action="store_true")
    commands.add_parser("list", help="list the accounts")


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password and whether it was generated (then it is printed, once)."""
    if not args.password_stdin:
        return generate_password(), True
    password = sys.stdin.readline().rstrip("\n")
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"the password must have at least {MIN_PASSWORD} characters")
    return password, False


async def run_user_command(config: Config, args: argparse.Namespace) -> int:
    store = await Store.open(config.storage.database_path)
    try:
        return await _run(store, args)
    except ValueError as exc:
        print(f"mediad user: {exc}", file=sys.stderr)
        return 1
    finally:
        await store.close()


async def _run(store: Store, args: argparse.Namespace) -> int:
    if args.user_command == "list":
        for user in await store.users.list():
            print(f"{user.id:>5}  {user.handle:<32} {user.role:<8} {iso_utc(user.created_at)}")
        return 0
    handle = args.handle
    if args.user_command == "add":
        if not HANDLE.fullmatch(handle):
            raise ValueError("a handle is 2-32 letters, digits, '_', '.' or '-'")
        if await store.users.get_by_handle(handle) is not None:
            raise ValueError(f"{handle!r} is taken")
        password, generated = _password(args)
        async with store.transaction():
            await store.users.create(handle, args.display_name or handle, args.role,
                                     hash_password(password))
        print(f"created {args.role} {handle!r}" + (f", password: {password}" if generated else ""))
        return 0
    account = await store.users.get_by_handle(handle)
    if account is None:
        raise ValueError(f"no account {handle!r}")
    password, generated = _password(args)
    # One transaction: the new generation voids every access token at once (the daemon
    # reads it on each request), and the refresh tokens are revoked with it.
    async with store.transaction():
        await store.users.set_password_hash(account.id, hash_password(password))
        signed_out = await store.refresh_tokens.revoke_user(account.id, now_ms())
    print(f"password of {handle!r} changed" + (f": {password}" if generated else "")
          + f" ({signed_out} session(s) signed out)")
    return 0
