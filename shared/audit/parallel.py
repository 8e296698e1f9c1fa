"""Verifying the log in ranges, each in a process of its own, with the very findings of one pass.

Most of verification is per event: recomputing a hash and a leaf costs far
more than reading the row, and needs nothing of the events before it. So the
log is cut, in commit-safe order, into ranges of ``chunk`` events (a power of
two, so that every full range is a perfect subtree of the Merkle tree), and
the ranges are checked in worker processes (``ranges``). What needs the order
is put together here, range after range:

- the tree: each range's subtree is pushed onto the frontier, and a signed
  head that ends inside a range gets its root from the frontier so far and
  the range's own frontier at that size;
- the stored leaves: once a range finds its events and the stored leaves
  parted, the leaves of later ranges prove nothing (as in one pass);
- the chains: a stream whose runs link end to end, across ranges, is sound;
  any other stream (rare: only a tampered log has one) is read again, stored
  hashes only, and replayed through ``chains.Chains``, so its findings are
  the ones a single pass gives, in the same order.

Workers are fresh interpreters (``python -m shared.audit.ranges``), not
forks: a forked child would share the parent's open connections and, in a
green process (orgctl, the tests), its eventlet hub. They are plain
subprocesses with pipes rather than a ``multiprocessing`` pool, whose
resource tracker and helper threads are not safe under eventlet's patching.
Each worker gets every ``workers``-th range, so all of them move through the
log together and the parent takes the results in the log's order.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

from shared.audit import proofs
from shared.audit.chains import Chains
from shared.audit.checks import Tree, check_roots, too_many_leaves
from shared.audit.leaves import COMMIT_ORDER
from shared.audit.proofs import TreeHead
from shared.audit.ranges import CHAIN, CHAIN_LATER, LEAF, Range, RangeResult, join_snapshot
from shared.audit.report import Report
from shared.db.database import Connection, Database, fetch_one
from shared.eventstore.records import ZERO_HASH

#: Below this many events, starting processes costs more than they save.
PARALLEL_FROM = 30_000
#: Ranges big enough that a round trip per range is nothing, small enough to share the work out
#: evenly and to keep the exporting transaction busy (it must outlive every range's start).
MIN_CHUNK, MAX_CHUNK = 1 << 11, 1 << 16
RANGES_PER_WORKER = 4


def chunk_for(events: int, workers: int) -> int:
    """Events per range: a power of two giving each worker a few ranges."""
    wanted = max(1, events // (workers * RANGES_PER_WORKER))
    return min(MAX_CHUNK, max(MIN_CHUNK, 1 << (wanted - 1).bit_length()))


def check_in_ranges(
    database: Database,
    service: str,
    report: Report,
    heads: dict[int, list[TreeHead]],
    next_xid: int,
    workers: int,
    chunk: int | None = None,
) -> int | None:
    """Check the log in ranges of ``chunk`` events (default: ``chunk_for``); returns their number.

    None, with nothing checked, when the log is empty, or when ``chunk`` is
    not given and the log is smaller than ``PARALLEL_FROM``: one pass is
    quicker then. ``report`` gets the findings (and its ``events`` the count).
    """
    if chunk is not None and (chunk < 1 or chunk & (chunk - 1)):
        raise ValueError(f"a range's size must be a power of two, not {chunk}")
    with database.connection() as conn:
        try:
            snapshot = join_snapshot(conn)
            events = _count(conn, f'"{service}".events')
            if not events or (chunk is None and events < PARALLEL_FROM):
                return None
            size = chunk or chunk_for(events, workers)
            with _Workers(min(workers, -(-events // size))) as pool:  # they start while the ranges are planned
                ranges = _plan(conn, database.dsn, service, snapshot, next_xid, size, events, heads)
                merge = _Merge(report, heads)
                for task, result in zip(ranges, pool.run(ranges), strict=True):
                    merge.add(task, result)
                    _keep_alive(conn)  # the snapshot must outlive every range's start
            merge.finish(conn, service, stored_leaves=_count(conn, f'"{service}".audit_leaves'))
            return len(ranges)
        finally:
            conn.rollback()


class _Workers:
    """Worker processes (``python -m shared.audit.ranges``), each taking every n-th range."""

    def __init__(self, count: int) -> None:
        environment = {**os.environ, "PYTHONPATH": os.pathsep.join(path for path in sys.path if path)}
        self.processes: list[subprocess.Popen[bytes]] = []
        for _ in range(count):
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "shared.audit.ranges"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    env=environment,
                )
            )

    def __enter__(self) -> _Workers:
        return self

    def run(self, ranges: list[Range]) -> Iterator[RangeResult]:
        """The ranges' results, in order; all workers move through the log together."""
        processes = self.processes
        for i, process in enumerate(processes):
            assert process.stdin is not None
            pickle.dump(ranges[i :: len(processes)], process.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            process.stdin.close()
        for i in range(len(ranges)):
            process = processes[i % len(processes)]
            assert process.stdout is not None
            try:
                yield pickle.load(process.stdout)
            except EOFError:
                raise RuntimeError(
                    f"the worker checking range {i} stopped (exit code {process.wait()}); its error is above"
                ) from None

    def __exit__(self, *failure: object) -> None:
        """Wait for the workers; on an error, stop them: the ranges left are not needed."""
        for process in self.processes:
            if failure[0] is not None and process.poll() is None:
                process.kill()
            process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()


def _count(conn: Connection, table: str) -> int:
    with conn.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {table}")
        return int(fetch_one(cur)[0])


def _keep_alive(conn: Connection) -> None:
    """A statement now and then, so the server's idle-in-transaction timeout spares the exporter."""
    with conn.cursor() as cur:
        cur.execute("SELECT 1")


def _every(conn: Connection, sql: str, chunk: int) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` (ordered, numbered ``n`` from 0) at every ``chunk``-th place."""
    with conn.cursor() as cur:
        cur.execute(f"SELECT * FROM ({sql}) numbered WHERE n %% %s = 0 ORDER BY n", [chunk])
        return [row[:-1] for row in cur.fetchall()]


def _plan(
    conn: Connection,
    dsn: str,
    service: str,
    snapshot: str,
    next_xid: int,
    chunk: int,
    events: int,
    heads: dict[int, list[TreeHead]],
) -> list[Range]:
    """The ranges, bounded by the keys of every ``chunk``-th event and of every ``chunk``-th stored leaf.

    The leaves are cut by their place, not their index, as one pass pairs
    the n-th event with the n-th stored leaf.
    """
    keys = _every(
        conn,
        f'SELECT tx_id::text, position, row_number() OVER (ORDER BY {COMMIT_ORDER}) - 1 AS n FROM "{service}".events',
        chunk,
    )
    leaf_starts = [
        row[0]
        for row in _every(
            conn,
            f'SELECT leaf_index, row_number() OVER (ORDER BY leaf_index) - 1 AS n FROM "{service}".audit_leaves',
            chunk,
        )
    ]
    ranges = []
    for i, (tx_id, position) in enumerate(keys):
        start = i * chunk
        end = (str(keys[i + 1][0]), int(keys[i + 1][1])) if i + 1 < len(keys) else None
        leaves = (
            (leaf_starts[i], leaf_starts[i + 1] if i + 1 < len(leaf_starts) else None) if i < len(leaf_starts) else None
        )
        last = min(start + chunk, events)
        offsets = tuple(size - start for size in sorted(heads) if start < size <= last)
        ranges.append(Range(dsn, service, snapshot, next_xid, start, (str(tx_id), int(position)), end, leaves, offsets))
    return ranges


class _Merge:
    """The ranges' results put together in order: the tree, the leaves' alignment, the chains."""

    def __init__(self, report: Report, heads: dict[int, list[TreeHead]]) -> None:
        self.report = report
        self.heads = heads
        self.tree = Tree()
        self.aligned = True
        self.found: list[tuple[int, int, str, str]] = []
        self.streams: dict[str, tuple[int, bytes]] = {}
        self.irregular: set[str] = set()

    def add(self, task: Range, result: RangeResult) -> None:
        for offset in sorted(result.roots):
            root = proofs.frontier_root(self.tree.digests() + result.roots[offset])
            check_roots(self.report, self.heads.get(task.start + offset, ()), root)
        for level, digest in result.frontier:
            self.tree.push_node(level, digest)
        self.report.events += result.events
        self.found += [f for f in result.findings if self.aligned or f[1] != LEAF]
        self.aligned = self.aligned and not result.misaligned
        for stream_id, runs in result.runs.items():
            if stream_id in self.irregular:
                continue
            version, digest = self.streams.get(stream_id, (0, ZERO_HASH))
            for run in runs:
                if run.version != version + 1 or run.prev_hash != digest:
                    self.irregular.add(stream_id)
                    break
                version, digest = run.last_version, run.last_hash
            else:
                self.streams[stream_id] = (version, digest)

    def finish(self, conn: Connection, service: str, stored_leaves: int) -> None:
        """The chains of irregular streams, then every finding in one pass's order."""
        if self.irregular:
            self.found += _replay(conn, service, sorted(self.irregular))
        self.found.sort(key=lambda f: (f[0], f[1]))
        for position, _, kind, detail in self.found:
            self.report.add(position, kind, detail)
        if self.aligned and stored_leaves > self.report.events:
            self.report.add(None, "leaf", too_many_leaves(self.report.events))


class _Slots:
    """Chain findings, each marked as given when its event was met or later (see ``ranges.CHAIN``)."""

    def __init__(self) -> None:
        self.now: int | None = None
        self.found: list[tuple[int, int, str, str]] = []

    def add(self, position: int | None, kind: str, detail: str) -> None:
        assert position is not None, "a chain finding names its event"
        self.found.append((position, CHAIN if position == self.now else CHAIN_LATER, kind, detail))


def _replay(conn: Connection, service: str, streams: list[str]) -> list[tuple[int, int, str, str]]:
    """The chains of ``streams``, from their stored hashes, checked as one pass checks them."""
    slots = _Slots()
    chains = Chains(slots)
    with conn.cursor(name="verify_replay") as cur:
        cur.itersize = 5000
        cur.execute(
            f'SELECT position, stream_id, version, prev_hash, hash FROM "{service}".events '
            f"WHERE stream_id = ANY(%s) ORDER BY {COMMIT_ORDER}",
            [streams],
        )
        for position, stream_id, version, prev_hash, digest in cur:
            slots.now = position
            chains.see(stream_id, version, position, bytes(prev_hash), bytes(digest))
    slots.now = None
    chains.finish()
    return slots.found
