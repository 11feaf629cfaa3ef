"""The store's timings: every round trip to the database thread, and WAL checkpoints.

A query's time is from the event loop's point of view: its wait in the connection's queue
(behind the statements before it) included, since that is what a chat send waits for."""

from __future__ import annotations

from prometheus_client import Histogram

from mediad.metrics.registry import EVENTS

STORE_QUERY_SECONDS = Histogram(
    "mediad_store_query_seconds",
    "Store statements (a statement, or a fetch from its cursor) from queued to answered.",
    buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
             0.5, 1.0, 2.5),
    registry=EVENTS)

STORE_CHECKPOINT_SECONDS = Histogram(
    "mediad_store_checkpoint_seconds",
    "WAL checkpoints (copying the write-ahead log into the database file, with its fsync).",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
    registry=EVENTS)
