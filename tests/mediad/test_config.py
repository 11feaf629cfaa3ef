from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ingest.rtmp.config import RtmpServerConfig
from ingest.srt.config import SrtServerConfig
from mediad.config import Config, ConfigError, LadderRung, load_config

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mediad.toml"
    path.write_text(text)
    return path


def test_shipped_file_documents_exactly_the_defaults() -> None:
    warnings: list[str] = []
    assert load_config(ROOT / "conf" / "mediad.toml", environ={}, warnings=warnings) == Config()
    assert warnings == []


def test_no_file_gives_embedded_defaults() -> None:
    config = load_config(None, environ={})
    assert config.rtmp.port == 1935 and config.hls.part_duration_ms == 200
    assert [r.height for r in config.transcode.ladder] == [720, 480, 360]


def test_values_from_file(tmp_path: Path) -> None:
    path = write(tmp_path, """
[server]
http_port = 9090
shutdown_timeout_sec = 2
[[transcode.ladder]]
name = "540p"
height = 540
bitrate_kbps = 1800
[chat]
blocked_words = ["spam", "scam"]
""")
    config = load_config(path, environ={})
    assert config.server.http_port == 9090
    assert config.server.shutdown_timeout_sec == 2.0
    assert config.transcode.ladder == (LadderRung("540p", 540, 1800),)
    assert config.chat.blocked_words == ("spam", "scam")


@pytest.mark.parametrize(("text", "message"), [
    ("[rtmp]\nport = 'x'", "rtmp.port: expected an integer, got a string ('x')"),
    ("[rtmp]\nport = 70000", "rtmp.port: must be at most 65535, got 70000"),
    ("[rtmp]\nenabled = 1", "rtmp.enabled: expected true or false"),
    ("[server]\nlog_format = 'xml'", "server.log_format: must be one of 'human', 'json'"),
    ("rtmp = 3", "rtmp: expected a table, got an integer"),
    ("[[transcode.ladder]]\nname = 'a'\nbitrate_kbps = 100",
     "transcode.ladder[0].height: missing (required)"),
    ("[transcode]\nladder = {}", "transcode.ladder: expected an array, got a table"),
    ("[chat]\nblocked_words = [1]", "chat.blocked_words[0]: expected a string"),
    ("[hls\n", "not valid TOML"),
])
def test_bad_file_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text), environ={})
    assert message in str(info.value)
    assert str(tmp_path) in str(info.value)


def test_unknown_keys_are_warned_about(tmp_path: Path) -> None:
    warnings: list[str] = []
    config = load_config(write(tmp_path, "[rtmp]\nprot = 1936\n[nonsense]\na = 1"),
                         environ={}, warnings=warnings)
    assert config.rtmp.port == 1935
    assert any("rtmp.prot: unknown key" in w for w in warnings)
    assert any("nonsense: unknown key" in w for w in warnings)


def test_listener_sections_are_the_ingest_settings(tmp_path: Path) -> None:
    """``[rtmp]`` and ``[srt]`` are the listeners' own settings classes: their bounds apply,
    and the bind address comes only from ``server.host``."""
    warnings: list[str] = []
    config = load_config(write(tmp_path, "[rtmp]\nhost = '10.0.0.1'\nmax_write_buffer = 8192\n"
                                         "[srt]\nmax_connections = 3\n"),
                         environ={}, warnings=warnings)
    assert isinstance(config.rtmp, RtmpServerConfig) and isinstance(config.srt, SrtServerConfig)
    assert config.rtmp.max_write_buffer == 8192 and config.srt.max_connections == 3
    assert config.rtmp.host == "0.0.0.0"
    assert any("rtmp.host: unknown key" in w for w in warnings)
    with pytest.raises(ConfigError, match=r"srt\.latency_ms: must be at least 20"):
        load_config(write(tmp_path, "[srt]\nlatency_ms = 5\n"), environ={})


def test_environment_overrides_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[rtmp]\nport = 1936\n")
    config = load_config(path, environ={
        "MEDIAD_RTMP_PORT": "1937",
        "MEDIAD_SERVER_PUBLIC_HOST": "10.0.0.1",
        "MEDIAD_AUTH_ADMIN_HANDLE": "123",
        "MEDIAD_CHAT_BLOCKED_WORDS": '["a", "b"]',
        "MEDIAD_SERVER_LOG_FORMAT": "json",
        "OTHER_RTMP_PORT": "1",
    })
    assert config.rtmp.port == 1937
    assert config.server.public_host == "10.0.0.1"
    assert config.auth.admin_handle == "123"
    assert config.chat.blocked_words == ("a", "b")
    assert config.server.log_format == "json"


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"environment MEDIAD_HLS_PART_DURATION_MS: "
                                          r"hls\.part_duration_ms: expected an integer"):
        load_config(None, environ={"MEDIAD_HLS_PART_DURATION_MS": "fast"})


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_config("/nonexistent/mediad.toml", environ={})


def test_cli_refuses_bad_file_with_exit_2_and_no_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, "[rtmp]\nport = 'x'\n")
    for command in ("serve", "check-config"):
        result = subprocess.run([sys.executable, "-m", "mediad", "--config", str(path), command],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 2
        assert "rtmp.port: expected an integer" in result.stderr
        assert "Traceback" not in result.stderr


def test_cli_check_config_accepts_shipped_file() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mediad", "--config", str(ROOT / "conf" / "mediad.toml"),
         "check-config"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout


def test_the_reconnect_grace_moved_to_streams(tmp_path: Path) -> None:
    warnings: list[str] = []
    old = write(tmp_path, "[hls]\nreconnect_grace_sec = 3.0\n")
    config = load_config(old, environ={}, warnings=warnings)
    assert config.streams.reconnect_grace_sec == 3.0
    assert warnings == [f"{old}: hls.reconnect_grace_sec is deprecated: use "
                        "streams.reconnect_grace_sec"]
    both = write(tmp_path, "[hls]\nreconnect_grace_sec = 3.0\n"
                           "[streams]\nreconnect_grace_sec = 7.5\n")
    assert load_config(both, environ={}).streams.reconnect_grace_sec == 7.5
    from_env = load_config(None, environ={"MEDIAD_HLS_RECONNECT_GRACE_SEC": "4"})
    assert from_env.streams.reconnect_grace_sec == 4.0
    with pytest.raises(ConfigError, match=r"streams\.reconnect_grace_sec: must be at most"):
        load_config(None, environ={"MEDIAD_HLS_RECONNECT_GRACE_SEC": "99999"})
