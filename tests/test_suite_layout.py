"""The suite runs however a developer starts it: plain ``pytest`` from the root or from a
test folder, ``python -m pytest``, an IDE. That holds while every test folder is a package
(so ``tests/ingest`` never shadows the real ``ingest``) and helpers that other modules import
live in ``*_testing.py`` modules, not in test modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
ROOT = TESTS.parent


def _test_folders() -> list[Path]:
    return [TESTS, *(p for p in TESTS.rglob("*") if p.is_dir() and any(p.glob("test_*.py"))
                     and "node_modules" not in p.parts)]


def test_every_test_folder_is_a_package() -> None:
    missing = [str(p.relative_to(ROOT)) for p in _test_folders()
               if not (p / "__init__.py").exists()]
    assert missing == []


def test_no_test_module_imports_another_test_module() -> None:
    offenders = []
    for path in TESTS.rglob("*.py"):
        if "node_modules" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                last = node.module.rsplit(".", 1)[-1]
                if node.module.startswith("tests.") and last.startswith("test_"):
                    offenders.append(f"{path.relative_to(ROOT)}: {node.module}")
    assert offenders == []


@pytest.mark.parametrize("where", [".", "tests/ingest/mpegts", "tests/packager"])
def test_plain_pytest_collects_from(where: str) -> None:
    """The console script, not ``python -m``: the latter puts the working directory on
    sys.path first and hides a shadowed package."""
    script = Path(sys.executable).with_name("pytest")
    if not script.exists():
        pytest.skip("no pytest console script beside this interpreter")
    target = "tests/ingest" if where == "." else "."
    done = subprocess.run([str(script), "--collect-only", "-q", target], cwd=ROOT / where,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "error" not in done.stdout.splitlines()[-1]


def test_helper_modules_are_named_testing() -> None:
    """Beside test modules and conftest, a module in the suite is a helper: ``*_testing``."""
    odd = [str(p.relative_to(ROOT)) for p in TESTS.rglob("*.py")
           if "node_modules" not in p.parts
           and not p.name.startswith("test_") and not p.stem.endswith("_testing")
           and p.name not in ("conftest.py", "__init__.py")]
    assert odd == []
