"""orgctl calendar: load a year of the organisation's calendar into every service, and show what each counts on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shared.cli import common as cli
from shared.cli.common import PROBLEM, JsonOption, ServiceOption, console
from shared.errors import OrgWorkError

# -- the calendar ------------------------------------------------------------------------------

calendar_app = typer.Typer(help="The organisation's calendar each service counts on.", no_args_is_help=True)


def _each_service(rpc: Any, names: list[str], call: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """``call(service proxy)`` on each service: its answer, or why it gave none (not running, refused)."""
    from nameko.exceptions import RpcTimeout, UnknownService

    answers: dict[str, Any] = {}
    failures: dict[str, str] = {}
    for name in names:
        try:
            answers[name] = call(getattr(rpc, name))
        except (RpcTimeout, UnknownService):
            failures[name] = "not running (no answer)"
        except OrgWorkError as error:
            failures[name] = str(error)
    return answers, failures


@calendar_app.command("load")
def calendar_load(
    file: Annotated[Path, typer.Argument(help="A calendar year as TOML (see shared/domain/calendars/2026.toml).")],
    service: ServiceOption = None,
    as_json: JsonOption = False,
) -> None:
    """Load a year into every running service (or one): recorded in each store, counted on at once."""
    from shared.domain.calendar import CalendarYear
    from shared.errors import ValidationFailed

    try:
        year = CalendarYear.from_toml(file)
    except ValidationFailed as error:
        problems = [f"  {name}: {problem}" for name, found in error.errors.items() for problem in found]
        if as_json:
            cli.emit({"file": str(file), "error": error.message, "problems": error.errors})
            raise typer.Exit(PROBLEM) from None
        cli.fail("\n".join([f"{error.message}:", *problems]))
    names = cli.services(service)
    with cli.operator_rpc() as rpc:
        answers, failures = _each_service(rpc, names, lambda proxy: proxy.load_calendar(**year.as_data()))
    rows: list[dict[str, Any]] = [
        {"service": name, "year": year.year, "changed": answers[name]["changed"], "error": None}
        if name in answers
        else {"service": name, "year": year.year, "changed": False, "error": failures[name]}
        for name in names
    ]
    if as_json:
        cli.emit(rows)
    else:
        table = Table("service", "year", "outcome", title=f"{file}: {year.year} ({year.source})")
        for r in rows:
            outcome = (
                f"[red]{r['error']}[/red]" if r["error"] else ("loaded" if r["changed"] else "loaded already, as is")
            )
            table.add_row(r["service"], str(r["year"]), outcome)
        console.print(table)
    if failures:
        raise typer.Exit(PROBLEM)


@calendar_app.command("show")
def calendar_show(service: ServiceOption = None, as_json: JsonOption = False) -> None:
    """The calendar years each service counts on: loaded into its store, or shipped with the platform."""
    names = cli.services(service)
    with cli.operator_rpc() as rpc:
        answers, failures = _each_service(rpc, names, lambda proxy: proxy.calendar_years()["items"])
    rows: list[dict[str, Any]] = [
        {"service": name, **item, "error": None} for name in names for item in answers.get(name, ())
    ] + [{"service": name, "error": failures[name]} for name in names if name in failures]
    if as_json:
        cli.emit(rows)
    else:
        table = Table("service", "year", "counts on", "provisional", "holidays", "make-up days", "source", "loaded at")
        for r in rows:
            if r["error"]:
                table.add_row(r["service"], "-", f"[red]{r['error']}[/red]", "", "", "", "", "")
                continue
            table.add_row(
                r["service"],
                str(r["year"]),
                "loaded" if r["origin"] == "loaded" else "[yellow]shipped (none loaded)[/yellow]",
                "yes" if r["provisional"] else "no",
                str(len(r["holidays"])),
                str(len(r["make_up_working_days"])),
                r["source"],
                r["loaded_at"] or "",
            )
        console.print(table)
    if failures:
        raise typer.Exit(PROBLEM)
