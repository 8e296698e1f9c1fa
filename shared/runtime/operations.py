"""Health, metrics and tracing for one service: what operators and Kubernetes see.

``Operations`` serves two small HTTP servers in greenthreads of their own,
apart from nameko's workers (a busy service still answers its probes and a
scrape never waits for a worker):

* health port: ``/health/live`` (the process runs), ``/health/ready``
  (PostgreSQL and RabbitMQ answer and the relay is not far behind) and
  ``/status`` (the figures ``orgctl status`` shows);
* metrics port: ``/metrics``, the process's Prometheus registry.

It also hooks every worker: the correlation id goes into the logs' context,
RPC latency into a histogram by method, errors into a counter by type; and it
refreshes the lag gauges every few seconds.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import eventlet
import eventlet.wsgi
import kombu
import psycopg2
from nameko.extensions import DependencyProvider
from prometheus_client import make_wsgi_app

from shared.application.calendars import CALENDAR_STREAM, shipped_calendar
from shared.config import service_ports
from shared.db.database import CONNECT_OPTIONS, fetch_one
from shared.eventstore.records import Cursor
from shared.runtime.messaging.inbound import subscriptions_of
from shared.runtime.messaging.inbox import DeadLetters
from shared.runtime.messaging.relay import relay_lag
from shared.runtime.messaging.rpc import ValidatedRpc
from shared.runtime.messaging.subscriptions import SubscriptionBook, source_store_exists
from shared.runtime.observability import logs, metrics
from shared.runtime.resources import ServiceDatabase, settings_of

log = logging.getLogger(__name__)

PORTS_KEY = "ORGWORK_PORTS"  # config override {"health": n, "metrics": n}; 0 picks a free port
GAUGE_INTERVAL = 2.0
CHECK_TTL = 2.0


@dataclass
class Readiness:
    ready: bool
    database: str
    broker: str
    relay_lag_events: int
    relay_lag_seconds: float


class _Cached:
    """A check's last answer, kept for a moment so probes stay cheap."""

    def __init__(self, check: Callable[[], str], ttl: float = CHECK_TTL) -> None:
        self.check, self.ttl = check, ttl
        self.value, self.at = "unknown", 0.0

    def __call__(self) -> str:
        if time.monotonic() - self.at > self.ttl:
            try:
                self.value = self.check()
            except Exception as error:
                self.value = f"down: {type(error).__name__}: {str(error).strip()[:200]}"
            self.at = time.monotonic()
        return self.value


