"""What the feedback service's commands answer."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.feedback.domain.submission import Submission


@dataclass(frozen=True)
class Receipt:
    """The reply to a submission: its receipt code is shown this once and kept nowhere in clear."""

    submission_id: str
    receipt_code: str
    first_reply_due: dt.datetime
    resolution_due: dt.datetime
    routed_to: str | None
    identity_kept: bool
    notice_id: str | None = None  # the open notice it was attached to, named or not


@dataclass(frozen=True)
class SubmissionAck:
    submission_id: str
    version: int
    status: str


def submission_ack(submission: Submission) -> SubmissionAck:
    state = submission.state
    if state.merged_into is not None:
        status = "merged"
    elif state.closed:
        status = "closed"
    elif state.resolved:
        status = "resolved"
    elif state.rejected:
        status = "rejected"
    else:
        status = "open"
    return SubmissionAck(submission.id, submission.version, status)


@dataclass(frozen=True)
class BreachCount:
    breaches: int


@dataclass(frozen=True)
class ErasureCount:
    """Submissions whose personal data the retention sweep erased."""

    erased: int
