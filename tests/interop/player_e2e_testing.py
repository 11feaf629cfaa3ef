"""What the e2e tests of the web app share: the built app and its driver (playwright-core) as
a setup requirement, the peers they run, and the one-line JSON report each script prints
last. Screenshots go to ``test-results/`` (CI artifacts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.peers_testing import require_tool

ROOT = Path(__file__).resolve().parents[2]
PLAYER_WEB = ROOT / "player-web"
RESULTS = ROOT / "test-results"


def require_player_build() -> None:
    """The app and its driver are built artifacts: missing ones are a setup error, not a skip."""
    if not (PLAYER_WEB / "node_modules" / "playwright-core").is_dir():
        pytest.fail("player-web/node_modules/playwright-core is missing: "
                    "run `cd player-web && npm ci`")
    if not (ROOT / "mediad" / "static" / "index.html").is_file():
        pytest.fail("mediad/static/index.html is missing: run `make player` "
                    "(or `cd player-web && npm run build`)")


def e2e_peers() -> tuple[str, str, str]:
    """node, chromium and ffmpeg, with the app built."""
    peers = require_tool("node"), require_tool("chromium"), require_tool("ffmpeg")
    require_player_build()
    return peers


def as_text(output: str | bytes | None) -> str:
    """What a timed-out run captured (typed loosely by subprocess)."""
    return output.decode(errors="replace") if isinstance(output, bytes) else output or ""


def last_json_line(out: str) -> dict[str, Any] | None:
    for line in reversed(out.splitlines()):
        if line.startswith("{"):
            try:
                report: dict[str, Any] = json.loads(line)
            except ValueError:
                continue
            return report
    return None
