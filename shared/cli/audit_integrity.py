"""orgctl audit, proving the record: verify every store, sign and export its heads."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from shared.audit.checkpoints import Checkpoint, CheckpointBook, load_signing_key, trusted_public_key
from shared.audit.verify import verify as verify_store
from shared.cli import common as cli
from shared.cli.audit_commands import audit_app
from shared.cli.common import PROBLEM, USAGE, JsonOption, ServiceOption, console
from shared.config import Settings


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
