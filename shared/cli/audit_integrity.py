"""orgctl audit, proving the record: verify every store, sign and export heads, prove inclusion and consistency.

``verify`` trusts only the key given with ``--public-key`` or configured
(``AUDIT_PUBLIC_KEY``, else ``audit.pub`` in the key directory), never one
inside a file it reads. Its exit code grades the worst finding: 3 the record
was manipulated, 4 a gap (something could not be checked), 5 events not yet
covered by a signed head; 0 when every event is covered and intact.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from shared.audit import proofs
from shared.audit.heads import (
    BadKey,
    FileHeadSink,
    head_sink,
    load_signing_key,
    new_signing_key,
    private_key_from_text,
    trusted_public_key,
)
from shared.audit.proofs import ProofFailed, TreeHead
from shared.audit.report import GAP, MANIPULATION, NOT_YET_COVERED, Report
from shared.audit.tree import MerkleLog, NotYetCovered, TamperedLog
from shared.audit.verify import verify as verify_store
from shared.cli import common as cli
from shared.cli.audit_commands import audit_app
from shared.cli.common import USAGE, JsonOption, ServiceOption, console
from shared.config import Settings
from shared.errors import NotFound, OrgWorkError
from shared.runtime.process.catalog import load_service

EXIT_CODES = {MANIPULATION: cli.MANIPULATION, GAP: cli.GAP, NOT_YET_COVERED: cli.NOT_YET_COVERED}
HeadsOption = Annotated[
    Path | None,
    typer.Option(
        "--heads",
        help="Heads kept outside the system: a sink directory (<service>.heads.jsonl) or an export-heads file. "
        "Default: AUDIT_HEAD_SINK.",
    ),
]
KeyOption = Annotated[
    str | None, typer.Option("--public-key", help="The trusted Ed25519 public key, hex (default AUDIT_PUBLIC_KEY).")
]


def _trusted_key(public_key: str | None) -> bytes | None:
    try:
        if public_key:
            key = bytes.fromhex(public_key)
            if len(key) != 32:
                raise ValueError("an Ed25519 public key is 32 bytes")
            return key
        return trusted_public_key(Settings.from_env())
    except (ValueError, BadKey) as error:
        raise typer.BadParameter(str(error), param_hint="--public-key") from error


def _published(heads: Path | None, services: list[str]) -> dict[str, list[TreeHead] | None]:
    """Each service's heads from outside the database (None: no copy to hold the book to)."""
    try:
        if heads is None:
            sink = head_sink(Settings.from_env())
            return {name: sink.heads(name) if sink else None for name in services}
        if heads.is_dir():
            return {name: FileHeadSink(heads).heads(name) for name in services}
        document = json.loads(heads.read_text())
        every = [TreeHead.from_json(h) for h in document["heads"]]
        return {name: [h for h in every if h.log_id == name] for name in services}
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise typer.BadParameter(f"cannot read the heads: {error}", param_hint="--heads") from error


def _verdict(report: Report) -> str:
    grade = report.grade
    if grade is None:
        return "[green]intact[/green], every event covered by a signed head"
    if grade == MANIPULATION:
        return f"[red]MANIPULATED[/red], first at position {report.first_position}"
    if grade == GAP:
        return "[yellow]GAP[/yellow]: not everything could be checked"
    return "[yellow]intact so far[/yellow], with events not yet covered"


