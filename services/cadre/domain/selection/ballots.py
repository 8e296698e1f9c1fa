"""Secret ballots in the selection: a voter's taking part, and a box's count, applied to the state.

Recommendation rounds and the committee's per-post ballots are
``shared.domain.ballot.Ballot`` objects in the state (``SelectionState.ballots``);
these methods apply their two events, whichever ballot they belong to.
"""

from __future__ import annotations

from services.cadre.domain.events import BallotCounted, VoterTookPart
from services.cadre.domain.selection.base import SelectionBase
from services.cadre.domain.selection.state import (
    Round,
    committee_ballot,
    committee_ballot_post,
    recommendation_ballot,
)
from shared.domain import applies
from shared.domain.ballot import Ballot, Tally


class BallotSteps(SelectionBase):
    @applies(VoterTookPart)
    def _took_part(self, e: VoterTookPart) -> None:
        ballot = self.state.ballots.get(e.ballot_id)
        if ballot is None:  # a committee re-vote: a fresh ballot for the same post, on the same roll
            post_id, number = committee_ballot_post(e.ballot_id)
            previous = self.state.ballots[committee_ballot(post_id, number - 1)]
            ballot = Ballot(
                e.ballot_id, list(previous.options), previous.max_choices, previous.entitled, previous.present
            )
            self.state.ballots[e.ballot_id] = ballot
            self.state.committee_ballots[post_id] = e.ballot_id
        ballot.take_part(e.voter_id)

    @applies(BallotCounted)
    def _counted(self, e: BallotCounted) -> None:
        ballot = self.state.ballots[e.ballot_id]
        ballot.close(Tally(e.cast, e.void, dict(e.votes)))
        for round in Round:
            if e.ballot_id == recommendation_ballot(round):
                for cadre_id, votes in e.votes.items():
                    candidate = self.state.candidates[cadre_id]
                    if round is Round.TALK:
                        candidate.talk_recommendations = votes
                    else:
                        candidate.meeting_recommendations = votes
