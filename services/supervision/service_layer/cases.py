"""Cases about cadres: opened by the department or by a complaint, investigated, concluded.

The outcome (``SupervisionOutcomeRecorded``) is published for cadre, which
withholds an appointment when a substantiated outcome arrives during its notice.
"""

from __future__ import annotations

import logging
import uuid

from services.supervision import messages as m
from services.supervision.domain.case import SupervisionCase
from services.supervision.domain.events import Participant
from services.supervision.inbound import RoutedComplaint
from services.supervision.views import CaseView, case_view
from shared.application import UnitOfWork
from shared.eventstore.records import RecordedEvent

log = logging.getLogger(__name__)


def open_case(request: m.OpenCase, uow: UnitOfWork) -> CaseView:
    """The department opens a case of its own motion."""
    now = uow.clock.now()
    case, _ = uow.create(
        SupervisionCase,
        request.case_id or uuid.uuid4().hex,
        lambda c: c.open(request.cadre_id, request.process_id, "department", None, request.summary, now),
        request,
    )
    return case_view(case)


def assign_case(request: m.AssignCase, uow: UnitOfWork) -> CaseView:
    now = uow.clock.now()
    case, _ = uow.update(SupervisionCase, request.case_id, lambda c: c.assign(request.investigator, now), request)
    return case_view(case)


def hold_joint_meeting(request: m.JointMeeting, uow: UnitOfWork) -> CaseView:
    now = uow.clock.now()
    participants = [Participant(p.name, p.role) for p in request.participants]
    case, _ = uow.update(
        SupervisionCase, request.case_id, lambda c: c.hold_joint_meeting(participants, request.decision, now), request
    )
    return case_view(case)


def record_outcome(request: m.RecordOutcome, uow: UnitOfWork) -> CaseView:
    now = uow.clock.now()
    case, _ = uow.update(
        SupervisionCase,
        request.case_id,
        lambda c: c.record_outcome(request.substantiated, request.reasons, now),
        request,
    )
    return case_view(case)


def open_from_complaint(complaint: RoutedComplaint, record: RecordedEvent, uow: UnitOfWork) -> None:
    """A complaint about a cadre from the public opens a case (one per submission)."""
    case_id = f"complaint-{complaint.submission_id}"
    if uow.load_or_new(SupervisionCase, case_id).version:
        log.info("case %s exists already", case_id)
        return
    now = uow.clock.now()
    uow.create(
        SupervisionCase,
        case_id,
        lambda c: c.open(
            complaint.cadre_id, complaint.process_id, "complaint", complaint.submission_id, complaint.text, now
        ),
        uow.system("complaint routed from feedback"),
    )