class Operations(DependencyProvider):
    """Declare as ``operations = Operations()``."""

    pool = ServiceDatabase()

    def setup(self) -> None:
        self.settings = settings_of(self.container)
        self.service = self.container.service_name
        override = self.container.config.get(PORTS_KEY)
        if override is not None:
            self.health_port, self.metrics_port = override["health"], override["metrics"]
        else:
            ports = service_ports(self.service)
            self.health_port, self.metrics_port = ports.health, ports.metrics
        self._database_check = _Cached(self._check_database)
        self._broker_check = _Cached(self._check_broker)
        self._threads: list[Any] = []
        self._sockets: list[Any] = []
        self._stopping = False

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        health = eventlet.listen(("0.0.0.0", self.health_port))
        scrape = eventlet.listen(("0.0.0.0", self.metrics_port))
        self._sockets = [health, scrape]
        self.health_port = health.getsockname()[1]
        self.metrics_port = scrape.getsockname()[1]
        quiet = {"log_output": False, "log": logging.getLogger("orgwork.http")}
        self._threads = [
            eventlet.spawn(eventlet.wsgi.server, health, self._health_app, **quiet),
            eventlet.spawn(eventlet.wsgi.server, scrape, make_wsgi_app(metrics.REGISTRY), **quiet),
            eventlet.spawn(self._refresh_gauges),
        ]
        log.info("%s: health on :%d, metrics on :%d", self.service, self.health_port, self.metrics_port)

    def stop(self) -> None:
        self._stopping = True
        for thread in self._threads:
            thread.kill()
        for sock in self._sockets:
            sock.close()

    def kill(self) -> None:
        self.stop()

    # -- workers -----------------------------------------------------------

    def worker_setup(self, worker_ctx: Any) -> None:
        worker_ctx.data["orgwork.started"] = time.perf_counter()
        logs.correlation_id.set(worker_ctx.context_data.get("correlation_id"))

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = worker_ctx.data.get("orgwork.started")
        if isinstance(worker_ctx.entrypoint, ValidatedRpc) and started is not None:
            metrics.RPC_DURATION.labels(self.service, worker_ctx.entrypoint.method_name).observe(
                time.perf_counter() - started
            )
        if exc_info is not None:
            metrics.ERRORS.labels(self.service, exc_info[0].__name__).inc()

    def worker_teardown(self, worker_ctx: Any) -> None:
        logs.correlation_id.set(None)

    # -- health ------------------------------------------------------------

    def _check_database(self) -> str:
        conn = psycopg2.connect(
            self.settings.database_url,
            application_name=f"{self.service}-health",
            **{**CONNECT_OPTIONS, "connect_timeout": 2},
        )
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1")
        finally:
            conn.close()
        return "ok"

    def _check_broker(self) -> str:
        with kombu.Connection(self.settings.amqp_uri, connect_timeout=2, ssl=self.settings.amqp_ssl()) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        return "ok"

    def readiness(self) -> Readiness:
        database, broker = self._database_check(), self._broker_check()
        lag_events = int(_gauge_value(metrics.RELAY_LAG_EVENTS, self.service))
        lag_seconds = _gauge_value(metrics.RELAY_LAG_SECONDS, self.service)
        ready = database == "ok" and broker == "ok" and lag_seconds <= self.settings.relay_lag_ready_seconds
        return Readiness(ready, database, broker, lag_events, lag_seconds)

    def status(self) -> dict[str, Any]:
        readiness = self.readiness()
        return {
            "service": self.service,
            "alive": True,
            **asdict(readiness),
            "clock": self.settings.clock,
            "relay_leader": bool(_gauge_value(metrics.RELAY_LEADER, self.service)),
            "horizon_lag_events": int(_gauge_value(metrics.HORIZON_LAG_EVENTS, self.service)),
            "horizon_lag_seconds": _gauge_value(metrics.HORIZON_LAG_SECONDS, self.service),
            "dead_letters": int(_gauge_value(metrics.DEAD_LETTERS_OPEN, self.service)),
            "events_stored": self._events_stored(),
            "subscriptions": self._subscriptions(),
            "calendar": self._calendar(),
        }

    def _calendar(self) -> dict[str, Any]:
        """The calendar years the service counts on: those loaded into its store, and the shipped ones besides."""
        try:
            with self.pool.database.transaction() as conn, conn.cursor() as cur:
                cur.execute(
                    f"SELECT DISTINCT (data->>'year')::int FROM \"{self.service}\".events WHERE stream_id = %s",
                    [CALENDAR_STREAM],
                )
                loaded = sorted(int(row[0]) for row in cur.fetchall())
        except Exception as error:
            return {"error": f"{type(error).__name__}: {str(error)[:200]}"}
        shipped = sorted(set(shipped_calendar().years) - set(loaded))
        summary = (
            f"loaded {', '.join(map(str, loaded))}" + (f"; shipped {', '.join(map(str, shipped))}" if shipped else "")
            if loaded
            else "shipped years only (none loaded)"
        )
        return {"loaded": loaded, "shipped": shipped, "summary": summary}

    def _subscriptions(self) -> list[dict[str, Any]]:
        """Each subscription: its cursor in the source's store, and the events of its types after it."""
        handled = subscriptions_of(self.container.service_cls)
        if not handled:
            return []
        try:
            with self.pool.database.transaction() as conn, conn.cursor() as cur:
                states = {s.source: s for s in SubscriptionBook(self.service).all(conn)}
                answer = []
                for source, types in sorted(handled.items()):
                    state = states.get(source)
                    cursor = state.cursor if state else Cursor()
                    lag = None
                    if source_store_exists(conn, source):
                        cur.execute(
                            f'SELECT count(*) FROM "{source}".events '
                            "WHERE (tx_id, position) > (%s::text::xid8, %s) AND type = ANY(%s)",
                            [cursor.tx_id, cursor.position, list(types)],
                        )
                        lag = int(fetch_one(cur)[0])
                    answer.append(
                        {
                            "source": source,
                            "position": str(cursor),
                            "caught_up_at": state.caught_up_at if state else None,
                            "lag_events": lag,
                        }
                    )
                return answer
        except Exception as error:
            return [{"error": f"{type(error).__name__}: {str(error)[:200]}"}]

    def _events_stored(self) -> int | None:
        try:
            with self.pool.database.transaction() as conn, conn.cursor() as cur:
                cur.execute(f'SELECT count(*) FROM "{self.service}".events')
                return int(fetch_one(cur)[0])
        except Exception:
            return None

    def _health_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/health/live":
            return _json(start_response, 200, {"service": self.service, "alive": True})
        if path == "/health/ready":
            readiness = self.readiness()
            return _json(
                start_response, 200 if readiness.ready else 503, {"service": self.service, **asdict(readiness)}
            )
        if path == "/status":
            return _json(start_response, 200, self.status())
        return _json(start_response, 404, {"error": f"no such path {path}"})

    # -- gauges ------------------------------------------------------------

    def _refresh_gauges(self) -> None:
        from shared.eventstore.store import EventStore

        while not self._stopping:
            try:
                database = self.pool.database
                lag = relay_lag(database, self.service)
                metrics.RELAY_LAG_EVENTS.labels(self.service).set(lag.events)
                metrics.RELAY_LAG_SECONDS.labels(self.service).set(lag.seconds)
                horizon = EventStore(database, self.service).horizon()
                metrics.HORIZON_LAG_EVENTS.labels(self.service).set(horizon.events_behind)
                metrics.HORIZON_LAG_SECONDS.labels(self.service).set(horizon.oldest_writer_seconds)
                with database.transaction() as conn:
                    metrics.DEAD_LETTERS_OPEN.labels(self.service).set(DeadLetters(self.service).count_open(conn))
            except Exception as error:
                log.debug("could not refresh gauges: %s", error)
            eventlet.sleep(GAUGE_INTERVAL)


def _gauge_value(gauge: Any, service: str) -> float:
    return float(gauge.labels(service)._value.get())


def _json(start_response: Callable[..., Any], status: int, body: dict[str, Any]) -> list[bytes]:
    phrases = {200: "200 OK", 404: "404 Not Found", 503: "503 Service Unavailable"}
    payload = json.dumps(body, default=str).encode("utf-8")
    start_response(phrases[status], [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]
