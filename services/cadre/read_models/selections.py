"""The selections read model: processes by phase, and each candidate's journey through one.

A process keeps the event that moved it into its phase (``phase_event_id``)
and each journey step the event it records (``event_id``): a published
result names the event that closed the selection, and each appointment or
withholding its own, for a reader to ask their inclusion proofs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from services.cadre.domain import events as ev
from services.cadre.domain.selection.state import ALLOWED, Phase
from services.cadre.messages import JourneyQuery, ResultsQuery, SelectionQuery
from shared.application import Reader
from shared.errors import NotFound
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, jsonb, on


class Selections(Projection):
    name = "selections"
    tables = ("selection_processes", "candidate_journeys")

    # The phase each event moves a process into.
    PHASES: dict[type, str] = {
        ev.SelectionAnnounced: "announced",
        ev.RegistrationOpened: "registration",
        ev.RecommendationOpened: "recommendation",
        ev.ShortlistDrawn: "shortlisted",
        ev.AssessmentPreviewPublished: "assessment_preview",
        ev.AssessmentStarted: "assessment",
        ev.CommitteeConvened: "committee_vote",
        ev.CommitteeVoteConcluded: "nominated",
        ev.PublicNoticeOpened: "public_notice",
        ev.SelectionClosed: "closed",
        ev.RegistrationExtended: "registration",
        ev.SelectionCancelled: "cancelled",
        ev.AppointmentPostponed: "postponed",
    }

    @on(
        ev.RegistrationOpened,
        ev.RecommendationOpened,
        ev.AssessmentStarted,
        ev.CommitteeConvened,
        ev.SelectionClosed,
        ev.RegistrationExtended,
        ev.SelectionCancelled,
    )
    def _phase(self, cur: Any, event: Any, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE selection_processes SET phase = %s, updated_at = %s, phase_event_id = %s WHERE process_id = %s",
            [self.PHASES[type(event)], record.metadata["recorded_at"], record.event_id, record.aggregate_id],
        )

    def _step(self, cur: Any, record: RecordedEvent, cadre_id: str, step: str, details: dict[str, Any]) -> None:
        cur.execute(
            "INSERT INTO candidate_journeys (process_id, cadre_id, position, step, at, details, event_id) "
            "VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s) ON CONFLICT DO NOTHING",
            [
                record.aggregate_id,
                cadre_id,
                record.position,
                step,
                record.metadata["recorded_at"],
                jsonb(details),
                record.event_id,
            ],
        )

    @on(ev.SelectionAnnounced)
    def _announced(self, cur: Any, e: ev.SelectionAnnounced, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO selection_processes "
            "(process_id, title, unit, kind, variant, phase, updated_at, phase_event_id) "
            "VALUES (%s, %s, %s, %s, %s, 'announced', %s, %s)",
            [record.aggregate_id, e.title, e.unit, e.kind, e.variant, record.metadata["recorded_at"], record.event_id],
        )

    @on(ev.CandidateRegistered)
    def _registered(self, cur: Any, e: ev.CandidateRegistered, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE selection_processes SET candidates = candidates + 1, updated_at = %s WHERE process_id = %s",
            [record.metadata["recorded_at"], record.aggregate_id],
        )
        self._step(cur, record, e.cadre_id, "registered", {"name": e.name, "credit_hours": str(e.credit_hours)})

    @on(ev.RecommendationBallotCast)
    def _ballot(self, cur: Any, e: ev.RecommendationBallotCast, record: RecordedEvent) -> None:
        """Legacy open ballots: the journey shows the round, never who voted (ballots are secret)."""
        for cadre_id in e.candidate_ids:
            self._step(cur, record, cadre_id, "recommended", {"round": e.round})

    @on(ev.BallotCounted)
    def _counted(self, cur: Any, e: ev.BallotCounted, record: RecordedEvent) -> None:
        """A recommendation round's tally, once its box is counted: each candidate's votes, no voter."""
        kind, _, round = e.ballot_id.partition(":")
        if kind != "recommendation":
            return
        for cadre_id, votes in e.votes.items():
            if votes:
                self._step(cur, record, cadre_id, "recommended", {"round": round, "votes": votes, "ballots": e.cast})

    @on(ev.CandidateStatementMade)
    def _statement(self, cur: Any, e: ev.CandidateStatementMade, record: RecordedEvent) -> None:
        self._step(cur, record, e.cadre_id, "statement", {"summary": e.summary})

    @on(ev.ShortlistDrawn)
    def _shortlisted(self, cur: Any, e: ev.ShortlistDrawn, record: RecordedEvent) -> None:
        self._phase(cur, e, record)
        for cadre_id in e.cadre_ids:
            self._step(cur, record, cadre_id, "shortlisted", {"recommendations": e.recommendations.get(cadre_id, 0)})

    @on(ev.AssessmentPreviewPublished)
    def _preview(self, cur: Any, e: ev.AssessmentPreviewPublished, record: RecordedEvent) -> None:
        self._phase(cur, e, record)
        for cadre_id in e.cadre_ids:
            self._step(cur, record, cadre_id, "assessment_preview", {"closes_at": e.closes_at.isoformat()})

    @on(ev.CandidateAssessed)
    def _assessed(self, cur: Any, e: ev.CandidateAssessed, record: RecordedEvent) -> None:
        details = {
            "qualitative": e.qualitative,
            "weighted_total": str(e.weighted_total),
            "scores": {k: str(v) for k, v in e.scores.items()},
            "weights": {k: str(v) for k, v in e.weights.items()},
        }
        self._step(cur, record, e.cadre_id, "assessed", details)

    @on(ev.CommitteeVoteConcluded)
    def _concluded(self, cur: Any, e: ev.CommitteeVoteConcluded, record: RecordedEvent) -> None:
        self._phase(cur, e, record)
        for result in e.results:
            details = {
                "approvals": result.approvals,
                "rejections": result.rejections,
                "members": e.members_total,
                "approved": result.approved,
                "nominated_post": e.nominees.get(result.cadre_id),
            }
            self._step(cur, record, result.cadre_id, "committee_vote", details)

    @on(ev.PublicNoticeOpened)
    def _notice(self, cur: Any, e: ev.PublicNoticeOpened, record: RecordedEvent) -> None:
        self._phase(cur, e, record)
        for cadre_id in e.cadre_ids:
            self._step(cur, record, cadre_id, "public_notice", {"closes_at": e.closes_at.isoformat()})

    @on(ev.SupervisionOutcomeNoted)
    def _outcome(self, cur: Any, e: ev.SupervisionOutcomeNoted, record: RecordedEvent) -> None:
        details = {"case_id": e.case_id, "substantiated": e.substantiated, "during_notice": e.during_notice}
        self._step(cur, record, e.cadre_id, "supervision_outcome", details)

    @on(ev.CandidateAppointed)
    def _appointed(self, cur: Any, e: ev.CandidateAppointed, record: RecordedEvent) -> None:
        details = {"post_id": e.post_id, "post_title": e.post_title, "notice_id": e.notice_id, "case_ids": e.case_ids}
        self._step(cur, record, e.cadre_id, "appointed", details)

    @on(ev.SupervisionCaseNoted)
    def _case(self, cur: Any, e: ev.SupervisionCaseNoted, record: RecordedEvent) -> None:
        self._step(cur, record, e.cadre_id, "supervision_case", {"case_id": e.case_id, "phase": e.phase})

    @on(ev.AppointmentPostponed)
    def _postponed(self, cur: Any, e: ev.AppointmentPostponed, record: RecordedEvent) -> None:
        self._phase(cur, e, record)
        self._step(cur, record, e.cadre_id, "postponed", {"post_id": e.post_id, "case_ids": e.case_ids})

    @on(ev.OutcomeAfterCloseFlagged)
    def _flagged(self, cur: Any, e: ev.OutcomeAfterCloseFlagged, record: RecordedEvent) -> None:
        details = {"post_id": e.post_id, "case_id": e.case_id, "notice_id": e.notice_id, "review": True}
        self._step(cur, record, e.cadre_id, "outcome_after_close", details)

    @on(ev.AppointmentWithheld)
    def _withheld(self, cur: Any, e: ev.AppointmentWithheld, record: RecordedEvent) -> None:
        self._step(cur, record, e.cadre_id, "withheld", {"post_id": e.post_id, "case_ids": e.case_ids})


@dataclass(frozen=True)
class SelectionSummary:
    process_id: str
    title: str
    unit: str
    kind: str
    variant: str
    phase: str
    candidates: int
    updated_at: dt.datetime
    #: the steps this phase allows, as the selection's guard holds them (rule ``selection.phase_order``)
    allowed: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class JourneyStep:
    step: str
    at: dt.datetime
    details: dict[str, Any]


@dataclass(frozen=True)
class Journey:
    process_id: str
    cadre_id: str
    steps: list[JourneyStep]


def list_selections(reader: Reader, query: SelectionQuery) -> list[SelectionSummary]:
    rows = reader.query(
        "SELECT process_id, title, unit, kind, variant, phase, candidates, updated_at FROM selection_processes "
        "WHERE %(phase)s::text IS NULL OR phase = %(phase)s ORDER BY updated_at DESC",
        {"phase": query.phase},
    )
    return [SelectionSummary(**row, allowed=list(ALLOWED.get(Phase(row["phase"]), ()))) for row in rows]


def candidate_journey(reader: Reader, query: JourneyQuery) -> Journey:
    rows = reader.query(
        "SELECT step, at, details FROM candidate_journeys WHERE process_id = %s AND cadre_id = %s ORDER BY position",
        [query.process_id, query.cadre_id],
    )
    if not rows:
        raise NotFound("candidate journey", f"{query.process_id}/{query.cadre_id}")
    return Journey(query.process_id, query.cadre_id, [JourneyStep(**row) for row in rows])


@dataclass(frozen=True)
class PublishedOutcome:
    """One appointment or withholding; ``event_id``: the event that recorded it (for its inclusion proof)."""

    cadre_id: str
    name: str | None
    post_id: str
    post_title: str | None
    at: dt.datetime
    event_id: str | None  # None only for a step older than the column that the migration could not match


@dataclass(frozen=True)
class PublishedResult:
    """A closed selection as the public sees it: who was appointed, and whose appointment was withheld.

    ``event_id`` is the event that closed it (``SelectionClosed``, naming both
    lists): its inclusion proof shows the result is the one the signed log holds.
    """

    process_id: str
    title: str
    unit: str
    kind: str
    closed_at: dt.datetime
    appointed: list[PublishedOutcome]
    withheld: list[PublishedOutcome]
    event_id: str | None
    #: ``closed``, or ``postponed``: the notice ended with a case about a nominee still open
    phase: str = "closed"
    #: nominees whose appointment waits for a supervision case (until it concludes, one way or the other)
    postponed: list[PublishedOutcome] = field(default_factory=list)


def published_results(reader: Reader, query: ResultsQuery) -> list[PublishedResult]:
    processes = reader.query(
        "SELECT process_id, title, unit, kind, phase, updated_at AS closed_at, phase_event_id::text AS event_id "
        "FROM selection_processes "
        "WHERE phase IN ('closed', 'postponed') AND (%(unit)s::text IS NULL OR unit = %(unit)s) "
        "ORDER BY updated_at DESC, process_id LIMIT %(limit)s",
        {"unit": query.unit, "limit": query.limit},
    )
    if not processes:
        return []
    rows = reader.query(
        "SELECT o.process_id, o.cadre_id, o.step, o.at, o.details, o.event_id::text, r.details->>'name' AS name "
        "FROM candidate_journeys o LEFT JOIN candidate_journeys r "
        "ON r.process_id = o.process_id AND r.cadre_id = o.cadre_id AND r.step = 'registered' "
        "WHERE o.process_id = ANY(%(ids)s) AND o.step IN ('appointed', 'withheld', 'postponed') ORDER BY o.position",
        {"ids": [p["process_id"] for p in processes]},
    )
    outcomes: dict[tuple[str, str], list[PublishedOutcome]] = {}
    for row in rows:
        details = row["details"]
        outcome = PublishedOutcome(
            row["cadre_id"], row["name"], details["post_id"], details.get("post_title"), row["at"], row["event_id"]
        )
        outcomes.setdefault((row["process_id"], row["step"]), []).append(outcome)
    return [_published(p, outcomes) for p in processes]


def _published(process: dict[str, Any], outcomes: dict[tuple[str, str], list[PublishedOutcome]]) -> PublishedResult:
    """One result; a postponed appointment that has since been decided shows as decided only."""
    appointed = outcomes.get((process["process_id"], "appointed"), [])
    withheld = outcomes.get((process["process_id"], "withheld"), [])
    decided = {o.cadre_id for o in appointed + withheld}
    waiting = [o for o in outcomes.get((process["process_id"], "postponed"), []) if o.cadre_id not in decided]
    return PublishedResult(**process, appointed=appointed, withheld=withheld, postponed=waiting)
