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

MISSED_STEPS = Sweep(
    name="development deadlines",
    aggregate=MemberDevelopment,
    due=pipeline_queries.overdue,
    command=MemberDevelopment.flag_missed,
    reason="a development step not taken by its date",
)
MISSED_PUBLICATIONS = Sweep(
    name="affairs publications",
    aggregate=BranchAffairs,
    due=affairs_queries.overdue,
    command=BranchAffairs.flag_missed,
    reason="a branch's affairs not published on schedule",
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
