"""conf/mediad.service as systemd itself reads it: ``systemd-analyze verify`` finds nothing
to say, its hardening scores well, and what it sets agrees with mediad's own settings."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from mediad.config import ServerConfig, load_config
from mediad.doctor import DoctorSettings
from tests.peers_testing import require_tool

pytestmark = pytest.mark.interop

UNIT = Path(__file__).resolve().parents[2] / "conf" / "mediad.service"
SHIPPED_MEDIAD = "/opt/mediad/bin/mediad"
MAX_EXPOSURE = 2.0
"""``systemd-analyze security``: 0 is sealed, 10 wide open; 2 and below rates "OK"."""


def directives(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_systemd_verifies_the_unit_and_rates_its_hardening(tmp_path: Path) -> None:
    """verify checks that ExecStart's program exists: the copy runs this venv's real
    ``mediad`` where the shipped unit names /opt/mediad's, and nothing else differs."""
    analyze = require_tool("systemd-analyze")
    mediad = Path(sys.executable).with_name("mediad")
    assert mediad.is_file(), "the venv's mediad console script (pip install -e .)"
    shipped = UNIT.read_text()
    local = shipped.replace(SHIPPED_MEDIAD, str(mediad))
    changed = [(a, b) for a, b in zip(shipped.splitlines(), local.splitlines(), strict=True)
               if a != b]
    assert changed == [(f"ExecStart={SHIPPED_MEDIAD} --config /etc/mediad/mediad.toml serve",
                        f"ExecStart={mediad} --config /etc/mediad/mediad.toml serve")]
    copy = tmp_path / "mediad.service"
    copy.write_text(local)

    verified = subprocess.run([analyze, "verify", "--man=no", str(copy)],
                              capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0, verified.stderr
    assert (verified.stdout + verified.stderr).strip() == "", "warnings: " + verified.stderr

    security = subprocess.run([analyze, "security", "--offline=yes", "--no-pager", str(copy)],
                              capture_output=True, text=True, timeout=60)
    assert security.returncode == 0, security.stderr
    exposure = re.search(r"Overall exposure level for mediad\.service: ([\d.]+)",
                         security.stdout)
    assert exposure is not None, security.stdout[-2000:]
    assert float(exposure.group(1)) <= MAX_EXPOSURE, security.stdout


def test_the_unit_agrees_with_mediad() -> None:
    unit = directives(UNIT.read_text())
    assert unit["Type"] == ["notify"]  # mediad.sd_notify sends READY=1
    assert unit["ExecReload"] == ["/bin/kill -HUP $MAINPID"]  # reloads the TLS files
    assert unit["Restart"] == ["on-failure"]
    stop = float(unit["TimeoutStopSec"][0].removesuffix("s"))
    assert stop > ServerConfig().shutdown_timeout_sec + 5
    assert int(unit["LimitNOFILE"][0]) >= DoctorSettings().descriptors_wanted
    assert unit["StateDirectory"] == ["mediad"]
    assert unit["CapabilityBoundingSet"] == [""] and unit["NoNewPrivileges"] == ["yes"]
    assert unit["ProtectSystem"] == ["strict"] and unit["ProtectHome"] == ["yes"]
    assert "AF_NETLINK" in unit["RestrictAddressFamilies"][0].split()
    # The data directory is the state directory, through mediad's own environment override.
    environment = dict(e.split("=", 1) for e in unit["Environment"])
    assert environment == {"MEDIAD_STORAGE_DATA_DIR": "%S/mediad"}
    config = load_config(environ={"MEDIAD_STORAGE_DATA_DIR": "/var/lib/mediad"})
    assert config.storage.data_dir == "/var/lib/mediad"
    assert config.recording.directory(config.storage.data_dir) == Path(
        "/var/lib/mediad/recordings")
