"""orgctl audit, reading the record: a stream's history, state as of a moment (one stream or every
store), a trace of causes with its links checked, and stored history loaded through today's upcasters.

What each command computes is in ``shared.audit``; how it looks on a terminal
is in ``shared.cli.reading_views``. ``--json`` output is for machines: its
shape only ever grows.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

import typer

from shared.audit import history as hist
from shared.audit.cut import HeldBack, ServiceCut, take_cut
from shared.audit.links import MISMATCH
from shared.audit.stores import present
from shared.audit.upcast_check import check as check_upcasts
from shared.cli import common as cli
from shared.cli import reading_views as views
from shared.cli.audit_commands import audit_app
from shared.cli.common import PROBLEM, JsonOption, ServiceOption, console
from shared.errors import NotFound, OrgWorkError
from shared.runtime.process.catalog import load_service


@audit_app.command("history")
def history(stream: str, service: ServiceOption = None, as_json: JsonOption = False) -> None:
    """Every event of a stream: time, type, actor, reason, correlation and causation ids, payload.

    A table when it fits the terminal; else (and when piped) a block per event
    with its payload as indented JSON. Long output on a terminal is paged.
    """
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
    views.show_history(views.fresh_console(), owner, stream, rows)


def _moment(at: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(at)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--at") from error
    if moment.tzinfo is None:
        raise typer.BadParameter("give a timezone, e.g. 2026-03-02T09:00:00+08:00", param_hint="--at")
    return moment


@audit_app.command("as-of")
def as_of(
    stream: Annotated[str | None, typer.Argument(help="A stream; leave out with --all.")] = None,
    at: Annotated[str | None, typer.Option(help="A moment, ISO 8601 with a timezone.")] = None,
    position: Annotated[int | None, typer.Option(help="A global position in the service's store.")] = None,
    every_store: Annotated[
        bool, typer.Option("--all", help="Every stream of every store (or --service's) at --at, with the cut used.")
    ] = False,
    service: ServiceOption = None,
    as_json: JsonOption = False,
) -> None:
    """The aggregate's state at a moment (or position), rebuilt from events alone; with --all, every store's."""
    if every_store:
        if stream is not None or position is not None or at is None:
            raise typer.BadParameter("--all takes --at (a moment), and neither a stream nor --position")
        _as_of_everywhere(_moment(at), service, as_json)
        return
    if stream is None:
        raise typer.BadParameter("give a stream, or --all", param_hint="stream")
    if (at is None) == (position is None):
        raise typer.BadParameter("give exactly one of --at and --position")
    moment = _moment(at) if at is not None else None
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


def _as_of_everywhere(moment: dt.datetime, service: str | None, as_json: bool) -> None:
    """``as-of --all``: each store's cut at ``moment`` and every stream's state in it; exit 1 if a stream did not rebuild."""
    names = cli.services(service)
    database = cli.database()
    try:
        stores = set(present(database, names))
        cuts = [
            take_cut(database, name, load_service(name), moment) if name in stores else ServiceCut(name, moment, False)
            for name in names
        ]
    except HeldBack as error:
        cli.fail(str(error))
    finally:
        database.close()
    if as_json:
        cli.emit({"at": moment.isoformat(), "services": [c.as_json() for c in cuts]})
    else:
        views.show_cut(views.fresh_console(), moment.isoformat(), cuts)
    if any(c.problems for c in cuts):
        raise typer.Exit(PROBLEM)


@audit_app.command("trace")
def trace(correlation_id: str, as_json: JsonOption = False) -> None:
    """The causal tree across every service's store, in time order, each link between services checked.

    A link is verified when the upstream event's stored hash, and its content,
    still match the hash recorded when it was handled; MISMATCH (exit 1) when
    not; unverifiable when no hash was recorded.
    """
    database = cli.database()
    try:
        roots = hist.trace(database, cli.services(), correlation_id)
    finally:
        database.close()
    if not roots:
        cli.fail(f"no event has correlation id {correlation_id}")
    if as_json:
        cli.emit([root.as_json() for root in roots])
    else:
        views.show_trace(views.fresh_console(), correlation_id, roots)
    if any(link.verdict == MISMATCH for link in hist.links(roots)):
        raise typer.Exit(PROBLEM)


@audit_app.command("upcast-check")
def upcast_check(
    service: ServiceOption = None,
    pairs_only: Annotated[
        bool, typer.Option("--pairs-only", help="One event of each (type, version) only: quick, not thorough.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Load every stored event of every store through today's upcasters and schemas; name each that does not (exit 1)."""
    registries = {name: load_service(name).events for name in cli.services(service)}
    database = cli.database()
    try:
        reports = check_upcasts(database, registries, every_event=not pairs_only)
    finally:
        database.close()
    if as_json:
        cli.emit([r.as_json() for r in reports])
    else:
        views.show_upcast_check(views.fresh_console(), reports, every_event=not pairs_only)
    if not all(r.ok for r in reports):
        raise typer.Exit(PROBLEM)
