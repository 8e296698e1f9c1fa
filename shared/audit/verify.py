"""Verifying a store: every hash, every stream's chain, the Merkle tree, the signed heads, the snapshots.

One pass over the log in commit-safe order checks, for each event:

1. its stored hash, recomputed from its own fields: a changed payload,
   metadata or type, or two rows whose contents were swapped, are *altered*;
2. its stream's chain: versions 1, 2, 3..., each ``prev_hash`` the previous
   event's hash. A missing version is a *deletion*, a version out of place a
   *reordering*, a broken link an *insertion* (or a re-hashed alteration);
3. its ``tx_id``, which no hash of the chain covers: one at or past the next
   id the server will assign is a forgery (it would freeze its stream and
   hide the event from every reader);
4. its leaf in the Merkle tree, recomputed from every stored field and
   compared with the leaf stored when the event entered the tree;

and, as the pass goes, the tree's root at each signed head's size is
recomputed and compared with the signed root. A forger with database access
can recompute every hash of the chain, and even rebuild the stored tree; he
cannot sign with the auditors' key, nor reach the heads published outside.

Each finding has a grade, and ``orgctl audit verify`` an exit code for each:
*manipulation* (the record was changed), *gap* (something cannot be checked:
no trusted key, a snapshot whose aggregate is unknown) and *not yet covered*
(events after the latest signed head: the next head will cover them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from shared.audit import proofs
from shared.audit.leaves import COMMIT_ORDER, LEAF_COLUMNS, canonical_text, digests_of_row
from shared.audit.proofs import ProofFailed, TreeHead
from shared.db.database import Database, fetch_one
from shared.domain.aggregate import Aggregate
from shared.domain.events import EventRegistry
from shared.eventstore.records import ZERO_HASH

PAGE = 5000

MANIPULATION = "manipulation"
GAP = "gap"
NOT_YET_COVERED = "not-yet-covered"
#: Most serious first: a report's grade is the most serious of its findings.
GRADES = (MANIPULATION, GAP, NOT_YET_COVERED)


@dataclass(frozen=True)
class Finding:
    service: str
    position: int | None
    kind: str  # altered, deleted, inserted, reordered, tx_id, leaf, head, signature, snapshot, untrusted, uncovered
    detail: str
    grade: str = MANIPULATION

    def as_json(self) -> dict[str, object]:
        return {
            "service": self.service,
            "position": self.position,
            "kind": self.kind,
            "grade": self.grade,
            "detail": self.detail,
        }


@dataclass
class Report:
    service: str
    events: int = 0
    heads: int = 0
    covered: int = 0  # events covered by the latest head whose root matched
    snapshots: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def grade(self) -> str | None:
        """The most serious grade among the findings; None when there are none."""
        present = {f.grade for f in self.findings}
        return next((g for g in GRADES if g in present), None)

    @property
    def first_position(self) -> int | None:
        positions = [f.position for f in self.findings if f.position is not None and f.grade == MANIPULATION]
        return min(positions) if positions else None

    def add(self, position: int | None, kind: str, detail: str, grade: str = MANIPULATION) -> None:
        self.findings.append(Finding(self.service, position, kind, detail, grade))


def _rows(database: Database, service: str, sql: str) -> Iterator[tuple[Any, ...]]:
    """Rows streamed through a server-side cursor (memory stays flat), in a read-only transaction."""
    with database.connection() as conn:
        try:
            with conn.cursor(name=f"verify_{service}_{abs(hash(sql)) % 10**8}") as cur:
                cur.itersize = PAGE
                cur.execute(sql)
                yield from cur
        finally:
            conn.rollback()


def _next_xid(database: Database) -> int:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
        return int(fetch_one(cur)[0])


class _Tree:
    """The tree recomputed leaf by leaf: its right-edge frontier gives the root at any size reached."""

    def __init__(self) -> None:
        self.size = 0
        self.frontier: list[tuple[int, bytes]] = []

    def push(self, leaf: bytes) -> None:
        self.frontier.append((0, leaf))
        self.size += 1
        while len(self.frontier) >= 2 and self.frontier[-1][0] == self.frontier[-2][0]:
            level, right = self.frontier.pop()
            _, left = self.frontier.pop()
            self.frontier.append((level + 1, proofs.node_hash(left, right)))

    def root(self) -> bytes:
        return proofs.frontier_root([digest for _, digest in self.frontier])


class _Chains:
    """Each stream's chain, checked as the pass meets its events in commit-safe order.

    In an honest log a stream's versions come in order (a later version has a
    later transaction); a version that comes early waits until the versions
    before it arrive, and whatever still waits at the end was cut off from
    its stream: the versions before it were deleted.
    """

    def __init__(self, report: Report) -> None:
        self.report = report
        self.heads: dict[str, tuple[int, bytes]] = {}
        self.waiting: dict[str, dict[int, tuple[int, bytes, bytes]]] = {}

    def see(self, stream_id: str, version: int, position: int, prev_hash: bytes, digest: bytes) -> None:
        last, _ = self.heads.get(stream_id, (0, ZERO_HASH))
        if version <= last or version in self.waiting.get(stream_id, {}):
            self.report.add(position, "reordered", f"stream {stream_id} v{version} comes after v{last} of its stream")
        elif version == last + 1:
            self._link(stream_id, version, position, prev_hash, digest)
        else:
            self.waiting.setdefault(stream_id, {})[version] = (position, prev_hash, digest)

    def _link(self, stream_id: str, version: int, position: int, prev_hash: bytes, digest: bytes) -> None:
        _, previous = self.heads.get(stream_id, (0, ZERO_HASH))
        if prev_hash != previous:
            self.report.add(
                position, "inserted", f"stream {stream_id} v{version} does not chain to the event before it"
            )
        self.heads[stream_id] = (version, digest)
        waiting = self.waiting.get(stream_id)
        if waiting and version + 1 in waiting:
            self._link(stream_id, version + 1, *waiting.pop(version + 1))

    def finish(self) -> None:
        for stream_id, waiting in self.waiting.items():
            while waiting:
                version = min(waiting)
                position, _, digest = waiting.pop(version)
                last, _ = self.heads.get(stream_id, (0, ZERO_HASH))
                missing = f"v{last + 1}" + (f"-v{version - 1}" if version - 1 > last + 1 else "")
                self.report.add(position, "deleted", f"stream {stream_id} v{version}: {missing} missing before it")
                self.heads[stream_id] = (version, digest)
                if version + 1 in waiting:
                    self._link(stream_id, version + 1, *waiting.pop(version + 1))


class _StoredLeaves:
    """The leaves stored as events entered the tree, read alongside the log in the same order."""

    def __init__(self, rows: Iterator[tuple[Any, ...]]) -> None:
        self.rows = rows
        self.aligned = True
        self.count = 0

    def next(self) -> tuple[int, int, bytes] | None:
        row = next(self.rows, None)
        if row is None:
            return None
        self.count += 1
        return int(row[0]), int(row[1]), bytes(row[2])


def check_log(database: Database, service: str, report: Report, heads: dict[int, list[TreeHead]]) -> None:
    """The one pass: hashes, chains, tx_ids, leaves, and the roots at every head's size."""
    next_xid = _next_xid(database)
    stored = _StoredLeaves(
        _rows(database, service, f'SELECT position, tx_id, leaf_hash FROM "{service}".audit_leaves ORDER BY leaf_index')
    )
    tree = _Tree()
    chains = _Chains(report)
    rows = _rows(database, service, f'SELECT {LEAF_COLUMNS} FROM "{service}".events ORDER BY {COMMIT_ORDER}')
    for row in rows:
        position, tx_id, stream_id, version = row[:4]
        prev_hash, stored_hash = bytes(row[9]), bytes(row[10])
        report.events += 1
        where = f"stream {stream_id} v{version}"
        expected, leaf_input = digests_of_row(row)
        if expected != stored_hash:
            report.add(position, "altered", f"{where}: content does not match its hash")
        if tx_id >= next_xid:
            report.add(position, "tx_id", f"{where}: tx_id {tx_id} is past every transaction the server has run")
        chains.see(stream_id, version, position, prev_hash, stored_hash)

        leaf = proofs.leaf_hash(leaf_input)
        if stored.aligned:
            entry = stored.next()
            if entry is not None:
                leaf_position, leaf_tx, leaf_digest = entry
                if leaf_position != position or leaf_tx != tx_id:
                    stored.aligned = False
                    report.add(
                        position,
                        "leaf",
                        f"{where} (tx_id {tx_id}) sits where leaf {tree.size} recorded position {leaf_position} "
                        f"(tx_id {leaf_tx}): the log's order or a tx_id was changed after it entered the tree",
                    )
                elif leaf_digest != leaf:
                    report.add(position, "leaf", f"{where}: changed since it entered the tree (leaf {tree.size})")
        tree.push(leaf)
        _check_roots(report, heads.get(tree.size, ()), tree.root())
    chains.finish()
    if stored.aligned and stored.next() is not None:
        report.add(
            None, "leaf", f"the tree holds more leaves than the log has events ({report.events}): events were deleted"
        )


