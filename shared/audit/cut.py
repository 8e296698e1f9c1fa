"""One moment across every store: where each store stood at a time, and every aggregate's state then.

``orgctl audit as-of --all --at TIME`` answers "what did the department's
record say at 10:00 on 2 March", across services that each keep a store of
their own. Each store gets a *cut*: the events recorded at or before TIME
(``recorded_at`` in their metadata). It is named by the cursor of the last of
them in the store's commit-safe order, ``(tx_id, position)``, so that anyone
can take the very same cut again, and counted (streams, events).

Clocks of concurrent writers are not in step with commit order: an event of an
earlier transaction may carry a later time than one after it. Such an event,
before the cursor in commit order but recorded after TIME, is left out and
counted as ``held_back``; its stream stops there (state is only ever rebuilt
from a prefix of a stream, as ``as_of`` does). A cut with nothing held back
is a clean prefix of the store.

The events are read with the store's own commit-safe read (``read_all``), a
page at a time, up to the cursor: it never skips an event, so an event of an
older transaction still being written when the cut was named is waited for
(``HORIZON_WAIT``), not missed. Personal fields are opened as the services
read them. Bounded: each page is applied to one aggregate per stream as it
comes (``history.Rebuild``); only the aggregates are held, never the events.
``--service`` narrows it to one store.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from shared.audit.history import Rebuild
from shared.audit.stores import events_table
from shared.db.database import Database
from shared.errors import NotFound
from shared.eventstore.records import START, Cursor, RecordedEvent, stream_category
from shared.eventstore.store import EventStore

PAGE = 1000
#: Seconds to wait for writers in flight below the cut's cursor before giving up.
HORIZON_WAIT = 10.0


class HeldBack(RuntimeError):
    """The store's safe read cannot reach the cut yet: an older writer is still in flight."""


@dataclass
class StreamAt:
    """One stream's state at the moment, or why it could not be rebuilt."""

    stream_id: str
    events: int = 0
    state: dict[str, Any] | None = None
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        found: dict[str, Any] = {"stream_id": self.stream_id, "events": self.events}
        if self.state is not None:
            found.update({k: v for k, v in self.state.items() if k != "stream_id"})
        if self.problem is not None:
            found["problem"] = self.problem
        return found


@dataclass
class ServiceCut:
    """Where one store stood at the moment: its cut, and the streams' states within it."""

    service: str
    at: dt.datetime
    present: bool = True
    cursor: Cursor | None = None  # the last event at or before ``at``, in commit-safe order
    recorded_at: str | None = None  # that event's time
    events: int = 0
    held_back: int = 0
    streams: list[StreamAt] = field(default_factory=list)

    @property
    def problems(self) -> list[StreamAt]:
        return [s for s in self.streams if s.problem is not None]

    def summary(self) -> dict[str, Any]:
        """The cut alone, without the states: what the header of a report shows."""
        return {
            "service": self.service,
            "present": self.present,
            "cursor": str(self.cursor) if self.cursor else None,
            "position": self.cursor.position if self.cursor else None,
            "recorded_at": self.recorded_at,
            "streams": len(self.streams),
            "events": self.events,
            "held_back": self.held_back,
            "problems": len(self.problems),
        }

    def as_json(self) -> dict[str, Any]:
        return {**self.summary(), "states": [s.as_json() for s in self.streams]}


def take_cut(
    database: Database,
    service: str,
    service_cls: Any,
    at: dt.datetime,
    page: int = PAGE,
    wait: float = HORIZON_WAIT,
) -> ServiceCut:
    """The cut of ``service``'s store at ``at`` and every stream's state in it.

    ``service_cls`` gives the aggregates and the event registry (a service
    class: ``load_service(name)``). A stream whose category has no aggregate,
    or whose events no longer load, is reported with its problem; the other
    streams are rebuilt all the same.
    """
    if at.tzinfo is None:
        raise ValueError("give the moment with a timezone (e.g. 2026-03-02T09:00:00+08:00)")
    cut = ServiceCut(service, at)
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            f"SELECT tx_id::text::bigint, position, metadata->>'recorded_at' FROM {events_table(service)} "
            "WHERE (metadata->>'recorded_at')::timestamptz <= %s ORDER BY tx_id DESC, position DESC LIMIT 1",
            [at],
        )
        last = cur.fetchone()
    if last is None:
        return cut
    cut.cursor, cut.recorded_at = Cursor(int(last[0]), int(last[1])), last[2]
    rebuilds: dict[str, Rebuild | StreamAt] = {}
    for event in up_to(EventStore(database, service), cut.cursor, page, wait):
        _take(cut, rebuilds, service_cls, event)
    # a stream none of whose events is in the cut (all recorded after the moment) is not in the report
    cut.streams = [stream for _, entry in sorted(rebuilds.items()) if (stream := _finished(entry)).events]
    return cut


def up_to(store: EventStore, cursor: Cursor, page: int = PAGE, wait: float = HORIZON_WAIT) -> Iterator[RecordedEvent]:
    """Every event of ``store`` in commit-safe order up to ``cursor``, a page at a time.

    The read stops below the oldest event writer still in flight; if it does
    not reach ``cursor`` within ``wait`` seconds, ``HeldBack``.
    """
    after, waited = START, 0.0
    while after < cursor:
        events = store.read_all(after, page).events
        if not events:
            if waited >= wait:
                raise HeldBack(f"{store.schema}: a writer still in flight holds the read below {cursor}")
            time.sleep(0.1)
            waited += 0.1
            continue
        for event in events:
            if event.cursor > cursor:
                return
            yield event
        after = events[-1].cursor


def _take(cut: ServiceCut, rebuilds: dict[str, Rebuild | StreamAt], service_cls: Any, event: RecordedEvent) -> None:
    entry = rebuilds.get(event.stream_id)
    if entry is None:
        entry = rebuilds[event.stream_id] = _start(service_cls, event.stream_id, cut.at)
    if isinstance(entry, StreamAt):  # a stream that cannot be rebuilt: its events are only counted
        if not _past(event, cut.at):
            entry.events += 1
            cut.events += 1
        else:
            cut.held_back += 1
        return
    try:
        taken = entry.take(event)
    except Exception as error:  # an event that no longer loads: the stream stops there, with why
        cut.events += 1
        rebuilds[event.stream_id] = StreamAt(
            event.stream_id,
            entry.taken + 1,  # in the cut, though it does not load
            entry.result(),
            f"position {event.position} ({event.type} v{event.schema_version}) does not load: "
            f"{type(error).__name__}: {error}",
        )
        return
    if taken:
        cut.events += 1
    else:
        cut.held_back += 1


def _start(service_cls: Any, stream_id: str, at: dt.datetime) -> Rebuild | StreamAt:
    try:
        return Rebuild(service_cls, stream_id, at)
    except NotFound:
        return StreamAt(stream_id, problem=f"{service_cls.name} has no aggregate for {stream_category(stream_id)!r}")


def _past(event: RecordedEvent, at: dt.datetime) -> bool:
    moment = event.metadata.get("recorded_at")
    return not isinstance(moment, str) or dt.datetime.fromisoformat(moment) > at


def _finished(entry: Rebuild | StreamAt) -> StreamAt:
    """The stream's line in the report."""
    if isinstance(entry, StreamAt):
        return entry
    return StreamAt(entry.stream_id, entry.taken, entry.result())
