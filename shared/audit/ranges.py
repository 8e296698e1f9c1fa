"""One range of the log, checked in a process of its own: the part of verification that is per event.

A worker recomputes each event's hash and Merkle leaf, checks its ``tx_id``
and compares its stored leaf, and sends back only what the order-dependent
checks need: its findings, each stream's runs of linked events (first and
last hashes), and its subtree of the Merkle tree (the root of a full range,
and the frontier where a signed head ends inside it). ``parallel`` puts the
ranges together in the parent.

Every range reads the snapshot the parent exported: together they see one
log, however many events are appended meanwhile. A worker connects with the
caller's own DSN, no other credentials.

Run as ``python -m shared.audit.ranges``, a worker reads its list of ranges
(pickled) on stdin and writes each range's result (pickled) on stdout as soon
as it has it, in order. A fresh interpreter: nothing of the parent (its
connections, an eventlet hub) is inherited.
"""

from __future__ import annotations

import pickle
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from shared.audit.checks import StoredLeaves, Tree, event_findings
from shared.audit.leaves import COMMIT_ORDER, LEAF_COLUMNS
from shared.db.database import Connection, Database, fetch_one

PAGE = 5000

#: Where a finding sits among its own event's findings in the one-pass report:
#: content and tx_id, then the chain's verdict when the event is met, then its
#: leaf, then a chain verdict given later (when a missing version turns up,
#: or at the end).
CONTENT, CHAIN, LEAF, CHAIN_LATER = range(4)


def join_snapshot(conn: Connection, snapshot: str | None = None) -> str:
    """Start a read-only repeatable-read transaction in ``snapshot``, or export a new one; returns its id.

    Must come first in the connection's transaction (PostgreSQL's rule for
    ``SET TRANSACTION SNAPSHOT``). The exporter's transaction must stay open
    until every range has joined.
    """
    with conn.cursor() as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        if snapshot is not None:
            cur.execute("SET TRANSACTION SNAPSHOT %s", [snapshot])
            return snapshot
        cur.execute("SELECT pg_export_snapshot()")
        return str(fetch_one(cur)[0])


@dataclass(frozen=True)
class Range:
    """Events ``start``.. in commit-safe order, from the key ``first`` up to (not including) ``end``."""

    dsn: str
    service: str
    snapshot: str
    next_xid: int
    start: int  # the ordinal of its first event: its first leaf's index
    first: tuple[str, int]  # (tx_id, position) of its first event
    end: tuple[str, int] | None  # of the next range's first event; None for the last range
    leaves: tuple[int, int | None] | None  # leaf_index bounds [from, to) of its stored leaves; None: none left
    heads: tuple[int, ...] = ()  # sizes, counted from ``start``, at which a signed head's root is needed


@dataclass(slots=True)
class Run:
    """A stream's events in a range, each the next version and linked to the one before it."""

    version: int  # of the first, and the hash it links to
    prev_hash: bytes
    last_version: int
    last_hash: bytes


@dataclass
class RangeResult:
    events: int = 0
    findings: list[tuple[int, int, str, str]] = field(default_factory=list)  # (position, slot, kind, detail)
    misaligned: bool = False  # its events and the stored leaves parted: later ranges' leaves prove nothing
    runs: dict[str, list[Run]] = field(default_factory=dict)
    frontier: list[tuple[int, bytes]] = field(default_factory=list)  # its subtree at its end
    roots: dict[int, list[bytes]] = field(default_factory=dict)  # its frontier at each size in ``Range.heads``


def check_range(task: Range) -> RangeResult:
    """Check one range, on a connection of its own (run in a worker process)."""
    database = Database(task.dsn, size=1, application_name=f"orgwork-verify-{task.service}")
    try:
        with database.connection() as conn:
            try:
                join_snapshot(conn, task.snapshot)
                return _check(conn, task)
            finally:
                conn.rollback()
    finally:
        database.close()


def _check(conn: Connection, task: Range) -> RangeResult:
    result = RangeResult()
    stored = StoredLeaves(_leaf_rows(conn, task))
    tree = Tree()
    runs = result.runs
    heads = set(task.heads)
    for row in _event_rows(conn, task):
        position, tx_id, stream_id, version = row[:4]
        leaf, found = event_findings(row, task.next_xid)
        for kind, detail in found:
            result.findings.append((position, CONTENT, kind, detail))
        _extend(runs, stream_id, version, bytes(row[9]), bytes(row[10]))
        mismatch = stored.check(task.start + tree.size, position, tx_id, leaf, stream_id, version)
        if mismatch is not None:
            result.findings.append((position, LEAF, "leaf", mismatch))
        tree.push(leaf)
        if tree.size in heads:
            result.roots[tree.size] = tree.digests()
    result.events = tree.size
    result.misaligned = not stored.aligned
    result.frontier = tree.frontier
    return result


def _extend(runs: dict[str, list[Run]], stream_id: str, version: int, prev: bytes, digest: bytes) -> None:
    """The event joins its stream's last run when it links to it; else it starts a run (the parent looks closer)."""
    stream = runs.get(stream_id)
    if stream is None:
        runs[stream_id] = [Run(version, prev, version, digest)]
        return
    run = stream[-1]
    if version == run.last_version + 1 and prev == run.last_hash:
        run.last_version, run.last_hash = version, digest
    else:
        stream.append(Run(version, prev, version, digest))


def _event_rows(conn: Connection, task: Range) -> Iterator[tuple[Any, ...]]:
    bounds, params = "(tx_id, position) >= (%s::text::xid8, %s)", list(task.first)
    if task.end is not None:
        bounds += " AND (tx_id, position) < (%s::text::xid8, %s)"
        params += list(task.end)
    sql = f'SELECT {LEAF_COLUMNS} FROM "{task.service}".events WHERE {bounds} ORDER BY {COMMIT_ORDER}'
    return _cursor(conn, "verify_range_events", sql, params)


def _leaf_rows(conn: Connection, task: Range) -> Iterator[tuple[Any, ...]]:
    if task.leaves is None:
        return iter(())
    low, high = task.leaves
    bounds, params = "leaf_index >= %s", [low]
    if high is not None:
        bounds += " AND leaf_index < %s"
        params.append(high)
    sql = f'SELECT position, tx_id, leaf_hash FROM "{task.service}".audit_leaves WHERE {bounds} ORDER BY leaf_index'
    return _cursor(conn, "verify_range_leaves", sql, params)


def _cursor(conn: Connection, name: str, sql: str, params: list[Any]) -> Iterator[tuple[Any, ...]]:
    """Rows through a server-side cursor: a range's memory stays flat, whatever its size."""
    with conn.cursor(name=name) as cur:
        cur.itersize = PAGE
        cur.execute(sql, params)
        yield from cur


def main() -> None:
    """The worker process: its ranges in on stdin, their results out on stdout, one by one."""
    tasks: list[Range] = pickle.load(sys.stdin.buffer)
    for task in tasks:
        pickle.dump(check_range(task), sys.stdout.buffer, protocol=pickle.HIGHEST_PROTOCOL)
        sys.stdout.buffer.flush()


if __name__ == "__main__":
    from shared.audit import ranges  # this module under its own name, so results unpickle in the parent

    ranges.main()
