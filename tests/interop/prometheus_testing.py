"""A real Prometheus (Debian's ``prometheus``) on a free port, scraping one target every
second with a bearer token, and its HTTP query API."""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediad.testing import free_port
from tests.peers_testing import require_tool

Result = list[dict[str, Any]]
"""An instant vector: ``[{"metric": {labels}, "value": [time, "text"]}, ...]``."""


class QueryError(AssertionError):
    """Prometheus refused a query (it does not parse, or cannot be evaluated)."""


@dataclass
class Prometheus:
    url: str
    logs: Path

    def query(self, expr: str) -> Result:
        """An instant query, POSTed (a query naming many streams is long)."""
        body = urllib.parse.urlencode({"query": expr}).encode()
        request = urllib.request.Request(f"{self.url}/api/v1/query", data=body, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            answer = json.loads(exc.read() or b"{}")
        if answer.get("status") != "success":
            raise QueryError(f"{expr}: {answer.get('errorType')}: {answer.get('error')}")
        result: Result = answer["data"]["result"]
        if answer["data"]["resultType"] == "scalar":
            return [{"metric": {}, "value": result}]
        return result

    def value(self, expr: str) -> float | None:
        """The one sample of ``expr`` (None if it has none)."""
        result = self.query(expr)
        assert len(result) <= 1, f"{expr}: {len(result)} series"
        return float(result[0]["value"][1]) if result else None

    def wait(self, expr: str, holds: Callable[[Result], bool], what: str,
             within: float = 15.0) -> Result:
        deadline = time.monotonic() + within
        while True:
            result = self.query(expr)
            if holds(result):
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} within {within} s: {expr} gave {result}")
            time.sleep(0.25)

    def targets(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.url}/api/v1/targets", timeout=10) as response:
            active: list[dict[str, Any]] = json.loads(response.read())["data"]["activeTargets"]
        return active


def _config(target: str, token: str) -> dict[str, Any]:
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                   "evaluation_interval": "1s"},
        "scrape_configs": [{
            "job_name": "mediad",
            "metrics_path": "/metrics",
            "authorization": {"type": "Bearer", "credentials": token},
            "static_configs": [{"targets": [target]}],
        }],
    }


@contextmanager
def prometheus(target: str, token: str) -> Iterator[Prometheus]:
    """Prometheus scraping ``target`` (host:port) every second, ready when yielded."""
    binary = require_tool("prometheus")
    with tempfile.TemporaryDirectory(prefix="mediad-prometheus-") as folder:
        root = Path(folder)
        config = root / "prometheus.yml"
        config.write_text(json.dumps(_config(target, token)))  # JSON is YAML
        port = free_port()
        logs = root / "prometheus.log"
        with logs.open("w") as log:
            proc = subprocess.Popen(
                [binary, f"--config.file={config}", f"--storage.tsdb.path={root / 'data'}",
                 f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        server = Prometheus(f"http://127.0.0.1:{port}", logs)
        try:
            _wait_ready(server, proc)
            yield server
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _wait_ready(server: Prometheus, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"prometheus exited: {server.logs.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"prometheus not ready: {server.logs.read_text()[-2000:]}")
