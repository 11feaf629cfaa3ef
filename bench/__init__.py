"""Benchmarks: each prints our figure beside a peer's from the same run."""