def _check_roots(report: Report, heads: Iterable[TreeHead], root: bytes) -> None:
    for head in heads:
        if head.root_hash != root:
            report.add(
                None,
                "head",
                f"the log's first {head.tree_size} events do not have the root signed at "
                f"{_when(head.timestamp)}: the record was changed after that head",
            )


def _when(timestamp_ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC).isoformat(timespec="seconds")


def check_heads(
    report: Report, book: list[TreeHead], published: list[TreeHead] | None, public_key: bytes | None
) -> dict[int, list[TreeHead]]:
    """Signatures, and the book against the copy kept outside; returns the heads whose roots the log must have."""
    if public_key is None:
        report.add(
            None,
            "untrusted",
            "no trusted public key (give --public-key, or set AUDIT_PUBLIC_KEY): the heads' signatures prove nothing",
            GAP,
        )
    by_size: dict[int, list[TreeHead]] = {}
    for head in [*book, *(published or ())]:
        same = by_size.setdefault(head.tree_size, [])
        if all(h.root_hash != head.root_hash or h.signature != head.signature for h in same):
            same.append(head)
    for size, heads in by_size.items():
        for head in heads:
            if public_key is not None:
                try:
                    head.check_signature(public_key)
                except ProofFailed as failure:
                    report.add(None, "signature", str(failure))
        if len({h.root_hash for h in heads}) > 1:
            report.add(None, "head", f"two heads of size {size} with different roots: the book was rewritten")
    kept = {(h.tree_size, h.root_hash) for h in book}
    for head in published or ():
        if (head.tree_size, head.root_hash) not in kept:
            report.add(
                None,
                "head",
                f"the store's book of heads lost the published head of size {head.tree_size} "
                f"(signed {_when(head.timestamp)}): it was truncated or rewritten",
            )
    report.heads = len(by_size)
    return by_size


