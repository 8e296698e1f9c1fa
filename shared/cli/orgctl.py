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
from shared.config import Settings, service_ports
from shared.db.database import Database
from shared.errors import NotFound, OrgWorkError
from shared.runtime.process.catalog import existing_services, load_service
from shared.runtime.process.control import status as status_of

app = typer.Typer(help=__doc__.splitlines()[0], no_args_is_help=True, add_completion=False)
audit_app = typer.Typer(help="Read, trace and verify the record.", no_args_is_help=True)
dlq_app = typer.Typer(help="Events a service's handlers gave up on.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
parked_app = typer.Typer(help="Events a projection kept failing on, set aside.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
app.add_typer(parked_app, name="parked")

console = Console()
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ServiceOption = Annotated[str | None, typer.Option("--service", "-s", help="Only this service.")]

OK, PROBLEM, USAGE = 0, 1, 2


def _database() -> Database:
    return Database(Settings.from_env().database_url, size=2, application_name="orgctl")


def _services(only: str | None = None) -> list[str]:
    names = existing_services()
    if only is not None:
        if only not in names:
            raise typer.BadParameter(
                f"no service {only!r}; the services are {', '.join(names)}", param_hint="--service"
            )
        return [only]
    return names


def _emit(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def _fail(message: str, code: int = PROBLEM) -> None:
    console.print(f"[red]{message}[/red]")
    raise typer.Exit(code)


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
        _emit(rows)
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
    database = _database()
    try:
        owner, events = hist.find_stream(database, _services(service), stream)
    except (NotFound, OrgWorkError) as error:
        _fail(str(error))
    finally:
        database.close()
    rows = hist.history_rows(events)
    if as_json:
        _emit({"service": owner, "stream_id": stream, "events": rows})
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
    database = _database()
    try:
        owner, events = hist.find_stream(database, _services(service), stream)
        state = hist.as_of(load_service(owner), stream, events, moment, position)
    except (NotFound, OrgWorkError) as error:
        _fail(str(error))
    finally:
        database.close()
    if as_json:
        _emit({"service": owner, **state})
    else:
        console.print(f"[bold]{stream}[/bold] in {owner}, version {state['version']} (as of {state['as_of_time']})")
        console.print_json(json.dumps(state["state"], default=str, ensure_ascii=False))


@audit_app.command("trace")
def trace(correlation_id: str, as_json: JsonOption = False) -> None:
    """The causal tree across every service's store, in time order: what caused what."""
    database = _database()
    try:
        roots = hist.trace(database, _services(), correlation_id)
    finally:
        database.close()
    if not roots:
        _fail(f"no event has correlation id {correlation_id}")
    if as_json:
        _emit([root.as_json() for root in roots])
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
    database = _database()
    try:
        reports = [
            verify_store(database, name, exported, key, require_signed=key is not None) for name in _services(service)
        ]
    finally:
        database.close()
    if as_json:
        _emit(
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
        _fail("no signing key: set AUDIT_SIGNING_KEY (base64) or AUDIT_SIGNING_KEY_FILE", USAGE)
    assert key is not None
    database = _database()
    try:
        taken = {name: CheckpointBook(database, name).take(key) for name in _services(service)}
    finally:
        database.close()
    if as_json:
        _emit({name: c.as_json() if c else None for name, c in taken.items()})
        return
    for name, c in taken.items():
        console.print(f"{name}: " + (f"signed at {c.cursor}, {c.count} events" if c else "nothing new to sign"))


@audit_app.command("export-checkpoints")
def export_checkpoints(
    out: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
) -> None:
    """Every signed checkpoint, for an auditor to keep outside the system."""
    database = _database()
    try:
        every = [c for name in _services() for c in CheckpointBook(database, name).all()]
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

    cls = load_service(_services(service)[0])
    chosen = [p for p in cls.projections if projection in (None, p.name)]
    if not chosen:
        raise typer.BadParameter(f"{service} has no projection {projection!r}", param_hint="--projection")
    database = _database()
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
        _emit(
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


def _rpc() -> Any:
    """A client calling as the operator, vouched for by the operator's own key (``SECURITY_KEYS_DIR``)."""
    import getpass

    from shared.runtime.messaging.client import rpc_client
    from shared.security.assertions import Identity
    from shared.security.policy import OPERATOR

    operator = Identity(f"operator:{getpass.getuser()}", (OPERATOR,), OPERATOR)
    return rpc_client(timeout=10, identity=operator, issuer=OPERATOR)


@dlq_app.command("list")
def dlq_list(service: ServiceOption = None, as_json: JsonOption = False) -> None:
    """Dead letters of every service (or one)."""
    rows = []
    with _rpc() as rpc:
        for name in _services(service):
            rows += [{"service": name, **item} for item in getattr(rpc, name).dead_letters()["items"]]
    if as_json:
        _emit(rows)
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
    with _rpc() as rpc:
        try:
            outcome = getattr(rpc, _services(service)[0]).replay_dead_letter(id=dead_letter_id)
        except OrgWorkError as error:
            _fail(str(error))
    if as_json:
        _emit(outcome)
    else:
        console.print(f"dead letter {dead_letter_id}: {outcome['outcome']}")
    if outcome["outcome"] == "dead_lettered":
        raise typer.Exit(PROBLEM)


# -- the calendar ------------------------------------------------------------------------------

calendar_app = typer.Typer(help="The organisation's calendar each service counts on.", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")


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
            _emit({"file": str(file), "error": error.message, "problems": error.errors})
            raise typer.Exit(PROBLEM) from None
        _fail("\n".join([f"{error.message}:", *problems]))
    names = _services(service)
    with _rpc() as rpc:
        answers, failures = _each_service(rpc, names, lambda proxy: proxy.load_calendar(**year.as_data()))
    rows: list[dict[str, Any]] = [
        {"service": name, "year": year.year, "changed": answers[name]["changed"], "error": None}
        if name in answers
        else {"service": name, "year": year.year, "changed": False, "error": failures[name]}
        for name in names
    ]
    if as_json:
        _emit(rows)
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
    names = _services(service)
    with _rpc() as rpc:
        answers, failures = _each_service(rpc, names, lambda proxy: proxy.calendar_years()["items"])
    rows: list[dict[str, Any]] = [
        {"service": name, **item, "error": None} for name in names for item in answers.get(name, ())
    ] + [{"service": name, "error": failures[name]} for name in names if name in failures]
    if as_json:
        _emit(rows)
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
    database = _database()
    try:
        rows = [
            {"service": runner.schema, "projection": runner.projection.name, **row}
            for runner in _runners(database, _services(service))
            for row in runner.parked()
        ]
    finally:
        database.close()
    if as_json:
        _emit(rows)
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
    database = _database()
    try:
        runner = next((r for r in _runners(database, _services(service)) if r.projection.name == projection), None)
        if runner is None:
            raise typer.BadParameter(f"{service} has no projection {projection!r}", param_hint="projection")
        try:
            runner.retry_parked(parked_id)
        except LookupError as error:
            _fail(str(error))
        except Exception as error:
            _fail(f"it failed again: {type(error).__name__}: {error}")
    finally:
        database.close()
    console.print(f"parked event {parked_id} applied to {service}.{projection}")


# -- keys and tokens ---------------------------------------------------------------------------

keys_app = typer.Typer(help="The platform's signing keys (local runs).", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for the gateway, from the local token issuer.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.add_typer(token_app, name="token")


def _keys_dir(directory: Path | None = None) -> Path:
    from shared.config import LOCAL_KEYS_DIR

    return directory or Path(Settings.from_env().security.keys_dir or LOCAL_KEYS_DIR)


@keys_app.command("init")
def keys_init(
    directory: Annotated[Path | None, typer.Argument(help="Default: SECURITY_KEYS_DIR, else .orgwork/keys.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Make every holder's Ed25519 key pair that is missing, and the local issuer's tokens.jwks.json."""
    from shared.security import keys, tokens

    target = _keys_dir(directory)
    made = keys.generate(target, list(keys.HOLDERS))
    jwks = tokens.write_jwks(target)
    if as_json:
        _emit({"directory": str(target), "made": made, "jwks": str(jwks)})
        return
    console.print(f"{target}: {', '.join(made) if made else 'every key was there already'}; JWKS at {jwks}")


@token_app.command("issue")
def token_issue(
    role: Annotated[list[str], typer.Option("--role", "-r", help="A role of the roles table; repeat for more.")],
    subject: Annotated[str, typer.Option("--subject", "-s", help="Who holds the token (its sub).")],
    minutes: Annotated[float, typer.Option(help="How long it lives.", min=1, max=7 * 24 * 60)] = 60.0,
    as_json: JsonOption = False,
) -> None:
    """Mint a bearer token signed with the tokens key (SECURITY_KEYS_DIR, else .orgwork/keys)."""
    from shared.security import tokens
    from shared.security.keys import KeyRing, MissingKey
    from shared.security.policy import ROLES

    unknown = sorted(set(role) - set(ROLES))
    if unknown:
        raise typer.BadParameter(f"unknown role(s) {unknown}; the roles are {', '.join(ROLES)}", param_hint="--role")
    gateway = Settings.from_env().gateway
    target = _keys_dir()
    try:
        token = tokens.issue(
            KeyRing(target),
            subject,
            role,
            minutes=minutes,
            issuer=gateway.token_issuer,
            audience=gateway.token_audience,
        )
    except MissingKey as error:
        _fail(f"{error} (make the keys with `orgctl keys init`)", USAGE)
    if as_json:
        _emit({"token": token, "subject": subject, "roles": role, "minutes": minutes})
    else:
        print(token)


def main() -> None:
    from shared.runtime.process.bootstrap import green

    green()
    app(prog_name="orgctl")


if __name__ == "__main__":
    main()
