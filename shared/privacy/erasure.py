"""The right to erasure across the platform: one subject, every service's store, every read model.

The log is append-only and chained by hash, so nothing is deleted from it.
What is deleted is the subject's key, in every service's store (each keeps
the personal data it holds sealed under the same subject id, whichever
service it came from), and with it the caches that may hold the data opened:

1. In each store, in one transaction: delete the subject's key, record
   ``PersonalDataErased`` (stream ``privacy-<subject>``, the operator as its
   actor), and delete the service's snapshots (a cache of aggregate state,
   which may hold what was opened; they are rebuilt from the events).
   Every store first, so that the data is unreadable everywhere at once.
2. Then each service's projections are rebuilt from zero, so every read
   model shows the erased value (as ``orgctl replay --apply`` does, with the
   services running).

Afterwards history, as-of, replay and every projection show the field as
erased; the stored rows are byte for byte what they were, and the hash chain
verifies as before. ``orgctl privacy erase`` calls ``erase_everywhere``.

Backups: the key table is backed up apart from the events, on a short
rotation (``docs/PRIVACY.md``). A key table restored from a backup may bring
back keys erased since; ``forget_again`` deletes every key whose subject has
an erasure recorded in the log after the key was made (``orgctl privacy
reconcile``, run after every restore).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shared.db.database import Database
from shared.db.migrations import SCHEMA_NAME
from shared.domain.erasure import ERASURE_CATEGORY, PersonalDataErased
from shared.domain.events import EventRegistry
from shared.eventstore.records import Metadata, utc_now
from shared.eventstore.store import EventStore
from shared.privacy.forget import check_request, erase_in_store
from shared.projections.projection import Projection
from shared.projections.runner import ProjectionRunner


@dataclass(frozen=True)
class ErasureTarget:
    """One service, as an erasure needs it: its store's schema, its events and its projections."""

    service: str
    registry: EventRegistry
    projections: Sequence[Projection] = ()


@dataclass
class StoreErasure:
    """What the erasure did in one service."""

    service: str
    key_deleted: bool = False
    event_id: str | None = None
    position: int | None = None
    snapshots_deleted: int = 0
    projections_rebuilt: dict[str, int] = field(default_factory=dict)  # projection -> events read
    keys_left: int = 0  # rows of the subject in the key table afterwards (0, or the erasure failed)

    def as_json(self) -> dict[str, object]:
        return dict(self.__dict__)


def keys_of(database: Database, service: str, subject: str) -> int:
    """How many keys of ``subject`` the service's key table holds (0 once erased)."""
    if not SCHEMA_NAME.match(service):
        raise ValueError(f"schema name {service!r} must match {SCHEMA_NAME.pattern}")
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'SELECT count(*) FROM "{service}".privacy_keys WHERE subject = %s', [subject])
        row = cur.fetchone()
    return int(row[0]) if row else 0


def store_state(database: Database, service: str) -> str:
    """``"ready"``, ``"absent"`` (the service has no store here: nothing to erase) or ``"unmigrated"`` (no key table)."""
    if not SCHEMA_NAME.match(service):
        raise ValueError(f"schema name {service!r} must match {SCHEMA_NAME.pattern}")
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass(%s), to_regclass(%s)", [f'"{service}".events', f'"{service}".privacy_keys'])
        row = cur.fetchone()
    events, keys = row if row else (None, None)
    if events is None:
        return "absent"
    return "ready" if keys is not None else "unmigrated"


def erase_everywhere(
    database: Database,
    targets: Sequence[ErasureTarget],
    subject: str,
    *,
    legal_basis: str,
    requested_by: str,
    actor: str,
    clock: Callable[[], dt.datetime] = utc_now,
    progress: Callable[[str], None] | None = None,
) -> list[StoreErasure]:
    """Erase ``subject``'s personal data from every target's store and read models (see the module's docstring)."""
    check_request(subject, legal_basis, requested_by)
    metadata = Metadata(
        actor=actor, correlation_id=str(uuid.uuid4()), reason=f"erasure of the personal data of {subject}"
    )
    reports = [StoreErasure(target.service) for target in targets]
    for target, report in zip(targets, reports, strict=True):
        store = EventStore(database, target.service, clock=clock)
        with database.transaction() as conn:
            store.begin_writing(conn)
            erased = erase_in_store(
                store, target.registry, subject, legal_basis, requested_by, metadata, clock(), conn=conn
            )
            with conn.cursor() as cur:
                cur.execute(f'DELETE FROM "{store.schema}".snapshots')
                report.snapshots_deleted = cur.rowcount
        report.key_deleted, report.event_id, report.position = (
            erased.key_deleted,
            erased.record.event_id,
            erased.record.position,
        )
        if progress is not None:
            progress(f"{target.service}: key {'deleted' if erased.key_deleted else 'absent'}, erasure recorded")
    for target, report in zip(targets, reports, strict=True):
        for projection in target.projections:
            read = ProjectionRunner(database, target.service, projection, target.registry).rebuild()
            report.projections_rebuilt[projection.name] = read
            if progress is not None:
                progress(f"{target.service}.{projection.name}: rebuilt from {read} event(s)")
        report.keys_left = keys_of(database, target.service, subject)
    return reports


def forget_again(database: Database, service: str) -> list[str]:
    """After the key table was restored from a backup: delete again the keys the log says were erased.

    A key made after its subject's last recorded erasure (new data, sealed
    since) is kept. Returns the subjects whose keys were deleted again.
    """
    if not SCHEMA_NAME.match(service):
        raise ValueError(f"schema name {service!r} must match {SCHEMA_NAME.pattern}")
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            f'DELETE FROM "{service}".privacy_keys k USING ('
            "  SELECT data->>'subject' AS subject, max((metadata->>'recorded_at')::timestamptz) AS erased_at"
            f'    FROM "{service}".events WHERE type = %s AND stream_id LIKE %s GROUP BY 1'
            ") e WHERE k.subject = e.subject AND k.created_at <= e.erased_at RETURNING k.subject",
            [PersonalDataErased.type_name(), f"{ERASURE_CATEGORY}-%"],
        )
        return sorted(row[0] for row in cur.fetchall())
