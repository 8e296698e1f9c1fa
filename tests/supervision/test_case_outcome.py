"""The outcome of a case on a complaint names the submission, so feedback can answer its submitter (finding 9).

Pure Python: the case's rule, and an outcome recorded before the field existed
still loading from the store.
"""

from __future__ import annotations

import datetime as dt

from services.supervision.domain.case import SupervisionCase
from services.supervision.domain.events import Participant, SupervisionOutcomeRecorded, registry

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
MEETING = [Participant("Zhao", "organization"), Participant("Qian", "discipline_inspection")]


def concluded(origin: str, submission_id: str | None) -> SupervisionOutcomeRecorded:
    case = SupervisionCase("k1")
    case.open("c-1", "sel-1", origin, submission_id, "gifts", NOW)
    case.assign("Zhao", NOW)
    case.hold_joint_meeting(MEETING, "established", NOW)
    case.record_outcome(True, "confirmed", NOW)
    outcome = case.pending_events[-1]
    assert isinstance(outcome, SupervisionOutcomeRecorded)
    return outcome


def test_the_outcome_of_a_complaint_names_its_submission_and_a_departments_names_none() -> None:
    assert concluded("complaint", "s-1").submission_id == "s-1"
    assert concluded("department", None).submission_id is None


def test_an_outcome_recorded_before_the_field_existed_still_loads() -> None:
    old = {
        "case_id": "k1",
        "cadre_id": "c-1",
        "process_id": None,
        "substantiated": False,
        "reasons": "no evidence",
        "recorded_at": NOW.isoformat(),
    }
    event = registry.decode("SupervisionOutcomeRecorded", 1, old)
    assert isinstance(event, SupervisionOutcomeRecorded) and event.submission_id is None
    new = registry.to_new_event(concluded("complaint", "s-1"))
    assert new.data["submission_id"] == "s-1"
