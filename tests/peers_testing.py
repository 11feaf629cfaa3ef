"""Finding the real peers (ffmpeg, GStreamer, srt-live-transmit, Chromium) for interop tests."""

from __future__ import annotations

import shutil
import subprocess

import pytest


def require_tool(name: str) -> str:
    """The tool's path, or skip (which CI turns into a failure) naming what is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (make test installs it)")
    return path


def require_gst_element(element: str) -> None:
    require_tool("gst-inspect-1.0")
    found = subprocess.run(["gst-inspect-1.0", "--exists", element], check=False)
    if found.returncode != 0:
        pytest.skip(f"GStreamer element {element} is not installed")
