"""Suite-wide rules: interop tests may not skip in CI, and under xdist they run one at a time."""

from __future__ import annotations

import logging
import os
from collections.abc import Generator
from typing import Any

import pytest
from _pytest.logging import LogCaptureHandler
from hypothesis import settings

from mediad.logs import HumanFormatter, JsonFormatter

REQUIRE_INTEROP = os.environ.get("MEDIAD_REQUIRE_INTEROP") == "1"
CHAOS_SEEDS: list[int] = []
"""The chaos campaign's seeds, as the xdist workers that ran it report them."""
BROWSER_JOURNEYS = frozenset({"tests/interop/test_browsers.py", "tests/interop/test_player_e2e.py",
                              "tests/interop/test_replay_e2e.py"})


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``-n 2 --dist loadgroup`` (``make test``) every interop test runs on one worker,
    one after another in the serial order, while the unit tests share out the other: interop
    tests start real daemons and peers and time them, and two at once would halve the cores
    each was sized for. Before xdist's own hook, which turns the mark into a group by renaming
    the test (``...@interop``).

    The browser journeys come last: they run several pages with video at once, and beside
    the unit tests (about four minutes on the other worker) a starved WebKit stalled its
    pipeline and missed its 30 s budget. By then the unit tests are done."""
    # Stable: the rest keep their order.
    items.sort(key=lambda item: item.nodeid.split("::")[0] in BROWSER_JOURNEYS)
    if config.pluginmanager.hasplugin("xdist"):
        for item in items:
            if item.get_closest_marker("interop"):
                item.add_marker(pytest.mark.xdist_group("interop"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """xdist stopped renaming, and so grouping, under pytest 9.2 (pytest-xdist issue 1386): the
    tests are then shared out as if unmarked, with no word said. Hence pytest 9.1 in
    pyproject.toml, and an interop test that would run beside another fails instead."""
    if (getattr(item.config.option, "loadgroup", False) and item.get_closest_marker("interop")
            and not item.nodeid.endswith("@interop")):
        pytest.fail("--dist loadgroup did not put this interop test in the interop group: this"
                    " pytest-xdist does not group under this pytest", pytrace=False)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """xdist's controller collects no test, so tests/chaos/conftest.py names the seed from the
    worker that ran the campaign, and the controller prints it."""
    seed = getattr(node, "workeroutput", {}).get("chaos_seed")
    if seed is not None:
        CHAOS_SEEDS.append(seed)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    for seed in CHAOS_SEEDS:
        terminalreporter.write_line(f"chaos campaign seed {seed} (replay: CHAOS_SEED={seed})")


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
def _root_logger_as_found() -> Generator[None]:
    """Give the next test the root logger this one found. A test that runs the CLI in the
    test process (``mediad.cli.main``) sets the daemon's logging up: the root at ERROR, and
    its handler in place of pytest's. A later test in that process (under xdist, in an order
    that changes) then never saw the WARNING it asserted on in ``caplog``."""
    root = logging.getLogger()
    level, filters, handlers = root.level, root.filters[:], root.handlers[:]
    yield
    root.setLevel(level)
    root.filters[:] = filters
    for handler in root.handlers[:]:
        if isinstance(handler.formatter, HumanFormatter | JsonFormatter):
            root.removeHandler(handler)
    # The session's handlers (--log-cli-level, --log-file) come back; a capture handler
    # belongs to one test phase and is not put back.
    for handler in handlers:
        if not isinstance(handler, LogCaptureHandler):
            root.addHandler(handler)


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
