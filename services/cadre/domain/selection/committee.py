"""The committee vote (常委会/全委会票决): a secret ballot per post, and one nominee per post.

Two thirds of the members present, and approval by more than half of *all*
members (``shared.domain.ballot.COMMITTEE``). Each post has its own ballot:
a member's ballot lists the shortlisted candidates they approve for it. The
post's candidates are ranked by approvals; the first is its nominee when
approved. A tie at the top is no order by name or id: it is a rule
violation, and the committee votes again on that post. A candidate whose
assessment found them incompetent is never nominated, and one nominated for
an earlier post is not approved for a later one (one post each): the next
approved candidate is that post's nominee.
"""

from __future__ import annotations

from services.cadre.domain.events import (
    BallotCounted,
    CommitteeConvened,
    CommitteeResult,
    CommitteeVoteCast,
    CommitteeVoteConcluded,
    VoterTookPart,
)
from services.cadre.domain.grades import INCOMPETENT
from services.cadre.domain.selection.base import SelectionBase
from services.cadre.domain.selection.state import Phase, committee_ballot, committee_ballot_post
from shared.domain import applies, command
from shared.domain.ballot import COMMITTEE, Ballot


class CommitteeSteps(SelectionBase):
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
            COMMITTEE.quorate(len(members), len(set(present))),
            "selection.committee_quorum",
            f"at least two thirds of the committee's {len(members)} members must be present; {len(set(present))} are",
        )
        self.record(CommitteeConvened(list(members), sorted(set(present))))

    def _post_ballot(self, post_id: str) -> Ballot:
        ballot_id = self.state.committee_ballots.get(post_id)
        self.require(ballot_id is not None, "selection.unknown_post", f"{post_id} is not a post of this selection")
        assert ballot_id is not None
        return self.state.ballots[ballot_id]

    def _ranking(self, ballot: Ballot, taken: frozenset[str] = frozenset()) -> tuple[list[CommitteeResult], list[str]]:
        """The post's results, best first, and the candidates tied at the top among those approved (if any).

        ``taken``: the nominees of earlier posts. One post each: they are not approved for this one, so the
        next approved candidate is its nominee (a re-vote would put the same candidate first again).
        """
        tally = ballot.tally
        assert tally is not None
        members, present = len(self.state.committee_members), len(self.state.committee_present)
        post_id, _ = committee_ballot_post(ballot.ballot_id)
        results = []
        for cadre_id, votes in tally.ranking():
            approved = COMMITTEE.carries(votes, members, present) and cadre_id not in taken
            # An 'incompetent' assessment blocks nomination, whatever the vote.
            approved = approved and self.state.candidates[cadre_id].qualitative != INCOMPETENT
            results.append(CommitteeResult(cadre_id, votes, tally.cast - tally.void - votes, approved, post_id))
        return results, tally.tied_top(r.cadre_id for r in results if r.approved)

    def _needs_revote(self, post_id: str) -> bool:
        """Whether the post's count cannot name a nominee: a tie at the top (the nominees of earlier posts
        left out)."""
        firsts: set[str] = set()
        for post in self.state.posts:
            ballot = self._post_ballot(post.post_id)
            if not ballot.closed:
                continue
            ranked, tied = self._ranking(ballot, frozenset(firsts))
            approved = [r.cadre_id for r in ranked if r.approved]
            if post.post_id == post_id:
                return bool(tied)
            if approved and not tied:
                firsts.add(approved[0])
        return False

    @command
    def cast_committee_vote(self, member_id: str, post_id: str) -> None:
        """A member present takes part in the post's secret ballot; a post whose count tied is voted on again."""
        self._step("cast_committee_vote")
        self.require(
            member_id in self.state.committee_present,
            "selection.committee_member_present",
            f"{member_id} is not a member present at this meeting",
        )
        ballot = self._post_ballot(post_id)
        ballot_id = ballot.ballot_id
        if ballot.closed:
            self.require(
                self._needs_revote(post_id),
                "selection.post_counted",
                f"the ballot for {post_id} has been counted and has a result",
            )
            _, number = committee_ballot_post(ballot_id)
            ballot_id = committee_ballot(post_id, number + 1)  # the re-vote: a fresh ballot on the same roll
        else:
            refusal = ballot.refusal_to_take_part(member_id)
            self.require(refusal is None, "selection.one_vote_per_member", refusal or "")
        self.record(VoterTookPart(ballot_id, member_id))

    @command
    def count_committee_vote(self, post_id: str, ballots: list[list[str]]) -> None:
        """The tellers count the post's box: each ballot lists the candidates it approves, with no member's id."""
        self._step("count_committee_vote")
        ballot = self._post_ballot(post_id)
        refusal = ballot.refusal_to_count(ballots)
        self.require(refusal is None, "selection.ballot_count", refusal or "")
        tally = ballot.count(ballots)
        self.record(BallotCounted(ballot.ballot_id, tally.cast, tally.void, dict(tally.votes)))

    @command
    def conclude_committee_vote(self) -> None:
        """Each post's nominee: its best-approved candidate, when more than half of *all* members approve."""
        self._step("conclude_committee_vote")
        members = len(self.state.committee_members)
        results: list[CommitteeResult] = []
        nominees: dict[str, str] = {}
        for post in self.state.posts:
            ballot = self._post_ballot(post.post_id)
            self.require(
                ballot.closed, "selection.committee_uncounted", f"the ballot for {post.post_id} has not been counted"
            )
            ranked, tied = self._ranking(ballot, frozenset(nominees))
            self.require(
                not tied,
                "selection.committee_tie",
                f"{', '.join(tied)} tie for {post.post_id} with {ranked[0].approvals} approvals each: "
                "the committee votes again on this post (cast_committee_vote, count_committee_vote)",
            )
            results.extend(ranked)
            approved = [r for r in ranked if r.approved]
            if approved:  # the nominees of earlier posts are not approved for this one
                nominees[approved[0].cadre_id] = post.post_id
        self.record(CommitteeVoteConcluded(members, results, nominees))

    @applies(CommitteeConvened)
    def _convened(self, e: CommitteeConvened) -> None:
        s = self.state
        s.phase = Phase.COMMITTEE
        s.committee_members, s.committee_present = list(e.members), list(e.present)
        options = [c.cadre_id for c in self.shortlisted]
        for post in s.posts:
            ballot_id = committee_ballot(post.post_id, 1)
            s.ballots[ballot_id] = Ballot(ballot_id, list(options), len(options), list(e.members), list(e.present))
            s.committee_ballots[post.post_id] = ballot_id

    @applies(CommitteeVoteCast)
    def _committee_vote(self, e: CommitteeVoteCast) -> None:
        """Legacy open votes (recorded before committee votes were secret)."""
        self.state.committee_votes.setdefault(e.member_id, []).append(e.cadre_id)
        candidate = self.state.candidates[e.cadre_id]
        if e.approve:
            candidate.approvals += 1
        else:
            candidate.rejections += 1

    @applies(CommitteeVoteConcluded)
    def _concluded(self, e: CommitteeVoteConcluded) -> None:
        self.state.phase = Phase.NOMINATED
        for result in e.results:
            candidate = self.state.candidates[result.cadre_id]
            if result.post_id is not None:
                candidate.approvals = max(candidate.approvals, result.approvals)
                candidate.rejections = result.rejections
        for cadre_id, post_id in e.nominees.items():
            self.state.candidates[cadre_id].nominated_post = post_id
