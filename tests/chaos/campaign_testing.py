"""One fault campaign: rounds of publish, write, ``kill -9``, restart, check.

Each round publishes with real ffmpeg (small: 320x180 at 15 fps, transcoding off), checks
that the publish plays within PLAYS_WITHIN_SEC of ffmpeg starting, samples the daemon's
memory and descriptors, then kills the daemon with SIGKILL at a random moment: while the
publisher is still connecting and the first segments are cut, or in the middle of store
writes (chat, settings, moderation, tips, key rotations, several at once). After the
restart on the same data directory and ports it checks the invariants (``after_restart``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import subprocess
from dataclasses import dataclass, field

import aiohttp

from mediad.testing import DaemonProcess
from tests.chaos.api_testing import Api
from tests.chaos.ledger_testing import (
    Ledger,
    check_bans,
    check_event_log,
    check_key,
    check_settings,
)
from tests.chaos.resources_testing import Usage
from tests.chaos.viewers_testing import ChatViewer, plays_within, watch_hls
from tests.chaos.writers_testing import TIP_SECRET, WRITERS
from tests.interop.shaped_publisher_testing import Shape, publish_shape, stop

ROUNDS = 20
GRACE_SEC = 2.0
PLAYS_WITHIN_SEC = 5.0
SHAPE = Shape(video=(320, 180), fps=15)
CONFIG = (f"[streams]\nreconnect_grace_sec = {GRACE_SEC}\n[transcode]\nenabled = false\n"
          "[hls]\nended_retention_sec = 2\n"
          f'[tips]\nwebhook_secret = "{TIP_SECRET}"\n'
          # The campaign writes faster than a person: the write budget is not under test.
          "[api]\nwrites_per_minute_per_user = 100000\n")


@dataclass(frozen=True)
class Round:
    number: int
    writers: tuple[str, ...]
    """Run at once, killed in the middle; empty: killed while the publish starts."""
    kill_after: float
    wait_out_grace: bool
    """After the restart, wait past the reconnect grace: the broadcast must end."""
    seed: int

    def __str__(self) -> str:
        during = ", ".join(self.writers) or "the publish starting"
        return f"round {self.number}: SIGKILL {self.kill_after:.2f} s into {during}"


def plan(seed: int) -> list[Round]:
    """Every fourth round kills while the publish starts; the others cycle through the
    writers, each with up to two more at once."""
    rng = random.Random(seed)
    names = list(WRITERS)
    rounds = []
    for number in range(ROUNDS):
        if number % 4 == 3:
            writers: tuple[str, ...] = ()
            kill_after = rng.uniform(0.0, 3.5)
        else:
            first = names[(number - number // 4) % len(names)]
            more = rng.sample([n for n in names if n != first], rng.randint(0, 2))
            writers = (first, *more)
            kill_after = rng.uniform(0.2, 1.5)
        rounds.append(Round(number, writers, kill_after, rng.random() < 0.25,
                            rng.randrange(2**32)))
    return rounds


@dataclass
class Campaign:
    daemon: DaemonProcess
    ffmpeg: str
    seed: int
    session: aiohttp.ClientSession
    api: Api = field(init=False)
    ledger: Ledger = field(init=False)
    viewer: ChatViewer = field(init=False)
    baseline: Usage | None = None
    played: list[float] = field(default_factory=list)
    killed_amid_writes: int = 0
    """Rounds whose kill landed while a writer was still writing."""

    def __post_init__(self) -> None:
        self.api = Api(self.daemon, self.session)
        self.ledger = Ledger(key=self.daemon.banner.primary_key)
        self.viewer = ChatViewer(self.api)

    async def run(self) -> None:
        await self.api.sign_in()
        self.viewer.start()
        for one in plan(self.seed):
            wrong = await self.round(one)
            wrong += await self.after_restart(one)
            if wrong:
                raise AssertionError(
                    f"chaos seed {self.seed} (replay: CHAOS_SEED={self.seed}), {one}:\n  "
                    + "\n  ".join(wrong) + "\n--- daemon log after the restart ---\n"
                    + "\n".join(self.daemon.logs.splitlines()[-40:]))
        print(self.summary(), flush=True)

    def summary(self) -> str:
        ledger, usage = self.ledger, Usage.of(self.pid)
        return (f"chaos seed {self.seed}: {ROUNDS} kills survived; acknowledged "
                f"{len(ledger.chat)} chat messages, {len(ledger.tips)} tips, "
                f"{len(self.viewer.seen)} durable messages seen by the viewer; "
                f"{self.killed_amid_writes} of {len(self.played)} write rounds killed amid "
                f"writes; plays after "
                f"{min(self.played):.2f}-{max(self.played):.2f} s; RSS {usage.rss_kb} kB, "
                f"{usage.fds} descriptors (first start {self.baseline})")

    async def round(self, one: Round) -> list[str]:
        self.ledger.new_round()
        rng = random.Random(one.seed)
        wrong: list[str] = []
        publisher = publish_shape(self.ffmpeg, self.daemon.rtmp_url(self.ledger.key), SHAPE,
                                  120)
        base, stream_id = self.daemon.base_url, self.api.stream_id
        viewer = asyncio.create_task(watch_hls(self.session, base, stream_id))
        try:
            if not one.writers:
                await asyncio.sleep(one.kill_after)
                self.kill()
                return wrong
            took = await plays_within(self.session, base, stream_id, PLAYS_WITHIN_SEC)
            if took is None:
                wrong.append(f"the publish did not play within {PLAYS_WITHIN_SEC} s")
                return wrong
            self.played.append(took)
            usage = Usage.of(self.pid)
            self.baseline = self.baseline or usage
            wrong += usage.within(self.baseline)
            tag = f"c{self.seed}r{one.number}"
            writes = [asyncio.create_task(WRITERS[name](self.api, self.ledger, tag,
                                                        random.Random(rng.random())))
                      for name in one.writers]
            await asyncio.sleep(one.kill_after)
            self.kill()
            self.killed_amid_writes += any(not write.done() for write in writes)
            await asyncio.gather(*writes)
            return wrong
        finally:
            viewer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await viewer
            stop(publisher)

    @property
    def pid(self) -> int:
        assert self.daemon.proc is not None
        return self.daemon.proc.pid

    def kill(self) -> None:
        assert self.daemon.proc is not None
        self.daemon.proc.send_signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.daemon.proc.wait(10)

    async def after_restart(self, one: Round) -> list[str]:
        """Restart on the same data directory and check what a crash must not break."""
        await self.viewer.stop()
        await asyncio.to_thread(self.daemon.restart, signal.SIGKILL)
        self.viewer.start()
        wrong = await self._stream_is_true(one)
        log = await self.api.event_log()
        wrong += check_event_log(self.ledger, log)
        if not await self.viewer.caught_up(max(log, default=0), 5.0):
            wrong.append(f"the chat viewer did not resume to seq {max(log, default=0)} "
                         f"(at {self.viewer.cursor})")
        wrong += self.viewer.check_against(log)
        wrong += await self._tips_redelivered(log)
        stream = f"/api/streams/{self.api.stream_id}"
        _, settings = await self.api.call("GET", f"{stream}/settings")
        wrong += check_settings(self.ledger, settings)
        _, bans = await self.api.call("GET", f"{stream}/moderation/bans")
        _, actions = await self.api.call("GET", f"{stream}/moderation/actions")
        wrong += check_bans(self.ledger, {b["id"] for b in bans["bans"]}, actions["actions"])
        status, key = await self.api.call("POST", f"{stream}/keys/primary/reveal")
        assert status == 200, key
        wrong += check_key(self.ledger, str(key["key"]))
        return wrong

    async def _stream_is_true(self, one: Round) -> list[str]:
        """No publisher survives a restart: the stream is anything but live; one that was
        on air ends once the grace has passed."""
        state = (await self.api.stream())["state"]
        if state == "live":
            return ["the stream is live after the restart with no publisher"]
        if one.wait_out_grace and state == "reconnecting":
            await asyncio.sleep(GRACE_SEC + 1.5)
            after = await self.api.stream()
            if after["state"] != "ended" or not after["endedAt"]:
                return [f"still {after['state']} {GRACE_SEC + 1.5} s after the restart "
                        f"(grace {GRACE_SEC} s)"]
        return []

    async def _tips_redelivered(self, log: dict[int, dict[str, object]]) -> list[str]:
        """A provider retries: an acknowledged tip is a duplicate of itself; one in flight
        at the crash is either new now or was stored whole (row and broadcast)."""
        wrong = []
        logged_tips = {e.get("id") for e in log.values() if e.get("type") == "tip"}
        round_keys = [k for k in self.ledger.tip_bodies if k not in self.ledger.tips
                      or k in self.ledger.tips_unacked]
        acked_now = [k for k in self.ledger.tip_bodies if k in self.ledger.tips]
        for key in acked_now[-10:] + round_keys:
            status, body = await self.api.deliver_tip(TIP_SECRET, self.ledger.tip_bodies[key])
            if key in self.ledger.tips:
                if status != 200 or body.get("id") != self.ledger.tips[key][0]:
                    wrong.append(f"redelivered acknowledged tip {key}: {status} {body}")
            elif status == 200 and body.get("id") not in logged_tips:
                wrong.append(f"tip {key} in flight was stored without its broadcast: {body}")
            elif status == 201:
                self.ledger.tips[key] = (int(body["id"]), int(body["seq"]))
            elif status != 200:
                wrong.append(f"redelivered tip {key}: {status} {body}")
        self.ledger.tips_unacked.clear()
        return wrong
