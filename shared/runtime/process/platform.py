"""The whole platform from one command: ``python -m shared.runtime.process.platform run|migrate``.

``migrate`` creates the database when missing, applies every existing service's
migrations, declares every consumer's queue, and makes each service's runtime
role exist and hold exactly its rights (``shared.db.roles``; docs/DATABASE.md):
it is what the migrate Job runs, as the database's owner. ``run`` migrates and
declares as ``migrate`` does (every service then runs as the one local role, so
no runtime role is needed or made), makes the
keys and the audit head sink's directory it lacks, makes each service its own
user on the local broker (``broker``), then starts each service that exists as
its own process (``shared.runtime.process.launcher``), connecting as that user,
waits until each is ready, prints where its health and metrics answer and where
the signed tree heads go, and stops them all on Ctrl-C or SIGTERM. If one dies,
it stops the others and exits non-zero: a platform with a service missing is not
running.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shared.config import Settings, gateway_port, service_ports
from shared.db.roles import RolesError
from shared.runtime.process import broker
from shared.runtime.process.catalog import existing_services, load_service
from shared.runtime.process.control import CHILD_CWD, NotReady, health_url, launch, wait_ready
from shared.runtime.process.preflight import key_problems, signing_key_source, trusted_key_source
from shared.runtime.process.provisioning import declare_queues, grant_runtime_roles, migrate_service
from shared.security import keys

READY_TIMEOUT = 120.0
GATEWAY_MODULE = "services.gateway"


def migrate_all(settings: Settings, names: list[str], roles: bool = False) -> None:
    """Migrate every schema and declare every queue; with ``roles``, then grant each runtime role (``migrate``)."""
    classes = [load_service(name) for name in names]
    for cls in classes:
        applied = migrate_service(settings, cls)
        print(f"  {cls.name:<12} schema {cls.name!r}: {applied} migration(s) applied")
    queues = declare_queues(settings, classes)
    print(f"  {queues} inbound queue(s) declared")
    if not roles:
        return
    # After every schema's migrations, never before: a table added now is granted now.
    report = grant_runtime_roles(settings, classes)
    for role in report.roles:
        reads = f"; reads the events of {', '.join(role.sources)}" if role.sources else ""
        state = "created NOLOGIN" if role.created else "exists"
        changes = f"{len(role.granted)} grant(s), {len(role.revoked)} revoke(s)"
        print(f"  {role.role:<20} {state}, uses schema {role.service!r}{reads}: {changes}")
        for warning in role.warnings:
            print(f"  WARNING: {role.role} {warning}", file=sys.stderr)
    if report.public_revoked:
        print(f"  revoked from PUBLIC: {len(report.public_revoked)} privilege(s), e.g. {report.public_revoked[0]}")


def ensure_keys(settings: Settings) -> None:
    """A local platform makes the keys it lacks (a deployment mounts its own)."""
    if not settings.security.keys_dir:
        raise SystemExit("SECURITY_KEYS_DIR is not set: the services would trust no one (make run sets it)")
    made = keys.generate(settings.security.keys_dir, list(keys.HOLDERS))
    if made:
        print(f"  keys made in {settings.security.keys_dir}: {', '.join(made)}")


def ensure_head_sink(settings: Settings) -> None:
    """A local platform makes its head sink's directory (``make run`` names ``.orgwork/audit``; a deployment mounts one)."""
    if settings.audit.head_sink:
        Path(settings.audit.head_sink).mkdir(parents=True, exist_ok=True)


def audit_summary(settings: Settings) -> list[str]:
    """Which key signs the tree heads, where they are published, which key auditors trust; and any gap."""
    audit = settings.audit
    # Each service checks for itself (``preflight``); a key problem is said here too, where the operator looks.
    problems = key_problems(settings)
    signed = "NOT signed" if problems else f"signed every {audit.head_seconds:g} s with {signing_key_source(settings)}"
    sink = (
        f"published to {audit.head_sink}/<service>.heads.jsonl"
        if audit.head_sink
        else "not published outside the database (AUDIT_HEAD_SINK is not set)"
    )
    return [
        f"Tree heads: {signed}",
        f"  {sink}",
        f"  auditors trust {trusted_key_source(settings)}",
        *(f"  WARNING: {problem}" for problem in problems),
    ]


