"""The real daemon as a subprocess: start, health, first-start banner, clean shutdown."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from mediad.testing import DaemonProcess


def get_json(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_starts_prints_banner_and_stops_cleanly(sig: int) -> None:
    daemon = DaemonProcess().start()
    try:
        status, body = get_json(daemon.base_url + "/healthz")
        assert status == 200 and body["status"] == "ok"
        banner = daemon.banner
        assert banner.rtmp_server == f"rtmp://127.0.0.1:{daemon.rtmp_port}/live"
        assert banner.primary_key.startswith("live_") and banner.backup_key.startswith("live_")
        assert banner.primary_key != banner.backup_key
        assert banner.srt_url.startswith(f"srt://127.0.0.1:{daemon.srt_port}?streamid=")
        assert banner.player_url == f"http://127.0.0.1:{daemon.http_port}/watch/{banner.stream_id}"
        assert banner.hls_url == (
            f"http://127.0.0.1:{daemon.http_port}/hls/{banner.stream_id}/index.m3u8")
        assert banner.admin_password
        status, body = get_json(daemon.base_url + "/no/such/page")
        assert status == 404 and body == {"error": "Not Found"}
    finally:
        code = daemon.stop(sig)
    assert code == 0, daemon.logs
    assert "Traceback" not in daemon.logs
    assert "stopped" in daemon.stderr_lines[-1]


def test_banner_only_on_first_start_and_data_survives_restart(tmp_path: Path) -> None:
    first = DaemonProcess(data_dir=tmp_path)
    with first:
        key = first.banner.primary_key
        assert key
    second = DaemonProcess(data_dir=first.data_dir, http_port=first.http_port)
    try:
        second.start()
        second.wait_for_log("listening")
        time.sleep(0.5)
        assert not any("Stream key" in line for line in second.stdout_lines)
    finally:
        second.stop()
    assert first.data_dir is not None and (first.data_dir / "mediad.sqlite3").exists()


def test_json_logs() -> None:
    daemon = DaemonProcess(env={"MEDIAD_SERVER_LOG_FORMAT": "json"})
    with daemon:
        line = daemon.wait_for_log('"msg": "listening"')
    entry = json.loads(line)
    assert entry["level"] == "info" and entry["http_port"] == daemon.http_port
    assert entry["ts"].endswith("Z")


def test_port_in_use_fails_without_traceback(tmp_path: Path) -> None:
    with DaemonProcess() as running:
        clash = DaemonProcess(http_port=running.http_port, data_dir=tmp_path)
        config = tmp_path / "clash.toml"
        config.write_text(clash.config_text())
        result = subprocess.run([sys.executable, "-m", "mediad", "-c", str(config), "serve"],
                                capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert "cannot start" in result.stderr and "address already in use" in result.stderr
    assert "Traceback" not in result.stderr
