"""The checks of single events, and the state a pass over the log carries between them.

Shared by the one-process pass over the whole log (``verify``) and by the
range workers (``ranges``), so that both judge an event the same way and word
their findings the same. Kept light to import: every worker process starts
by importing it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

from shared.audit import proofs
from shared.audit.leaves import digests_of_row
from shared.audit.proofs import TreeHead


class Findings(Protocol):
    """Where checks put what they find (a ``Report``, or a worker's list)."""

    def add(self, position: int | None, kind: str, detail: str) -> None: ...


def where(stream_id: str, version: int) -> str:
    return f"stream {stream_id} v{version}"


def event_findings(row: tuple[Any, ...], next_xid: int) -> tuple[bytes, list[tuple[str, str]]]:
    """A row's leaf hash, and what its own fields betray: an altered content, a forged ``tx_id``.

    Nothing here depends on the events before it, which is why ranges of the
    log can be checked apart. The row is read with ``leaves.LEAF_COLUMNS``.
    """
    expected, leaf_input = digests_of_row(row)
    found: list[tuple[str, str]] = []
    if expected != bytes(row[10]):
        found.append(("altered", f"{where(row[2], row[3])}: content does not match its hash"))
    tx_id = row[1]
    if tx_id >= next_xid:
        found.append(("tx_id", f"{where(row[2], row[3])}: tx_id {tx_id} is past every transaction the server has run"))
    return proofs.leaf_hash(leaf_input), found


def too_many_leaves(events: int) -> str:
    return f"the tree holds more leaves than the log has events ({events}): events were deleted"


class StoredLeaves:
    """The leaves stored as events entered the tree, paired with the log's events in the same order.

    Once a pair disagrees on which event it is, the pairs after it prove
    nothing: the comparison stops there, with one finding instead of one per
    event after it.
    """

    def __init__(self, rows: Iterator[tuple[Any, ...]]) -> None:
        self.rows = rows
        self.aligned = True

    def check(self, index: int, position: int, tx_id: int, leaf: bytes, stream_id: str, version: int) -> str | None:
        """The finding on the event that is leaf ``index``, if any."""
        if not self.aligned:
            return None
        entry = next(self.rows, None)
        if entry is None:
            return None
        leaf_position, leaf_tx, leaf_digest = int(entry[0]), int(entry[1]), bytes(entry[2])
        if leaf_position != position or leaf_tx != tx_id:
            self.aligned = False
            return (
                f"{where(stream_id, version)} (tx_id {tx_id}) sits where leaf {index} recorded position "
                f"{leaf_position} (tx_id {leaf_tx}): the log's order or a tx_id was changed after it entered the tree"
            )
        if leaf_digest != leaf:
            return f"{where(stream_id, version)}: changed since it entered the tree (leaf {index})"
        return None

    def more(self) -> bool:
        """Leaves left over after the last event, while still aligned: events were deleted from the log."""
        return self.aligned and next(self.rows, None) is not None


class Tree:
    """The tree recomputed from its right-edge frontier, which gives the root at any size reached.

    Nodes can be pushed whole (``push_node``): a range worker returns the
    root of its perfect subtree instead of its leaves.
    """

    def __init__(self) -> None:
        self.size = 0
        self.frontier: list[tuple[int, bytes]] = []

    def push(self, leaf: bytes) -> None:
        self.push_node(0, leaf)

    def push_node(self, level: int, digest: bytes) -> None:
        self.frontier.append((level, digest))
        self.size += 1 << level
        while len(self.frontier) >= 2 and self.frontier[-1][0] == self.frontier[-2][0]:
            level, right = self.frontier.pop()
            _, left = self.frontier.pop()
            self.frontier.append((level + 1, proofs.node_hash(left, right)))

    def digests(self) -> list[bytes]:
        return [digest for _, digest in self.frontier]

    def root(self) -> bytes:
        return proofs.frontier_root(self.digests())


def when(timestamp_ms: int) -> str:
    return dt.datetime.fromtimestamp(timestamp_ms / 1000, dt.UTC).isoformat(timespec="seconds")


def check_roots(report: Findings, heads: Iterable[TreeHead], root: bytes) -> None:
    """The signed heads of one size against the root the log gives at that size."""
    for head in heads:
        if head.root_hash != root:
            report.add(
                None,
                "head",
                f"the log's first {head.tree_size} events do not have the root signed at "
                f"{when(head.timestamp)}: the record was changed after that head",
            )
