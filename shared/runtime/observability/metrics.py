"""The process's Prometheus metrics: one registry, standard names.

Counters end in ``_total``, durations are in ``_seconds``; every series is
labelled with the service, so several services in one process (the tests) do
not mix. The registry is served on a port of its own by
``operations.Operations``, never by a worker, so a scrape never waits.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_APPENDED = Counter(
    "orgwork_events_appended_total", "Events appended to the service's store", ["service"], registry=REGISTRY
)
EVENTS_PUBLISHED = Counter(
    "orgwork_events_published_total",
    "Events the relay published to RabbitMQ (confirmed)",
    ["service"],
    registry=REGISTRY,
)
EVENTS_HANDLED = Counter(
    "orgwork_events_handled_total",
    "Other services' events handled, by outcome (handled, duplicate, dead_lettered)",
    ["service", "source", "type", "outcome"],
    registry=REGISTRY,
)
EVENTS_UNROUTABLE = Counter(
    "orgwork_events_unroutable_total",
    "Events the broker returned because no queue was bound for them (a late subscriber reads the store)",
    ["service", "type"],
    registry=REGISTRY,
)
DUPLICATES_SKIPPED = Counter(
    "orgwork_duplicates_skipped_total",
    "Redelivered events skipped by the inbox",
    ["service", "source"],
    registry=REGISTRY,
)
DEAD_LETTERS = Counter(
    "orgwork_dead_letters_total", "Events dead-lettered after their retries", ["service", "handler"], registry=REGISTRY
)
DEAD_LETTERS_OPEN = Gauge(
    "orgwork_dead_letters_open", "Dead letters waiting to be replayed", ["service"], registry=REGISTRY
)
RELAY_LAG_EVENTS = Gauge(
    "orgwork_relay_lag_events", "Stored events the relay has not yet published", ["service"], registry=REGISTRY
)
RELAY_LAG_SECONDS = Gauge(
    "orgwork_relay_lag_seconds", "Age of the oldest stored event not yet published", ["service"], registry=REGISTRY
)
RELAY_LEADER = Gauge(
    "orgwork_relay_leader", "1 when this process's relay is the one publishing", ["service"], registry=REGISTRY
)
HORIZON_LAG_EVENTS = Gauge(
    "orgwork_store_horizon_lag_events",
    "Committed events held back from readers by a transaction still in flight",
    ["service"],
    registry=REGISTRY,
)
HORIZON_LAG_SECONDS = Gauge(
    "orgwork_store_horizon_lag_seconds",
    "Age of the oldest writing transaction, which bounds the safe read horizon",
    ["service"],
    registry=REGISTRY,
)
PROJECTION_APPLIED = Counter(
    "orgwork_projection_events_applied_total",
    "Events applied to projections",
    ["service", "projection"],
    registry=REGISTRY,
)
RPC_DURATION = Histogram(
    "orgwork_rpc_duration_seconds",
    "RPC method latency, validation included",
    ["service", "method"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=REGISTRY,
)
MESSAGES_REJECTED = Counter(
    "orgwork_messages_rejected_total",
    "Messages refused before any handler ran, by kind (rpc, event) and reason (a closed set)",
    ["service", "kind", "reason"],
    registry=REGISTRY,
)
ERRORS = Counter("orgwork_errors_total", "Errors raised by workers, by type", ["service", "type"], registry=REGISTRY)
