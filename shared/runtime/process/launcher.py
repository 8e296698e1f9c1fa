"""Run one service: ``python -m shared.runtime.process.launcher cadre``.

Green first (eventlet monkey-patching and the psycopg2 wait callback), then
logs, the preflight check (``preflight``: in production, no start without the
audit signing key and the head sink, before any connection), migrations and
queues, then the nameko container. With ``MIGRATE_ON_START=false`` (a service
running as its least-privilege role, which may not migrate) it applies no
migration but waits for the migrate Job to have applied them all, and exits
non-zero, saying why, when they are still missing at the deadline
(``MIGRATE_WAIT_SECONDS``) or when its schema is ahead of its code. SIGTERM (and Ctrl-C)
stops it gracefully: entrypoints stop taking work, in-flight workers finish
and acknowledge, the relay finishes its batch, and the process exits 0.
"""

from __future__ import annotations

from shared.runtime.process.bootstrap import green

green()

import argparse  # noqa: E402
import errno  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402

import eventlet  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402

from shared.config import Settings, service_ports  # noqa: E402
from shared.runtime.observability.logs import configure_logging  # noqa: E402
from shared.runtime.process.catalog import existing_services, load_service  # noqa: E402
from shared.runtime.process.preflight import check_or_exit  # noqa: E402
from shared.runtime.process.provisioning import (  # noqa: E402
    SchemaNotReady,
    declare_queues,
    migrate_service,
    nameko_config,
    wait_for_migrations,
)

log = logging.getLogger("orgwork.launcher")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("service", help="a service name (cadre, ...) or module:Class")
    parser.add_argument("--health-port", type=int, help="override the health port")
    parser.add_argument("--metrics-port", type=int, help="override the metrics port")
    args = parser.parse_args(argv)

    settings = Settings.from_env()
    service_cls = load_service(args.service)
    configure_logging(service_cls.name, settings.log_format, settings.log_level)
    check_or_exit(settings, service_cls.name)

    if settings.migrate_on_start:
        migrated = f"{migrate_service(settings, service_cls)} migration(s) applied"
    else:
        try:
            wait_for_migrations(settings, service_cls)
        except SchemaNotReady as error:
            log.error("%s: not starting: %s", service_cls.name, error)
            return 1
        migrated = "schema up to date (MIGRATE_ON_START=false: migrated by the migrate Job)"
    # Its own queues first, which it must be able to declare; then, where these
    # credentials allow (the provisioning identity's, not a service's own broker
    # user), every other service's, so that no event goes out before its queue.
    queues = declare_queues(settings, [service_cls])
    others = [cls for cls in map(load_service, existing_services()) if cls is not service_cls]
    queues += declare_queues(settings, others, skip_refused=True)
    log.info("%s: %s, %d inbound queue(s) declared", service_cls.name, migrated, queues)

    ports = None
    if args.health_port is not None or args.metrics_port is not None:
        try:
            defaults = service_ports(service_cls.name)
            default_health, default_metrics = defaults.health, defaults.metrics
        except KeyError:
            default_health = default_metrics = 0
        ports = {
            "health": args.health_port if args.health_port is not None else default_health,
            "metrics": args.metrics_port if args.metrics_port is not None else default_metrics,
        }
    runner = ServiceRunner(nameko_config(settings, ports))
    runner.add_service(service_cls)

    stopping = False

    def shutdown(signum: int, frame: Any) -> None:
        # A second signal (Ctrl-C reaches the whole process group while `make
        # run` also sends SIGTERM) must not start a second, concurrent stop.
        nonlocal stopping
        if stopping:
            log.info("%s: signal %d received, already stopping", service_cls.name, signum)
            return
        stopping = True
        log.info("%s: signal %d received, stopping gracefully", service_cls.name, signum)
        eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    runner.start()
    log.info("%s: started", service_cls.name)
    waiting = eventlet.spawn(runner.wait)
    while True:
        try:
            waiting.wait()
        except OSError as error:  # a signal interrupted the wait
            if error.errno == errno.EINTR:
                continue
            raise
        break
    log.info("%s: stopped", service_cls.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
