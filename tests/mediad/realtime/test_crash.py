"""Nothing acknowledged is lost: SIGKILL the daemon right after acknowledged chat messages
and tips, start it again on the same data directory, and they are all there."""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from pathlib import Path
from typing import Any

from mediad.realtime.tips import SIGNATURE_HEADER, sign
from mediad.testing import DaemonProcess

SECRET = "whsec-crash-test-0123456789"
CONFIG = f'[tips]\nwebhook_secret = "{SECRET}"\n[transcode]\nenabled = false\n'


def request(url: str, body: Any = None, headers: dict[str, str] | None = None,
            raw: bytes | None = None) -> tuple[int, Any, dict[str, str]]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, headers={
        "Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(req, timeout=10) as response:
        return response.status, json.loads(response.read()), dict(response.headers)


def test_acknowledged_messages_and_tips_survive_sigkill(tmp_path: Path) -> None:
    with DaemonProcess(extra_config=CONFIG, data_dir=tmp_path) as daemon:
        stream = daemon.banner.stream_id
        base = f"{daemon.base_url}/api/streams/{stream}"
        _, _, headers = request(f"{base}/events")
        cookie = headers["Set-Cookie"].split(";")[0]
        acked = []
        for n in range(15):
            status, ack, _ = request(f"{base}/chat", {"text": f"message {n}"},
                                     {"Cookie": cookie})
            assert status == 201
            acked.append(ack["id"])
        tips = []
        for n in range(5):
            body = json.dumps({"streamId": stream, "idempotencyKey": f"pay-{n}",
                               "amountMinor": 100 + n, "currency": "USD",
                               "from": "Ada", "message": f"tip {n}"}).encode()
            status, tip, _ = request(f"{daemon.base_url}/api/webhooks/tips", raw=body, headers={
                SIGNATURE_HEADER: sign(SECRET, int(time.time()), body)})
            assert status == 201
            tips.append(tip["id"])
        daemon.stop(signal.SIGKILL)  # no shutdown of any kind
        assert daemon.proc is not None and daemon.proc.returncode == -signal.SIGKILL
    with DaemonProcess(extra_config=CONFIG, data_dir=tmp_path) as again:
        base = f"{again.base_url}/api/streams/{stream}"
        _, first, _ = request(f"{base}/events")
        history = next(e for e in first["events"] if e["type"] == "chat.history")
        assert [m["id"] for m in history["messages"]] == acked
        _, log, _ = request(f"{base}/events?cursor=0")
        assert [e["id"] for e in log["events"] if e["type"] == "chat.message"] == acked
        assert [e["id"] for e in log["events"] if e["type"] == "tip"] == tips
        assert [e["amountMinor"] for e in log["events"] if e["type"] == "tip"] == [
            100, 101, 102, 103, 104]
