"""Open selection, step by step: each request one command on one ``SelectionProcess``.

Some steps reach past the process: registering a candidate reads the cadre's
record (their eligibility) and notes the candidacy on it, and an appointment
(at the close, or when a case that postponed it concludes) goes on the
appointee's record in the same transaction. Supervision's cases and outcomes
arrive as events: they go on the cadre's record and on every running
selection where the cadre stands, and hold or decide the appointment.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable

from services.cadre import messages as m
from services.cadre.domain.cadre_record import CadreRecord
from services.cadre.domain.events import CandidateAppointed, Criterion, Post, registry
from services.cadre.domain.selection import SelectionProcess
from services.cadre.inbound import CaseOpened, SupervisionOutcome
from services.cadre.views import SelectionView, selection_view
from shared.application import Author, UnitOfWork
from shared.config import CadreSettings
from shared.errors import NotFound
from shared.eventstore.records import RecordedEvent

log = logging.getLogger(__name__)


def _change(request: m.OnSelection, uow: UnitOfWork, change: Callable[[SelectionProcess], object]) -> SelectionView:
    process, _ = uow.update(SelectionProcess, request.process_id, change, request)
    return selection_view(process)


def create_selection(request: m.CreateSelection, uow: UnitOfWork, settings: CadreSettings) -> SelectionView:
    """Announce a selection; its training minimum is the service's unless the request sets one."""
    now = uow.clock.now()
    minimum = request.min_credit_hours if request.min_credit_hours is not None else settings.min_credit_hours
    posts = [Post(p.post_id, p.title) for p in request.posts]
    process, _ = uow.create(
        SelectionProcess,
        request.process_id or uuid.uuid4().hex,
        lambda p: p.announce(
            request.title, request.unit, request.kind, request.variant, posts, minimum, request.shortlist_ratio, now
        ),
        request,
    )
    return selection_view(process)


def open_registration(request: m.OnSelection, uow: UnitOfWork) -> SelectionView:
    now = uow.clock.now()
    return _change(request, uow, lambda p: p.open_registration(now))


def extend_registration(request: m.ExtendRegistration, uow: UnitOfWork) -> SelectionView:
    now, calendar = uow.clock.now(), uow.calendar
    return _change(request, uow, lambda p: p.extend_registration(request.working_days, now, calendar=calendar))


def cancel_selection(request: m.CancelSelection, uow: UnitOfWork) -> SelectionView:
    now = uow.clock.now()
    return _change(request, uow, lambda p: p.cancel(request.reason, now))


def register_candidate(request: m.RegisterCandidate, uow: UnitOfWork) -> SelectionView:
    """A cadre stands; their record decides whether they may (``NotFound`` for one not on record)."""
    now = uow.clock.now()
    with uow.transaction():
        # The record is read in the transaction that notes the candidacy on it: a case opened since is seen,
        # and one opened concurrently makes the save of this same record conflict.
        cadre = uow.load(CadreRecord, request.cadre_id)
        eligibility = cadre.eligibility(now)
        view = _change(request, uow, lambda p: p.register_candidate(request.cadre_id, eligibility))
        # On the record too: a case that names only the cadre finds the selections where they stand.
        cadre.note_candidacy(request.process_id, now)
        uow.save(cadre, request)
    return view


def open_recommendation(request: m.OnSelection, uow: UnitOfWork) -> SelectionView:
    now = uow.clock.now()
    return _change(request, uow, lambda p: p.open_recommendation(now))


def cast_recommendation(request: m.CastRecommendation, uow: UnitOfWork) -> SelectionView:
    """A voter takes part in the round's secret ballot (their choice goes in the box, not in the log)."""
    return _change(request, uow, lambda p: p.cast_recommendation(request.voter_id, request.round))


