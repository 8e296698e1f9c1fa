"""Cross-service links as evidence: is the upstream event still the one that was handled?

When a service handles another service's event, what it appends records the
upstream event's id (``causation_id``), its stored hash (``causation_hash``)
and its service (``causation_service``) — see ``UnitOfWorkBase.handle_event``.
A trace is then more than a list of pointers: each link can be checked
against the upstream store as it is now.

Three verdicts:

``verified``
    The upstream event is in its store, its stored hash is the one recorded,
    and its content still hashes to it.
``MISMATCH``
    The recorded hash is not the upstream event's stored hash, the upstream
    content no longer hashes to its stored hash, or the upstream event is gone
    from its store: the record was altered after the link was made.
``unverifiable``
    The link carries no hash (an event stored before hashes were recorded,
    or a cause that is not a handled event), or the upstream store is not in
    this database.

Checking the content as well as the stored hash matters: someone who edits a
payload with the triggers disabled usually leaves the hash column alone, and
someone who recomputes it changes the stored hash. Either way the link says so.
The upstream event is read as its store keeps it (personal fields sealed):
the hash covers that, so erasing a data subject's key never breaks a link.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from shared.audit.stores import stored
from shared.db.database import Database
from shared.eventstore.hashing import recompute_hash
from shared.eventstore.records import RecordedEvent

VERIFIED, MISMATCH, UNVERIFIABLE = "verified", "MISMATCH", "unverifiable"


@dataclass(frozen=True)
class Link:
    """One event's link to the event in another service that caused it, and whether it holds."""

    upstream_service: str | None
    upstream_event_id: str
    recorded_hash: str | None
    stored_hash: str | None
    verdict: str
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "upstream_service": self.upstream_service,
            "upstream_event_id": self.upstream_event_id,
            "recorded_hash": self.recorded_hash,
            "stored_hash": self.stored_hash,
            "verdict": self.verdict,
            "detail": self.detail,
        }


def judge(recorded_hash: str, upstream: RecordedEvent, service: str) -> Link:
    """The verdict on a recorded hash against the upstream event as it is stored now."""
    stored = upstream.hash.hex()
    if stored != recorded_hash:
        detail = (
            f"{service}'s stored hash of {upstream.event_id} is {stored[:16]}…, the link recorded {recorded_hash[:16]}…"
        )
        return Link(service, upstream.event_id, recorded_hash, stored, MISMATCH, detail)
    if recompute_hash(upstream) != upstream.hash:
        detail = f"{service}'s event {upstream.event_id} (position {upstream.position}) no longer hashes to its stored hash: its content was altered"
        return Link(service, upstream.event_id, recorded_hash, stored, MISMATCH, detail)
    return Link(service, upstream.event_id, recorded_hash, stored, VERIFIED, "the upstream event is as it was handled")


def link_of(
    database: Database,
    service: str,
    event: RecordedEvent,
    parent_service: str | None,
    stores: Iterable[str],
) -> Link | None:
    """The cross-service link of ``event`` (stored by ``service``), or None when its cause is not another service's event.

    ``parent_service`` is the service of the causing event when the trace
    found it (same correlation); ``stores`` are the services whose stores
    exist here. The upstream event is read as stored, sealed personal fields
    and all, since that is what its hash covers.
    """
    cause = event.metadata.get("causation_id")
    if not cause:
        return None
    cause = str(cause)
    recorded = event.metadata.get("causation_hash")
    named = event.metadata.get("causation_service")
    upstream_service = named if isinstance(named, str) else parent_service
    stores = list(stores)
    if not isinstance(recorded, str):
        if parent_service is not None and parent_service != service:
            upstream = stored(database, parent_service, cause)
            detail = "no hash recorded with the link (stored before links carried one)"
            return Link(parent_service, cause, None, upstream.hash.hex() if upstream else None, UNVERIFIABLE, detail)
        return None  # a command's id, or an event of the same store: not a link between services
    for candidate in [upstream_service] if upstream_service is not None else stores:
        if candidate not in stores:
            return Link(candidate, cause, recorded, None, UNVERIFIABLE, f"no store for {candidate} in this database")
        upstream = stored(database, candidate, cause)
        if upstream is not None:
            return judge(recorded, upstream, candidate)
    where = f"{upstream_service}'s store" if upstream_service else "any store"
    detail = f"the upstream event {cause} is not in {where}: deleted after it was handled"
    return Link(upstream_service, cause, recorded, None, MISMATCH, detail)
