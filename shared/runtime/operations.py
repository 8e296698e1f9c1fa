"""Health, metrics and tracing for one service: what operators and Kubernetes see.

``Operations`` serves two small HTTP servers in greenthreads of their own,
apart from nameko's workers (a busy service still answers its probes and a
scrape never waits for a worker).

The health port, and what each answer means
-------------------------------------------
The port opens when the container starts, which is after the launcher has run
the preflight check, the migrations and the queue declarations: until then
nothing answers on it at all. Each path answers JSON, 200 or 503:

``/health/live`` — liveness
    200 ``{"service", "alive": true}`` whenever the process answers. Never
    503: a process that cannot answer is what a liveness probe detects.
    Checks nothing else, so a database or broker outage never restarts a pod.
    Because the port opens only once migrations are done, a Kubernetes
    ``startupProbe`` on ``/health/live`` with a long ``failureThreshold``
    (long enough for the slowest migration) covers start-up, and the
    liveness probe takes over only afterwards.

``/health/ready`` — readiness of *this replica*, and nothing shared
    200 ``{"service", "ready": true, "entrypoints": "ok"}`` when this
    container has started and is not stopping, and its entrypoints run: every
    queue consumer (RPC, and each subscription's inbound queue) attached to
    its queues at start and its consuming thread is alive, and no entrypoint
    has begun to stop. 503 with ``"ready": false`` and ``"entrypoints"``
    saying why otherwise (``starting: ...`` before the consumers are
    attached; ``stopping: ...`` once a graceful stop began, so the replica
    leaves the Service's endpoints while its in-flight work finishes). It
    does *not* look at the database, the broker or the relay lag: those are
    shared by every replica, and a readiness that followed them would take all
    replicas out together on a backlog or a short outage and block node
    drains (a PodDisruptionBudget counts unready pods). A consumer that lost
    its broker connection keeps reconnecting on its own and stays "attached"
    here; the outage shows on ``/health/dependencies``.

``/health/dependencies`` — the shared dependencies, for dashboards and alerts
    200 ``{"service", "healthy": true, "database", "broker",
    "relay_lag_events", "relay_lag_seconds", "horizon_lag_events",
    "horizon_lag_seconds"}`` when PostgreSQL accepts a connection and answers
    ``SELECT 1``, RabbitMQ accepts a connection (each checked at most every
    ``CHECK_TTL`` seconds, 2 s timeouts), the oldest stored event not yet
    published is at most ``RELAY_LAG_READY_SECONDS`` old (default 60), and
    the oldest event-writing transaction is at most
    ``HORIZON_LAG_LIMIT_SECONDS`` old (30). 503 with ``"healthy": false``
    and the same detail (``"down: <error>"`` for a dependency that fails)
    otherwise. Not a probe for Kubernetes: every replica answers the same.

``/status``
    The figures ``orgctl status`` shows: ``ready`` and ``entrypoints`` as
    above, the dependencies' detail and ``healthy``, the relay's leadership,
    dead letters, events stored, each checkpoint's age, each subscription's
    position, the calendar.

The metrics port serves ``/metrics``, the process's Prometheus registry
(``observability.metrics``).

It also hooks every worker: the correlation id goes into the logs' context,
RPC latency into a histogram by method, errors into a counter by type; and it
refreshes the lag and age gauges every ``GAUGE_INTERVAL`` seconds. Breaches
of deadlines are counted as their sweeps report them
(``shared.application.sweeps.on_missed_deadline``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import eventlet
import eventlet.wsgi
import kombu
import psycopg2
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from nameko.rpc import RpcConsumer
from nameko.timer import Timer
from prometheus_client import make_wsgi_app

from shared.application import sweeps
from shared.application.calendars import CALENDAR_STREAM, shipped_calendar
from shared.config import service_ports
from shared.db.database import CONNECT_OPTIONS, Connection, Database, fetch_one
from shared.eventstore.records import START, Cursor
from shared.runtime.messaging.inbound import InboundRouter, subscriptions_of
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
#: An event writer open longer than this holds every reader of the store back: the dependencies are not healthy.
#: The same figure as the alert the README recommends on ``orgwork_store_horizon_lag_seconds``.
HORIZON_LAG_LIMIT_SECONDS = 30.0
#: How many events of a source's store one refresh reads at most, looking for the next one a subscription owes.
SCAN_LIMIT = 2000


@dataclass
class Readiness:
    """This replica, and nothing it shares with the others: see ``/health/ready`` in the module's docs."""

    ready: bool
    entrypoints: str  # "ok", or why not ("starting: ...", "stopping: ...", "stopped: ...")


@dataclass
class Dependencies:
    """What every replica shares: see ``/health/dependencies`` in the module's docs."""

    healthy: bool
    database: str
    broker: str
    relay_lag_events: int
    relay_lag_seconds: float
    horizon_lag_events: int
    horizon_lag_seconds: float


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


