"""Suite-wide rules: interop tests may not skip in CI."""

from __future__ import annotations

import os
from collections.abc import Generator

import pytest
from hypothesis import settings

REQUIRE_INTEROP = os.environ.get("MEDIAD_REQUIRE_INTEROP") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    if REQUIRE_INTEROP and report.skipped and item.get_closest_marker("interop"):
        # In CI the peers are installed by .ci/run: a skip means a peer is missing, and an
        # interop suite that silently skips proves nothing.
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"interop test skipped with MEDIAD_REQUIRE_INTEROP=1: {reason}"


# CI machines are shared and slow at times: no per-example deadline there, same search.
settings.register_profile("ci", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture(autouse=True)
def _ordinary_scheduling() -> None:
    """Run every test, and so every peer it starts, under the ordinary scheduler.

    The test process has been seen running under SCHED_FIFO at priority 99 on this machine
    kind, set from outside (nothing in the project or its dependencies asks for it).
    Children inherit the policy: a headless Chromium with real-time threads then spins and
    starves the machine, and even SIGKILL waits.
    """
    if hasattr(os, "sched_getscheduler") and os.sched_getscheduler(0) != os.SCHED_OTHER:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
