"""Names the chaos campaign's seed at the end of the run, so that any run can be replayed."""

from __future__ import annotations

import pytest

from tests.chaos.seed_testing import SEED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not hasattr(terminalreporter.config, "workerinput"):
        terminalreporter.write_line(f"chaos campaign seed {SEED} (replay: CHAOS_SEED={SEED})")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under xdist the campaign (the interop part of tests/chaos) runs in a worker, whose summary
    nobody sees, and each worker draws its own seed: the worker that ran it sends its seed back,
    and tests/conftest.py prints it in the controller."""
    workeroutput = getattr(item.config, "workeroutput", None)
    if workeroutput is not None and item.get_closest_marker("interop"):
        workeroutput["chaos_seed"] = SEED
