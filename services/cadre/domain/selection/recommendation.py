"""Democratic recommendation (民主推荐): secret ballots, statements, and the shortlist it leads to.

Recommendation is by secret ballot (无记名投票): each voter's taking part is
recorded (``VoterTookPart``), the box is counted once, when it closes
(``BallotCounted``); no event ties a voter to a name. The methods that apply
those two events, for every ballot of the selection, are in ``ballots``.
"""

from __future__ import annotations

from services.cadre.domain.events import (
    BallotCounted,
    CandidateStatementMade,
    RecommendationBallotCast,
    ShortlistDrawn,
    VoterTookPart,
)
from services.cadre.domain.selection.base import SelectionBase
from services.cadre.domain.selection.state import (
    Phase,
    Round,
    Variant,
    recommendation_ballot,
)
from shared.domain import applies, command
from shared.domain.ballot import Ballot


class RecommendationSteps(SelectionBase):
    def _recommendation(self, round: Round) -> Ballot:
        if round is Round.TALK:
            self.require(
                self.state.variant is Variant.TWO_RECOMMENDATIONS_ONE_STATEMENT,
                "selection.talk_round",
                "a talk-based round belongs to the 'two recommendations, one statement' variant",
            )
        return self.state.ballots[recommendation_ballot(round)]

    @command
    def cast_recommendation(self, voter_id: str, round: Round = Round.MEETING) -> None:
        """A voter takes part in the round's secret ballot: the log keeps that they did, never whom they named."""
        self._step("cast_recommendation")
        ballot = self._recommendation(round)
        refusal = ballot.refusal_to_take_part(voter_id)
        self.require(
            refusal is None,
            "selection.one_ballot_per_voter" if voter_id in ballot.participants else "selection.ballot_closed",
            refusal or "",
        )
        self.record(VoterTookPart(ballot.ballot_id, voter_id))

    @command
    def count_recommendation(self, ballots: list[list[str]], round: Round = Round.MEETING) -> None:
        """The tellers count the round's box: every ballot, with no voter's id, entered together; the tally is
        published now. A ballot naming more candidates than posts, one twice or a stranger is void."""
        self._step("count_recommendation")
        ballot = self._recommendation(round)
        refusal = ballot.refusal_to_count(ballots)
        self.require(refusal is None, "selection.ballot_count", refusal or "")
        tally = ballot.count(ballots)
        self.record(BallotCounted(ballot.ballot_id, tally.cast, tally.void, dict(tally.votes)))

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
            self._held(Round.MEETING),
            "selection.recommendation_held",
            "the meeting's recommendation ballot has not been counted yet",
        )
        if self.state.variant is Variant.TWO_RECOMMENDATIONS_ONE_STATEMENT:
            self.require(
                self._held(Round.TALK),
                "selection.two_recommendations",
                "the talk-based recommendation round has not been held and counted",
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

    def _held(self, round: Round) -> bool:
        """Counted (a secret ballot), or held the old way (open ballots recorded before they were secret)."""
        ballot = self.state.ballots.get(recommendation_ballot(round))
        return (ballot is not None and ballot.closed) or bool(self.state.voters.get(round))

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
