"""conf/grafana-mediad.json as its tests read it: the panels' PromQL, with Grafana's
variables put in as Grafana would, and the metric names each query uses."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

PATH = Path(__file__).parents[3] / "conf" / "grafana-mediad.json"
DASHBOARD: dict[str, Any] = json.loads(PATH.read_text())

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_NAME = re.compile(r"\b(?:mediad|process)_[a-z0-9_]+\b")


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel that draws (rows apart), those inside collapsed rows included."""
    found = []
    for panel in dashboard["panels"]:
        if panel["type"] == "row":
            found.extend(panel.get("panels", []))
        else:
            found.append(panel)
    return found


def panel_queries(dashboard: dict[str, Any], *, rate_interval: str, instance: str,
                  stream: str) -> list[tuple[str, str]]:
    """(panel title, PromQL) for every target, with ``$__rate_interval``, ``$instance``
    and ``$stream`` replaced (a multi-value variable set to All is its ``allValue``)."""
    queries = []
    for panel in panels(dashboard):
        for target in panel["targets"]:
            expr = (target["expr"].replace("$__rate_interval", rate_interval)
                    .replace("$instance", instance).replace("$stream", stream))
            queries.append((panel["title"], expr))
    return queries


def metric_names(expr: str) -> set[str]:
    """The series names a query reads (label values inside quotes are not names)."""
    return set(_NAME.findall(_STRING.sub('""', expr)))
