"""Branch affairs made public (党务公开), and the deadline check of the whole service.

The check (on a timer, and on demand) flags the talks and activists' reviews
past their dates, and the publications a branch has missed.
"""

from __future__ import annotations

from services.grassroots import messages as m
from services.grassroots.domain.affairs import BranchAffairs
from services.grassroots.domain.development import MemberDevelopment
from services.grassroots.read_models import affairs as affairs_queries
from services.grassroots.read_models import pipeline as pipeline_queries
from services.grassroots.service_layer.organisations import branch
from services.grassroots.views import AffairsView, DeadlineCheck, affairs_view
from shared.application import Sweep, UnitOfWork
from shared.eventstore.records import RecordedEvent


def missed_step(record: RecordedEvent) -> str | None:
    """A development step not taken by its date: ``talk`` or ``activist_review``."""
    return str(record.data["step"]) if record.type == "DevelopmentDeadlineMissed" else None


def missed_publication(record: RecordedEvent) -> str | None:
    """A branch's affairs not published on schedule: ``affairs_publication``."""
    return "affairs_publication" if record.type == "PublicationMissed" else None


MISSED_STEPS = Sweep(
    name="development deadlines",
    aggregate=MemberDevelopment,
    due=pipeline_queries.overdue,
    command=MemberDevelopment.flag_missed,
    reason="a development step not taken by its date",
    missed=missed_step,
)
MISSED_PUBLICATIONS = Sweep(
    name="affairs publications",
    aggregate=BranchAffairs,
    due=affairs_queries.overdue,
    command=BranchAffairs.flag_missed,
    reason="a branch's affairs not published on schedule",
    missed=missed_publication,
)


def schedule(request: m.SchedulePublication, uow: UnitOfWork) -> AffairsView:
    now = uow.clock.now()
    with uow.transaction():
        branch(uow, request.branch_id)
        affairs = uow.load_or_new(BranchAffairs, request.branch_id)
        affairs.schedule(request.category, request.scope, request.every_days, now)
        uow.save(affairs, request)
    return affairs_view(affairs)


def publish(request: m.PublishAffairs, uow: UnitOfWork) -> AffairsView:
    now = uow.clock.now()
    affairs, _ = uow.update(
        BranchAffairs,
        request.branch_id,
        lambda a: a.publish(request.category, request.title, request.body, now),
        request,
    )
    return affairs_view(affairs)


def check_deadlines(
    uow: UnitOfWork,
    steps: Sweep[MemberDevelopment] = MISSED_STEPS,
    publications: Sweep[BranchAffairs] = MISSED_PUBLICATIONS,
) -> DeadlineCheck:
    return DeadlineCheck(steps.run(uow).changed, publications.run(uow).changed, uow.clock.now())
