"""Retention: a submission's personal data is erased once its category's retention period has passed.

What a submitter wrote and who they said they were is personal data of
``submitter:<submission id>``, sealed under that subject's key in feedback's
store (and in supervision's and training's, where the text was routed).
When the period of its category has passed (``FeedbackSettings``: counted
from receipt, once the submission is no longer open), the sweep deletes the
key here and records ``PersonalDataErased`` with the legal basis "retention
period of <category> elapsed"; supervision and training, handling that
event, erase the same subject from their stores. The submission itself
(its category, deadlines, replies, rating) stays: only the personal data goes.
"""

from __future__ import annotations

from services.feedback.read_models import submissions
from services.feedback.read_models.submissions import SUBMITTER
from services.feedback.views import ErasureCount
from shared.application.privacy import ErasingUnitOfWork, erase_personal_data, erased_already
from shared.config import FeedbackSettings

#: Who asked: nobody did; the retention policy requires it.
RETENTION_POLICY = "feedback retention policy (FEEDBACK_RETENTION_DAYS, FEEDBACK_RETENTION_BY_CATEGORY)"


def legal_basis(category: str) -> str:
    return f"retention period of {category} elapsed"


def erase_expired(uow: ErasingUnitOfWork, settings: FeedbackSettings) -> ErasureCount:
    """Erase the personal data of every submission whose retention period has passed; say how many."""
    now = uow.clock.now()
    due = submissions.due_for_erasure(uow, now, settings.retention_days, settings.retention_periods())
    erased = 0
    for submission_id, category in due:
        subject = f"{SUBMITTER}:{submission_id}"
        if erased_already(uow, subject):
            continue  # recorded, and the read model has not caught up with it yet
        erase_personal_data(
            uow,
            subject,
            legal_basis=legal_basis(category),
            requested_by=RETENTION_POLICY,
            by=uow.system(legal_basis(category)),
        )
        erased += 1
    return ErasureCount(erased)
