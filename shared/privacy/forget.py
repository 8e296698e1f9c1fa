"""Erasing a data subject from one store: forget the key, record the erasure, in one transaction.

Store-agnostic (PostgreSQL's ``EventStore`` or the in-memory one, through the
small protocol below) and free of database drivers, so that a unit of work
can offer it to a service layer (feedback's retention) as well as the
operator's erasure across every service (``erasure``) can use it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from shared.domain.erasure import PersonalDataErased, erasure_stream
from shared.domain.events import EventRegistry
from shared.errors import ValidationFailed
from shared.eventstore.records import ANY_VERSION, SUBJECT, Metadata, NewEvent, RecordedEvent

#: Longest legal basis and requester kept with an erasure.
BASIS_LIMIT, REQUESTER_LIMIT = 2000, 200


class ErasableStore(Protocol):
    def forget_subject(self, subject: str, *, conn: Any = None) -> bool: ...

    def stream_version(self, stream_id: str, *, conn: Any = None) -> int: ...

    def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int, metadata: Metadata, *, conn: Any = None
    ) -> list[RecordedEvent]: ...


@dataclass(frozen=True)
class Erased:
    """One store's erasure: whether it held a key of the subject, and the event that records it."""

    key_deleted: bool
    record: RecordedEvent


def check_request(subject: str, legal_basis: str, requested_by: str) -> None:
    """``ValidationFailed`` naming every bad part of an erasure request, before anything is touched."""
    problems: dict[str, list[str]] = {}
    if not isinstance(subject, str) or not SUBJECT.match(subject):
        problems["subject"] = [f"a data subject looks like 'kind:id', e.g. cadre:c-42 ({SUBJECT.pattern})"]
    if not isinstance(legal_basis, str) or not legal_basis.strip() or len(legal_basis) > BASIS_LIMIT:
        problems["legal_basis"] = [f"say why the data may be erased (1-{BASIS_LIMIT} characters)"]
    if not isinstance(requested_by, str) or not requested_by.strip() or len(requested_by) > REQUESTER_LIMIT:
        problems["requested_by"] = [f"say who asked for it (1-{REQUESTER_LIMIT} characters)"]
    if problems:
        raise ValidationFailed(problems, "invalid erasure request; nothing was erased")


def erase_in_store(
    store: ErasableStore,
    registry: EventRegistry,
    subject: str,
    legal_basis: str,
    requested_by: str,
    metadata: Metadata,
    now: dt.datetime,
    *,
    conn: Any = None,
) -> Erased:
    """Delete ``subject``'s key from ``store`` and record ``PersonalDataErased`` there (in ``conn``'s transaction).

    Recorded even when the store held no key of the subject: the record says
    the erasure reached this store, and that there was nothing to forget.
    """
    check_request(subject, legal_basis, requested_by)
    registry.register(PersonalDataErased)  # every service's registry has it; a test's may not
    deleted = store.forget_subject(subject, conn=conn)
    event = PersonalDataErased(subject, legal_basis.strip(), requested_by.strip(), deleted, now)
    (record,) = store.append(erasure_stream(subject), [registry.to_new_event(event)], ANY_VERSION, metadata, conn=conn)
    return Erased(deleted, record)
