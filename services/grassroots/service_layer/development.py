"""A person's way into the party: each step a use case, each gate checked by ``MemberDevelopment``.

Steps that change the branch as well (admission, full membership, a
cancelled probation) change both in one transaction. The short course arrives
from training; the talk and the activist's reviews are watched by the deadline check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from services.grassroots import messages as m
from services.grassroots.domain.development import MemberDevelopment
from services.grassroots.domain.kinds import Stage
from services.grassroots.domain.organisation import PartyOrganisation
from services.grassroots.inbound import CompletedTraining
from services.grassroots.service_layer.organisations import branch
from services.grassroots.views import DevelopmentView, development_view
from shared.application import Authored, UnitOfWork
from shared.eventstore.records import RecordedEvent

log = logging.getLogger(__name__)

Change = Callable[[MemberDevelopment], object]


def _step(uow: UnitOfWork, person_id: str, change: Change, by: Authored) -> DevelopmentView:
    development, _ = uow.update(MemberDevelopment, person_id, change, by)
    return development_view(development)


def _full_members(uow: UnitOfWork, person_id: str) -> set[str]:
    development = uow.load(MemberDevelopment, person_id)
    return set(uow.load(PartyOrganisation, development.state.branch_id).state.full_members)


def apply(request: m.Apply, uow: UnitOfWork) -> DevelopmentView:
    """入党申请, to a branch that exists."""
    now = uow.clock.now()
    with uow.transaction():
        branch(uow, request.branch_id)
        development, _ = uow.create(
            MemberDevelopment,
            request.person_id,
            lambda d: d.receive_application(
                request.name, request.birth_date, request.branch_id, request.entrepreneur, now
            ),
            request,
        )
    return development_view(development)


def hold_talk(request: m.HoldTalk, uow: UnitOfWork) -> DevelopmentView:
    now = uow.clock.now()
    return _step(uow, request.person_id, lambda d: d.hold_talk(request.talked_by, now), request)


def designate_activist(request: m.DesignateActivist, uow: UnitOfWork) -> DevelopmentView:
    now = uow.clock.now()
    with uow.transaction():
        members = _full_members(uow, request.person_id)
        return _step(
            uow,
            request.person_id,
            lambda d: d.designate_activist(request.recommended_by, list(request.contacts), members, now),
            request,
        )


def review_activist(request: m.ReviewActivist, uow: UnitOfWork) -> DevelopmentView:
    now = uow.clock.now()
    return _step(uow, request.person_id, lambda d: d.review_activist(request.note, now), request)


def designate_development_target(request: m.OnPerson, uow: UnitOfWork) -> DevelopmentView:
    """发展对象: published, so that training enrols them in the short course."""
    now = uow.clock.now()
    return _step(uow, request.person_id, lambda d: d.designate_development_target(now), request)


def assign_introducers(request: m.AssignIntroducers, uow: UnitOfWork) -> DevelopmentView:
    with uow.transaction():
        members = _full_members(uow, request.person_id)
        return _step(
            uow, request.person_id, lambda d: d.assign_introducers(list(request.introducers), members), request
        )


def record_political_review(request: m.Decision, uow: UnitOfWork) -> DevelopmentView:
    now = uow.clock.now()
    return _step(uow, request.person_id, lambda d: d.record_political_review(request.passed, now), request)


def open_target_notice(request: m.OpenTargetNotice, uow: UnitOfWork) -> DevelopmentView:
    now, calendar = uow.clock.now(), uow.calendar
    with uow.transaction():
        development = uow.load(MemberDevelopment, request.person_id)
        unit = uow.load(PartyOrganisation, development.state.branch_id).state.name
        notice_id = f"target-{request.person_id}"
        return _step(
            uow,
            request.person_id,
            lambda d: d.open_notice(notice_id, unit, request.working_days, calendar, now),
            request,
        )


def pre_review(request: m.Decision, uow: UnitOfWork) -> DevelopmentView:
    now = uow.clock.now()
    return _step(uow, request.person_id, lambda d: d.pre_review(request.passed, now), request)


def hold_branch_meeting(request: m.BranchMeeting, uow: UnitOfWork) -> DevelopmentView:
    """Those entitled are the branch's full members now; the request says who came and how they voted."""
    now = uow.clock.now()
    with uow.transaction():
        entitled = len(_full_members(uow, request.person_id))
        return _step(
            uow,
            request.person_id,
            lambda d: d.hold_branch_meeting(entitled, request.present, request.yes, now),
            request,
        )


def approve_admission(request: m.ApproveAdmission, uow: UnitOfWork) -> DevelopmentView:
    """The higher committee approves: a probationary member of the branch, in the same transaction."""
    now = uow.clock.now()
    with uow.transaction():
        view = _step(uow, request.person_id, lambda d: d.approve(request.extended, now), request)
        uow.update(PartyOrganisation, view.branch_id, lambda o: o.admit(request.person_id, False, now), request)
    return view


def extend_probation(request: m.ExtendProbation, uow: UnitOfWork) -> DevelopmentView:
    now = uow.clock.now()
    return _step(uow, request.person_id, lambda d: d.extend_probation(request.months, now), request)


def grant_full_membership(request: m.OnPerson, uow: UnitOfWork) -> DevelopmentView:
    now = uow.clock.now()
    with uow.transaction():
        view = _step(uow, request.person_id, lambda d: d.grant_full_membership(now), request)
        uow.update(PartyOrganisation, view.branch_id, lambda o: o.make_full(request.person_id, now), request)
    return view


def cancel(request: m.CancelDevelopment, uow: UnitOfWork) -> DevelopmentView:
    """Cancelled; a probationary member leaves the branch with it."""
    now = uow.clock.now()
    with uow.transaction():
        was = uow.load(MemberDevelopment, request.person_id).state.stage
        view = _step(uow, request.person_id, lambda d: d.cancel(request.reason, now), request)
        if was is Stage.PROBATIONARY:
            uow.update(
                PartyOrganisation,
                view.branch_id,
                lambda o: o.remove(request.person_id, "probation cancelled", now),
                request,
            )
    return view


def short_course_completed(completed: CompletedTraining, record: RecordedEvent, uow: UnitOfWork) -> None:
    """training's completion: the short course, for a person grassroots is developing, is the admission gate."""
    with uow.transaction():
        development = uow.load_or_new(MemberDevelopment, completed.person_id)
        if not development.version:
            log.info("training completed by %s, whom grassroots is not developing", completed.person_id)
            return
        if development.note_short_course(completed.program_id, completed.kind, completed.hours, completed.completed_at):
            uow.save(development, uow.system("training completed the short course"))
