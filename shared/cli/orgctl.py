"""orgctl: audit replay, verification and operations from the command line.

Auditors: read any record as it was at any moment, follow a chain of causes
across services, and prove nothing was altered. Operators: the platform's
state at a glance, projections replayed, dead letters replayed, the
organisation's calendar loaded into every service.

Exit codes scripts can trust: 0 all well; 1 the command found a problem (a
service not ready, the log altered, a projection that differs, nothing
found); 2 the command was used wrongly.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shared.audit.replay import replay_projection
from shared.cli import audit_integrity, audit_reading  # noqa: F401  (they fill audit_app)
from shared.cli import common as cli
from shared.cli.audit_commands import audit_app
from shared.cli.calendar_commands import calendar_app
from shared.cli.common import PROBLEM, JsonOption, ServiceOption, console
from shared.cli.deploy_secrets import deploy_app
from shared.cli.key_commands import keys_app, token_app
from shared.cli.privacy_commands import privacy_app
from shared.config import service_address
from shared.db.database import Database
from shared.errors import OrgWorkError
from shared.runtime.process.catalog import existing_services, load_service
from shared.runtime.process.control import status as status_of

app = typer.Typer(help=__doc__.splitlines()[0], no_args_is_help=True, add_completion=False)
dlq_app = typer.Typer(help="Events a service's handlers gave up on.", no_args_is_help=True)
parked_app = typer.Typer(help="Events a projection kept failing on, set aside.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(dlq_app, name="dlq")
app.add_typer(parked_app, name="parked")
app.add_typer(calendar_app, name="calendar")  # shared/cli/calendar_commands.py
app.add_typer(keys_app, name="keys")  # shared/cli/key_commands.py
app.add_typer(token_app, name="token")
app.add_typer(privacy_app, name="privacy")  # shared/cli/privacy_commands.py
app.add_typer(deploy_app, name="deploy")  # shared/cli/deploy_secrets.py

# -- status ------------------------------------------------------------------------------


def _status(name: str) -> dict[str, Any]:
    address = service_address(name)
    answer = status_of(address.port, timeout=3, host=address.host)
    if answer is None:
        return {"service": name, "alive": False, "ready": False, "error": f"nothing answers at {address.url()}"}
    return answer


@app.command()
def status(as_json: JsonOption = False) -> None:
    """Each service: alive, ready, its dependencies, relay lag, dead letters, events stored, its calendar years.

    Each is asked at ``<SERVICE>_HOST`` (default 127.0.0.1) on its health port,
    all at once, so that services that do not answer cost one timeout, not one each.
    """
    names = existing_services()
    with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
        rows = list(pool.map(_status, names))
    if as_json:
        cli.emit(rows)
    else:
        table = Table(
            "service",
            "alive",
            "ready",
            "dependencies",
            "relay lag",
            "leader",
            "dead letters",
            "events stored",
            "calendar",
        )
        for r in rows:
            lag = f"{r.get('relay_lag_events', '-')} ev / {r.get('relay_lag_seconds', 0):.1f} s" if r["alive"] else "-"
            table.add_row(
                r["service"],
                "yes" if r["alive"] else "[red]no[/red]",
                "yes" if r.get("ready") else "[red]no[/red]",
                "ok" if r.get("healthy") else f"[red]{_unhealthy(r)}[/red]",
                lag,
                "yes" if r.get("relay_leader") else "no",
                str(r.get("dead_letters", "-")),
                str(r.get("events_stored", "-")),
                str((r.get("calendar") or {}).get("summary", "-")),
            )
        console.print(table)
        for r in rows:
            if r.get("error"):  # where it was asked, so that a wrong <SERVICE>_HOST shows
                console.print(f"{r['service']}: {r['error']}", markup=False, highlight=False)
        subscriptions = Table("service", "subscribes to", "position", "lag (events)", "caught up at")
        for r in rows:
            for sub in r.get("subscriptions") or ():
                subscriptions.add_row(
                    r["service"],
                    str(sub.get("source", sub.get("error", "?"))),
                    str(sub.get("position", "-")),
                    str(sub.get("lag_events", "-")),
                    str(sub.get("caught_up_at") or "-"),
                )
        if subscriptions.row_count:
            console.print(subscriptions)
    # Ready is this replica; healthy, what every replica shares (the database, the broker, the lags).
    if not all(r.get("ready") and r.get("healthy") for r in rows):
        raise typer.Exit(PROBLEM)


def _unhealthy(row: dict[str, Any]) -> str:
    """Which shared dependency is not well, in a word or two."""
    if not row.get("alive"):
        return "-"
    bad = [name for name in ("database", "broker") if row.get(name) not in (None, "ok")]
    return ", ".join(bad) or "lagging"


# -- replay ------------------------------------------------------------------------------------


@app.command()
def replay(
    service: str,
    projection: Annotated[str | None, typer.Option(help="Only this projection.")] = None,
    apply: Annotated[bool, typer.Option("--apply", help="Then rebuild the live projection from zero too.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Rebuild projections from zero beside the live ones and report any difference."""
    from shared.projections.runner import ProjectionRunner

    cls = load_service(cli.services(service)[0])
    chosen = [p for p in cls.projections if projection in (None, p.name)]
    if not chosen:
        raise typer.BadParameter(f"{service} has no projection {projection!r}", param_hint="--projection")
    database = cli.database()
    reports = []
    try:
        for projection_cls in chosen:
            with Progress(
                TextColumn(f"{service}.{projection_cls.name}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                disable=as_json,
            ) as bar:
                advance = functools.partial(bar.advance, bar.add_task("replay", total=None))
                report = replay_projection(database, cls.name, projection_cls(), cls.events, advance)
            reports.append(report)
            if apply:
                ProjectionRunner(database, cls.name, projection_cls(), cls.events).rebuild()
    finally:
        database.close()
    if as_json:
        cli.emit(
            [
                {
                    "projection": r.projection,
                    "events": r.events,
                    "applied": r.applied,
                    "seconds": round(r.seconds, 3),
                    "events_per_second": round(r.rate),
                    "identical": r.identical,
                    "differences": [d.__dict__ for d in r.differences],
                }
                for r in reports
            ]
        )
    else:
        for r in reports:
            verdict = "[green]identical to the live rows[/green]" if r.identical else "[red]DIFFERS[/red]"
            console.print(f"{r.projection}: {r.events} events in {r.seconds:.2f} s ({r.rate:,.0f}/s): {verdict}")
            for d in r.differences:
                console.print(f"  {d.table}: {d.only_live} row(s) only live, {d.only_rebuilt} only rebuilt")
                for sample in d.samples:
                    console.print(f"    {sample}")
    if not all(r.identical for r in reports):
        raise typer.Exit(PROBLEM)


# -- dead letters ---------------------------------------------------------------------------


@dlq_app.command("list")
def dlq_list(service: ServiceOption = None, as_json: JsonOption = False) -> None:
    """Dead letters of every service (or one)."""
    rows = []
    with cli.operator_rpc() as rpc:
        for name in cli.services(service):
            rows += [{"service": name, **item} for item in getattr(rpc, name).dead_letters()["items"]]
    if as_json:
        cli.emit(rows)
        return
    table = Table("service", "id", "handler", "source", "type", "reason", "attempts", "failed at", "error")
    for r in rows:
        table.add_row(
            r["service"],
            str(r["id"]),
            r["handler"],
            r["source"],
            r["type"] or "",
            r["reason"],
            str(r["attempts"]),
            r["failed_at"],
            r["error"],
        )
    console.print(table)


@dlq_app.command("replay")
def dlq_replay(service: str, dead_letter_id: int, as_json: JsonOption = False) -> None:
    """Run the handler again for one dead letter (once in effect, as always)."""
    with cli.operator_rpc() as rpc:
        try:
            outcome = getattr(rpc, cli.services(service)[0]).replay_dead_letter(id=dead_letter_id)
        except OrgWorkError as error:
            cli.fail(str(error))
    if as_json:
        cli.emit(outcome)
    else:
        console.print(f"dead letter {dead_letter_id}: {outcome['outcome']}")
    if outcome["outcome"] == "dead_lettered":
        raise typer.Exit(PROBLEM)


# -- parked events ---------------------------------------------------------------------------


def _runners(database: Database, services: list[str]) -> list[Any]:
    from shared.projections.runner import ProjectionRunner

    return [
        ProjectionRunner(database, name, projection(), service_cls.events)
        for name in services
        for service_cls in [load_service(name)]
        for projection in service_cls.projections
    ]


@parked_app.command("list")
def parked_list(service: ServiceOption = None, as_json: JsonOption = False) -> None:
    """Events each projection set aside after failing on them (status parked or retried)."""
    database = cli.database()
    try:
        rows = [
            {"service": runner.schema, "projection": runner.projection.name, **row}
            for runner in _runners(database, cli.services(service))
            for row in runner.parked()
        ]
    finally:
        database.close()
    if as_json:
        cli.emit(rows)
        return
    table = Table("service", "projection", "id", "type", "event", "attempts", "parked at", "status", "error")
    for r in rows:
        table.add_row(
            r["service"],
            r["projection"],
            str(r["id"]),
            r["type"],
            r["event_id"],
            str(r["attempts"]),
            r["parked_at"],
            r["status"],
            r["error"],
        )
    console.print(table)


@parked_app.command("retry")
def parked_retry(service: str, projection: str, parked_id: int) -> None:
    """Apply one parked event again, to its projection (after the fix is deployed)."""
    database = cli.database()
    try:
        runner = next((r for r in _runners(database, cli.services(service)) if r.projection.name == projection), None)
        if runner is None:
            raise typer.BadParameter(f"{service} has no projection {projection!r}", param_hint="projection")
        try:
            runner.retry_parked(parked_id)
        except LookupError as error:
            cli.fail(str(error))
        except Exception as error:
            cli.fail(f"it failed again: {type(error).__name__}: {error}")
    finally:
        database.close()
    console.print(f"parked event {parked_id} applied to {service}.{projection}")


def main() -> None:
    from shared.runtime.process.bootstrap import green

    green()
    app(prog_name="orgctl")


if __name__ == "__main__":
    main()
