"""orgctl privacy: erase a data subject's personal data from every service (the right to erasure).

The work is ``shared.privacy.erasure``; this module only asks for it and
shows what it did. Exit 0 when the subject's key is gone from every store, 1
when a store could not be reached or still holds a key, 2 on a bad request.
"""

from __future__ import annotations

import getpass
from typing import Annotated, Any

import typer
from rich.table import Table

from shared.cli import common as cli
from shared.cli.common import PROBLEM, USAGE, JsonOption, console
from shared.errors import ValidationFailed

privacy_app = typer.Typer(help="Personal data: where a subject's key is, and erasing it.", no_args_is_help=True)

SubjectArgument = Annotated[
    str, typer.Argument(help="The data subject, kind:id (cadre:c-42, person:p-7, submitter:<id>).")
]


def _targets(names: list[str]) -> list[Any]:
    from shared.privacy.erasure import ErasureTarget
    from shared.runtime.process.catalog import load_service

    return [
        ErasureTarget(cls.name, cls.events, [projection() for projection in cls.projections])
        for cls in (load_service(name) for name in names)
    ]


def _stores(database: Any) -> tuple[list[str], dict[str, str]]:
    """The services whose stores can be erased from, and those that cannot (with why)."""
    from shared.privacy.erasure import store_state

    ready, other = [], {}
    for name in cli.services():
        state = store_state(database, name)
        if state == "ready":
            ready.append(name)
        elif state == "unmigrated":
            other[name] = "its store has no privacy_keys table: run `make migrate` first"
    return ready, other


@privacy_app.command("erase")
def privacy_erase(
    subject: SubjectArgument,
    basis: Annotated[str, typer.Option("--basis", help="The legal basis of the erasure (kept with it).")],
    requested_by: Annotated[str, typer.Option("--requested-by", help="Who asked for it (kept with it).")],
    as_json: JsonOption = False,
) -> None:
    """Erase SUBJECT everywhere: its key deleted from every store, the erasure recorded, read models rebuilt."""
    from shared.privacy.erasure import erase_everywhere

    database = cli.database()
    try:
        names, unreachable = _stores(database)
        if unreachable:  # all or nothing: a store left out would keep the data readable
            cli.fail("\n".join(f"{name}: {why}" for name, why in unreachable.items()))
        progress = None if as_json else (lambda line: console.print(f"  {line}"))
        try:
            reports = erase_everywhere(
                database,
                _targets(names),
                subject,
                legal_basis=basis,
                requested_by=requested_by,
                actor=f"operator:{getpass.getuser()}",
                progress=progress,
            )
        except ValidationFailed as error:
            problems = [f"  {name}: {problem}" for name, found in error.errors.items() for problem in found]
            cli.fail("\n".join([f"{error.message}:", *problems]), USAGE)
    finally:
        database.close()
    if as_json:
        cli.emit({"subject": subject, "stores": [r.as_json() for r in reports]})
    else:
        table = Table("service", "key", "erasure recorded", "snapshots deleted", "projections rebuilt", "keys left")
        for r in reports:
            table.add_row(
                r.service,
                "deleted" if r.key_deleted else "none held",
                f"position {r.position}",
                str(r.snapshots_deleted),
                ", ".join(f"{name} ({read} events)" for name, read in r.projections_rebuilt.items()) or "-",
                str(r.keys_left) if not r.keys_left else f"[red]{r.keys_left}[/red]",
            )
        console.print(table)
    if any(r.keys_left for r in reports):
        raise typer.Exit(PROBLEM)


@privacy_app.command("show")
def privacy_show(subject: SubjectArgument, as_json: JsonOption = False) -> None:
    """Where SUBJECT has a key (personal data readable), and the erasures each store recorded."""
    from shared.domain.erasure import erasure_stream
    from shared.eventstore.store import EventStore
    from shared.privacy.erasure import keys_of

    database = cli.database()
    try:
        names, unreachable = _stores(database)
        rows: list[dict[str, Any]] = [
            {
                "service": name,
                "key": bool(keys_of(database, name, subject)),
                "erasures": [
                    {"at": e.data["erased_at"], "by": e.metadata.get("actor"), "basis": e.data["legal_basis"]}
                    for e in EventStore(database, name).read_stream(erasure_stream(subject))
                ],
            }
            for name in names
        ]
    finally:
        database.close()
    if as_json:
        cli.emit({"subject": subject, "stores": rows, "unreachable": unreachable})
    else:
        table = Table("service", "key", "erasures recorded", title=subject)
        for r in rows:
            erasures = "; ".join(f"{e['at']} by {e['by']} ({e['basis']})" for e in r["erasures"]) or "-"
            table.add_row(r["service"], "[yellow]held[/yellow]" if r["key"] else "none", erasures)
        for name, why in unreachable.items():
            table.add_row(name, f"[red]{why}[/red]", "")
        console.print(table)
    if unreachable:
        raise typer.Exit(PROBLEM)


@privacy_app.command("reconcile")
def privacy_reconcile(as_json: JsonOption = False) -> None:
    """After restoring the key tables from a backup: delete again every key the log says was erased since."""
    from shared.privacy.erasure import forget_again

    database = cli.database()
    try:
        names, unreachable = _stores(database)
        deleted = {name: forget_again(database, name) for name in names}
    finally:
        database.close()
    if as_json:
        cli.emit({"deleted_again": deleted, "unreachable": unreachable})
    else:
        for name, subjects in deleted.items():
            console.print(
                f"{name}: {len(subjects)} key(s) deleted again" + (f": {', '.join(subjects)}" if subjects else "")
            )
        for name, why in unreachable.items():
            console.print(f"[red]{name}: {why}[/red]")
    if unreachable:
        raise typer.Exit(PROBLEM)
