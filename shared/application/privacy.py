"""Erasing a data subject from a service's own store, as a use case does it (feedback's retention, say).

A unit of work that can erase: the PostgreSQL and the in-memory ones both
can (``store`` and ``registry`` are theirs), and a use case says what it needs
with ``ErasingUnitOfWork``. The erasure itself is ``shared.privacy.forget``:
the subject's key forgotten and ``PersonalDataErased`` recorded, in the
unit's transaction. Plain Python: no driver here.

A service that keeps what another sent it sealed under the same subject
follows that service's erasures: ``follow_erasure`` is the handler's use case
for the source's ``PersonalDataErased`` (supervision and training follow
feedback's, so that a submitter erased at retention is erased everywhere).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from marshmallow import validate

from shared.application.commands import LONG_TEXT, NAME
from shared.application.unit_of_work import Authored, UnitOfWork
from shared.domain.erasure import erasure_stream
from shared.domain.events import EventRegistry
from shared.eventstore.records import SUBJECT, Metadata
from shared.privacy.forget import ErasableStore, erase_in_store


class ErasingUnitOfWork(UnitOfWork, Protocol):
    """A unit of work whose store can forget a subject's key."""

    @property
    def store(self) -> ErasableStore: ...

    @property
    def registry(self) -> EventRegistry: ...

    def metadata(
        self,
        by: Authored,
        *,
        stream_id: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ) -> Metadata: ...


def erased_already(uow: ErasingUnitOfWork, subject: str) -> bool:
    """Whether this store has recorded an erasure of ``subject`` (its stream ``privacy-<subject>`` exists)."""
    with uow.transaction() as conn:
        return uow.store.stream_version(erasure_stream(subject), conn=conn) > 0


def erase_personal_data(
    uow: ErasingUnitOfWork, subject: str, *, legal_basis: str, requested_by: str, by: Authored
) -> bool:
    """Forget ``subject``'s key in the unit's store and record it; True when the store held a key."""
    stream = erasure_stream(subject)
    with uow.transaction() as conn:
        metadata = uow.metadata(by, stream_id=stream)
        erased = erase_in_store(
            uow.store, uow.registry, subject, legal_basis, requested_by, metadata, uow.clock.now(), conn=conn
        )
    return erased.key_deleted


@dataclass(frozen=True)
class ErasedElsewhere:
    """Another service's ``PersonalDataErased``, as a service that follows its erasures reads it."""

    subject: str = field(metadata={"validate": validate.Regexp(SUBJECT)})
    legal_basis: str = field(metadata=LONG_TEXT)
    requested_by: str = field(metadata=NAME)


def follow_erasure(erased: ErasedElsewhere, source: str, kinds: tuple[str, ...], uow: ErasingUnitOfWork) -> bool:
    """Erase here what ``source`` erased, when the subject is of one of ``kinds``; True when a key was held here."""
    if erased.subject.split(":", 1)[0] not in kinds:
        return False
    return erase_personal_data(
        uow,
        erased.subject,
        legal_basis=erased.legal_basis,
        requested_by=erased.requested_by,
        by=uow.system(f"{source} erased the personal data of {erased.subject}"),
    )