@audit_app.command("verify")
def verify(
    service: ServiceOption = None,
    heads: HeadsOption = None,
    public_key: KeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every hash, chain and leaf, and hold the log to its signed heads; the exit code grades the worst finding."""
    key = _trusted_key(public_key)
    names = cli.services(service)
    published = _published(heads, names)
    database = cli.database()
    try:
        reports = []
        for name in names:
            cls = load_service(name)
            reports.append(
                verify_store(
                    database,
                    name,
                    public_key=key,
                    published=published[name],
                    aggregates=cls.aggregates,
                    registry=cls.events,
                )
            )
    finally:
        database.close()
    if as_json:
        cli.emit(
            [
                {
                    "service": r.service,
                    "trusted_key": key.hex() if key else None,
                    "events": r.events,
                    "covered": r.covered,
                    "not_yet_covered": r.events - r.covered,
                    "heads": r.heads,
                    "snapshots": r.snapshots,
                    "grade": r.grade or "intact",
                    "first_position": r.first_position,
                    "findings": [f.as_json() for f in r.findings],
                }
                for r in reports
            ]
        )
    else:
        for r in reports:
            console.print(
                f"{r.service}: {r.events} events, {r.covered} covered by {r.heads} signed head(s), "
                f"{r.snapshots} snapshot(s): {_verdict(r)}"
            )
            for f in r.findings:
                where = f"position {f.position}: " if f.position is not None else ""
                console.print(escape(f"  [{f.grade}] {where}{f.kind}: {f.detail}"))
    grades = {r.grade for r in reports}
    worst = next((g for g in (MANIPULATION, GAP, NOT_YET_COVERED) if g in grades), None)
    if worst is not None:
        raise typer.Exit(EXIT_CODES[worst])


@audit_app.command("sign-head")
def sign_head(service: ServiceOption = None, as_json: JsonOption = False) -> None:
    """Grow each store's tree and sign a head now (the services do it every AUDIT_HEAD_SECONDS)."""
    settings = Settings.from_env()
    try:
        key = load_signing_key(settings)
    except BadKey as error:
        cli.fail(str(error), USAGE)
    if key is None:
        cli.fail("no signing key: set AUDIT_SIGNING_KEY, AUDIT_SIGNING_KEY_FILE, or SECURITY_KEYS_DIR", USAGE)
    assert key is not None
    database = cli.database()
    signed: dict[str, TreeHead | None] = {}
    try:
        for name in cli.services(service):
            try:
                signed[name] = MerkleLog(database, name, head_sink(settings)).sign(key)
            except TamperedLog as error:
                cli.fail(f"refused: {error}")
    finally:
        database.close()
    if as_json:
        cli.emit({name: h.as_json() if h else None for name, h in signed.items()})
        return
    for name, h in signed.items():
        console.print(f"{name}: " + (f"signed a head of {h.tree_size} events" if h else "nothing new to sign"))


@audit_app.command("export-heads")
def export_heads(
    out: Annotated[Path | None, typer.Option(help="Write here instead of standard output.")] = None,
) -> None:
    """Every signed head of every store, for an auditor to keep outside the system (no key inside: bring your own)."""
    database = cli.database()
    try:
        every = [h for name in cli.services() for h in MerkleLog(database, name).heads()]
    finally:
        database.close()
    document = {"exported_at": dt.datetime.now(dt.UTC).isoformat(), "heads": [h.as_json() for h in every]}
    text = json.dumps(document, indent=2)
    if out is None:
        print(text)
    else:
        out.write_text(text)
        console.print(f"{len(every)} head(s) written to {out}")


@audit_app.command("prove")
def prove(
    event_id: str,
    service: ServiceOption = None,
    since: Annotated[int | None, typer.Option(help="The size of a head you saved: add consistency from it.")] = None,
    tree_size: Annotated[int | None, typer.Option(help="Prove against the head of this size.")] = None,
) -> None:
    """An event's inclusion proof and signed head, as JSON: check it anywhere with shared/audit/proofs.py."""
    database = cli.database()
    try:
        for name in cli.services(service):
            try:
                bundle = MerkleLog(database, name).prove(event_id, tree_size, since)
            except NotFound as error:
                if error.kind == "event":
                    continue
                cli.fail(str(error))
            except (NotYetCovered, TamperedLog) as error:
                cli.fail(str(error))
            except OrgWorkError as error:
                cli.fail(str(error))
            except Exception as error:  # a malformed id is refused by PostgreSQL
                cli.fail(f"cannot prove {event_id!r}: {type(error).__name__}: {error}".splitlines()[0], USAGE)
            cli.emit(bundle)
            return
    finally:
        database.close()
    cli.fail(f"no store holds event {event_id}")


@audit_app.command("consistency")
def consistency(
    old: int,
    new: int,
    service: Annotated[str, typer.Option("--service", "-s", help="The store whose heads these are.")],
    public_key: KeyOption = None,
) -> None:
    """Prove the log of the head of size OLD only grew into the one of size NEW; checked here, printed as JSON."""
    key = _trusted_key(public_key)
    database = cli.database()
    try:
        proof = MerkleLog(database, cli.services(service)[0]).consistency(old, new)
    except OrgWorkError as error:
        cli.fail(str(error))
    finally:
        database.close()
    old_head, new_head = TreeHead.from_json(proof["old"]), TreeHead.from_json(proof["new"])
    try:
        if key is not None:
            old_head.check_signature(key)
            new_head.check_signature(key)
        proofs.verify_consistency(
            old, new, old_head.root_hash, new_head.root_hash, [bytes.fromhex(h) for h in proof["path"]]
        )
    except ProofFailed as failure:
        cli.emit(proof)
        cli.fail(f"NOT consistent: {failure}")
    cli.emit(proof)


@audit_app.command("new-key")
def new_key() -> None:
    """A new audit signing key (for a Secret's AUDIT_SIGNING_KEY) and the public key auditors trust."""
    private = new_signing_key()
    public = proofs.raw_public_key(private_key_from_text(private, "new key"))
    cli.emit({"AUDIT_SIGNING_KEY": private, "AUDIT_PUBLIC_KEY": public.hex()})
