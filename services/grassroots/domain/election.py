"""A branch election (换届) by public nomination and direct election (公推直选).

Nominations come from members, the public and the organisation; the higher
committee qualifies the candidates, who must outnumber the seats by at least
a fifth (差额); the list goes on public notice (``NoticeOpened``, kind
``candidate_list``), and objections reach supervision through feedback.
No vote before the notice closes, nor while a case about a candidate is open;
a substantiated one strikes the candidate off. The meeting votes only when
those present with a vote exceed four fifths of those entitled; the ballot
is secret (``shared.domain.ballot``), and a candidate is elected with more
than half of the votes of those present. The result takes effect when the
higher committee approves it (the organisation installs its leadership).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from services.grassroots.domain.events import (
    CandidateNominated,
    CandidatesQualified,
    CandidateStruckOff,
    ElectionApproved,
    ElectionCalled,
    ElectionCounted,
    ElectionMeetingConvened,
    SupervisionCaseNoted,
    SupervisionOutcomeNoted,
    VoterTookPart,
)
from services.grassroots.domain.kinds import NominationSource
from shared.domain import Aggregate, applies, command
from shared.domain.ballot import Ballot, Base, CountRule, Tally
from shared.domain.calendar import OrganisationCalendar
from shared.domain.notices import NoticeKind, NoticeOpened

#: 《中国共产党基层组织选举工作条例》(2020): 候选人数应多于应选人数 20%; 有选举权的到会人数超过应到会人数的
#: 五分之四, 会议有效; 被选举人获得的赞成票超过实到会有选举权人数的一半, 始得当选.
ELECTION = CountRule(quorum=Fraction(4, 5), quorum_strict=True, share=Fraction(1, 2), of=Base.PRESENT, strict=True)
MARGIN = Fraction(6, 5)  # candidates at least 120% of the seats
NOTICE_WORKING_DAYS = 5
BALLOT = "election"


def decision_id(election_id: str) -> str:
    """What the candidate list's notice holds, as supervision's cases name it."""
    return f"election:{election_id}"


class ElectionPhase(StrEnum):
    CALLED = "called"  # nominations open
    QUALIFIED = "qualified"
    ON_NOTICE = "on_notice"
    CONVENED = "convened"
    COUNTED = "counted"
    APPROVED = "approved"


@dataclass
class ElectionState:
    phase: ElectionPhase | None = None
    organisation_id: str = ""
    seats: int = 0
    committee: bool = False
    entitled: list[str] = field(default_factory=list)
    nominations: dict[str, str] = field(default_factory=dict)  # candidate -> source
    candidates: list[str] = field(default_factory=list)
    notice_id: str | None = None
    notice_closes_at: dt.datetime | None = None
    open_cases: dict[str, str] = field(default_factory=dict)  # case -> candidate
    ballot: Ballot | None = None
    elected: list[str] = field(default_factory=list)
    secretary_id: str | None = None


class BranchElection(Aggregate):
    category = "election"
    State = ElectionState
    state: ElectionState

    def _in(self, *phases: ElectionPhase, doing: str) -> None:
        self.require(self.state.phase is not None, "election.exists", f"election {self.id} does not exist")
        self.require(
            self.state.phase in phases,
            f"election.{doing}",
            f"election {self.id} is {self.state.phase}: cannot {doing.replace('_', ' ')} now",
        )

    def concerns(self, person_id: str) -> bool:
        """Whether a case about ``person_id`` bears on this election: a candidate before the count."""
        return person_id in self.state.candidates and self.state.phase in (
            ElectionPhase.QUALIFIED,
            ElectionPhase.ON_NOTICE,
        )

    # -- nomination and the list ---------------------------------------------------------------

    @command
    def call(self, organisation_id: str, entitled: list[str], seats: int, committee: bool, now: dt.datetime) -> None:
        self.require(self.state.phase is None, "election.call_once", f"election {self.id} exists already")
        if committee:
            self.require(seats >= 3, "election.seats", "a branch committee has at least 3 seats")
        else:
            self.require(seats == 1, "election.seats", "a branch of fewer than 7 full members elects a secretary only")
        roll = sorted(set(entitled))
        self.require(seats <= len(roll), "election.seats", "more seats than full members")
        self.record(ElectionCalled(organisation_id, seats, committee, roll, now))

    @command
    def nominate(self, candidate_id: str, source: NominationSource, now: dt.datetime) -> None:
        self._in(ElectionPhase.CALLED, doing="nominate")
        self.require(
            candidate_id in self.state.entitled,
            "election.candidate_member",
            f"{candidate_id} is not a full member of the organisation",
        )
        if candidate_id not in self.state.nominations:
            self.record(CandidateNominated(candidate_id, source.value, now))

    @command
    def qualify(self, candidate_ids: list[str], now: dt.datetime) -> None:
        """The higher committee's list: nominated candidates, outnumbering the seats by a fifth or more."""
        self._in(ElectionPhase.CALLED, doing="qualify")
        chosen = list(dict.fromkeys(candidate_ids))
        unknown = [c for c in chosen if c not in self.state.nominations]
        self.require(not unknown, "election.nominated", f"not nominated: {', '.join(unknown)}")
        self._margin(len(chosen))
        self.record(CandidatesQualified(chosen, now))

    def _margin(self, candidates: int) -> None:
        self.require(
            candidates >= self.state.seats * MARGIN,
            "election.margin",
            f"{candidates} candidate(s) for {self.state.seats} seat(s): candidates must exceed the seats by at "
            "least 20% (差额)",
        )

    @command
    def open_notice(
        self, notice_id: str, title: str, unit: str, working_days: int, calendar: OrganisationCalendar, now: dt.datetime
    ) -> None:
        self._in(ElectionPhase.QUALIFIED, doing="open_notice")
        self.require(
            working_days >= NOTICE_WORKING_DAYS,
            "election.notice_days",
            f"the list is on notice for at least {NOTICE_WORKING_DAYS} working days",
        )
        closes_at = calendar.end_of_working_days(now, working_days)
        self.record(
            NoticeOpened(
                notice_id,
                NoticeKind.CANDIDATE_LIST,
                decision_id(self.id),
                list(self.state.candidates),
                title,
                unit,
                now,
                closes_at,
                working_days,
            )
        )

    # -- objections ----------------------------------------------------------------------------

    @command
    def note_case(self, case_id: str, person_id: str, now: dt.datetime) -> None:
        if self.concerns(person_id) and case_id not in self.state.open_cases:
            self.record(SupervisionCaseNoted(case_id, person_id, now))

    @command
    def note_outcome(self, case_id: str, substantiated: bool, now: dt.datetime) -> None:
        """The case's outcome, about the candidate it was noted about."""
        person_id = self.state.open_cases.get(case_id)
        if person_id is None:
            return
        self.record(SupervisionOutcomeNoted(case_id, person_id, substantiated, now))
        if substantiated and person_id in self.state.candidates:
            self.record(CandidateStruckOff(person_id, case_id, now))

    # -- the vote -------------------------------------------------------------------------------

    @command
    def convene(self, present: list[str], now: dt.datetime) -> None:
        self._in(ElectionPhase.ON_NOTICE, doing="convene")
        s = self.state
        assert s.notice_closes_at is not None
        self.require(
            now >= s.notice_closes_at,
            "election.notice_closed_first",
            f"the candidate list is on notice until {s.notice_closes_at.isoformat()}: no vote before it closes",
        )
        self.require(
            not s.open_cases,
            "election.cases_open",
            f"objections about candidates are still under investigation: {', '.join(sorted(s.open_cases))}",
        )
        self._margin(len(s.candidates))
        came = sorted(set(present))
        strangers = [p for p in came if p not in s.entitled]
        self.require(not strangers, "election.present_entitled", f"not entitled to vote: {', '.join(strangers)}")
        self.require(
            ELECTION.quorate(len(s.entitled), len(came)),
            "election.quorum",
            f"{len(came)} of {len(s.entitled)} entitled present: the vote needs {ELECTION.describe_quorum()}",
        )
        self.record(ElectionMeetingConvened(came, now))

    @command
    def take_part(self, voter_id: str) -> None:
        self._in(ElectionPhase.CONVENED, doing="vote")
        assert self.state.ballot is not None
        refusal = self.state.ballot.refusal_to_take_part(voter_id)
        self.require(refusal is None, "election.ballot", refusal or "")
        self.record(VoterTookPart(voter_id))

    @command
    def count(self, ballots: list[list[str]], now: dt.datetime) -> None:
        self._in(ElectionPhase.CONVENED, doing="count")
        ballot = self.state.ballot
        assert ballot is not None
        refusal = ballot.refusal_to_count(ballots)
        self.require(refusal is None, "election.count", refusal or "")
        tally = ballot.count(ballots)
        present = len(ballot.present or [])
        passing = [c for c, votes in tally.ranking() if ELECTION.carries(votes, len(self.state.entitled), present)]
        elected = passing[: self.state.seats]
        if len(passing) > self.state.seats:
            cut = tally.votes[passing[self.state.seats]]
            elected = [c for c in elected if tally.votes[c] > cut]  # a tie across the last seat elects neither
        self.record(ElectionCounted(tally.cast, tally.void, dict(tally.votes), sorted(elected), now))

    @command
    def approve(self, secretary_id: str, now: dt.datetime) -> None:
        """The higher committee approves the result, naming the secretary among those elected."""
        self._in(ElectionPhase.COUNTED, doing="approve")
        self.require(bool(self.state.elected), "election.elected", "nobody was elected: there is nothing to approve")
        self.require(
            secretary_id in self.state.elected, "election.secretary_elected", f"{secretary_id} was not elected"
        )
        self.record(ElectionApproved(secretary_id, now))

    # -- state ----------------------------------------------------------------------------------

    @applies(ElectionCalled)
    def _called(self, e: ElectionCalled) -> None:
        s = self.state
        s.phase, s.organisation_id, s.seats, s.committee, s.entitled = (
            ElectionPhase.CALLED,
            e.organisation_id,
            e.seats,
            e.committee,
            list(e.entitled),
        )

    @applies(CandidateNominated)
    def _nominated(self, e: CandidateNominated) -> None:
        self.state.nominations[e.candidate_id] = e.source

    @applies(CandidatesQualified)
    def _qualified(self, e: CandidatesQualified) -> None:
        self.state.phase, self.state.candidates = ElectionPhase.QUALIFIED, list(e.candidate_ids)

    @applies(NoticeOpened)
    def _notice(self, e: NoticeOpened) -> None:
        s = self.state
        s.phase, s.notice_id, s.notice_closes_at = ElectionPhase.ON_NOTICE, e.notice_id, e.closes_at

    @applies(SupervisionCaseNoted)
    def _case(self, e: SupervisionCaseNoted) -> None:
        self.state.open_cases[e.case_id] = e.person_id

    @applies(SupervisionOutcomeNoted)
    def _outcome(self, e: SupervisionOutcomeNoted) -> None:
        self.state.open_cases.pop(e.case_id, None)

    @applies(CandidateStruckOff)
    def _struck(self, e: CandidateStruckOff) -> None:
        self.state.candidates.remove(e.candidate_id)

    @applies(ElectionMeetingConvened)
    def _convened(self, e: ElectionMeetingConvened) -> None:
        s = self.state
        s.phase = ElectionPhase.CONVENED
        s.ballot = Ballot(BALLOT, list(s.candidates), s.seats, list(s.entitled), list(e.present))

    @applies(VoterTookPart)
    def _took_part(self, e: VoterTookPart) -> None:
        assert self.state.ballot is not None
        self.state.ballot.take_part(e.voter_id)

    @applies(ElectionCounted)
    def _counted(self, e: ElectionCounted) -> None:
        self.state.phase, self.state.elected = ElectionPhase.COUNTED, list(e.elected)
        if self.state.ballot is not None:
            self.state.ballot.close(Tally(e.cast, e.void, dict(e.votes)))

    @applies(ElectionApproved)
    def _approved(self, e: ElectionApproved) -> None:
        self.state.phase, self.state.secretary_id = ElectionPhase.APPROVED, e.secretary_id
