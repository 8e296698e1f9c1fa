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
from collections.abc import Iterator
from dataclasses import dataclass, field

from shared.audit.checkpoints import ZERO, Checkpoint
from shared.db.database import Database
from shared.eventstore.hashing import NotCanonical, recompute_hash
from shared.eventstore.records import ZERO_HASH, Cursor, RecordedEvent
from shared.eventstore.store import _COLUMNS, _record

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


def _events(database: Database, service: str, order: str) -> Iterator[RecordedEvent]:
    """Every stored event, by ``position`` or in commit-safe ``(tx_id, position)`` order."""
    key = "position" if order == "position" else "tx_id, position"
    with database.connection() as conn:
        with conn.cursor(name=f"verify_{service}_{order}") as cur:  # server-side: memory stays flat
            cur.itersize = PAGE
            cur.execute(f'SELECT {_COLUMNS} FROM "{service}".events ORDER BY {key}')
            for row in cur:
                yield _record(row)
        conn.rollback()


def check_chains(database: Database, service: str, report: Report) -> None:
    heads: dict[str, tuple[int, bytes]] = {}
    for event in _events(database, service, "position"):
        report.events += 1
        where = f"stream {event.stream_id} v{event.version}"
        try:
            intact = recompute_hash(event) == event.hash
        except NotCanonical as error:
            intact = False
            where += f" ({error})"
        if not intact:
            report.findings.append(
                Finding(service, event.position, "altered", f"{where}: content does not match its hash")
            )
        version, previous = heads.get(event.stream_id, (0, ZERO_HASH))
        if event.version <= version:
            report.findings.append(
                Finding(service, event.position, "reordered", f"{where} comes after v{version} of its stream")
            )
            continue
        if event.version > version + 1:
            missing = f"v{version + 1}" + (f"-v{event.version - 1}" if event.version - 1 > version + 1 else "")
            report.findings.append(Finding(service, event.position, "deleted", f"{where}: {missing} missing before it"))
        elif event.prev_hash != previous:
            report.findings.append(
                Finding(service, event.position, "inserted", f"{where} does not chain to the event before it")
            )
        heads[event.stream_id] = (event.version, event.hash)


def check_checkpoints(
    database: Database, service: str, checkpoints: list[Checkpoint], report: Report, public_key: bytes | None
) -> None:
    """Each window between signed checkpoints, on its own."""
    checkpoints = sorted(checkpoints, key=lambda c: c.count)
    report.checkpoints = len(checkpoints)
    if not checkpoints:
        return
    events = _events(database, service, "commit")
    pending: RecordedEvent | None = next(events, None)
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
        window: list[RecordedEvent] = []
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
    service: str, start: Cursor, checkpoint: Checkpoint, digest: bytes, window: list[RecordedEvent], found: int
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
) -> Report:
    """Verify one store; ``checkpoints`` default to those kept in the store itself."""
    from shared.audit.checkpoints import CheckpointBook

    report = Report(service)
    check_chains(database, service, report)
    if checkpoints is None:
        checkpoints = CheckpointBook(database, service).all()
    check_checkpoints(database, service, [c for c in checkpoints if c.service == service], report, public_key)
    report.findings.sort(key=lambda f: (f.position is None, f.position or 0))
    return report
