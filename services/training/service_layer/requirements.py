"""The department's yearly requirements, and the deadline check that holds learners to them.

The check (on a timer, and on demand) flags every induction past its year
unmet, reviews the year just ended for every learner its requirement covers
(met, or the shortfall flagged), and places learners still awaiting a program
into one that has opened since.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from services.training import messages as m
from services.training.domain.ledger import INDUCTION, LearnerLedger
from services.training.domain.requirement import YearRequirements
from services.training.read_models import learners as learner_queries
from services.training.read_models import programs as program_queries
from services.training.service_layer.enrolments import FindOpen
from services.training.service_layer.programs import FindAwaiting, place_awaiting
from services.training.views import DeadlineCheck, RequirementView
from shared.application import Sweep, UnitOfWork
from shared.application.sweeps import report_missed
from shared.config import TrainingSettings
from shared.errors import RuleViolation
from shared.eventstore.records import RecordedEvent

#: Learners of a post category (the read model's answer).
FindLearners = Callable[[UnitOfWork, str], list[str]]


def missed(record: RecordedEvent) -> str | None:
    """A requirement not met when its time ran out: ``induction``, or ``yearly_requirement`` (hours or kinds)."""
    if record.type != "RequirementShortfallFlagged":
        return None
    return "induction" if record.data["requirement"] == INDUCTION else "yearly_requirement"


OVERDUE_INDUCTIONS = Sweep(
    name="induction check",
    aggregate=LearnerLedger,
    due=learner_queries.inductions_overdue,
    command=LearnerLedger.flag_overdue_inductions,
    reason="induction not completed within a year of the appointment",
    missed=missed,
)


def set_requirement(
    request: m.SetRequirement,
    uow: UnitOfWork,
    settings: TrainingSettings,
    find_learners: FindLearners = learner_queries.of_category,
) -> RequirementView:
    """Set a category's requirement for a year; its learners' totals are counted again under its online share."""
    now = uow.clock.now()
    share = request.online_share if request.online_share is not None else settings.online_share
    kinds = sorted(set(request.required_kinds))
    recounted = 0
    with uow.transaction():
        requirements = uow.load_or_new(YearRequirements, str(request.year))
        requirements.set(request.year, request.post_category, request.hours, kinds, share, now)
        uow.save(requirements, request)
        for person_id in find_learners(uow, request.post_category):
            _, recorded = uow.update(
                LearnerLedger, person_id, lambda ledger: ledger.recount(request.year, share), request
            )
            recounted += bool(recorded)
    return RequirementView(request.year, request.post_category, request.hours, sorted(set(kinds)), share, recounted)


def review_years(uow: UnitOfWork, settings: TrainingSettings, find_due: Callable[[UnitOfWork, int], list[str]]) -> int:
    """Review the year just ended for every learner its requirement covers, each in a transaction of its own."""
    now = uow.clock.now()
    year = now.year - 1
    requirements = uow.load_or_new(YearRequirements, str(year))
    reviewed = 0
    for person_id in find_due(uow, year):
        ledger = uow.load(LearnerLedger, person_id)
        requirement = requirements.of(ledger.state.post_category)
        if requirement is None:
            continue
        try:
            _, recorded = uow.update(
                LearnerLedger,
                person_id,
                functools.partial(LearnerLedger.review_year, year=year, requirement=requirement, now=now),
                uow.system(f"review of {year}"),
            )
        except RuleViolation:
            continue
        report_missed(uow, recorded, missed)
        reviewed += bool(recorded)
    return reviewed


def check_deadlines(
    uow: UnitOfWork,
    settings: TrainingSettings,
    inductions: Sweep[LearnerLedger] = OVERDUE_INDUCTIONS,
    find_unreviewed: Callable[[UnitOfWork, int], list[str]] = learner_queries.unreviewed,
    find_awaiting: FindAwaiting = learner_queries.awaiting,
    find_open: FindOpen = program_queries.open_of_kind,
) -> DeadlineCheck:
    flagged = inductions.run(uow).changed
    reviewed = review_years(uow, settings, find_unreviewed)
    placed = place_awaiting(uow, find_awaiting, find_open)
    return DeadlineCheck(flagged, reviewed, len(placed), uow.clock.now())
