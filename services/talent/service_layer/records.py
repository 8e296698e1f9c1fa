"""Talent records: registered by the department, or from other services' events, and kept current.

A cadre is a party-and-government talent: registered in cadre, they have a
record here (with their unit), and each appointment keeps it current; an
appointment that arrives before the registration makes the record from what
the appointment says. What arrives from other services is done as the
service itself, in the story of the event that caused it.
"""

from __future__ import annotations

import datetime as dt

from services.talent import messages as m
from services.talent.domain.kinds import Source, Team
from services.talent.domain.talent import TalentRecord
from services.talent.inbound import (
    AppointedCandidate,
    AppointedToPost,
    ClosedAppraisal,
    CompletedTraining,
    PairedCultivation,
    RegisteredCadre,
)
from services.talent.views import TalentView, talent_view
from shared.application import UnitOfWork
from shared.eventstore.records import RecordedEvent

CADRE_LEVEL = "cadre"
PRACTICAL_LEVEL = "rural practical"


def register(request: m.RegisterTalent, uow: UnitOfWork) -> TalentView:
    now = uow.clock.now()
    talent, _ = uow.create(
        TalentRecord,
        request.person_id,
        lambda t: t.register(
            request.team,
            request.name,
            request.specialty,
            request.level,
            request.source,
            request.unit,
            request.cadre_id,
            request.member_id,
            now,
        ),
        request,
    )
    return talent_view(talent)


def record_departure(request: m.RecordDeparture, uow: UnitOfWork) -> TalentView:
    now = uow.clock.now()
    talent, _ = uow.update(
        TalentRecord, request.person_id, lambda t: t.leave(request.reason, request.note, now), request
    )
    return talent_view(talent)


def record_return(request: m.OnTalent, uow: UnitOfWork) -> TalentView:
    now = uow.clock.now()
    talent, _ = uow.update(TalentRecord, request.person_id, lambda t: t.come_back(now), request)
    return talent_view(talent)


def evaluate(request: m.Evaluate, uow: UnitOfWork) -> TalentView:
    now = uow.clock.now()
    talent, _ = uow.update(
        TalentRecord,
        request.person_id,
        lambda t: t.evaluate(
            request.period,
            request.evaluator_id,
            request.evaluator_kind,
            request.integrity,
            request.ability,
            request.performance,
            list(request.evidence),
            now,
        ),
        request,
    )
    return talent_view(talent)


# -- from other services -------------------------------------------------------------------------


def cadre_registered(cadre: RegisteredCadre, record: RecordedEvent, uow: UnitOfWork) -> None:
    """A cadre on record: a party-and-government talent (once)."""
    cadre_id = record.aggregate_id
    with uow.transaction():
        talent = uow.load_or_new(TalentRecord, cadre_id)
        if talent.version:
            return
        now = uow.clock.now()
        talent.register(
            Team.PARTY_GOVERNMENT,
            cadre.name,
            cadre.post_category,
            CADRE_LEVEL,
            Source.LOCAL,
            cadre.unit,
            cadre_id,
            None,
            now,
        )
        uow.save(talent, uow.system("cadre registered"))


def _appointed(cadre_id: str, unit: str, post: str, appointed_at: dt.datetime, uow: UnitOfWork) -> None:
    with uow.transaction():
        talent = uow.load_or_new(TalentRecord, cadre_id)
        if not talent.version:  # the appointment came first: the record is made from it
            talent.register(
                Team.PARTY_GOVERNMENT, cadre_id, post, CADRE_LEVEL, Source.LOCAL, unit, cadre_id, None, appointed_at
            )
        talent.serve(unit, post, appointed_at)
        uow.save(talent, uow.system(f"appointed {post}"))


def candidate_appointed(appointed: AppointedCandidate, record: RecordedEvent, uow: UnitOfWork) -> None:
    _appointed(appointed.cadre_id, appointed.unit, appointed.post_title, appointed.appointed_at, uow)


def appointed_to_post(appointed: AppointedToPost, record: RecordedEvent, uow: UnitOfWork) -> None:
    _appointed(record.aggregate_id, appointed.unit, appointed.post_title, appointed.appointed_at, uow)


def appraisal_closed(closed: ClosedAppraisal, record: RecordedEvent, uow: UnitOfWork) -> None:
    """Each cadre's result, as performance input on their record (those with a record)."""
    cycle_id = record.aggregate_id
    with uow.transaction():
        for line in closed.results:
            talent = uow.load_or_new(TalentRecord, line.cadre_id)
            talent.note_appraisal(cycle_id, line.grade, line.score, closed.closed_at)
            uow.save(talent, uow.system(f"appraisal cycle {cycle_id} closed"))


def training_completed(completed: CompletedTraining, record: RecordedEvent, uow: UnitOfWork) -> None:
    with uow.transaction():
        talent = uow.load_or_new(TalentRecord, completed.person_id)
        talent.note_training(completed.program_id, completed.kind, completed.hours, completed.completed_at)
        uow.save(talent, uow.system("training completed"))


def cultivation_paired(paired: PairedCultivation, record: RecordedEvent, uow: UnitOfWork) -> None:
    """双向培养: the entrepreneur a branch pairs with a member is a rural practical talent (once)."""
    with uow.transaction():
        talent = uow.load_or_new(TalentRecord, paired.entrepreneur_id)
        if talent.version:
            return
        talent.register(
            Team.RURAL_PRACTICAL,
            paired.entrepreneur_name,
            paired.enterprise,
            PRACTICAL_LEVEL,
            Source.LOCAL,
            paired.enterprise,
            None,
            None,
            paired.paired_at,
        )
        uow.save(talent, uow.system("paired for dual cultivation"))