def count_recommendation(request: m.CountRecommendation, uow: UnitOfWork) -> SelectionView:
    """The round's box counted: the ballots, without voter ids, entered together; the tally published."""
    ballots = [list(b) for b in request.ballots]
    return _change(request, uow, lambda p: p.count_recommendation(ballots, request.round))


def make_statement(request: m.MakeStatement, uow: UnitOfWork) -> SelectionView:
    return _change(request, uow, lambda p: p.make_statement(request.cadre_id, request.summary))


def draw_shortlist(request: m.DrawShortlist, uow: UnitOfWork) -> SelectionView:
    return _change(request, uow, lambda p: p.draw_shortlist(request.cadre_ids))


def publish_assessment_preview(request: m.PublishPreview, uow: UnitOfWork) -> SelectionView:
    now = uow.clock.now()
    notice_id, calendar = f"preview-{request.process_id}", uow.calendar
    return _change(
        request, uow, lambda p: p.publish_assessment_preview(notice_id, now, request.working_days, calendar=calendar)
    )


def start_assessment(request: m.StartAssessment, uow: UnitOfWork) -> SelectionView:
    now = uow.clock.now()
    criteria = [Criterion(c.name, c.weight) for c in request.criteria]
    return _change(request, uow, lambda p: p.start_assessment(criteria, now))


def assess_candidate(request: m.AssessCandidate, uow: UnitOfWork) -> SelectionView:
    return _change(
        request,
        uow,
        lambda p: p.assess_candidate(request.cadre_id, request.qualitative, dict(request.scores), request.actor),
    )


def convene_committee(request: m.ConveneCommittee, uow: UnitOfWork) -> SelectionView:
    return _change(request, uow, lambda p: p.convene_committee(request.members, request.present))


def cast_committee_vote(request: m.CastCommitteeVote, uow: UnitOfWork) -> SelectionView:
    """A member present takes part in a post's secret ballot."""
    return _change(request, uow, lambda p: p.cast_committee_vote(request.member_id, request.post_id))


def count_committee_vote(request: m.CountCommitteeVote, uow: UnitOfWork) -> SelectionView:
    """A post's box counted: each ballot lists the candidates it approves, with no member's id."""
    ballots = [list(b) for b in request.ballots]
    return _change(request, uow, lambda p: p.count_committee_vote(request.post_id, ballots))


def conclude_committee_vote(request: m.OnSelection, uow: UnitOfWork) -> SelectionView:
    return _change(request, uow, lambda p: p.conclude_committee_vote())


def open_public_notice(request: m.OpenPublicNotice, uow: UnitOfWork) -> SelectionView:
    now = uow.clock.now()
    notice_id, calendar = f"notice-{request.process_id}", uow.calendar
    return _change(
        request, uow, lambda p: p.open_public_notice(notice_id, now, request.working_days, calendar=calendar)
    )


def close_selection(request: m.OnSelection, uow: UnitOfWork) -> SelectionView:
    """Close the process and put each appointment on the cadre's record, together."""
    now = uow.clock.now()
    with uow.transaction():
        process, recorded = uow.update(SelectionProcess, request.process_id, lambda p: p.close(now), request)
        _appoint_on_records(process, recorded, uow, request.actor)
    return selection_view(process)


def _appoint_on_records(process: SelectionProcess, recorded: list[RecordedEvent], uow: UnitOfWork, actor: str) -> None:
    """Each appointment the process just recorded, on the appointee's record (in the same transaction)."""
    for event in map(registry.from_record, recorded):
        if isinstance(event, CandidateAppointed):
            uow.update(
                CadreRecord,
                event.cadre_id,
                _appointment(event, process.id),
                Author(actor, f"appointed by selection {process.id}"),
            )


def _appointment(event: CandidateAppointed, process_id: str) -> Callable[[CadreRecord], None]:
    return lambda cadre: cadre.appoint(event.post_id, event.post_title, event.unit, process_id, event.appointed_at)


