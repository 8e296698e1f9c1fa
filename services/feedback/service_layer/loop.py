"""The loop closed: what the services a submission was routed to answer comes back to its submitter.

- supervision's ``CaseOpened`` on a routed complaint: the submission's
  resolution deadline follows the case from then on (no breach while it is open);
- supervision's ``SupervisionOutcomeRecorded``: the outcome is a reply the
  submitter reads with the receipt code, and it resolves the submission;
- training's answer to a routed suggestion (``SuggestionAnswered``,
  ``answer_from_training``): the same, a reply that resolves it.

Each is done as the service itself, in the supervision event's story.
"""

from __future__ import annotations

import logging

from services.feedback.domain.submission import Submission
from services.feedback.inbound import SupervisionCase, SupervisionOutcome, TrainingAnswer
from services.feedback.read_models import submissions
from services.feedback.service_layer import deadlines
from shared.application import UnitOfWork
from shared.application.sweeps import report_missed
from shared.eventstore.records import RecordedEvent

log = logging.getLogger(__name__)

TRAINING = "training"


def _exists(uow: UnitOfWork, submission_id: str) -> bool:
    return bool(uow.load_or_new(Submission, submission_id).version)


def case_opened(case: SupervisionCase, record: RecordedEvent, uow: UnitOfWork) -> None:
    """A case on a routed complaint: remember it, and let the complaint's resolution deadline follow it."""
    if case.submission_id is None:
        return  # the department's own case: no submitter to answer
    case_id = record.aggregate_id
    if not _exists(uow, case.submission_id):
        log.warning("case %s names submission %s, which feedback does not know", case_id, case.submission_id)
        return
    submissions.remember_case(uow, case_id, case.submission_id)
    now = uow.clock.now()
    uow.update(
        Submission,
        case.submission_id,
        lambda s: s.investigation_opened(case_id, now),
        uow.system("supervision opened a case"),
    )


def outcome_recorded(outcome: SupervisionOutcome, record: RecordedEvent, uow: UnitOfWork) -> None:
    """The case's outcome, as a reply to the submitter; it resolves the submission."""
    submission_id = outcome.submission_id or submissions.submission_of_case(uow, outcome.case_id)
    if submission_id is None:
        return  # a case of the department's own motion
    if not _exists(uow, submission_id):
        log.warning(
            "the outcome of case %s names submission %s, which feedback does not know", outcome.case_id, submission_id
        )
        return
    now = uow.clock.now()
    _, recorded = uow.update(
        Submission,
        submission_id,
        lambda s: s.investigation_concluded(outcome.case_id, outcome.substantiated, outcome.reasons, now),
        uow.system("supervision outcome"),
    )
    report_missed(uow, recorded, deadlines.missed)  # a resolution past its deadline records its breach


def answer_from_training(answer: TrainingAnswer, record: RecordedEvent, uow: UnitOfWork) -> None:
    """training's answer to a suggestion routed to it: a reply that resolves it."""
    if not _exists(uow, answer.submission_id):
        log.warning("training answered submission %s, which feedback does not know", answer.submission_id)
        return
    now = uow.clock.now()
    _, recorded = uow.update(
        Submission,
        answer.submission_id,
        lambda s: s.answer_from(TRAINING, answer.text, now),
        uow.system("training answered"),
    )
    report_missed(uow, recorded, deadlines.missed)
