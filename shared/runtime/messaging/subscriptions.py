"""A service's subscriptions to other services' events: where each stands, and how it catches up.

Live delivery over RabbitMQ only brings what is published while the
subscriber's queue exists. A subscriber that starts after its publisher, or
whose queue was lost, would never see the events before. So each
subscription keeps a cursor into its source's store (``subscriptions``), and
before it takes live deliveries it reads the source's store from that cursor
(read-only, in commit-safe order) and hands each event of the types it
handles to its handler, once in effect through the inbox as always.

The cursor is a *low-water mark*: live deliveries run in parallel lanes, so
it only moves past an event when every event delivered before it has
finished (``LowWater``). Catching up from it may hand a handler an event it
already took; the inbox skips it.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from typing import Any

from shared.db.database import Connection
from shared.eventstore.records import Cursor


class LowWater:
    """The greatest cursor such that every delivery up to it has finished.

    Deliveries arrive in the source's commit-safe order, so a cursor below
    ``mark`` that arrives again is a redelivery of something finished.
    """

    def __init__(self, mark: Cursor) -> None:
        self.mark = mark
        self._pending: list[Cursor] = []  # a heap of delivered cursors not yet settled
        self._done: set[Cursor] = set()

    def delivered(self, cursor: Cursor) -> None:
        if cursor <= self.mark or cursor in self._pending:
            return
        heapq.heappush(self._pending, cursor)

    def finished(self, cursor: Cursor) -> None:
        if cursor <= self.mark:
            return
        self._done.add(cursor)
        while self._pending and self._pending[0] in self._done:
            self.mark = heapq.heappop(self._pending)
            self._done.discard(self.mark)

    def caught_up_to(self, cursor: Cursor) -> None:
        """Everything up to ``cursor`` is handled (a catch-up read it all)."""
        self.mark = max(self.mark, cursor)
        self._pending = [c for c in self._pending if c > cursor]
        heapq.heapify(self._pending)


@dataclass(frozen=True)
class SubscriptionState:
    source: str
    cursor: Cursor
    caught_up_at: str | None


class SubscriptionBook:
    """The ``subscriptions`` table of one service."""

    def __init__(self, schema: str) -> None:
        table = f'"{schema}".subscriptions'
        self._sql_open = f"INSERT INTO {table} (source) VALUES (%s) ON CONFLICT DO NOTHING"
        self._sql_get = f"SELECT source, tx_id, position, caught_up_at::text FROM {table} WHERE source = %s"
        self._sql_all = f"SELECT source, tx_id, position, caught_up_at::text FROM {table} ORDER BY source"
        self._sql_move = (
            f"UPDATE {table} SET tx_id = %s, position = %s, updated_at = now() "
            "WHERE source = %s AND (tx_id, position) < (%s, %s)"
        )
        self._sql_caught_up = f"UPDATE {table} SET caught_up_at = now() WHERE source = %s"

    def open(self, conn: Connection, source: str) -> SubscriptionState:
        with conn.cursor() as cur:
            cur.execute(self._sql_open, [source])
            cur.execute(self._sql_get, [source])
            row: Any = cur.fetchone()
        return SubscriptionState(row[0], Cursor(row[1], row[2]), row[3])

    def all(self, conn: Connection) -> list[SubscriptionState]:
        with conn.cursor() as cur:
            cur.execute(self._sql_all)
            return [SubscriptionState(r[0], Cursor(r[1], r[2]), r[3]) for r in cur.fetchall()]

    def move(self, conn: Connection, source: str, cursor: Cursor) -> None:
        """Move the cursor forward (never back)."""
        with conn.cursor() as cur:
            cur.execute(self._sql_move, [cursor.tx_id, cursor.position, source, cursor.tx_id, cursor.position])

    def caught_up(self, conn: Connection, source: str) -> None:
        with conn.cursor() as cur:
            cur.execute(self._sql_caught_up, [source])


def source_store_exists(conn: Connection, source: str) -> bool:
    """Whether the source service's store exists yet (it may never have run)."""
    with conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [f'"{source}".events'])
        row = cur.fetchone()
    return bool(row and row[0])
