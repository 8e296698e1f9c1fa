"""Baseline figures from the PyPI library ``eventsourcing`` (9.x) on PostgreSQL.

The project's performance targets are stated relative to this library:

* P1 "≥ 4x eventsourcing (one new aggregate per save)": write throughput.
  ``--p1-writers`` OS threads share one ``Application`` whose persistence is
  ``eventsourcing.postgres``; each thread repeatedly creates a NEW aggregate
  (one ``Created`` event carrying ``{"title": "x", "n": i}``) and calls
  ``app.save(aggregate)``, so every save is one transaction holding one event.
  ``--p1-events`` saves in total, timed by wall clock after a small warm-up
  that is not counted.  Reported: ``p1.events_per_second`` (= saves/s).
  The project's figure is its own store under the same load divided by this.

* P2 "≥ 1.5x eventsourcing's decoded notification read": read throughput.
  The store is topped up (batched saves of new aggregates, untimed) until it
  holds ``--p2-events`` events (more if P1 already wrote more), then ALL
  notifications are read back in order through the application's
  notification log, ``app.notification_log.select(start, limit)`` in pages
  of ``--page-size`` (1000), and each one is decoded into a domain event
  object with ``app.mapper.to_domain_event(notification)``.  Timed from the
  first page request to the last decoded event.  Reported:
  ``p2.events_per_second`` (decoded events/s).

It runs in a bench-only virtual environment, never in the platform's: it
imports nothing from this repository.  Build the venv from the lock file:

    python3.11 -m venv /tmp/es-venv
    /tmp/es-venv/bin/pip install -r bench/requirements-eventsourcing.lock
    /tmp/es-venv/bin/python bench/baseline_eventsourcing.py \\
        --dsn postgresql://postgres@127.0.0.1:5432/DBNAME \\
        --p1-events 20000 --p1-writers 8 --p2-events 100000

The database must exist.  The script owns one schema in it (``--schema``,
default ``es_baseline``), which it drops and recreates at the start so that
every run starts clean.  Exactly one JSON object is printed on stdout; logs
go to stderr.  Any failure exits non-zero with a message on stderr.

Settings worth knowing (they favour the baseline, never handicap it):
psycopg 3 with its C implementation (``psycopg[binary]``); the connection
pool holds one connection per writer (``POSTGRES_POOL_SIZE``), so no thread
waits for a connection; otherwise the library's defaults.  Note that the
library's application recorder takes ``LOCK TABLE ... IN EXCLUSIVE MODE`` on
every insert (to keep notification ids gap-free and in commit order), so
concurrent writers serialize inside PostgreSQL: that is its design, and what
P1 measures.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sys
import threading
import time
from importlib.metadata import version as dist_version
from typing import NoReturn

log = logging.getLogger("baseline_eventsourcing")


def fail(message: str, code: int = 1) -> NoReturn:
    print(f"baseline_eventsourcing: error: {message}", file=sys.stderr)
    sys.exit(code)


try:
    import psycopg
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
except ImportError as exc:  # pragma: no cover - environment problem
    fail(f"{exc}; run this with the bench-only venv built from bench/requirements-eventsourcing.lock")


class Item(Aggregate):
    """A minimal aggregate: one event, its creation."""

    @event("Created")
    def __init__(self, title: str, n: int) -> None:
        self.title = title
        self.n = n


def make_app_class(page_size: int) -> type[Application]:
    class BenchApp(Application):
        name = "BenchApp"  # tables: <schema>.benchapp_events
        # LocalNotificationLog.select() refuses a limit above the section size,
        # whose default is 10; raise it to the page size used by P2.
        log_section_size = page_size

    return BenchApp


def parse_dsn(dsn: str) -> dict[str, str]:
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.Error as exc:
        fail(f"bad --dsn {dsn!r}: {exc}")
    if not params.get("dbname"):
        fail(f"--dsn {dsn!r} names no database")
    return {
        "dbname": str(params["dbname"]),
        "host": str(params.get("host") or "127.0.0.1"),
        "port": str(params.get("port") or "5432"),
        "user": str(params.get("user") or "postgres"),
        "password": str(params.get("password") or ""),
    }


def reset_schema(params: dict[str, str], schema: str) -> None:
    with psycopg.connect(
        dbname=params["dbname"],
        host=params["host"],
        port=params["port"],
        user=params["user"],
        password=params["password"],
        autocommit=True,
        connect_timeout=10,
    ) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))


def app_env(params: dict[str, str], schema: str, pool_size: int) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": params["dbname"],
        "POSTGRES_HOST": params["host"],
        "POSTGRES_PORT": params["port"],
        "POSTGRES_USER": params["user"],
        "POSTGRES_PASSWORD": params["password"],
        "POSTGRES_SCHEMA": schema,
        "POSTGRES_POOL_SIZE": str(pool_size),
        "POSTGRES_CONNECT_TIMEOUT": "10",
        "CREATE_TABLE": "yes",
    }


def run_writers(app: Application, total: int, writers: int, first_n: int) -> float:
    """`total` saves of one new aggregate each, spread over `writers` threads.

    Returns the wall time from the common start to the last thread's end.
    """
    shares = [total // writers + (1 if w < total % writers else 0) for w in range(writers)]
    errors: list[BaseException] = []
    barrier = threading.Barrier(writers + 1)

    def work(start_n: int, count: int) -> None:
        try:
            barrier.wait()
            for i in range(start_n, start_n + count):
                app.save(Item(title="x", n=i))
        except BaseException as exc:
            errors.append(exc)

    threads = []
    n = first_n
    for count in shares:
        threads.append(threading.Thread(target=work, args=(n, count), daemon=True))
        n += count
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} writer(s) failed; first: {errors[0]!r}") from errors[0]
    return seconds


def count_events(app: Application) -> int:
    # Gap-free, 1-based notification ids: the max id is the number of events.
    return int(app.recorder.max_notification_id() or 0)


def fill(app: Application, target: int, first_n: int, batch: int = 1000) -> int:
    """Untimed top-up: save new aggregates `batch` at a time until `target`."""
    have = count_events(app)
    n = first_n
    while have < target:
        size = min(batch, target - have)
        app.save(*[Item(title="x", n=n + k) for k in range(size)])
        n += size
        have += size
    return have


def read_all(app: Application, page_size: int) -> tuple[int, float, object]:
    """Read every notification in pages and decode each to a domain event."""
    to_domain_event = app.mapper.to_domain_event
    select = app.notification_log.select
    decoded = 0
    last = None
    t0 = time.perf_counter()
    page = select(start=None, limit=page_size)
    while page:
        for notification in page:
            last = to_domain_event(notification)
        decoded += len(page)
        if len(page) < page_size:
            break
        page = select(start=page[-1].id, limit=page_size, inclusive_of_start=False)
    seconds = time.perf_counter() - t0
    return decoded, seconds, last


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dsn", required=True, help="postgresql://user@host:port/dbname (must exist)")
    ap.add_argument("--p1-events", type=int, required=True, help="P1: total saves (one new aggregate each)")
    ap.add_argument("--p1-writers", type=int, default=8, help="P1: writer threads (default 8)")
    ap.add_argument("--p2-events", type=int, required=True, help="P2: events in the store to read back")
    ap.add_argument("--page-size", type=int, default=1000, help="P2: notifications per page (default 1000)")
    ap.add_argument("--warmup", type=int, default=200, help="P1: untimed warm-up saves (default 200)")
    ap.add_argument("--schema", default="es_baseline", help="schema owned by this script (dropped at start)")
    args = ap.parse_args()

    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(message)s")
    for name, value in (
        ("--p1-events", args.p1_events),
        ("--p1-writers", args.p1_writers),
        ("--p2-events", args.p2_events),
        ("--page-size", args.page_size),
    ):
        if value < 1:
            fail(f"{name} must be at least 1")
    if args.warmup < 0:
        fail("--warmup must not be negative")

    params = parse_dsn(args.dsn)
    try:
        reset_schema(params, args.schema)
    except psycopg.Error as exc:
        fail(f"cannot reset schema {args.schema!r} in database {params['dbname']!r}: {exc}")

    app = None
    try:
        app = make_app_class(args.page_size)(env=app_env(params, args.schema, pool_size=args.p1_writers))
        n = 0
        if args.warmup:
            log.info("warm-up: %d saves over %d writers", args.warmup, args.p1_writers)
            run_writers(app, args.warmup, args.p1_writers, first_n=n)
            n += args.warmup

        log.info("P1: %d saves over %d writers", args.p1_events, args.p1_writers)
        p1_seconds = run_writers(app, args.p1_events, args.p1_writers, first_n=n)
        n += args.p1_events
        stored = count_events(app)
        if stored != n:
            raise RuntimeError(f"expected {n} stored events after P1, found {stored}")
        log.info("P1: %.3f s, %.0f events/s", p1_seconds, args.p1_events / p1_seconds)

        log.info("P2: filling the store to %d events (untimed)", args.p2_events)
        stored = fill(app, args.p2_events, first_n=n)
        log.info("P2: reading and decoding %d events, pages of %d", stored, args.page_size)
        decoded, p2_seconds, last = read_all(app, args.page_size)
        if decoded != stored:
            raise RuntimeError(f"read {decoded} notifications, expected {stored}")
        if not isinstance(last, Item.Created):
            raise RuntimeError(f"last decoded event is {type(last).__name__}, not Item.Created")
        log.info("P2: %.3f s, %.0f events/s", p2_seconds, decoded / p2_seconds)
    except Exception as exc:
        log.exception("benchmark failed")
        fail(f"{type(exc).__name__}: {exc}")
    finally:
        if app is not None:
            app.close()

    result = {
        "library": "eventsourcing",
        "version": dist_version("eventsourcing"),
        "psycopg": f"{psycopg.__version__} ({psycopg.pq.__impl__})",
        "python": platform.python_version(),
        "p1": {
            "events": args.p1_events,
            "writers": args.p1_writers,
            "seconds": round(p1_seconds, 4),
            "events_per_second": round(args.p1_events / p1_seconds, 1),
        },
        "p2": {
            "events": decoded,
            "page_size": args.page_size,
            "seconds": round(p2_seconds, 4),
            "events_per_second": round(decoded / p2_seconds, 1),
        },
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
