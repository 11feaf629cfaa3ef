"""conf/grafana-mediad.json: a Grafana dashboard (JSON model) to import with a Prometheus
data source, over the metrics the contract defines and no other."""

from __future__ import annotations

import json

from tests.mediad.metrics.contract_testing import CONTRACT, all_exposed_names
from tests.mediad.metrics.dashboard_testing import (
    DASHBOARD,
    PATH,
    metric_names,
    panel_queries,
    panels,
)

DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


def test_it_is_a_dashboard_with_a_prometheus_datasource_input() -> None:
    assert json.loads(PATH.read_text()) == DASHBOARD
    assert DASHBOARD["__inputs"] == [{
        "name": "DS_PROMETHEUS", "label": "Prometheus",
        "description": DASHBOARD["__inputs"][0]["description"], "type": "datasource",
        "pluginId": "prometheus", "pluginName": "Prometheus"}]
    assert DASHBOARD["uid"] and DASHBOARD["title"] and DASHBOARD["schemaVersion"] >= 36
    drawn = panels(DASHBOARD)
    assert len(drawn) >= 20
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert len(ids) == len(set(ids))
    for panel in drawn:
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], panel["title"]
        assert all(t["datasource"] == DATASOURCE and t["expr"] for t in panel["targets"])
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        place = panel["gridPos"]
        assert place["x"] >= 0 and place["w"] > 0 and place["x"] + place["w"] <= 24
    for variable in DASHBOARD["templating"]["list"]:
        assert variable["datasource"] == DATASOURCE
        assert variable["allValue"] == ".*"  # what the queries' =~ expects of "All"


def test_panels_do_not_overlap() -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in DASHBOARD["panels"]:
        place = panel["gridPos"]
        for x in range(place["x"], place["x"] + place["w"]):
            for y in range(place["y"], place["y"] + place["h"]):
                assert (x, y) not in cells, (panel["title"], cells.get((x, y)))
                cells[(x, y)] = panel["title"]


def test_every_metric_it_reads_is_one_the_contract_defines() -> None:
    known = all_exposed_names()
    used: set[str] = set()
    for title, expr in panel_queries(DASHBOARD, rate_interval="1m", instance=".*",
                                     stream=".*"):
        names = metric_names(expr)
        assert names, f"{title}: {expr} reads no metric"
        assert names <= known, f"{title}: {sorted(names - known)} not in the contract"
        used |= names
    for variable in DASHBOARD["templating"]["list"]:
        assert metric_names(variable["definition"]) <= known
        used |= metric_names(variable["definition"])
    # And it shows them all.
    shown = {name for name in CONTRACT
             if any(n in used for n in (name, f"{name}_bucket", f"{name}_count"))}
    assert set(CONTRACT) - shown == set(), sorted(set(CONTRACT) - shown)


def test_the_name_reader_skips_label_values() -> None:
    assert metric_names('sum(rate(mediad_hls_requests_total{kind="mediad_x"}[1m]))') == {
        "mediad_hls_requests_total"}
    assert metric_names(
        "histogram_quantile(0.9, rate(mediad_player_latency_seconds_bucket[1m]))") == {
        "mediad_player_latency_seconds_bucket"}
