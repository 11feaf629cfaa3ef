"""A distributed password guess does not lock the owner out: real clients from several
loopback addresses (127.0.0.x) against the real API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from tests.mediad.api.conftest import ApiEnv, password_of


@asynccontextmanager
async def _from(address: str) -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


async def _sign_in(env: ApiEnv, session: aiohttp.ClientSession, password: str) -> int:
    async with session.post(env.client.make_url("/api/auth/login"),
                            json={"handle": "carla", "password": password}) as response:
        return response.status


async def test_the_owner_signs_in_from_a_clean_address_during_a_guessing_attack(
        env: ApiEnv) -> None:
    guessers = [f"127.0.0.{n}" for n in range(2, 7)]
    for n in range(20):  # 20 wrong passwords from 5 addresses: the account's hourly budget
        async with _from(guessers[n % 5]) as session:
            assert await _sign_in(env, session, f"guess {n}") == 401
    for address in guessers:  # the guessers are throttled, right password or not
        async with _from(address) as session:
            assert await _sign_in(env, session, "guess again") == 429
            assert await _sign_in(env, session, password_of("creator")) == 429
    async with _from("127.0.0.9") as owner:
        assert await _sign_in(env, owner, password_of("creator")) == 200
    async with _from("127.0.0.10") as newcomer:  # a fresh guesser: one try, then waits
        assert await _sign_in(env, newcomer, "guess 21") == 401
        assert await _sign_in(env, newcomer, "guess 22") == 429


async def test_a_correct_sign_in_costs_no_budget(env: ApiEnv) -> None:
    async with _from("127.0.0.11") as owner:
        for _ in range(env.config.auth.login_attempts_per_minute_per_ip + 5):
            assert await _sign_in(env, owner, password_of("creator")) == 200
