"""Everything that can happen to a submission from the public, as events.

What a submitter writes and who they are is personal data of the data subject
``submitter:<submission id>`` (``personal``): the store keeps it sealed under
that subject's own key, and erasing the subject (on request, or when the
retention period of its category has passed) makes it unreadable everywhere,
in supervision's and training's stores too, where the routed text is sealed
under the same subject. A receipt code is kept only as its hash.

``identity_sealed`` is kept for the submissions recorded before: their
identity was sealed with the one ``FEEDBACK_IDENTITY_KEY`` (Fernet). New
submissions leave it empty and keep ``identity`` instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shared.domain import DomainEvent, EventRegistry
from shared.domain.personal import personal
from shared.eventstore.records import ERASED


@dataclass(frozen=True)
class SubmitterIdentity:
    """Who wrote in, when they chose to say: kept only sealed, under the submitter's key."""

    name: str
    contact: str


#: What an erased identity reads as (the fields keep their shape).
ERASED_IDENTITY = {"name": ERASED, "contact": ERASED}


@dataclass(frozen=True)
class SubmissionReceived(DomainEvent):
    channel: str
    category: str
    text: str = field(metadata=personal("submitter"))  # of the submission's own id
    anonymous: bool
    receipt_hash: str
    identity_sealed: str | None  # legacy: a Fernet token under FEEDBACK_IDENTITY_KEY; None since per-subject keys
    cadre_id: str | None
    process_id: str | None
    notice_id: str | None
    received_at: dt.datetime
    first_reply_due: dt.datetime
    resolution_due: dt.datetime
    identity: SubmitterIdentity | None = field(default=None, metadata=personal("submitter", erased=ERASED_IDENTITY))


@dataclass(frozen=True)
class ComplaintRoutedToSupervision(DomainEvent):
    """A complaint about a cadre, for supervision to open a case on."""

    submission_id: str
    cadre_id: str
    process_id: str | None
    notice_id: str | None
    text: str = field(metadata=personal("submitter", of="submission_id"))
    received_at: dt.datetime


@dataclass(frozen=True)
class SuggestionRoutedToTraining(DomainEvent):
    submission_id: str
    text: str = field(metadata=personal("submitter", of="submission_id"))
    received_at: dt.datetime


@dataclass(frozen=True)
class FollowUpAdded(DomainEvent):
    text: str = field(metadata=personal("submitter"))
    added_at: dt.datetime


@dataclass(frozen=True)
class ReplySent(DomainEvent):
    by: str
    text: str
    sent_at: dt.datetime
    first: bool


@dataclass(frozen=True)
class DeadlineBreached(DomainEvent):
    deadline: str  # "first_reply" or "resolution"
    due: dt.datetime
    detected_at: dt.datetime


@dataclass(frozen=True)
class SubmissionResolved(DomainEvent):
    by: str
    summary: str
    resolved_at: dt.datetime


@dataclass(frozen=True)
class SubmissionClosed(DomainEvent):
    rating: int
    comment: str = field(metadata=personal("submitter"))
    closed_at: dt.datetime


@dataclass(frozen=True)
class InvestigationOpened(DomainEvent):
    """Supervision opened a case on this complaint: the resolution deadline now follows the case."""

    case_id: str
    opened_at: dt.datetime


@dataclass(frozen=True)
class InvestigationConcluded(DomainEvent):
    """Supervision's outcome on this complaint's case (its reasons reach the submitter as a reply)."""

    case_id: str
    substantiated: bool
    concluded_at: dt.datetime


@dataclass(frozen=True)
class SubmissionRejected(DomainEvent):
    """The department declines to take a submission up (不予受理), saying why: the submitter reads the reason."""

    by: str
    reason: str
    rejected_at: dt.datetime


@dataclass(frozen=True)
class SubmissionTransferred(DomainEvent):
    """Handed to another office or channel to answer; the deadlines run on."""

    by: str
    to: str
    note: str
    transferred_at: dt.datetime


@dataclass(frozen=True)
class SubmissionMerged(DomainEvent):
    """A duplicate, merged into another submission: its submitter reads that one's answers."""

    by: str
    into: str
    merged_at: dt.datetime


@dataclass(frozen=True)
class SubmissionReopened(DomainEvent):
    """Taken up again after it was resolved, rejected or closed: a new resolution deadline runs."""

    by: str
    reason: str
    reopened_at: dt.datetime
    resolution_due: dt.datetime


registry = EventRegistry(
    [
        SubmissionReceived,
        ComplaintRoutedToSupervision,
        SuggestionRoutedToTraining,
        FollowUpAdded,
        ReplySent,
        DeadlineBreached,
        SubmissionResolved,
        SubmissionClosed,
        InvestigationOpened,
        InvestigationConcluded,
        SubmissionRejected,
        SubmissionTransferred,
        SubmissionMerged,
        SubmissionReopened,
    ]
)
