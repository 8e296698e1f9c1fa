"""The services running (P3 here; P4a and P4b in ``commands``), measured against plain nameko in the same run."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

from nameko.standalone.rpc import ClusterRpcProxy

from bench.apps import BenchSink, BenchSource
from bench.environment import BenchEnvironment
from bench.measure import figure, in_threads, percentile
from shared.config import REPO_ROOT, Settings
from shared.db.database import Database, fetch_one
from shared.eventstore.records import Metadata, NewEvent
from shared.eventstore.store import EventStore
from shared.runtime.process.control import free_port, launch, stop_all, wait_ready
from shared.runtime.process.provisioning import declare_queues, migrate_service

META = Metadata(actor="bench")


class Platform:
    """bench_source and bench_sink on the platform, plain_source and plain_sink on bare nameko."""

    def __init__(self, env: BenchEnvironment) -> None:
        self.env = env
        self.processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> "Platform":
        settings = Settings.from_env()
        for cls in (BenchSource, BenchSink):
            migrate_service(settings, cls)
        declare_queues(settings, [BenchSource, BenchSink])
        env = {**os.environ, "LOG_LEVEL": "WARNING", "LOG_FORMAT": "json"}
        log = open(os.environ.get("BENCH_SERVICE_LOG", os.devnull), "ab")
        ports: dict[str, int] = {}
        for target in ("bench.apps:BenchSource", "bench.apps:BenchSink"):
            ports[target] = free_port()
            self.processes.append(
                launch(target, health_port=ports[target], metrics_port=free_port(), env=env, stdout=log, stderr=log)
            )
        for target in ("bench.apps:PlainSource", "bench.apps:PlainSink"):
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "bench.run_plain", target], cwd=REPO_ROOT, env=env, stdout=log, stderr=log
                )
            )
        wait_ready(ports, 90)
        self.database = Database(self.env.database_url, size=10, application_name="bench-p3")
        with ClusterRpcProxy({"AMQP_URI": self.env.amqp_uri}, timeout=30) as rpc:  # plain services answer
            deadline = time.monotonic() + 60
            while True:
                try:
                    rpc.plain_sink.received_count()
                    rpc.plain_source.echo(1)
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
        return self

    def handled(self, prefix: str) -> int:
        with self.database.transaction() as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM bench_sink.inbox WHERE stream_id LIKE %s", [prefix + "%"])
            return int(fetch_one(cur)[0])

    def __exit__(self, *exc: Any) -> None:
        stop_all(self.processes)
        if hasattr(self, "database"):
            self.database.close()


def _wait_handled(platform: Platform, prefix: str, expected: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while True:
        if platform.handled(prefix) >= expected:
            return time.perf_counter()
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {platform.handled(prefix)} of {expected} events handled in {timeout}s")
        time.sleep(0.02)


def p3(platform: Platform, quick: bool) -> dict[str, Any]:
    store = EventStore(platform.database, "bench_source")
    total = 6000 if quick else 30000
    writers, batch = 8, 10
    prefix = f"counter-t{uuid.uuid4().hex[:6]}"

    def produce(i: int) -> None:
        for k in range(total // writers // batch):
            store.append(f"{prefix}x{i}x{k}", [NewEvent("Incremented", {"by": 1}) for _ in range(batch)], 0, META)

    started = time.perf_counter()
    producer = threading.Thread(target=in_threads, args=(writers, produce))
    producer.start()
    finished = _wait_handled(platform, prefix, total, timeout=300)
    producer.join()
    throughput = total / (finished - started)

    # Lag at a steady 500 events/s.
    seconds = 4 if quick else 10
    lag_prefix = f"counter-l{uuid.uuid4().hex[:6]}"
    count = 500 * seconds
    start = time.perf_counter()
    for n in range(count):
        store.append(f"{lag_prefix}x{n % 100}", [NewEvent("Incremented", {"by": 1})], -1, META)
        pause = start + (n + 1) / 500 - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
    _wait_handled(platform, lag_prefix, count, timeout=120)
    with platform.database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT extract(epoch FROM i.handled_at - (e.metadata->>'recorded_at')::timestamptz)::float8 "
            "FROM bench_sink.inbox i JOIN bench_source.events e ON e.event_id = i.event_id "
            "WHERE e.stream_id LIKE %s",
            [lag_prefix + "%"],
        )
        lags = [row[0] * 1000 for row in cur.fetchall()]

    # Plain nameko: EventDispatcher to event_handler, no store, no inbox.
    with ClusterRpcProxy({"AMQP_URI": platform.env.amqp_uri}, timeout=300) as rpc:
        before = rpc.plain_sink.received_count()
        plain_total = total // 2
        started = time.perf_counter()
        rpc.plain_source.dispatch_many(plain_total)
        while rpc.plain_sink.received_count() < before + plain_total:
            time.sleep(0.02)
        plain = plain_total / (time.perf_counter() - started)
    p99 = percentile(lags, 99)
    return figure(
        throughput,
        "events/s",
        ">= 3,000 events/s sustained; p99 lag < 100 ms at a steady 500 events/s; ratio to plain nameko dispatch reported",
        throughput >= 3000 and p99 < 100,
        {"plain_nameko_dispatch": plain},
        events=total,
        lag_ms_p50=round(percentile(lags, 50), 1),
        lag_ms_p99=round(p99, 1),
        lag_events=len(lags),
    )
