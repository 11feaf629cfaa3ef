"""What the e2e tests of the web app share: the built app and its drivers (playwright-core,
puppeteer-core) as a setup requirement, the peers they run, running a script that asks its
caller for changes midway, and the one-line JSON report each script prints last.
Screenshots go to ``test-results/`` (CI artifacts)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import textwrap
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.peers_testing import require_tool

ROOT = Path(__file__).resolve().parents[2]
PLAYER_WEB = ROOT / "player-web"
RESULTS = ROOT / "test-results"


def require_player_build() -> None:
    """The app and its driver are built artifacts: missing ones are a setup error, not a skip."""
    for driver in ("playwright-core", "puppeteer-core"):
        if not (PLAYER_WEB / "node_modules" / driver).is_dir():
            pytest.fail(f"player-web/node_modules/{driver} is missing: "
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


def failure_summary(report: dict[str, Any] | None, artifacts: Path) -> str:
    """The failed step, its error and what each page showed (its ``failure-*.json``: the
    last console errors, the player's state), in short lines: a CI log keeps the tail of a
    failure's output and folds long lines."""
    if report is None:
        return "no report from the script"
    if report.get("ok") is True:
        return ""
    lines = [f"failed step: {report.get('step')}", f"error: {report.get('error')}"]
    for path in sorted(artifacts.glob("failure-*.json")):
        try:
            page = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            lines.append(f"{path.name}: unreadable ({exc})")
            continue
        errors = [str(e) for e in page.get("errors", [])]
        errors += [str(e.get("text")) for e in page.get("console", [])
                   if e.get("level") in ("error", "warn")]
        lines.append(f"{path.stem}: state {json.dumps(page.get('state'))}")
        lines += [f"{path.stem}: console {text[:300]}" for text in errors[-6:]]
    return "\n".join(textwrap.fill(line, 200, subsequent_indent="    ") for line in lines)


MINIBROWSER = Path("/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser")


def require_engine(engine: str) -> dict[str, str]:
    """What the journey needs to drive ``engine`` (chromium, firefox, webkit), as the
    environment that tells the adapter where each program is."""
    if engine == "chromium":
        return {"CHROMIUM": require_tool("chromium")}
    if engine == "firefox":
        return {"FIREFOX": require_tool("firefox-esr")}
    if engine == "webkit":
        found = {"WEBKIT_WEBDRIVER": require_tool("WebKitWebDriver"), "XVFB": require_tool("Xvfb")}
        if not MINIBROWSER.is_file():
            pytest.skip(f"{MINIBROWSER} is missing (Debian's libwebkit2gtk-4.1-0; make test "
                        "installs it with webkit2gtk-driver)")
        return {**found, "MINIBROWSER": str(MINIBROWSER)}
    raise ValueError(f"unknown engine {engine!r}")


@dataclass
class ScriptRun:
    returncode: int | None
    out: str
    errors: str

    @property
    def report(self) -> dict[str, Any] | None:
        return last_json_line(self.out)


def drive(node: str, script_path: Path, args: list[str], actions: Mapping[str, Callable[[], None]],
          env: Mapping[str, str], timeout: float) -> ScriptRun:
    """Runs an e2e script that asks for changes (one JSON line {"wait": NAME} each) and
    waits for "done" on its stdin: ``actions[NAME]`` does it. The script and whatever it
    started (browsers, drivers, a virtual display) are killed past ``timeout``, and when
    it is done."""
    lines: list[str] = []
    with tempfile.TemporaryFile("w+") as stderr:
        script = subprocess.Popen([node, str(script_path), *args], cwd=PLAYER_WEB,
                                  env={**os.environ, **env}, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=stderr, text=True,
                                  start_new_session=True)

        def kill() -> None:
            try:
                os.killpg(script.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        watchdog = threading.Timer(timeout, kill)
        watchdog.start()
        try:
            assert script.stdout is not None and script.stdin is not None
            for line in script.stdout:
                lines.append(line)
                wanted = json.loads(line).get("wait") if line.startswith("{") else None
                if wanted is not None:
                    actions[wanted]()
                    script.stdin.write("done\n")
                    script.stdin.flush()
            script.wait(timeout=10)
        finally:
            watchdog.cancel()
            kill()
        stderr.seek(0)
        return ScriptRun(script.returncode, "".join(lines), stderr.read())
