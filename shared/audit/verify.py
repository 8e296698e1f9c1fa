"""Verifying a store: every hash, every stream's chain, every signed checkpoint.

Three checks, each catching what the others cannot:

1. Each event's stored hash is recomputed from its own fields (position
   included): a changed payload, metadata, type, or two rows whose contents
   were swapped, are *altered* at that position.
2. Each stream's events chain: versions 1, 2, 3... each ``prev_hash`` the
   previous event's hash. A missing version is a *deletion*; a version out of
   place is a *reordering*; a broken link is an *insertion* (or an alteration
   whose hash was recomputed).
3. The signed checkpoints: the running digest of every stored hash in
   commit-safe order must match each checkpoint's count and digest, and each
   signature must verify with the auditor's public key. This catches what a
   writer with database access could make self-consistent: a forged event at
   the end of a stream, a deleted stream, or the whole chain recomputed after
   an edit. Each window between checkpoints is checked on its own, so the
   report names the window; a single inserted event is pinpointed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from shared.audit.checkpoints import ZERO, Checkpoint
from shared.db.database import Database
from shared.eventstore.hashing import event_hash
from shared.eventstore.records import ZERO_HASH, Cursor

PAGE = 5000
LEAVE_ONE_OUT_LIMIT = 5000


@dataclass(frozen=True)
class Finding:
    service: str
    position: int | None
    kind: str  # altered, deleted, inserted, reordered, checkpoint, signature
    detail: str

    def as_json(self) -> dict[str, object]:
        return {"service": self.service, "position": self.position, "kind": self.kind, "detail": self.detail}


@dataclass
class Report:
    service: str
    events: int = 0
    checkpoints: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first_position(self) -> int | None:
        positions = [f.position for f in self.findings if f.position is not None]
        return min(positions) if positions else None


def _rows(database: Database, service: str, columns: str, order: str) -> Iterator[tuple[Any, ...]]:
    """Rows of a store's events, streamed through a server-side cursor (memory stays flat)."""
    with database.connection() as conn:
        with conn.cursor(name=f"verify_{service}") as cur:
            cur.itersize = PAGE
            cur.execute(f'SELECT {columns} FROM "{service}".events ORDER BY {order}')
            yield from cur
        conn.rollback()


def _canonical_float(text: str) -> float | int:
    """Numbers as canonical JSON writes them (see ``shared.eventstore.hashing``)."""
    value = float(text)
    if value == 0:
        return 0.0
    if value.is_integer() and "e" in repr(value):
        return int(value)
    return value