def _concerned(uow: UnitOfWork, cadre_id: str, process_id: str | None) -> list[SelectionProcess]:
    """The running selections a case about ``cadre_id`` bears on: the one it names, else every one where the
    cadre is a candidate (a complaint may name only the cadre)."""
    if process_id:
        ids = [process_id]
    else:
        try:
            ids = list(uow.load(CadreRecord, cadre_id).state.candidacies)
        except NotFound:
            return []
    processes = []
    for each in ids:
        try:
            process = uow.load(SelectionProcess, each)
        except NotFound:
            log.info("a supervision case about %s names unknown selection %s", cadre_id, each)
            continue
        if process.concerns(cadre_id):
            processes.append(process)
    return processes


def _on_record(uow: UnitOfWork, cadre_id: str, change: Callable[[CadreRecord], object], why: str) -> None:
    """Put a case on the cadre's record, when the cadre is on record."""
    try:
        uow.update(CadreRecord, cadre_id, change, uow.system(why))
    except NotFound:
        log.info("supervision case about %s, who is not on record", cadre_id)


def note_case_opened(case: CaseOpened, record: RecordedEvent, uow: UnitOfWork) -> None:
    """A case about a cadre opened: on their record (a pending case bars promotion), and on every running
    selection where they stand, whatever its phase: it holds their appointment until it concludes."""
    case_id = record.aggregate_id
    why = f"supervision case {case_id} opened"
    with uow.transaction():
        _on_record(uow, case.cadre_id, lambda c: c.note_case_opened(case_id, case.process_id, case.opened_at), why)
        for process in _concerned(uow, case.cadre_id, case.process_id):
            candidate = process.state.candidates[case.cadre_id]
            if case_id in candidate.open_cases + candidate.substantiated_cases + candidate.cleared_cases:
                continue
            process.note_case_opened(case.cadre_id, case_id, case.opened_at)
            uow.save(process, uow.system(why))


def note_supervision_outcome(outcome: SupervisionOutcome, record: RecordedEvent, uow: UnitOfWork) -> None:
    """A case about a cadre concluded: on their record, and on every running selection where they stand; an
    appointment it postponed is decided now (and put on the appointee's record)."""
    # The outcome counts from when supervision concluded it (its event's time), not from when it reached us.
    concluded_at = dt.datetime.fromisoformat(record.metadata["recorded_at"])
    why = f"supervision case {outcome.case_id} concluded"
    with uow.transaction():
        _on_record(
            uow,
            outcome.cadre_id,
            lambda c: c.note_case_concluded(outcome.case_id, outcome.substantiated, concluded_at),
            why,
        )
        if outcome.process_id:
            try:
                named = uow.load(SelectionProcess, outcome.process_id)
            except NotFound:
                named = None
            if named is not None and named.missed_outcome(outcome.cadre_id, outcome.substantiated, concluded_at):
                # Flagged, not refused: a refusal would roll back the case's conclusion on the record above
                # (the cadre would keep an open case for ever). The appointment stands; a person reviews it.
                log.warning(
                    "selection.outcome_after_close: substantiated case %s about %s was concluded during the notice "
                    "but reached selection %s after it closed: review the appointment",
                    outcome.case_id,
                    outcome.cadre_id,
                    named.id,
                )
                named.flag_outcome_after_close(outcome.cadre_id, outcome.case_id, concluded_at)
                uow.save(named, uow.system(why))
        processes = _concerned(uow, outcome.cadre_id, outcome.process_id)
        if not processes:
            log.info("supervision case %s bears on no running selection", outcome.case_id)
        for process in processes:
            candidate = process.state.candidates[outcome.cadre_id]
            if outcome.case_id in candidate.substantiated_cases + candidate.cleared_cases:
                continue
            process.note_supervision_outcome(outcome.cadre_id, outcome.case_id, outcome.substantiated, concluded_at)
            recorded = uow.save(process, uow.system(why))
            _appoint_on_records(process, recorded, uow, uow.system(why).actor)