def entrypoints_state(container: Any) -> str:
    """``"ok"`` when the container has started, is not stopping, and its entrypoints run; otherwise why not.

    Read from nameko's own state, because that is where the truth is: a
    queue consumer is attached once its first ``consume_ready`` came (its
    ``start`` waits for it) and keeps reconnecting by itself in the same
    thread after a broker outage, so only a dead thread or a stop detaches it
    for good. A graceful stop begins with the entrypoints (nameko stops them
    first), which is what ``stopping`` catches, long before this provider's
    own ``stop``.
    """
    if container._died.ready():
        return "stopped"
    if container._being_killed:
        return "stopping: the container is being killed"
    if not container.started:
        return "starting: the container has not started"
    for extension in container.extensions:
        if isinstance(extension, QueueConsumer):
            attached = extension._consumers_ready
            if not attached.ready():
                return "starting: consumers not attached yet"
            if attached.has_exception() or extension._gt is None or extension._gt.dead:
                return "stopped: a queue consumer ended"
            if extension.should_stop or extension._pending_remove_providers:
                return "stopping: consumers are being cancelled"
        elif isinstance(extension, RpcConsumer) and extension._unregistering_providers:
            return "stopping: RPC entrypoints are stopping"
        elif isinstance(extension, InboundRouter) and extension._stopping:
            return "stopping: event handlers are stopping"
        elif isinstance(extension, Timer) and extension.should_stop.ready():
            return "stopping: timers are stopping"
    return "ok"


@dataclass
class _Owed:
    """The first event of a handled type found past a subscription's cursor: where it is and when it was recorded."""

    cursor: Cursor
    recorded_at: float


@dataclass
class _Scan:
    """How far a subscription's source has been searched: every event up to ``frontier`` is handled or not its type."""

    cursor: Cursor  # the subscription's cursor when last seen
    frontier: Cursor
    owed: _Owed | None = None


class CheckpointAges:
    """``orgwork_checkpoint_age_seconds``: how long the oldest event a checkpoint still owes has waited.

    A checkpoint that is current because nothing happened must not look
    stale, so the age is not the time since it last moved: it is the age (now
    minus its ``recorded_at``) of the oldest event past the checkpoint that
    the checkpoint's reader has yet to take, and 0 when there is none.

    * ``projection:<name>``: the first event of the service's own store after
      the projection's checkpoint (the runner takes every event, applying the
      ones it wants).
    * ``subscription:<source>``: the first event *of a type the service
      handles* in the source's store after the subscription's cursor (the
      cursor only moves past events the service takes, so the events of other
      types after it are not owed). The cursor is the low-water mark saved
      every couple of seconds (``inbound.LOW_WATER_SAVE_SECONDS``), so a busy
      subscription that keeps up reads a few seconds, never more.

    Only events safely readable (below the store's read horizon, as every
    reader sees them) count: one held back by a writer still in flight is on
    ``orgwork_store_horizon_lag_seconds``. Read from the shared database, so
    every replica reports the same figure: alert on the max.

    Finding the next event of a handled type may mean passing many events of
    other types; the search goes on from where the last one stopped (its
    frontier, which never passes an event that could still appear below it),
    at most ``scan_limit`` events a refresh, so a refresh costs the events
    stored since the last one. Until the first search has reached the end, an
    age not yet found reads 0.

    Times are taken against this host's clock; on the ``offset`` clock of a
    local platform, an event recorded after the clock was moved forward reads
    0 until the wall clock catches up.
    """

    def __init__(
        self,
        service: str,
        projections: Sequence[str],
        subscriptions: Mapping[str, Sequence[str]],
        scan_limit: int = SCAN_LIMIT,
    ) -> None:
        self.service = service
        self.projections = list(projections)
        self.subscriptions = {source: frozenset(types) for source, types in subscriptions.items()}
        self.scan_limit = scan_limit
        self._scans: dict[str, _Scan] = {}
        self._checkpoints = f'"{service}".projection_checkpoints'

    def measure(self, database: Database, now: float | None = None) -> dict[str, float]:
        """Each checkpoint's age in seconds, by ``projection:<name>`` and ``subscription:<source>``."""
        now = time.time() if now is None else now
        ages: dict[str, float] = {}
        with database.transaction() as conn:
            for name in self.projections:
                ages[f"projection:{name}"] = self._projection_age(conn, name, now)
            if self.subscriptions:
                cursors = {state.source: state.cursor for state in SubscriptionBook(self.service).all(conn)}
                for source, types in sorted(self.subscriptions.items()):
                    ages[f"subscription:{source}"] = self._subscription_age(
                        conn, source, types, cursors.get(source, START), now
                    )
        return ages

    def _projection_age(self, conn: Connection, name: str, now: float) -> float:
        with conn.cursor() as cur:
            cur.execute(f"SELECT tx_id, position FROM {self._checkpoints} WHERE projection = %s", [name])
            row = cur.fetchone()
        checkpoint = Cursor(int(row[0]), int(row[1])) if row else START
        first = _read_after(conn, self.service, checkpoint, 1)
        return _age(_recorded_at(first[0][3]), now) if first else 0.0

    def _subscription_age(
        self, conn: Connection, source: str, types: frozenset[str], cursor: Cursor, now: float
    ) -> float:
        scan = self._scans.get(source)
        if scan is None or cursor < scan.cursor:  # first look, or a cursor set back (a restored database)
            scan = self._scans[source] = _Scan(cursor, cursor)
        scan.cursor = cursor
        if scan.owed is not None and scan.owed.cursor > cursor:
            return _age(scan.owed.recorded_at, now)  # still owed: nothing to search
        scan.owed = None
        scan.frontier = max(scan.frontier, cursor)
        if not source_store_exists(conn, source):
            return 0.0  # the source never ran: nothing is owed
        for tx_id, position, event_type, recorded_at in _read_after(conn, source, scan.frontier, self.scan_limit):
            if event_type in types:
                scan.owed = _Owed(Cursor(tx_id, position), _recorded_at(recorded_at))
                return _age(scan.owed.recorded_at, now)
            scan.frontier = Cursor(tx_id, position)
        return 0.0