def _canonical_text(jsonb_text: str) -> str:
    """The canonical JSON of a jsonb value, from PostgreSQL's text of it.

    Cheaper than decoding then walking the value: jsonb holds no NUL and no lone
    surrogate, so only numbers need the canonical treatment, which the parser
    applies as it reads them.
    """
    return json.dumps(
        json.loads(jsonb_text, parse_float=_canonical_float),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


CHAIN_COLUMNS = (
    "position, stream_id, version, event_id::text, type, schema_version, data::text, metadata::text, prev_hash, hash"
)


def check_chains(database: Database, service: str, report: Report) -> None:
    heads: dict[str, tuple[int, bytes]] = {}
    rows = _rows(database, service, CHAIN_COLUMNS, "position")
    for position, stream_id, version, event_id, type_, schema_version, data, metadata, prev, stored in rows:
        prev_hash, digest = bytes(prev), bytes(stored)
        report.events += 1
        where = f"stream {stream_id} v{version}"
        expected = event_hash(
            position=position,
            stream_id=stream_id,
            version=version,
            event_id=event_id,
            type=type_,
            schema_version=schema_version,
            data_json=_canonical_text(data),
            metadata_json=_canonical_text(metadata),
            prev_hash=prev_hash,
        )
        if expected != digest:
            report.findings.append(Finding(service, position, "altered", f"{where}: content does not match its hash"))
        last_version, previous = heads.get(stream_id, (0, ZERO_HASH))
        if version <= last_version:
            report.findings.append(
                Finding(service, position, "reordered", f"{where} comes after v{last_version} of its stream")
            )
            continue
        if version > last_version + 1:
            missing = f"v{last_version + 1}" + (f"-v{version - 1}" if version - 1 > last_version + 1 else "")
            report.findings.append(Finding(service, position, "deleted", f"{where}: {missing} missing before it"))
        elif prev_hash != previous:
            report.findings.append(
                Finding(service, position, "inserted", f"{where} does not chain to the event before it")
            )
        heads[stream_id] = (version, digest)


class _Linked(NamedTuple):
    """What the checkpoint pass needs of an event."""

    tx_id: int
    position: int
    stream_id: str
    version: int
    hash: bytes


def check_checkpoints(
    database: Database, service: str, checkpoints: list[Checkpoint], report: Report, public_key: bytes | None
) -> None:
    """Each window between signed checkpoints, on its own."""
    checkpoints = sorted(checkpoints, key=lambda c: c.count)
    report.checkpoints = len(checkpoints)
    if not checkpoints:
        return
    columns = "tx_id::text::bigint AS tx_number, position, stream_id, version, hash"
    events = (
        _Linked(tx, position, stream_id, version, bytes(digest))
        for tx, position, stream_id, version, digest in _rows(database, service, columns, "tx_id, position")
    )
    pending: _Linked | None = next(events, None)
    digest, count, start = ZERO, 0, Cursor()
    for checkpoint in checkpoints:
        if not checkpoint.signature_valid(public_key):
            report.findings.append(
                Finding(
                    service, None, "signature", f"checkpoint at {checkpoint.cursor} is not signed by the auditor's key"
                )
            )
        if checkpoint.previous != digest:
            report.findings.append(
                Finding(
                    service, None, "checkpoint", f"checkpoint at {checkpoint.cursor} does not continue the one before"
                )
            )
        window: list[_Linked] = []
        bound = (checkpoint.cursor.tx_id, checkpoint.cursor.position)
        while pending is not None and (pending.tx_id, pending.position) <= bound:
            window.append(pending)
            pending = next(events, None)
        folded = digest
        for event in window:
            folded = hashlib.sha256(folded + event.hash).digest()
        found = count + len(window)
        if folded != checkpoint.digest or found != checkpoint.count:
            report.findings.append(_explain(service, start, checkpoint, digest, window, found))
        digest, count, start = checkpoint.digest, checkpoint.count, checkpoint.cursor


def _explain(
    service: str, start: Cursor, checkpoint: Checkpoint, digest: bytes, window: list[_Linked], found: int
) -> Finding:
    signed = checkpoint.count
    span = f"events after {start} up to {checkpoint.cursor}"
    first = window[0].position if window else None
    if found == signed + 1 and len(window) <= LEAVE_ONE_OUT_LIMIT:
        for skip, candidate in enumerate(window):
            folded = digest
            for i, event in enumerate(window):
                if i != skip:
                    folded = hashlib.sha256(folded + event.hash).digest()
            if folded == checkpoint.digest:
                return Finding(
                    service,
                    candidate.position,
                    "inserted",
                    f"stream {candidate.stream_id} v{candidate.version} was not there when the checkpoint at "
                    f"{checkpoint.cursor} was signed",
                )
    if found < signed:
        what = f"{signed - found} event(s) deleted"
    elif found > signed:
        what = f"{found - signed} event(s) inserted"
    else:
        what = "events altered or reordered (hashes recomputed)"
    return Finding(service, first, "checkpoint", f"{span}: {what}; the signed checkpoint says {signed} events")


def verify(
    database: Database,
    service: str,
    checkpoints: list[Checkpoint] | None = None,
    public_key: bytes | None = None,
    require_signed: bool = False,
) -> Report:
    """Verify one store.

    ``checkpoints`` are the auditors' exported copy; without it, the book kept
    in the store is used. With a copy, the store's book must still hold every
    checkpoint of it (a rewritten or shortened book is a finding). Signatures
    count only with a trusted ``public_key``: without one, checkpoints present
    are a finding, since whoever rewrote the log could have re-signed them.
    ``require_signed``: a store with events but no checkpoint is a finding.
    """
    from shared.audit.checkpoints import CheckpointBook

    report = Report(service)
    check_chains(database, service, report)
    book = CheckpointBook(database, service).all()
    if checkpoints is None:
        chosen = book
    else:
        chosen = [c for c in checkpoints if c.service == service]
        kept = {(c.cursor, c.count, c.digest) for c in book}
        for c in chosen:
            if (c.cursor, c.count, c.digest) not in kept:
                report.findings.append(
                    Finding(
                        service,
                        None,
                        "checkpoint",
                        f"the store's checkpoint book lost the checkpoint at {c.cursor}: rewritten or deleted",
                    )
                )
    if chosen and public_key is None:
        report.findings.append(
            Finding(
                service,
                None,
                "signature",
                "no trusted public key: the checkpoints' signatures prove nothing (give --public-key or AUDIT_PUBLIC_KEY)",
            )
        )
    if require_signed and report.events and not chosen:
        report.findings.append(
            Finding(service, None, "unsigned", f"no signed checkpoint covers the {report.events} events")
        )
    check_checkpoints(database, service, chosen, report, public_key)
    report.findings.sort(key=lambda f: (f.position is None, f.position or 0))
    return report
