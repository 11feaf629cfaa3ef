"""The file operations the recording writer needs, behind one small interface so that the
writer can be tested against a disk that is slow, full or failing (``tests/``)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Protocol


class Disk(Protocol):
    def write(self, path: Path, data: bytes | memoryview) -> None:
        """A new file with ``data``, on the disk when this returns (its folder made)."""

    def append(self, path: Path, data: bytes) -> None:
        """``data`` at the end of ``path`` (made if missing), on the disk when this returns."""

    def replace(self, path: Path, data: bytes) -> None:
        """``path`` holds ``data`` or its previous content, never a part of either."""

    def remove_tree(self, path: Path) -> None:
        """``path`` and everything under it, gone (nothing if it is already gone)."""


class LocalDisk:
    """The real file system. Files are synced before they are journalled: a power cut,
    like ``kill -9``, loses at most the segment being written."""

    def write(self, path: Path, data: bytes | memoryview) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
            f.flush()
            os.fdatasync(f.fileno())

    def append(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "ab") as f:
            f.write(data)
            f.flush()
            os.fdatasync(f.fileno())

    def replace(self, path: Path, data: bytes) -> None:
        temporary = path.with_name(path.name + ".tmp")
        self.write(temporary, data)
        os.replace(temporary, path)

    def remove_tree(self, path: Path) -> None:
        shutil.rmtree(path, ignore_errors=True)
