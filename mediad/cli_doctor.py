"""``mediad doctor``: each check's verdict and, for anything not OK, what to do about it.
Exit 0 when nothing failed (warnings included), 1 otherwise."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from mediad.doctor import DoctorSettings, diagnose
from mediad.doctor_findings import Finding
from mediad.doctor_storage import DiskThresholds

_LEVEL_WIDTH = 5


def add_doctor_command(sub: Any) -> None:
    doctor = sub.add_parser(
        "doctor", help="check the config, ports, store, encoder, TLS files and disk",
        description="Checks what this config needs to start and serve, and prints what to "
                    "fix. Exit status 0 when nothing FAILed.")
    doctor.add_argument("--min-free-gb", type=float, default=None, metavar="GB",
                        help="warn when the recordings' disk has less free space "
                             f"(default {DiskThresholds().warn_bytes / 1e9:g})")


def run_doctor_command(config_path: str | None, args: argparse.Namespace,
                       out: TextIO | None = None) -> int:
    out = out or sys.stdout
    settings = DoctorSettings()
    if args.min_free_gb is not None:
        warn_bytes = int(args.min_free_gb * 1e9)
        settings = DoctorSettings(disk=DiskThresholds(
            warn_bytes=warn_bytes, fail_bytes=min(warn_bytes, DiskThresholds().fail_bytes)))
    findings = diagnose(config_path, settings=settings)
    for finding in findings:
        out.write(render(finding))
    failed = sum(f.level == "FAIL" for f in findings)
    warned = sum(f.level == "WARN" for f in findings)
    verdict = "mediad can start" if not failed else "mediad cannot start as configured"
    out.write(f"\n{failed} failed, {warned} warnings: {verdict}\n")
    return 1 if failed else 0


def render(finding: Finding) -> str:
    line = f"{finding.level:<{_LEVEL_WIDTH}} {finding.check}: {finding.message}\n"
    if finding.fix:
        line += f"{'':<{_LEVEL_WIDTH}}   fix: {finding.fix}\n"
    return line