def check_snapshots(
    database: Database,
    service: str,
    report: Report,
    aggregates: Iterable[type[Aggregate]],
    registry: EventRegistry,
) -> None:
    """Each snapshot rebuilt from its events and compared: a snapshot is a cache, never evidence."""
    from shared.eventstore.store import EventStore

    kinds = {cls.category: cls for cls in aggregates}
    store = EventStore(database, service)
    rows = _rows(
        database,
        service,
        f'SELECT stream_id, state_version, fingerprint, version, state::text FROM "{service}".snapshots ORDER BY stream_id',
    )
    for stream_id, state_version, fingerprint, version, state in rows:
        report.snapshots += 1
        cls = next((c for category, c in kinds.items() if stream_id.startswith(category + "-")), None)
        if cls is None:
            report.add(None, "snapshot", f"snapshot of {stream_id}: no aggregate of this service keeps it", GAP)
            continue
        if (state_version, fingerprint) != (cls.state_version, cls.state_fingerprint()):
            continue  # an old shape: never loaded, so it cannot mislead
        aggregate = cls(stream_id[len(cls.category) + 1 :])
        for record in store.read_stream(stream_id, 1, version):
            aggregate.apply(registry.from_record(record))
        if aggregate.version != version or canonical_text(json.dumps(aggregate.snapshot_state(), default=str)) != (
            canonical_text(state)
        ):
            report.add(
                None,
                "snapshot",
                f"snapshot of {stream_id} at v{version} differs from the state its events give: it was tampered with",
            )


def verify(
    database: Database,
    service: str,
    *,
    public_key: bytes | None,
    published: list[TreeHead] | None = None,
    aggregates: Iterable[type[Aggregate]] = (),
    registry: EventRegistry | None = None,
) -> Report:
    """Verify one store against its book of heads, and ``published``, the copy kept outside.

    Only ``public_key`` is trusted: a head signed with any other key is a
    finding, whatever key the book or the file names. Events after the
    latest head are reported as not yet covered, with their number.
    """
    from shared.audit.tree import MerkleLog

    report = Report(service)
    book = MerkleLog(database, service).heads()
    sizes = check_heads(report, book, published, public_key)
    check_log(database, service, report, sizes)
    latest = max(sizes, default=0)
    if latest > report.events:
        report.add(None, "head", f"a head signs {latest} events but the log has {report.events}: events were deleted")
    report.covered = min(latest, report.events)
    tail = report.events - report.covered
    if tail:
        report.add(
            None,
            "uncovered",
            f"{tail} event(s) after the latest signed head (size {latest}) are not yet covered",
            NOT_YET_COVERED,
        )
    if registry is not None:
        check_snapshots(database, service, report, aggregates, registry)
    report.findings.sort(key=lambda f: (GRADES.index(f.grade), f.position is None, f.position or 0))
    return report
