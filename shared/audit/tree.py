"""A store's Merkle tree and its book of signed heads, kept in PostgreSQL.

The builder appends leaves in commit-safe order, only below the store's read
horizon, so a leaf's place never changes once it is given. Every perfect
subtree it completes is stored (``audit_nodes``): a proof reads O(log^2 n)
rows, in one query, whatever the size of the log. Before it signs a new
head, the builder checks that the stored tree still has the roots of the
latest head in its book and of the latest head in the sink outside the
database: a tree or a book rewritten by someone with database access is
refused, not signed over with the real key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from psycopg2.extras import execute_values

from shared.audit import proofs
from shared.audit.heads import FileHeadSink
from shared.audit.leaves import COMMIT_ORDER, LEAF_COLUMNS, leaf_columns, leaf_input_of_row
from shared.audit.proofs import NodeSource, TreeHead
from shared.db.database import Database
from shared.errors import NotFound, OrgWorkError, ValidationFailed

PAGE = 5000
T = TypeVar("T")


class TamperedLog(OrgWorkError):
    """The stored tree, the book of heads or the log no longer agree with what was signed or published."""


class NotYetCovered(OrgWorkError):
    """An event that no signed head covers yet: the next head (within seconds) will."""


class MerkleLog:
    """One service's tree: ``extend`` it, ``sign`` heads, ``prove`` inclusion and consistency."""

    def __init__(self, database: Database, service: str, sink: FileHeadSink | None = None) -> None:
        self.database = database
        self.service = service
        self.sink = sink
        schema = f'"{service}"'
        self._schema = schema
        self._lock = f"orgwork.tree.{service}"

    # -- reading the stored tree ---------------------------------------------------------

    def size(self, cur: Any) -> tuple[int, int, int]:
        """The number of leaves, and the (tx_id, position) of the last one."""
        cur.execute(
            f"SELECT leaf_index, tx_id, position FROM {self._schema}.audit_leaves ORDER BY leaf_index DESC LIMIT 1"
        )
        row = cur.fetchone()
        return (row[0] + 1, row[1], row[2]) if row else (0, 0, 0)

    def _fetch(self, cur: Any, wanted: set[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        leaves = [index for level, index in wanted if level == 0]
        levels = [level for level, _ in wanted if level > 0]
        indexes = [index for level, index in wanted if level > 0]
        cur.execute(
            f"SELECT 0, leaf_index, leaf_hash FROM {self._schema}.audit_leaves WHERE leaf_index = ANY(%s::bigint[]) "
            f"UNION ALL SELECT n.level, n.node_index, n.hash FROM {self._schema}.audit_nodes n "
            "JOIN unnest(%s::smallint[], %s::bigint[]) AS w(level, node_index) "
            "ON n.level = w.level AND n.node_index = w.node_index",
            [leaves, levels, indexes],
        )
        return {(level, index): bytes(digest) for level, index, digest in cur.fetchall()}

    def with_nodes(self, cur: Any, compute: Callable[[NodeSource], T]) -> T:
        """Run ``compute`` over the stored tree, fetching every node it needs in one query.

        The proofs' shape depends on sizes only, never on hash values: a first
        run with placeholder hashes names every node the real run will read.
        """
        wanted: set[tuple[int, int]] = set()

        def record(level: int, index: int) -> bytes:
            wanted.add((level, index))
            return bytes(32)

        compute(record)
        fetched = self._fetch(cur, wanted) if wanted else {}

        def node(level: int, index: int) -> bytes:
            try:
                return fetched[(level, index)]
            except KeyError:
                raise TamperedLog(f"{self.service}: node ({level}, {index}) is missing from the stored tree") from None

        return compute(node)

    def root(self, cur: Any, size: int) -> bytes:
        """The root of the first ``size`` leaves, from the stored tree."""
        if size == 0:
            return proofs.EMPTY_ROOT
        return self.with_nodes(cur, lambda node: proofs.subtree_hash(0, size, node))

    def heads(self, cur: Any | None = None, *, after: int = 0) -> list[TreeHead]:
        """The book of signed heads larger than ``after``, oldest first."""
        if cur is None:
            with self.database.transaction() as conn, conn.cursor() as own:
                return self.heads(own, after=after)
        return self._select_heads(cur, "WHERE tree_size > %s ORDER BY tree_size", [after])

    def latest_heads(self, limit: int) -> list[TreeHead]:
        """The last ``limit`` heads of the book, oldest first (what anyone may fetch and keep)."""
        with self.database.transaction() as conn, conn.cursor() as cur:
            newest = self._select_heads(cur, "ORDER BY tree_size DESC LIMIT %s", [limit])
        return newest[::-1]

    def head(self, cur: Any, tree_size: int | None = None) -> TreeHead | None:
        """The head of ``tree_size``, or the latest; None when the book has no such head."""
        if tree_size is None:
            found = self._select_heads(cur, "ORDER BY tree_size DESC LIMIT 1", [])
        else:
            found = self._select_heads(cur, "WHERE tree_size = %s", [tree_size])
        return found[0] if found else None

    def _select_heads(self, cur: Any, clause: str, params: list[Any]) -> list[TreeHead]:
        cur.execute(
            f"SELECT tree_size, root_hash, timestamp_ms, key_id, signature FROM {self._schema}.audit_tree_heads "
            + clause,
            params,
        )
        return [
            TreeHead(self.service, size, bytes(root), stamp, kid, bytes(sig))
            for size, root, stamp, kid, sig in cur.fetchall()
        ]

    # -- growing and signing -------------------------------------------------------------

    def extend(self, cur: Any) -> int:
        """Add a leaf for every event now readable in commit-safe order; return the tree's size.

        Runs in the caller's transaction, under the tree's lock (replicas take
        turns). The horizon is read in a statement of its own, before the
        events, so no event can still commit before the last one read.
        """
        cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [self._lock])
        size, tx_id, position = self.size(cur)
        frontier = [(level, index, digest) for (level, index), digest in self._frontier(cur, size)]
        while True:
            cur.execute(f"SELECT {self._schema}.read_horizon()::text::bigint")
            horizon = cur.fetchone()[0]
            cur.execute(
                f"SELECT {LEAF_COLUMNS} FROM {self._schema}.events "
                "WHERE (tx_id, position) > (%s::text::xid8, %s) AND tx_id < %s::text::xid8 "
                f"ORDER BY {COMMIT_ORDER} LIMIT %s",
                [tx_id, position, horizon, PAGE],
            )
            rows = cur.fetchall()
            leaves, nodes = [], []
            for row in rows:
                digest = proofs.leaf_hash(leaf_input_of_row(row))
                leaves.append((size, row[0], row[1], digest))
                frontier.append((0, size, digest))
                size += 1
                while len(frontier) >= 2 and frontier[-1][0] == frontier[-2][0]:
                    level, _, right = frontier.pop()
                    _, left_index, left = frontier.pop()
                    parent = (level + 1, left_index // 2, proofs.node_hash(left, right))
                    nodes.append(parent)
                    frontier.append(parent)
            if leaves:
                execute_values(
                    cur,
                    f"INSERT INTO {self._schema}.audit_leaves (leaf_index, position, tx_id, leaf_hash) VALUES %s",
                    leaves,
                    page_size=1000,
                )
            if nodes:
                execute_values(
                    cur,
                    f"INSERT INTO {self._schema}.audit_nodes (level, node_index, hash) VALUES %s",
                    nodes,
                    page_size=1000,
                )
            if rows:
                tx_id, position = rows[-1][1], rows[-1][0]
            if len(rows) < PAGE:
                return size

    def _frontier(self, cur: Any, size: int) -> list[tuple[tuple[int, int], bytes]]:
        wanted = proofs.frontier_nodes(size)
        fetched = self._fetch(cur, set(wanted)) if wanted else {}
        missing = [key for key in wanted if key not in fetched]
        if missing:
            raise TamperedLog(f"{self.service}: the stored tree lacks nodes {missing}")
        return [(key, fetched[key]) for key in wanted]

    def sign(self, key: Ed25519PrivateKey, now_ms: int | None = None) -> TreeHead | None:
        """Extend the tree and sign a head of it; None when the log did not grow since the last head.

        Refuses (``TamperedLog``) when the stored tree no longer has the root
        of the latest head in the book or in the sink, or when the book lost a
        head the sink has: the real key never signs over a rewritten history.
        Heads the sink lacks are published after the commit.
        """
        published = self.sink.latest(self.service) if self.sink else None
        head = None
        with self.database.transaction() as conn, conn.cursor() as cur:
            size = self.extend(cur)
            latest = self.head(cur)
            if published is not None and (latest is None or latest.tree_size < published.tree_size):
                raise TamperedLog(
                    f"{self.service}: the book of heads lost the published head of size {published.tree_size}"
                )
            for reference in (latest, published):
                if reference is None:
                    continue
                if reference.tree_size > size:
                    raise TamperedLog(
                        f"{self.service}: the tree has {size} leaves, fewer than the head of size {reference.tree_size}"
                    )
                if self.root(cur, reference.tree_size) != reference.root_hash:
                    raise TamperedLog(
                        f"{self.service}: the stored tree no longer has the root of the head of size "
                        f"{reference.tree_size}"
                    )
            if size > 0 and (latest is None or latest.tree_size < size):
                stamp = now_ms if now_ms is not None else int(time.time() * 1000)
                head = proofs.sign_head(key, self.service, size, self.root(cur, size), stamp)
                cur.execute(
                    f"INSERT INTO {self._schema}.audit_tree_heads "
                    "(tree_size, root_hash, timestamp_ms, key_id, signature) VALUES (%s, %s, %s, %s, %s)",
                    [head.tree_size, head.root_hash, head.timestamp, head.key_id, head.signature],
                )
            unpublished = self.heads(cur, after=published.tree_size if published else 0) if self.sink else []
        if self.sink is not None:
            self.sink.publish(self.service, unpublished)
        return head

    # -- proofs ---------------------------------------------------------------------------

    def prove(self, event_id: str, tree_size: int | None = None, since: int | None = None) -> dict[str, Any]:
        """An inclusion proof bundle for one event (what ``proofs.py inclusion`` checks).

        Against the head of ``tree_size`` (default: the latest); with ``since``
        (the size of a head the reader saved), also a consistency proof from
        that size to the head's.
        """
        with self.database.transaction() as conn, conn.cursor() as cur:
            cur.execute(
                f"SELECT l.leaf_index, l.leaf_hash, {leaf_columns('e')} "
                f"FROM {self._schema}.events e LEFT JOIN {self._schema}.audit_leaves l ON l.position = e.position "
                "WHERE e.event_id = %s::uuid",
                [event_id],
            )
            row = cur.fetchone()
            if row is None:
                raise NotFound("event", event_id)
            index, stored_leaf, record = row[0], row[1], row[2:]
            head = self.head(cur, tree_size)
            if tree_size is not None and head is None:
                raise NotFound("signed tree head of size", str(tree_size))
            if index is None or head is None or head.tree_size <= index:
                raise NotYetCovered(
                    f"event {event_id} is not yet covered by a signed head of {self.service}; heads are signed "
                    "every few seconds: ask again shortly"
                )
            leaf = leaf_input_of_row(record)
            if proofs.leaf_hash(leaf) != bytes(stored_leaf):
                raise TamperedLog(f"{self.service}: event {event_id} no longer matches its leaf in the tree")
            path = self.with_nodes(cur, lambda node: proofs.inclusion_path(index, head.tree_size, node))
            bundle: dict[str, Any] = {
                "log_id": self.service,
                "event_id": event_id,
                "leaf_index": index,
                "leaf_input": leaf.decode("utf-8"),
                "inclusion_path": [h.hex() for h in path],
                "head": head.as_json(),
            }
            if since is not None and 0 < since < head.tree_size:
                steps = self.with_nodes(cur, lambda node: proofs.consistency_path(since, head.tree_size, node))
                bundle["consistency"] = {"from_size": since, "path": [h.hex() for h in steps]}
        return bundle

    def consistency(self, old_size: int, new_size: int) -> dict[str, Any]:
        """A consistency proof between two signed heads of the book, with both heads."""
        with self.database.transaction() as conn, conn.cursor() as cur:
            old, new = self.head(cur, old_size), self.head(cur, new_size)
            for size, found in ((old_size, old), (new_size, new)):
                if found is None:
                    raise NotFound("signed tree head of size", str(size))
            assert old is not None and new is not None
            if old_size > new_size:
                raise ValidationFailed(
                    {"old_size": [f"must not be larger than new_size ({new_size})"]}, "no consistency proof backwards"
                )
            path = (
                self.with_nodes(cur, lambda node: proofs.consistency_path(old_size, new_size, node))
                if old_size < new_size
                else []
            )
        return {
            "log_id": self.service,
            "old": old.as_json(),
            "new": new.as_json(),
            "path": [h.hex() for h in path],
        }
