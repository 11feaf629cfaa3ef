"""The fault campaign (issue 16): a real daemon, a real ffmpeg publisher and real viewers;
SIGKILL at random moments, 20 rounds, seeded (``CHAOS_SEED`` replays a run). After every
restart: every acknowledged chat message, tip, setting, moderation action and key rotation
is there; no stream is live without a publisher; a new publish plays within 5 s; memory
and descriptors come back within bounds."""

from __future__ import annotations

import asyncio
import sys

import aiohttp
import pytest

from mediad.testing import DaemonProcess
from tests.chaos.campaign_testing import CONFIG, ROUNDS, Campaign, plan
from tests.chaos.seed_testing import SEED
from tests.chaos.writers_testing import WRITERS
from tests.peers_testing import require_tool

pytestmark = [pytest.mark.chaos, pytest.mark.interop]


def test_the_plan_kills_during_every_kind_of_write_and_while_publishing() -> None:
    rounds = plan(SEED)
    assert len(rounds) == ROUNDS
    assert plan(SEED) == rounds, "a seed replays the same plan"
    covered = {name for one in rounds for name in one.writers}
    assert covered == set(WRITERS)
    assert sum(1 for one in rounds if not one.writers) >= 4


def test_a_kill_9_campaign_keeps_every_acknowledged_write_and_plays_again() -> None:
    ffmpeg = require_tool("ffmpeg")
    print(f"chaos campaign seed {SEED} (replay: CHAOS_SEED={SEED})", file=sys.stderr)
    with DaemonProcess(extra_config=CONFIG) as daemon:
        campaign = asyncio.run(_run(daemon, ffmpeg))
    assert len(campaign.played) == sum(1 for one in plan(SEED) if one.writers)
    assert campaign.ledger.chat and campaign.ledger.tips and campaign.ledger.settings


async def _run(daemon: DaemonProcess, ffmpeg: str) -> Campaign:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True),
                                     cookie_jar=aiohttp.DummyCookieJar()) as session:
        campaign = Campaign(daemon, ffmpeg, SEED, session)
        await campaign.run()
        return campaign
