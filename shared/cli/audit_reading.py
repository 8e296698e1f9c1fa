"""orgctl audit, reading the record: a stream's history, a state as of a moment, a trace of causes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer
from rich.table import Table
from rich.tree import Tree

from shared.audit import history as hist
from shared.cli import common as cli
from shared.cli.audit_commands import audit_app
from shared.cli.common import JsonOption, ServiceOption, console
from shared.errors import NotFound, OrgWorkError
from shared.runtime.process.catalog import load_service


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