def broker_users(settings: Settings, names: list[str]) -> dict[str, dict[str, str]]:
    """Each principal's own user on the local broker (``broker``): ``{principal: its process's environment}``.

    Made (or brought up to date) as the administrator ``AMQP_URI`` names, with
    passwords kept in ``.orgwork/broker/``. Without ``rabbitmqctl`` on this
    machine, or if it fails, every process keeps ``AMQP_URI``, and says so.
    """
    if not broker.rabbitmqctl_available():
        print("  rabbitmqctl not found: every service connects as AMQP_URI (the broker is not locked down)")
        return {}
    try:
        uris = broker.provision_local(settings, [load_service(name) for name in names])
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        print(f"  broker users not made ({error}): every service connects as AMQP_URI", file=sys.stderr)
        return {}
    print(f"  broker users: {', '.join(sorted(uris))}, each with its own permissions")
    return {principal: {**os.environ, "AMQP_URI": uri} for principal, uri in uris.items()}


def run(settings: Settings, names: list[str]) -> int:
    if not names:
        print("No service exists yet under services/: there is nothing to run.")
        return 1
    ensure_keys(settings)
    ensure_head_sink(settings)
    print(f"Migrating {settings.database_url} ...")
    migrate_all(settings, names)
    environments = broker_users(settings, names)

    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop_all(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop_all)
    signal.signal(signal.SIGTERM, stop_all)
    for name in names:
        children[name] = launch(name, env=environments.get(name))

    ports = {name: service_ports(name) for name in names}
    http_port = gateway_port(settings)
    try:
        wait_ready({name: p.health for name, p in ports.items()}, READY_TIMEOUT, children, stop=lambda: stopping)
        children["gateway"] = launch_gateway(environments.get("gateway"))
        wait_ready({"gateway": http_port}, READY_TIMEOUT, children, stop=lambda: stopping)
    except NotReady as error:
        print(error, file=sys.stderr)
        return _shutdown(children, 1)

    if not stopping:
        print("\nThe platform is running:\n")
        print(f"  {'service':<12} {'health':<44} metrics")
        for name in names:
            health = health_url(ports[name].health)
            print(f"  {name:<12} {health:<44} http://127.0.0.1:{ports[name].metrics}/metrics")
        print(f"  {'gateway':<12} {health_url(http_port):<44} (the HTTP API, below)")
        print(f"\nThe public site: http://127.0.0.1:{http_port}/ (the notice board, feedback, one's case)")
        print(f"The gateway: http://127.0.0.1:{http_port}/api/v1 (docs: http://127.0.0.1:{http_port}/docs)")
        print("\n" + "\n".join(audit_summary(settings)))
        print("\nCtrl-C stops every service.", flush=True)
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"{name} stopped unexpectedly (status {child.returncode}); stopping the others", file=sys.stderr)
                return _shutdown(children, 1)
        time.sleep(0.5)
    return _shutdown(children, 0)


def launch_gateway(env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """The HTTP door (``services.gateway``) as its own process, started once the services it calls are ready."""
    return subprocess.Popen([sys.executable, "-m", GATEWAY_MODULE], cwd=CHILD_CWD, env=dict(env or os.environ))


def _shutdown(children: dict[str, subprocess.Popen[bytes]], status: int) -> int:
    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for child in children.values():
        try:
            child.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["run", "migrate"])
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    names = existing_services()
    if args.command == "migrate":
        print(f"Migrating {settings.database_url} ...")
        try:
            migrate_all(settings, names, roles=True)
        except RolesError as error:  # the schemas are migrated; what is wrong is the operator's to fix
            print(f"runtime roles not granted: {error}", file=sys.stderr)
            return 1
        return 0
    return run(settings, names)


if __name__ == "__main__":
    sys.exit(main())
