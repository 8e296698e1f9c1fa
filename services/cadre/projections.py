"""The cadre service's read models: what its queries read, never the raw log.

- ``Selections``: processes by phase, and each candidate's journey through one;
- ``Notices``: assessment previews and pre-appointment notices, with their windows;
- ``Cadres``: cadres by unit, with posts, roles, commendations, grades, credit hours;
- ``AppraisalResults``: results by year.
"""

from __future__ import annotations

import json
from typing import Any

from services.cadre.domain import events as ev
from shared.eventstore.records import RecordedEvent
from shared.runtime.projections import Projection, on


def _json(value: Any) -> str:
    return json.dumps(value, default=str)


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
    }

    @on(ev.RegistrationOpened, ev.RecommendationOpened, ev.AssessmentStarted, ev.CommitteeConvened, ev.SelectionClosed)
    def _phase(self, cur: Any, event: Any, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE selection_processes SET phase = %s, updated_at = %s WHERE process_id = %s",
            [self.PHASES[type(event)], record.metadata["recorded_at"], record.aggregate_id],
        )

    def _step(self, cur: Any, record: RecordedEvent, cadre_id: str, step: str, details: dict[str, Any]) -> None:
        cur.execute(
            "INSERT INTO candidate_journeys (process_id, cadre_id, position, step, at, details) "
            "VALUES (%s, %s, %s, %s, %s, %s::jsonb) ON CONFLICT DO NOTHING",
            [record.aggregate_id, cadre_id, record.position, step, record.metadata["recorded_at"], _json(details)],
        )

    @on(ev.SelectionAnnounced)
    def _announced(self, cur: Any, e: ev.SelectionAnnounced, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO selection_processes (process_id, title, unit, kind, variant, phase, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, 'announced', %s)",
            [record.aggregate_id, e.title, e.unit, e.kind, e.variant, record.metadata["recorded_at"]],
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
        for cadre_id in e.candidate_ids:
            self._step(cur, record, cadre_id, "recommended", {"round": e.round, "voter_id": e.voter_id})

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
        self._step(cur, record, e.cadre_id, "appointed", {"post_id": e.post_id, "post_title": e.post_title})

    @on(ev.AppointmentWithheld)
    def _withheld(self, cur: Any, e: ev.AppointmentWithheld, record: RecordedEvent) -> None:
        self._step(cur, record, e.cadre_id, "withheld", {"post_id": e.post_id, "case_ids": e.case_ids})


class Notices(Projection):
    name = "notices"
    tables = ("public_notices",)

    def _insert(self, cur: Any, record: RecordedEvent, kind: str, e: Any) -> None:
        cur.execute(
            "INSERT INTO public_notices (notice_id, process_id, kind, title, unit, cadre_ids, opens_at, closes_at) "
            "VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s, %s) ON CONFLICT DO NOTHING",
            [e.notice_id, record.aggregate_id, kind, e.title, e.unit, _json(e.cadre_ids), e.opens_at, e.closes_at],
        )

    @on(ev.AssessmentPreviewPublished)
    def _preview(self, cur: Any, e: ev.AssessmentPreviewPublished, record: RecordedEvent) -> None:
        self._insert(cur, record, "assessment_preview", e)

    @on(ev.PublicNoticeOpened)
    def _notice(self, cur: Any, e: ev.PublicNoticeOpened, record: RecordedEvent) -> None:
        self._insert(cur, record, "pre_appointment", e)


class Cadres(Projection):
    name = "cadres"
    tables = ("cadres",)

    def _append(self, cur: Any, record: RecordedEvent, column: str, item: dict[str, Any]) -> None:
        cur.execute(
            f"UPDATE cadres SET {column} = {column} || %s::jsonb WHERE cadre_id = %s",
            [_json([item]), record.aggregate_id],
        )

    @on(ev.CadreRegistered)
    def _registered(self, cur: Any, e: ev.CadreRegistered, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO cadres (cadre_id, name, unit, post_category, leadership_team, head_of_unit) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            [record.aggregate_id, e.name, e.unit, e.post_category, e.leadership_team, e.head_of_unit],
        )

    @on(ev.CadreAppointedToPost)
    def _appointed(self, cur: Any, e: ev.CadreAppointedToPost, record: RecordedEvent) -> None:
        item = {
            "post_id": e.post_id,
            "post_title": e.post_title,
            "unit": e.unit,
            "process_id": e.process_id,
            "appointed_at": e.appointed_at.isoformat(),
        }
        self._append(cur, record, "posts", item)
        cur.execute("UPDATE cadres SET unit = %s WHERE cadre_id = %s", [e.unit, record.aggregate_id])

    @on(ev.LeadershipRolesChanged)
    def _roles(self, cur: Any, e: ev.LeadershipRolesChanged, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE cadres SET leadership_team = %s, head_of_unit = %s WHERE cadre_id = %s",
            [e.leadership_team, e.head_of_unit, record.aggregate_id],
        )

    @on(ev.CadreCommended)
    def _commended(self, cur: Any, e: ev.CadreCommended, record: RecordedEvent) -> None:
        self._append(cur, record, "commendations", {"title": e.title, "year": e.year, "citation": e.citation})

    @on(ev.AppraisalGradeRecorded)
    def _grade(self, cur: Any, e: ev.AppraisalGradeRecorded, record: RecordedEvent) -> None:
        self._append(
            cur, record, "appraisals", {"cycle_id": e.cycle_id, "year": e.year, "grade": e.grade, "score": str(e.score)}
        )
        cur.execute(
            "UPDATE cadres SET latest_grade = %s, latest_grade_year = %s WHERE cadre_id = %s "
            "AND (latest_grade_year IS NULL OR latest_grade_year <= %s)",
            [e.grade, e.year, record.aggregate_id, e.year],
        )

    @on(ev.TrainingCreditsNoted)
    def _credits(self, cur: Any, e: ev.TrainingCreditsNoted, record: RecordedEvent) -> None:
        cur.execute(
            "UPDATE cadres SET credit_hours = credit_hours || jsonb_build_object(%s::text, %s::text) WHERE cadre_id = %s",
            [str(e.year), str(e.total_hours), record.aggregate_id],
        )


class AppraisalResults(Projection):
    name = "appraisal_results"
    tables = ("appraisal_results", "appraisal_cycles")

    @on(ev.AppraisalCycleOpened)
    def _opened(self, cur: Any, e: ev.AppraisalCycleOpened, record: RecordedEvent) -> None:
        cur.execute(
            "INSERT INTO appraisal_cycles (cycle_id, year, post_category) VALUES (%s, %s, %s)",
            [record.aggregate_id, e.year, e.post_category],
        )

    @on(ev.AppraisalCycleClosed)
    def _closed(self, cur: Any, e: ev.AppraisalCycleClosed, record: RecordedEvent) -> None:
        for result in e.results:
            cur.execute(
                "INSERT INTO appraisal_results (cycle_id, year, post_category, cadre_id, score, grade) "
                "SELECT cycle_id, year, post_category, %s, %s, %s FROM appraisal_cycles WHERE cycle_id = %s",
                [result.cadre_id, result.score, result.grade, record.aggregate_id],
            )


ALL = (Selections, Notices, Cadres, AppraisalResults)
