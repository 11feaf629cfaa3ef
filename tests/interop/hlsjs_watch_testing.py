"""hls.js in Chromium watching a stream while its publish changes shape
(``tests/interop/hlsjs/play.mjs``), and what its samples say about the moments after a
change: how long playback stood still once new media was there, how far it got, and which
rendition (by the resolution the multivariant playlist declared) it was on."""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.peers_testing import require_tool

PLAY = Path(__file__).resolve().parent / "hlsjs" / "play.mjs"


@dataclass
class Watch:
    """One hls.js session: ``start`` it, change the publish, then ``report``."""

    url: str
    seconds: float
    extra: tuple[str, ...] = ()
    """More of play.mjs's options (``--ignore-https-errors``)."""
    proc: subprocess.Popen[str] | None = None
    result: dict[str, Any] = field(default_factory=dict)

    def start(self) -> Watch:
        node = require_tool("node")
        require_tool("chromium")
        if not (PLAY.parent / "node_modules" / "hls.js").exists():
            pytest.fail("tests/interop/hlsjs/node_modules is missing: run `make test-deps`")
        self.proc = subprocess.Popen([node, str(PLAY), self.url, "--seconds", str(self.seconds),
                                      *self.extra],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return self

    def report(self, timeout: float) -> dict[str, Any]:
        """The player's report; playback started and nothing fatal happened."""
        assert self.proc is not None
        try:
            out, err = self.proc.communicate(timeout=timeout)
        finally:
            self.close()
        assert self.proc.returncode == 0, err[-3000:]
        self.result = json.loads(out)
        assert self.result["started"], f"playback never started: {self.result['errors']}"
        assert not self.result["fatalErrors"], self.result["fatalErrors"]
        assert not self.result["pageErrors"], self.result["pageErrors"]
        return self.result

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()

    @property
    def samples(self) -> list[dict[str, Any]]:
        return list(self.result["samples"])

    def stall_after(self, since_ms: float) -> float:
        """The longest time, in seconds, that currentTime stood still after ``since_ms``
        (Date.now() scale); a stall that began earlier counts from ``since_ms``."""
        longest, still_since = 0.0, None
        samples = self.samples
        for before, after in itertools.pairwise(samples):
            if after["t"] <= since_ms:
                continue
            if after["currentTime"] - before["currentTime"] < 0.05:
                start = max(before["t"], since_ms) if still_since is None else still_since
                still_since = start
                longest = max(longest, (after["t"] - start) / 1000)
            else:
                still_since = None
        return longest

    def played_after(self, since_ms: float) -> float:
        """Seconds of media played from ``since_ms`` to the end of the session."""
        at = [s["currentTime"] for s in self.samples if s["t"] <= since_ms]
        return float(self.samples[-1]["currentTime"] - (at[-1] if at else 0.0))

    def resolution_at(self, when_ms: float) -> str | None:
        """The declared "WxH" of the level hls.js played at ``when_ms``."""
        before = [s for s in self.samples if s["t"] <= when_ms and s["level"] >= 0]
        if not before:
            return None
        sample = before[-1]
        return str(sample["levels"][sample["level"]])


def now_ms() -> float:
    """The clock of the player's samples (Date.now())."""
    return time.time() * 1000
