"""In CI (MEDIAD_REQUIRE_INTEROP=1) a skipped interop test is a failure, elsewhere a skip."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BROWSER_JOURNEYS

HERE = Path(__file__).resolve().parent

SAMPLE = """
import pytest

@pytest.mark.interop
def test_needs_a_peer():
    pytest.skip("peer missing")

def test_plain_skip():
    pytest.skip("not interop")
"""


@pytest.mark.parametrize(("require", "expected_rc", "summary", "xdist"), [
    ("1", 1, "1 failed, 1 skipped", []),
    ("0", 0, "2 skipped", []),
    ("1", 1, "1 failed, 1 skipped", ["-n", "1", "--dist", "loadgroup"]),
])
def test_skipped_interop_fails_only_when_required(tmp_path: Path, require: str, expected_rc: int,
                                                   summary: str, xdist: list[str]) -> None:
    """Serially, and in an xdist worker as ``make test`` runs the suite: the worker rewrites the
    report before the controller counts it."""
    shutil.copy(HERE / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_default_fixture_loop_scope = function\nmarkers =\n    interop: peer\n"
    )
    env = {**os.environ, "MEDIAD_REQUIRE_INTEROP": require}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rf", "-p", "no:cacheprovider",
                             *xdist, str(tmp_path)], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == expected_rc, result.stdout
    assert summary in result.stdout
    if require == "1":
        assert "interop test skipped with MEDIAD_REQUIRE_INTEROP=1" in result.stdout


def test_the_browser_journeys_come_after_every_other_interop_test() -> None:
    """They run while the unit tests' worker is idle (tests/conftest.py)."""
    result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                             "-p", "no:cacheprovider", "tests/interop"],
                            capture_output=True, text=True, cwd=HERE.parent, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    files = [line.split("::")[0] for line in result.stdout.splitlines() if "::" in line]
    journeys = [name in BROWSER_JOURNEYS for name in files]
    assert set(BROWSER_JOURNEYS) <= set(files), BROWSER_JOURNEYS
    assert journeys == sorted(journeys), files
