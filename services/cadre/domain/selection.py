"""The selection process: cadres chosen in the open, one phase after another.

announced → registration → democratic recommendation → shortlist for
differential assessment → assessment preview notice (the public may comment)
→ assessment → committee vote → pre-appointment public notice → closed, each
candidate appointed or withheld.

The order is enforced here: a command out of order is a ``RuleViolation``
naming the current phase and the commands it allows. Every rule the article
states is checked by the command that could break it.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from services.cadre.domain.events import (
    AppointmentWithheld,
    AssessmentPreviewPublished,
    AssessmentStarted,
    CandidateAppointed,
    CandidateAssessed,
    CandidateRegistered,
    CandidateStatementMade,
    CommitteeConvened,
    CommitteeResult,
    CommitteeVoteCast,
    CommitteeVoteConcluded,
    Criterion,
    Post,
    PublicNoticeOpened,
    RecommendationBallotCast,
    RecommendationOpened,
    RegistrationOpened,
    SelectionAnnounced,
    SelectionClosed,
    ShortlistDrawn,
    SupervisionOutcomeNoted,
)
from services.cadre.domain.grades import GRADES, INCOMPETENT
from services.cadre.domain.selection_state import (
    ALLOWED,
    Candidate,
    Eligibility,
    Kind,
    Phase,
    Round,
    SelectionState,
    Variant,
    Window,
)
from shared.domain import Aggregate, applies, command
from shared.domain.calendar import add_working_days

TWO_PLACES = Decimal("0.01")


class SelectionProcess(Aggregate):
    category = "selection"
    State = SelectionState
    snapshot_every = 100
    state: SelectionState

    # -- guards ---------------------------------------------------------------

    def _step(self, command_name: str) -> None:
        phase = self.state.phase
        allowed = ALLOWED[phase]
        self.require(
            command_name in allowed,
            "selection.phase_order",
            f"'{command_name}' is not allowed in phase '{phase}'; "
            + (f"this phase allows: {', '.join(allowed)}" if allowed else "the process is closed"),
        )

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "allowed": list(ALLOWED[self.state.phase])}

    def _candidate(self, cadre_id: str) -> Candidate:
        candidate = self.state.candidates.get(cadre_id)
        self.require(candidate is not None, "selection.unknown_candidate", f"{cadre_id} is not a candidate here")
        assert candidate is not None
        return candidate

    @property
    def shortlisted(self) -> list[Candidate]:
        return [c for c in self.state.candidates.values() if c.shortlisted]

    @property
    def required_shortlist(self) -> int:
        """Differential assessment: more candidates than posts (posts + 1, or the ratio)."""
        posts = len(self.state.posts)
        ratio = self.state.shortlist_ratio
        return max(posts + 1, math.ceil(posts * ratio) if ratio else 0)

    def concerns(self, cadre_id: str) -> bool:
        """Whether an outcome about ``cadre_id`` bears on this process now."""
        candidate = self.state.candidates.get(cadre_id)
        return self.state.phase is Phase.PUBLIC_NOTICE and candidate is not None and bool(candidate.nominated_post)

    def missed_outcome(self, cadre_id: str, substantiated: bool, concluded_at: dt.datetime) -> bool:
        """A substantiated outcome concluded during the notice, reaching a process already closed.

        The appointment stands (it has been made); a person must look at it.
        """
        candidate = self.state.candidates.get(cadre_id)
        notice = self.state.notice
        return (
            self.state.phase is Phase.CLOSED
            and substantiated
            and candidate is not None
            and bool(candidate.nominated_post)
            and notice is not None
            and notice.is_open(concluded_at)
        )

    # -- commands -------------------------------------------------------------

    @command
    def announce(
        self,
        title: str,
        unit: str,
        kind: Kind,
        variant: Variant,
        posts: list[Post],
        min_credit_hours: Decimal,
        shortlist_ratio: Decimal | None,
        now: dt.datetime,
    ) -> None:
        self._step("announce")
        self.require(bool(posts), "selection.posts", "a selection is for at least one post")
        self.require(
            len({p.post_id for p in posts}) == len(posts), "selection.posts_unique", "each post is listed once"
        )
        self.require(
            shortlist_ratio is None or shortlist_ratio > 1,
            "selection.shortlist_ratio",
            "a shortlist ratio must exceed 1: differential assessment needs more candidates than posts",
        )
        self.require(min_credit_hours >= 0, "selection.min_credit_hours", "a credit-hour minimum cannot be negative")
        self.record(
            SelectionAnnounced(
                title, unit, str(kind), str(variant), list(posts), min_credit_hours, shortlist_ratio, now
            )
        )

    @command
    def open_registration(self, now: dt.datetime) -> None:
        self._step("open_registration")
        self.record(RegistrationOpened(now))

    @command
    def register_candidate(self, cadre_id: str, eligibility: Eligibility) -> None:
        self._step("register_candidate")
        self.require(
            cadre_id not in self.state.candidates, "selection.registered_once", f"{cadre_id} is already registered"
        )
        self.require(
            eligibility.latest_grade != INCOMPETENT,
            "cadre.incompetent_blocks_promotion",
            f"{cadre_id}'s latest appraisal grade is 'incompetent': they cannot stand",
        )
        self.require(
            eligibility.credit_hours >= self.state.min_credit_hours,
            "selection.training_credit_hours",
            f"{cadre_id} has {eligibility.credit_hours} training credit hours this year; "
            f"this selection requires {self.state.min_credit_hours}",
        )
        self.record(CandidateRegistered(cadre_id, eligibility.name, eligibility.latest_grade, eligibility.credit_hours))

    @command
    def open_recommendation(self, now: dt.datetime) -> None:
        self._step("open_recommendation")
        self.require(bool(self.state.candidates), "selection.no_candidates", "nobody has registered yet")
        self.record(RecommendationOpened(now))

    @command
    def cast_recommendation(self, voter_id: str, cadre_ids: list[str], round: Round = Round.MEETING) -> None:
        self._step("cast_recommendation")
        if round is Round.TALK:
            self.require(
                self.state.variant is Variant.TWO_RECOMMENDATIONS_ONE_STATEMENT,
                "selection.talk_round",
                "a talk-based round belongs to the 'two recommendations, one statement' variant",
            )
        self.require(
            voter_id not in self.state.voters.get(str(round), []),
            "selection.one_ballot_per_voter",
            f"voter {voter_id} has already cast a ballot in the {round} round",
        )
        self.require(bool(cadre_ids), "selection.ballot_empty", "a ballot recommends at least one candidate")
        self.require(
            len(set(cadre_ids)) == len(cadre_ids), "selection.ballot_duplicates", "a ballot names a candidate once"
        )
        self.require(
            len(cadre_ids) <= len(self.state.posts),
            "selection.ballot_size",
            f"a ballot recommends at most {len(self.state.posts)} candidate(s), one per post",
        )
        for cadre_id in cadre_ids:
            self._candidate(cadre_id)
        self.record(RecommendationBallotCast(str(round), voter_id, list(cadre_ids)))

    @command
    def make_statement(self, cadre_id: str, summary: str) -> None:
        self._step("make_statement")
        self.require(
            self.state.variant is Variant.TWO_RECOMMENDATIONS_ONE_STATEMENT,
            "selection.statement",
            "statements belong to the 'two recommendations, one statement' variant",
        )
        candidate = self._candidate(cadre_id)
        self.require(
            candidate.statement is None, "selection.statement_once", f"{cadre_id} has already made a statement"
        )
        self.record(CandidateStatementMade(cadre_id, summary))

    @command
    def draw_shortlist(self, cadre_ids: list[str]) -> None:
        self._step("draw_shortlist")
        self.require(
            len(set(cadre_ids)) == len(cadre_ids),
            "selection.shortlist_duplicates",
            "a shortlist names a candidate once",
        )
        for cadre_id in cadre_ids:
            self._candidate(cadre_id)
        needed = self.required_shortlist
        self.require(
            len(cadre_ids) >= needed,
            "selection.differential_assessment",
            f"differential assessment needs at least {needed} candidates for {len(self.state.posts)} post(s); "
            f"the shortlist has {len(cadre_ids)}",
        )
        self.require(
            bool(self.state.voters.get(Round.MEETING)),
            "selection.recommendation_held",
            "no recommendation ballot has been cast yet",
        )
        if self.state.variant is Variant.TWO_RECOMMENDATIONS_ONE_STATEMENT:
            self.require(
                bool(self.state.voters.get(Round.TALK)),
                "selection.two_recommendations",
                "the talk-based recommendation round has not been held",
            )
            silent = [c for c in cadre_ids if self.state.candidates[c].statement is None]
            self.require(
                not silent, "selection.one_statement", f"these candidates have made no statement: {', '.join(silent)}"
            )
        counts = {
            c: self.state.candidates[c].meeting_recommendations + self.state.candidates[c].talk_recommendations
            for c in cadre_ids
        }
        self.record(ShortlistDrawn(list(cadre_ids), counts, len(self.state.posts)))

    @command
    def publish_assessment_preview(self, notice_id: str, now: dt.datetime, working_days: int) -> None:
        self._step("publish_assessment_preview")
        self.require(
            working_days >= 1, "selection.preview_days", "a preview notice stays open at least one working day"
        )
        self.record(
            AssessmentPreviewPublished(
                notice_id,
                self.state.title,
                self.state.unit,
                [c.cadre_id for c in self.shortlisted],
                now,
                add_working_days(now, working_days),
            )
        )

    @command
    def start_assessment(self, criteria: list[Criterion], now: dt.datetime) -> None:
        self._step("start_assessment")
        preview = self.state.preview
        assert preview is not None
        self.require(
            now >= preview.closes_at,
            "selection.preview_open",
            f"the assessment preview notice is open until {preview.closes_at.isoformat()}; "
            "the public may still comment",
        )
        self.require(bool(criteria), "selection.criteria", "an assessment needs at least one criterion")
        self.require(
            len({c.name for c in criteria}) == len(criteria),
            "selection.criteria_unique",
            "each criterion is named once",
        )
        self.require(all(c.weight > 0 for c in criteria), "selection.criteria_weight", "every weight is positive")
        self.record(AssessmentStarted(list(criteria), now))

    @command
    def assess_candidate(self, cadre_id: str, qualitative: str, scores: dict[str, Decimal], assessor: str) -> None:
        self._step("assess_candidate")
        candidate = self._candidate(cadre_id)
        self.require(candidate.shortlisted, "selection.assess_shortlisted", f"{cadre_id} is not on the shortlist")
        self.require(
            candidate.weighted_total is None, "selection.assessed_once", f"{cadre_id} has been assessed already"
        )
        self.require(
            qualitative in GRADES, "selection.qualitative_grade", f"the qualitative grade is one of {', '.join(GRADES)}"
        )
        names = {c.name for c in self.state.criteria}
        self.require(
            set(scores) == names,
            "selection.scores_cover_criteria",
            f"give one score for each criterion: {', '.join(sorted(names))}",
        )
        self.require(
            all(Decimal(0) <= s <= Decimal(100) for s in scores.values()),
            "selection.score_range",
            "scores run from 0 to 100",
        )
        weights = {c.name: c.weight for c in self.state.criteria}
        total = sum((weights[n] * scores[n] for n in names), Decimal(0)) / sum(weights.values(), Decimal(0))
        self.record(
            CandidateAssessed(
                cadre_id, qualitative, dict(scores), weights, total.quantize(TWO_PLACES, ROUND_HALF_UP), assessor
            )
        )

    @command
    def convene_committee(self, members: list[str], present: list[str]) -> None:
        self._step("convene_committee")
        pending = [c.cadre_id for c in self.shortlisted if c.weighted_total is None]
        self.require(not pending, "selection.assessment_incomplete", f"not yet assessed: {', '.join(pending)}")
        self.require(
            bool(members) and len(set(members)) == len(members), "selection.committee_members", "list each member once"
        )
        strangers = sorted(set(present) - set(members))
        self.require(not strangers, "selection.committee_present", f"not committee members: {', '.join(strangers)}")
        self.require(
            len(set(present)) * 3 >= len(members) * 2,
            "selection.committee_quorum",
            f"at least two thirds of the committee's {len(members)} members must be present; {len(set(present))} are",
        )
        self.record(CommitteeConvened(list(members), sorted(set(present))))

    @command
    def cast_committee_vote(self, member_id: str, cadre_id: str, approve: bool) -> None:
        self._step("cast_committee_vote")
        self.require(
            member_id in self.state.committee_present,
            "selection.committee_member_present",
            f"{member_id} is not a member present at this meeting",
        )
        candidate = self._candidate(cadre_id)
        self.require(candidate.shortlisted, "selection.vote_shortlisted", f"{cadre_id} is not on the shortlist")
        self.require(
            cadre_id not in self.state.committee_votes.get(member_id, []),
            "selection.one_vote_per_member",
            f"{member_id} has already voted on {cadre_id}",
        )
        self.record(CommitteeVoteCast(member_id, cadre_id, approve))

    @command
    def conclude_committee_vote(self) -> None:
        """Approval needs more than half of *all* members, not of those present."""
        self._step("conclude_committee_vote")
        members = len(self.state.committee_members)
        results = [
            CommitteeResult(c.cadre_id, c.approvals, c.rejections, c.approvals * 2 > members) for c in self.shortlisted
        ]
        ranked = sorted(
            (c for c in self.shortlisted if c.approvals * 2 > members),
            key=lambda c: (-c.approvals, -(c.weighted_total or 0), c.cadre_id),
        )
        nominees = {c.cadre_id: post.post_id for c, post in zip(ranked, self.state.posts, strict=False)}
        self.record(CommitteeVoteConcluded(members, results, nominees))

    @command
    def open_public_notice(self, notice_id: str, now: dt.datetime, working_days: int = 5) -> None:
        self._step("open_public_notice")
        nominees = [c.cadre_id for c in self.state.candidates.values() if c.nominated_post]
        self.require(
            bool(nominees), "selection.no_nominees", "the committee approved nobody: there is nothing to announce"
        )
        self.require(working_days >= 1, "selection.notice_days", "a public notice stays open at least one working day")
        self.record(
            PublicNoticeOpened(
                notice_id,
                self.state.title,
                self.state.unit,
                nominees,
                now,
                add_working_days(now, working_days),
                working_days,
            )
        )

    @command
    def note_supervision_outcome(self, cadre_id: str, case_id: str, substantiated: bool, now: dt.datetime) -> None:
        self._step("note_supervision_outcome")
        candidate = self._candidate(cadre_id)
        self.require(
            bool(candidate.nominated_post), "selection.outcome_nominee", f"{cadre_id} is not on the public notice"
        )
        notice = self.state.notice
        assert notice is not None
        self.record(SupervisionOutcomeNoted(cadre_id, case_id, substantiated, now, notice.is_open(now)))

    @command
    def close(self, now: dt.datetime) -> None:
        """Appoint each nominee, or withhold one a substantiated objection reached in time."""
        self._step("close")
        notice = self.state.notice
        nominated = any(c.nominated_post for c in self.state.candidates.values())
        self.require(
            notice is not None or not nominated,
            "selection.notice_required",
            "nominees are appointed only after a pre-appointment public notice: open it first",
        )
        if notice is not None:
            self.require(
                now >= notice.closes_at,
                "selection.notice_open",
                f"the public notice is open until {notice.closes_at.isoformat()}; the process cannot close before",
            )
        posts = {p.post_id: p for p in self.state.posts}
        appointed, withheld = [], []
        for candidate in self.state.candidates.values():
            if not candidate.nominated_post:
                continue
            if candidate.substantiated_cases:
                self.record(
                    AppointmentWithheld(
                        candidate.cadre_id, candidate.nominated_post, list(candidate.substantiated_cases), now
                    )
                )
                withheld.append(candidate.cadre_id)
            else:
                post = posts[candidate.nominated_post]
                self.record(CandidateAppointed(candidate.cadre_id, post.post_id, post.title, self.state.unit, now))
                appointed.append(candidate.cadre_id)
        self.record(SelectionClosed(appointed, withheld, now))

    # -- events -----------------------------------------------------------------

    @applies(SelectionAnnounced)
    def _announced(self, e: SelectionAnnounced) -> None:
        s = self.state
        s.phase, s.title, s.unit = Phase.ANNOUNCED, e.title, e.unit
        s.kind, s.variant = Kind(e.kind), Variant(e.variant)
        s.posts, s.min_credit_hours, s.shortlist_ratio = list(e.posts), e.min_credit_hours, e.shortlist_ratio

    @applies(RegistrationOpened)
    def _registration_opened(self, e: RegistrationOpened) -> None:
        self.state.phase = Phase.REGISTRATION

    @applies(CandidateRegistered)
    def _registered(self, e: CandidateRegistered) -> None:
        self.state.candidates[e.cadre_id] = Candidate(e.cadre_id, e.name, e.latest_grade, e.credit_hours)

    @applies(RecommendationOpened)
    def _recommendation_opened(self, e: RecommendationOpened) -> None:
        self.state.phase = Phase.RECOMMENDATION

    @applies(RecommendationBallotCast)
    def _ballot(self, e: RecommendationBallotCast) -> None:
        self.state.voters.setdefault(e.round, []).append(e.voter_id)
        for cadre_id in e.candidate_ids:
            candidate = self.state.candidates[cadre_id]
            if e.round == Round.TALK:
                candidate.talk_recommendations += 1
            else:
                candidate.meeting_recommendations += 1

    @applies(CandidateStatementMade)
    def _statement(self, e: CandidateStatementMade) -> None:
        self.state.candidates[e.cadre_id].statement = e.summary

    @applies(ShortlistDrawn)
    def _shortlisted(self, e: ShortlistDrawn) -> None:
        self.state.phase = Phase.SHORTLISTED
        for cadre_id in e.cadre_ids:
            self.state.candidates[cadre_id].shortlisted = True

    @applies(AssessmentPreviewPublished)
    def _preview(self, e: AssessmentPreviewPublished) -> None:
        self.state.phase = Phase.PREVIEW
        self.state.preview = Window(e.notice_id, e.opens_at, e.closes_at)

    @applies(AssessmentStarted)
    def _assessment_started(self, e: AssessmentStarted) -> None:
        self.state.phase = Phase.ASSESSMENT
        self.state.criteria = list(e.criteria)

    @applies(CandidateAssessed)
    def _assessed(self, e: CandidateAssessed) -> None:
        candidate = self.state.candidates[e.cadre_id]
        candidate.qualitative, candidate.weighted_total = e.qualitative, e.weighted_total

    @applies(CommitteeConvened)
    def _convened(self, e: CommitteeConvened) -> None:
        self.state.phase = Phase.COMMITTEE
        self.state.committee_members, self.state.committee_present = list(e.members), list(e.present)

    @applies(CommitteeVoteCast)
    def _committee_vote(self, e: CommitteeVoteCast) -> None:
        self.state.committee_votes.setdefault(e.member_id, []).append(e.cadre_id)
        candidate = self.state.candidates[e.cadre_id]
        if e.approve:
            candidate.approvals += 1
        else:
            candidate.rejections += 1

    @applies(CommitteeVoteConcluded)
    def _concluded(self, e: CommitteeVoteConcluded) -> None:
        self.state.phase = Phase.NOMINATED
        for cadre_id, post_id in e.nominees.items():
            self.state.candidates[cadre_id].nominated_post = post_id

    @applies(PublicNoticeOpened)
    def _notice_opened(self, e: PublicNoticeOpened) -> None:
        self.state.phase = Phase.PUBLIC_NOTICE
        self.state.notice = Window(e.notice_id, e.opens_at, e.closes_at)

    @applies(SupervisionOutcomeNoted)
    def _outcome(self, e: SupervisionOutcomeNoted) -> None:
        if e.substantiated and e.during_notice:
            self.state.candidates[e.cadre_id].substantiated_cases.append(e.case_id)

    @applies(CandidateAppointed)
    def _appointed(self, e: CandidateAppointed) -> None:
        self.state.candidates[e.cadre_id].result = "appointed"

    @applies(AppointmentWithheld)
    def _withheld(self, e: AppointmentWithheld) -> None:
        self.state.candidates[e.cadre_id].result = "withheld"

    @applies(SelectionClosed)
    def _closed(self, e: SelectionClosed) -> None:
        self.state.phase = Phase.CLOSED