def _read_after(conn: Connection, schema: str, after: Cursor, limit: int) -> list[tuple[int, int, str, str | None]]:
    """The next events of ``schema``'s store after ``after``, safely readable (the store's own ``read_after``)."""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT out_tx_id, out_position, out_type, out_metadata->>'recorded_at' "
            f'FROM "{schema}".read_after(%s, %s, %s)',
            [after.tx_id, after.position, limit],
        )
        return [(int(r[0]), int(r[1]), str(r[2]), r[3]) for r in cur.fetchall()]


def _recorded_at(text: str | None) -> float:
    try:
        return dt.datetime.fromisoformat(str(text)).timestamp()
    except ValueError:
        return 0.0  # not a time: the event reads as old as can be, which someone will look at


def _age(recorded_at: float, now: float) -> float:
    return max(0.0, now - recorded_at)


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
        service_cls = self.container.service_cls
        self.checkpoint_ages = CheckpointAges(
            self.service,
            [cls.name for cls in getattr(service_cls, "projections", ())],
            subscriptions_of(service_cls),
        )
        sweeps.on_missed_deadline(metrics.count_missed_deadline)
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
        """This replica: started, not stopping, its entrypoints running (never the shared dependencies)."""
        state = "stopping: operations stopped" if self._stopping else entrypoints_state(self.container)
        return Readiness(state == "ok", state)

    def dependencies(self) -> Dependencies:
        """The database, the broker, the relay's lag and the store's horizon lag: shared by every replica."""
        database, broker = self._database_check(), self._broker_check()
        lag_seconds = _gauge_value(metrics.RELAY_LAG_SECONDS, self.service)
        horizon_seconds = _gauge_value(metrics.HORIZON_LAG_SECONDS, self.service)
        healthy = (
            database == "ok"
            and broker == "ok"
            and lag_seconds <= self.settings.relay_lag_ready_seconds
            and horizon_seconds <= HORIZON_LAG_LIMIT_SECONDS
        )
        return Dependencies(
            healthy,
            database,
            broker,
            int(_gauge_value(metrics.RELAY_LAG_EVENTS, self.service)),
            lag_seconds,
            int(_gauge_value(metrics.HORIZON_LAG_EVENTS, self.service)),
            horizon_seconds,
        )

    def status(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "alive": True,
            **asdict(self.readiness()),
            **asdict(self.dependencies()),
            "clock": self.settings.clock,
            "relay_leader": bool(_gauge_value(metrics.RELAY_LEADER, self.service)),
            "dead_letters": int(_gauge_value(metrics.DEAD_LETTERS_OPEN, self.service)),
            "events_stored": self._events_stored(),
            "checkpoint_ages": self._checkpoint_ages(),
            "subscriptions": self._subscriptions(),
            "calendar": self._calendar(),
        }

    def _checkpoint_ages(self) -> dict[str, float]:
        """The ages last exported, by checkpoint (``CheckpointAges``)."""
        names = [f"projection:{name}" for name in self.checkpoint_ages.projections]
        names += [f"subscription:{source}" for source in sorted(self.checkpoint_ages.subscriptions)]
        return {name: _gauge_value(metrics.CHECKPOINT_AGE_SECONDS, self.service, name) for name in names}

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
        if path == "/health/dependencies":
            dependencies = self.dependencies()
            return _json(
                start_response, 200 if dependencies.healthy else 503, {"service": self.service, **asdict(dependencies)}
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
            try:  # apart: a subscription's source that cannot be read must not stop the lag gauges
                for checkpoint, age in self.checkpoint_ages.measure(self.pool.database).items():
                    metrics.CHECKPOINT_AGE_SECONDS.labels(self.service, checkpoint).set(age)
            except Exception as error:
                log.debug("could not measure the checkpoints' ages: %s", error)
            eventlet.sleep(GAUGE_INTERVAL)


def _gauge_value(gauge: Any, *labels: str) -> float:
    return float(gauge.labels(*labels)._value.get())


def _json(start_response: Callable[..., Any], status: int, body: dict[str, Any]) -> list[bytes]:
    phrases = {200: "200 OK", 404: "404 Not Found", 503: "503 Service Unavailable"}
    payload = json.dumps(body, default=str).encode("utf-8")
    start_response(phrases[status], [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]
