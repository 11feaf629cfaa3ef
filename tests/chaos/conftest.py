"""Names the chaos campaign's seed at the end of the run, so that any run can be replayed."""

from __future__ import annotations

import pytest

from tests.chaos.seed_testing import SEED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.write_line(f"chaos campaign seed {SEED} (replay: CHAOS_SEED={SEED})")
