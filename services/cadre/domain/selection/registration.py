"""Announcement, registration and the opening of democratic recommendation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.cadre.domain.eligibility import TRAINING_WINDOW_YEARS, Eligibility
from services.cadre.domain.events import (
    CandidateRegistered,
    Post,
    RecommendationOpened,
    RegistrationExtended,
    RegistrationOpened,
    SelectionAnnounced,
)
from services.cadre.domain.grades import BASICALLY_COMPETENT, INCOMPETENT
from services.cadre.domain.selection.base import SelectionBase
from services.cadre.domain.selection.state import (
    Candidate,
    Kind,
    Phase,
    Round,
    Variant,
    recommendation_ballot,
)
from shared.domain import applies, command
from shared.domain.ballot import Ballot
from shared.domain.calendar import OrganisationCalendar


class RegistrationSteps(SelectionBase):
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
        grades = set(eligibility.grades) | ({eligibility.latest_grade} if eligibility.latest_grade else set())
        # 《党政领导干部选拔任用工作条例》(2019) 第二十四条 (三): a cadre whose annual appraisal of the year
        # before was graded 基本称职 or below may not be considered (不得列为考察对象). The department's stricter
        # policy (issue 13) looks at every grade of the last three years, every cycle of each year, so that two
        # cycles in one year do not let "excellent" mask "incompetent".
        self.require(
            INCOMPETENT not in grades,
            "cadre.incompetent_blocks_promotion",
            f"{cadre_id} was graded 'incompetent' within the last three years: they cannot stand",
        )
        self.require(
            BASICALLY_COMPETENT not in grades,
            "cadre.basically_competent_blocks_promotion",
            f"{cadre_id} was graded 'basically competent' within the last three years: they cannot stand",
        )
        # 《党政领导干部选拔任用工作条例》(2019) 第八条 (training as the rules on cadre training require) and
        # 《干部教育培训工作条例》(2015) 第十六条: training hours count over a rolling five-year window.
        self.require(
            eligibility.credit_hours >= self.state.min_credit_hours,
            "selection.training_credit_hours",
            f"{cadre_id} has {eligibility.credit_hours} training credit hours over the last "
            f"{TRAINING_WINDOW_YEARS} years; this selection requires {self.state.min_credit_hours}",
        )
        # 《党政领导干部选拔任用工作条例》(2019) 第二十四条 (六): 受到诫勉、组织处理或者党纪政务处分等影响期未满:
        # a measure whose period of effect has not ended bars promotion; a substantiated finding counts for
        # FINDING_PERIOD from its conclusion.
        self.require(
            not eligibility.findings,
            "cadre.finding_within_period",
            f"{cadre_id} has substantiated supervision findings still within their period: "
            f"{', '.join(eligibility.findings)}",
        )
        # 《关于防止干部"带病提拔"的意见》(2016): problems reported about a cadre are cleared up before they are
        # considered; a case still under investigation bars standing.
        self.require(
            not eligibility.open_cases,
            "cadre.pending_case",
            f"{cadre_id} has supervision cases still open: {', '.join(eligibility.open_cases)}",
        )
        self.record(CandidateRegistered(cadre_id, eligibility.name, eligibility.latest_grade, eligibility.credit_hours))

    @command
    def extend_registration(self, working_days: int, now: dt.datetime, *, calendar: OrganisationCalendar) -> None:
        """Keep registration open (or open it again, before any recommendation ballot) for more working days.

        One candidate for one post cannot go on to a differential assessment:
        registration is extended so that more may come forward (or the selection is cancelled).
        """
        self._step("extend_registration")
        self.require(1 <= working_days <= 30, "selection.extension_days", "an extension runs 1 to 30 working days")
        voted = [b.ballot_id for b in self.state.ballots.values() if b.participants]
        self.require(
            not voted,
            "selection.recommendation_under_way",
            "recommendation ballots have been cast: registration can no longer be extended",
        )
        self.record(RegistrationExtended(calendar.end_of_working_days(now, working_days), now, working_days))

    @command
    def open_recommendation(self, now: dt.datetime) -> None:
        self._step("open_recommendation")
        until = self.state.registration_closes_at
        self.require(
            until is None or now >= until,
            "selection.registration_open",
            f"registration has been extended until {until.isoformat() if until else ''}",
        )
        self.require(bool(self.state.candidates), "selection.no_candidates", "nobody has registered yet")
        self.record(RecommendationOpened(now))

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

    @applies(RegistrationExtended)
    def _registration_extended(self, e: RegistrationExtended) -> None:
        s = self.state
        s.phase, s.registration_closes_at = Phase.REGISTRATION, e.closes_at
        for round in Round:
            s.ballots.pop(recommendation_ballot(round), None)  # opened again, on the new list of candidates

    @applies(CandidateRegistered)
    def _registered(self, e: CandidateRegistered) -> None:
        self.state.candidates[e.cadre_id] = Candidate(e.cadre_id, e.name, e.latest_grade, e.credit_hours)

    @applies(RecommendationOpened)
    def _recommendation_opened(self, e: RecommendationOpened) -> None:
        s = self.state
        s.phase = Phase.RECOMMENDATION
        # One secret ballot per round: a ballot names up to one candidate per post.
        rounds = [Round.MEETING] + ([Round.TALK] if s.variant is Variant.TWO_RECOMMENDATIONS_ONE_STATEMENT else [])
        for round in rounds:
            ballot_id = recommendation_ballot(round)
            s.ballots[ballot_id] = Ballot(ballot_id, list(s.candidates), len(s.posts))
