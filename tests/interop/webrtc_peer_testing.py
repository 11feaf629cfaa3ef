"""Chromium as a WHIP publisher or a WHEP viewer (``tests/interop/hlsjs/webrtc-peer.mjs``),
run as a subprocess: ``start`` it, wait for the server's answer, then ``finish`` for the
samples of its ``getStats``."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.peers_testing import require_tool

PEER = Path(__file__).resolve().parent / "hlsjs" / "webrtc-peer.mjs"


@dataclass
class ChromiumPeer:
    mode: str
    """``publish`` (WHIP) or ``watch`` (WHEP)."""
    url: str
    seconds: float
    token: str | None = None
    proc: subprocess.Popen[str] | None = None
    records: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)
    stderr: list[str] = field(default_factory=list)

    def start(self) -> ChromiumPeer:
        node = require_tool("node")
        require_tool("chromium")
        if not (PEER.parent / "node_modules" / "playwright-core").exists():
            pytest.fail("tests/interop/hlsjs/node_modules is missing: run `make test-deps`")
        command = [node, str(PEER), self.mode, self.url, "--seconds", str(self.seconds)]
        if self.token is not None:
            command += ["--token", self.token]
        self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_errors, daemon=True).start()
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            if line.startswith("{"):
                self.records.put(json.loads(line))
        self.records.put({"event": "exited"})

    def _read_errors(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        self.stderr.extend(self.proc.stderr)

    def _next(self, timeout: float) -> dict[str, Any]:
        try:
            return self.records.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no word from Chromium in {timeout} s: "
                                 f"{''.join(self.stderr)[-3000:]}") from None

    def answered(self, timeout: float = 30.0) -> dict[str, Any]:
        """The server's answer: ``{"status": 201, "location": ...}`` or a refusal."""
        record = self._next(timeout)
        assert record["event"] in ("answered", "refused"), (
            f"{record}: {''.join(self.stderr)[-3000:]}")
        return record

    def finish(self, timeout: float) -> dict[str, Any]:
        """The last record, once the session is DELETEd and Chromium has exited."""
        try:
            record = self._next(timeout)
            assert record["event"] == "done", f"{record}: {''.join(self.stderr)[-3000:]}"
            assert self.proc is not None
            self.proc.wait(timeout=15)
            assert not record["pageErrors"], record["pageErrors"]
            return record
        finally:
            self.close()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def last(samples: list[dict[str, Any]], kind: str, key: str) -> float:
    """The last value of ``key`` in the ``kind`` (video/audio) rtp stats (0 when absent)."""
    for sample in reversed(samples):
        if key in sample.get(kind, {}):
            return float(sample[kind][key])
    return 0.0
