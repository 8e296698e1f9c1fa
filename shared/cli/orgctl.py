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

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.tree import Tree

from shared.audit import history as hist
from shared.audit.checkpoints import Checkpoint, CheckpointBook, load_signing_key, trusted_public_key
from shared.audit.replay import replay_projection
from shared.audit.verify import verify as verify_store
from shared.cli import common as cli
from shared.cli.calendar_commands import calendar_app
from shared.cli.common import PROBLEM, USAGE, JsonOption, ServiceOption, console
from shared.cli.key_commands import keys_app, token_app
from shared.config import Settings, service_ports
from shared.db.database import Database
from shared.errors import NotFound, OrgWorkError
from shared.runtime.process.catalog import existing_services, load_service
from shared.runtime.process.control import status as status_of

app = typer.Typer(help=__doc__.splitlines()[0], no_args_is_help=True, add_completion=False)
audit_app = typer.Typer(help="Read, trace and verify the record.", no_args_is_help=True)
dlq_app = typer.Typer(help="Events a service's handlers gave up on.", no_args_is_help=True)
parked_app = typer.Typer(help="Events a projection kept failing on, set aside.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(dlq_app, name="dlq")
app.add_typer(parked_app, name="parked")
app.add_typer(calendar_app, name="calendar")  # shared/cli/calendar_commands.py
app.add_typer(keys_app, name="keys")  # shared/cli/key_commands.py
app.add_typer(token_app, name="token")

# -- status ------------------------------------------------------------------------------


def _status(name: str) -> dict[str, Any]:
    port = service_ports(name).health
    answer = status_of(port, timeout=3)
    if answer is None:
        return {"service": name, "alive": False, "ready": False, "error": f"nothing answers on port {port}"}
    return answer


@app.command()
def status(as_json: JsonOption = False) -> None:
    """Each service: alive, ready, relay lag, dead letters, events stored, the calendar years it counts on."""
    rows = [_status(name) for name in existing_services()]
    if as_json:
        cli.emit(rows)
    else:
        table = Table("service", "alive", "ready", "relay lag", "leader", "dead letters", "events stored", "calendar")
        for r in rows:
            lag = f"{r.get('relay_lag_events', '-')} ev / {r.get('relay_lag_seconds', 0):.1f} s" if r["alive"] else "-"
            table.add_row(
                r["service"],
                "yes" if r["alive"] else "[red]no[/red]",
                "yes" if r.get("ready") else "[red]no[/red]",
                lag,
                "yes" if r.get("relay_leader") else "no",
                str(r.get("dead_letters", "-")),
                str(r.get("events_stored", "-")),
                str((r.get("calendar") or {}).get("summary", "-")),
            )
        console.print(table)
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
    if not all(r.get("ready") for r in rows):
        raise typer.Exit(PROBLEM)


# -- audit ----------------------------------------------------------------------------------


@audit_app.command("history")
def history(stream: str, service: ServiceOption = None, as_json: JsonOption = False) -> None:
    """Every event of a stream: time, type, actor, reason, correlation and causation ids, payload."""
    database = cli.database()
    try:
        owner, events = hist.find_stream(database, cli.services(service), stream)
    except (NotFound, OrgWorkError) as error:
        cli.fail(str(error))
    finally:
        database.close()
    rows = hist.history_rows(events)
    if as_json:
        cli.emit({"service": owner, "stream_id": stream, "events": rows})
        return
    table = Table(
        "pos",
        "v",
        "recorded at",
        "type",
        "actor",
        "reason",
        "correlation",
        "causation",
        "payload",
        title=f"{owner}: {stream}",
    )
    for r in rows:
        table.add_row(
            str(r["position"]),
            str(r["version"]),
            r["recorded_at"],
            r["type"],
            r["actor"],
            r["reason"] or "",
            r["correlation_id"],
            r["causation_id"] or "",
            json.dumps(r["data"], ensure_ascii=False),
        )
    console.print(table)


@audit_app.command("as-of")
def as_of(
    stream: str,
    at: Annotated[str | None, typer.Option(help="A moment, ISO 8601 with a timezone.")] = None,
    position: Annotated[int | None, typer.Option(help="A global position in the service's store.")] = None,
    service: ServiceOption = None,
    as_json: JsonOption = False,
) -> None:
    """The aggregate's state at a moment (or position), rebuilt from events alone."""
    if (at is None) == (position is None):
        raise typer.BadParameter("give exactly one of --at and --position")
    moment = None
    if at is not None:
        try:
            moment = dt.datetime.fromisoformat(at)
        except ValueError as error:
            raise typer.BadParameter(str(error), param_hint="--at") from error
        if moment.tzinfo is None:
            raise typer.BadParameter("give a timezone, e.g. 2026-03-02T09:00:00+08:00", param_hint="--at")
    database = cli.database()
    try:
        owner, events = hist.find_stream(database, cli.services(service), stream)
        state = hist.as_of(load_service(owner), stream, events, moment, position)
    except (NotFound, OrgWorkError) as error:
        cli.fail(str(error))
    finally:
        database.close()
    if as_json:
        cli.emit({"service": owner, **state})
    else:
        console.print(f"[bold]{stream}[/bold] in {owner}, version {state['version']} (as of {state['as_of_time']})")
        console.print_json(json.dumps(state["state"], default=str, ensure_ascii=False))


@audit_app.command("trace")
def trace(correlation_id: str, as_json: JsonOption = False) -> None:
    """The causal tree across every service's store, in time order: what caused what."""
    database = cli.database()
    try:
        roots = hist.trace(database, cli.services(), correlation_id)
    finally:
        database.close()
    if not roots:
        cli.fail(f"no event has correlation id {correlation_id}")
    if as_json:
        cli.emit([root.as_json() for root in roots])
        return
    tree = Tree(f"[bold]correlation {correlation_id}[/bold]")

    def add(branch: Tree, node: hist.Node) -> None:
        e = node.event
        label = f"{e.metadata.get('recorded_at', '')[:19]}  [cyan]{node.service}[/cyan]  {e.type}  {e.stream_id} v{e.version}  ({e.metadata.get('actor')})"
        child = branch.add(label)
        for c in node.children:
            add(child, c)

    for root in roots:
        add(tree, root)
    console.print(tree)


@audit_app.command("verify")
def verify(
    service: ServiceOption = None,
    checkpoints: Annotated[
        Path | None, typer.Option(help="Checkpoints exported earlier (kept outside the system).")
    ] = None,
    public_key: Annotated[str | None, typer.Option(help="The auditors' Ed25519 public key, hex.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every hash chain and check it against the signed checkpoints; exit 1 on any finding."""
    exported: list[Checkpoint] | None = None
    audit = Settings.from_env().audit
    try:
        key = bytes.fromhex(public_key) if public_key else trusted_public_key(audit)
    except ValueError as error:
        raise typer.BadParameter(f"not a hex key: {error}", param_hint="--public-key") from error
    if checkpoints is not None:
        try:
            document = json.loads(checkpoints.read_text())
            exported = [Checkpoint.from_json(c) for c in document["checkpoints"]]
            if key is None and document.get("public_key"):
                key = bytes.fromhex(document["public_key"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise typer.BadParameter(f"not an exported checkpoint file: {error}", param_hint="--checkpoints") from error
    database = cli.database()
    try:
        reports = [
            verify_store(database, name, exported, key, require_signed=key is not None)
            for name in cli.services(service)
        ]
    finally:
        database.close()
    if as_json:
        cli.emit(
            [
                {
                    "service": r.service,
                    "trusted_key": key is not None,
                    "events": r.events,
                    "checkpoints": r.checkpoints,
                    "ok": r.ok,
                    "first_position": r.first_position,
                    "findings": [f.as_json() for f in r.findings],
                }
                for r in reports
            ]
        )
    else:
        for r in reports:
            verdict = "[green]intact[/green]" if r.ok else f"[red]ALTERED[/red] first at position {r.first_position}"
            console.print(f"{r.service}: {r.events} events, {r.checkpoints} signed checkpoint(s): {verdict}")
            for f in r.findings:
                console.print(f"  position {f.position}: {f.kind}: {f.detail}")
    if not all(r.ok for r in reports):
        raise typer.Exit(PROBLEM)


@audit_app.command("checkpoint")
def checkpoint(service: ServiceOption = None, as_json: JsonOption = False) -> None:
    """Sign a checkpoint of each store now (AUDIT_SIGNING_KEY or AUDIT_SIGNING_KEY_FILE)."""
    key = load_signing_key(Settings.from_env().audit)
    if key is None:
        cli.fail("no signing key: set AUDIT_SIGNING_KEY (base64) or AUDIT_SIGNING_KEY_FILE", USAGE)
    assert key is not None
    database = cli.database()
    try:
        taken = {name: CheckpointBook(database, name).take(key) for name in cli.services(service)}
    finally:
        database.close()
    if as_json:
        cli.emit({name: c.as_json() if c else None for name, c in taken.items()})
        return
    for name, c in taken.items():
        console.print(f"{name}: " + (f"signed at {c.cursor}, {c.count} events" if c else "nothing new to sign"))


@audit_app.command("export-checkpoints")
def export_checkpoints(
    out: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
) -> None:
    """Every signed checkpoint, for an auditor to keep outside the system."""
    database = cli.database()
    try:
        every = [c for name in cli.services() for c in CheckpointBook(database, name).all()]
    finally:
        database.close()
    keys = {c.public_key.hex() for c in every}
    document = {
        "exported_at": dt.datetime.now(dt.UTC).isoformat(),
        "public_key": keys.pop() if len(keys) == 1 else None,
        "checkpoints": [c.as_json() for c in every],
    }
    text = json.dumps(document, indent=2)
    if out is None:
        print(text)
    else:
        out.write_text(text)
        console.print(f"{len(every)} checkpoint(s) written to {out}")


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
