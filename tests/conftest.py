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
