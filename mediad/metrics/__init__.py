"""Prometheus metrics: the instruments, the per-daemon registry and the ``/metrics`` route."""
