"""What ``mediad doctor`` reports: one finding per check, each failure with its fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Level = Literal["OK", "WARN", "FAIL"]


@dataclass(frozen=True, slots=True)
class Finding:
    level: Level
    check: str
    """What was looked at: ``config``, ``port rtmp``, ``store``, ``tls``..."""
    message: str
    """What was found, with the values that matter (paths, ports, sizes)."""
    fix: str = ""
    """What to do about it, concretely (a WARN or FAIL always has one)."""


def ok(check: str, message: str) -> Finding:
    return Finding("OK", check, message)


def warn(check: str, message: str, fix: str) -> Finding:
    return Finding("WARN", check, message, fix)


def fail(check: str, message: str, fix: str) -> Finding:
    return Finding("FAIL", check, message, fix)


def gigabytes(size: float) -> str:
    return f"{size / 1e9:.1f} GB"
