"""The process's Prometheus metrics: one registry, standard names.

Counters end in ``_total``, durations and ages are in ``_seconds``. Every
``orgwork_*`` series is labelled ``orgwork_service`` with the service it
counts for, so several services in one process (the tests) do not mix. The
label is not called ``service``: the Prometheus Operator puts a ``service``
label (the Kubernetes Service scraped) on every target, and the scrape would
rename ours to ``exported_service``.

The registry is private (nothing of the libraries' global registry leaks in),
so the process and runtime collectors are registered on it explicitly:
``process_*`` (CPU, memory, open files, start time), ``python_info`` and
``python_gc_*``. It is served on a port of its own by
``operations.Operations``, never by a worker, so a scrape never waits.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

#: The label naming the service on every ``orgwork_*`` series.
SERVICE_LABEL = "orgwork_service"

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)
GCCollector(registry=REGISTRY)

EVENTS_APPENDED = Counter(
    "orgwork_events_appended_total", "Events appended to the service's store", [SERVICE_LABEL], registry=REGISTRY
)
EVENTS_PUBLISHED = Counter(
    "orgwork_events_published_total",
    "Events the relay published to RabbitMQ (confirmed)",
    [SERVICE_LABEL],
    registry=REGISTRY,
)
EVENTS_HANDLED = Counter(
    "orgwork_events_handled_total",
    "Other services' events handled, by outcome (handled, duplicate, dead_lettered)",
    [SERVICE_LABEL, "source", "type", "outcome"],
    registry=REGISTRY,
)
EVENTS_UNROUTABLE = Counter(
    "orgwork_events_unroutable_total",
    "Events the broker returned because no queue was bound for them (a late subscriber reads the store)",
    [SERVICE_LABEL, "type"],
    registry=REGISTRY,
)
DUPLICATES_SKIPPED = Counter(
    "orgwork_duplicates_skipped_total",
    "Redelivered events skipped by the inbox",
    [SERVICE_LABEL, "source"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "orgwork_dead_letters_total",
    "Events dead-lettered after their retries",
    [SERVICE_LABEL, "handler"],
    registry=REGISTRY,
)
DEAD_LETTERS_OPEN = Gauge(
    "orgwork_dead_letters_open", "Dead letters waiting to be replayed", [SERVICE_LABEL], registry=REGISTRY
)
RELAY_LAG_EVENTS = Gauge(
    "orgwork_relay_lag_events", "Stored events the relay has not yet published", [SERVICE_LABEL], registry=REGISTRY
)
RELAY_LAG_SECONDS = Gauge(
    "orgwork_relay_lag_seconds",
    "Age of the oldest stored event not yet published",
    [SERVICE_LABEL],
    registry=REGISTRY,
)
RELAY_LEADER = Gauge(
    "orgwork_relay_leader", "1 when this process's relay is the one publishing", [SERVICE_LABEL], registry=REGISTRY
)
HORIZON_LAG_EVENTS = Gauge(
    "orgwork_store_horizon_lag_events",
    "Committed events held back from readers by a transaction still in flight",
    [SERVICE_LABEL],
    registry=REGISTRY,
)
HORIZON_LAG_SECONDS = Gauge(
    "orgwork_store_horizon_lag_seconds",
    "Age of the oldest writing transaction, which bounds the safe read horizon",
    [SERVICE_LABEL],
    registry=REGISTRY,
)
PROJECTION_APPLIED = Counter(
    "orgwork_projection_events_applied_total",
    "Events applied to projections",
    [SERVICE_LABEL, "projection"],
    registry=REGISTRY,
)
# What "age" means here is the one honest reading of a checkpoint that may be
# current simply because nothing happened: not "time since it last moved", but
# how long the oldest event it still owes has been waiting (0 when it owes
# nothing). Measured by ``operations.CheckpointAges``, whose docstring has the
# details; every replica of a service reports the same figure (it is read from
# the shared database), so alert on the max.
CHECKPOINT_AGE_SECONDS = Gauge(
    "orgwork_checkpoint_age_seconds",
    "Age of the oldest event past a checkpoint that it has yet to take, 0 when caught up "
    "(checkpoint: projection:<name> over the service's own store, subscription:<source> "
    "over the events of the types it handles in the source's store)",
    [SERVICE_LABEL, "checkpoint"],
    registry=REGISTRY,
)
DEADLINES_MISSED = Counter(
    "orgwork_deadlines_missed_total",
    "Deadlines recorded as missed (a breach event committed), once per breach, by kind",
    [SERVICE_LABEL, "kind"],
    registry=REGISTRY,
)
RPC_DURATION = Histogram(
    "orgwork_rpc_duration_seconds",
    "RPC method latency, validation included",
    [SERVICE_LABEL, "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
MESSAGES_REJECTED = Counter(
    "orgwork_messages_rejected_total",
    "Messages refused before any handler ran, by kind (rpc, event) and reason (a closed set)",
    [SERVICE_LABEL, "kind", "reason"],
    registry=REGISTRY,
)
ERRORS = Counter(
    "orgwork_errors_total", "Errors raised by workers, by type", [SERVICE_LABEL, "type"], registry=REGISTRY
)


def count_missed_deadline(service: str, kind: str) -> None:
    """One breach of ``service``'s deadlines of ``kind`` committed (``shared.application.sweeps`` reports it)."""
    DEADLINES_MISSED.labels(service, kind).inc()
