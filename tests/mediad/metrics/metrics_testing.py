"""Reading a daemon's metrics as a scrape would: its registry's rendering, parsed back."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from mediad.metrics.registry import DaemonMetrics


def samples(metrics: DaemonMetrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Every sample called ``name`` in a rendering, keyed by its sorted labels."""
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(metrics.render().decode()):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(metrics: DaemonMetrics, name: str, **labels: str) -> float:
    """One sample's value; 0.0 when the rendering has none (a child not yet made)."""
    return samples(metrics, name).get(tuple(sorted(labels.items())), 0.0)

