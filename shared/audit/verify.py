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

A large log is checked in ranges, by worker processes, instead of in one
pass (``parallel``): the per-event work splits, the report stays the same.

Each finding has a grade, and ``orgctl audit verify`` an exit code for each:
*manipulation* (the record was changed), *gap* (something cannot be checked:
no trusted key, a snapshot whose aggregate is unknown) and *not yet covered*
(events after the latest signed head: the next head will cover them).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from typing import Any

from shared.audit import parallel
from shared.audit.chains import Chains
from shared.audit.checks import StoredLeaves, Tree, check_roots, event_findings, too_many_leaves, when
from shared.audit.leaves import COMMIT_ORDER, LEAF_COLUMNS, canonical_text
from shared.audit.proofs import ProofFailed, TreeHead
from shared.audit.report import GAP, GRADES, NOT_YET_COVERED, Report
from shared.db.database import Database, fetch_one
from shared.domain.aggregate import Aggregate
from shared.domain.events import EventRegistry

PAGE = 5000


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


def check_log(
    database: Database,
    service: str,
    report: Report,
    heads: dict[int, list[TreeHead]],
    *,
    workers: int = 1,
    chunk: int | None = None,
) -> None:
    """Hashes, chains, tx_ids, leaves, and the roots at every head's size: in ranges when it pays, else one pass."""
    next_xid = _next_xid(database)
    if workers > 1 and parallel.check_in_ranges(database, service, report, heads, next_xid, workers, chunk):
        return
    _check_in_one_pass(database, service, report, heads, next_xid)


def _check_in_one_pass(
    database: Database, service: str, report: Report, heads: dict[int, list[TreeHead]], next_xid: int
) -> None:
    stored = StoredLeaves(
        _rows(database, service, f'SELECT position, tx_id, leaf_hash FROM "{service}".audit_leaves ORDER BY leaf_index')
    )
    tree = Tree()
    chains = Chains(report)
    rows = _rows(database, service, f'SELECT {LEAF_COLUMNS} FROM "{service}".events ORDER BY {COMMIT_ORDER}')
    for row in rows:
        position, tx_id, stream_id, version = row[:4]
        report.events += 1
        leaf, found = event_findings(row, next_xid)
        for kind, detail in found:
            report.add(position, kind, detail)
        chains.see(stream_id, version, position, bytes(row[9]), bytes(row[10]))
        mismatch = stored.check(tree.size, position, tx_id, leaf, stream_id, version)
        if mismatch is not None:
            report.add(position, "leaf", mismatch)
        tree.push(leaf)
        if tree.size in heads:
            check_roots(report, heads[tree.size], tree.root())
    chains.finish()
    if stored.more():
        report.add(None, "leaf", too_many_leaves(report.events))


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
                f"(signed {when(head.timestamp)}): it was truncated or rewritten",
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
    workers: int | None = None,
    chunk: int | None = None,
) -> Report:
    """Verify one store against its book of heads, and ``published``, the copy kept outside.

    Only ``public_key`` is trusted: a head signed with any other key is a
    finding, whatever key the book or the file names. Events after the
    latest head are reported as not yet covered, with their number.

    A large log is checked in ranges by ``workers`` processes (default: one
    per CPU; 1 checks in this process), each connecting with ``database``'s
    own DSN; ``chunk`` (a power of two) sets the events per range and
    makes even a small log use ranges (see ``parallel``). The report is the
    same either way.
    """
    from shared.audit.tree import MerkleLog

    report = Report(service)
    book = MerkleLog(database, service).heads()
    sizes = check_heads(report, book, published, public_key)
    check_log(database, service, report, sizes, workers=workers or os.cpu_count() or 1, chunk=chunk)
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
