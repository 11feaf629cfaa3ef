"""The import rules of ``docs/architecture.md``, checked on the source: a layer that reaches
into one it may not fails here, not in a review."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent

# package -> the first-party packages it may import (besides itself)
RULES: dict[str, tuple[str, ...]] = {
    "ingest/codecs": ("ingest.media", "ingest.errors"),
    "ingest": ("ingest",),
    "packager": ("ingest.media", "ingest.codecs"),
    "mediad": ("mediad", "ingest", "packager"),
}
FIRST_PARTY = ("ingest", "packager", "mediad")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _rule_for(path: Path) -> tuple[str, tuple[str, ...]]:
    relative = path.relative_to(ROOT).as_posix()
    for folder in sorted(RULES, key=len, reverse=True):
        if relative.startswith(folder + "/"):
            return folder, RULES[folder]
    raise AssertionError(f"no rule for {relative}")


def _allowed(name: str, own: str, allowed: tuple[str, ...]) -> bool:
    if name.split(".")[0] not in FIRST_PARTY:
        return True
    own_package = own.replace("/", ".")
    return any(name == prefix or name.startswith(prefix + ".")
               for prefix in (own_package, *allowed))


@pytest.mark.parametrize("package", ["ingest", "packager", "mediad"])
def test_each_layer_imports_only_what_it_may(package: str) -> None:
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        folder, allowed = _rule_for(path)
        for name in _imports(path):
            if not _allowed(name, folder, allowed):
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert wrong == []


def test_protocol_folders_do_not_import_each_other() -> None:
    protocols = [p.name for p in (ROOT / "ingest").iterdir()
                 if p.is_dir() and p.name not in ("codecs", "__pycache__")]
    wrong = []
    for protocol in protocols:
        others = [f"ingest.{other}" for other in protocols if other != protocol]
        for path in (ROOT / "ingest" / protocol).rglob("*.py"):
            wrong.extend(f"{path.relative_to(ROOT)} imports {name}" for name in _imports(path)
                         if any(name == o or name.startswith(o + ".") for o in others))
    # SRT carries MPEG-TS: the one protocol that may use another's parser.
    assert [w for w in wrong if "ingest/srt/" not in w or "ingest.mpegts" not in w] == []
