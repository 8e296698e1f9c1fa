"""The secret ballot (无记名投票): who took part is recorded apart from what was chosen.

Plain Python, no infrastructure; an aggregate keeps a ``Ballot`` in its state
and records two kinds of facts about it, in events of its own:

* **participation**: a voter takes part (receives and casts a paper, signs the
  roll). It names the voter and nothing they chose; it exists so nobody votes
  twice, and so the count can be checked against who took part.
* **the count**: when the ballot closes, the tellers count the box. The
  ballots carry no voter id, are entered together after the box is closed
  (so no position in a log can tie a ballot to a voter), and the tally is
  published then, never before.

A ballot is a list of the options it marks (a recommendation names up to N
candidates, a committee member approves the candidates of a post). A ballot
that marks an unknown option, one option twice or too many options is void
(废票): counted as cast, counting for nobody.

The count rules are parameters (``CountRule``): the share of those entitled
who must be present (a quorum), and the share of votes needed, of those
entitled or of those present, with "more than" (超过, strict) or "at least"
(不少于). "More than half" is a strict inequality: 4 of 8 is not more than half.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction


class Base(StrEnum):
    ENTITLED = "entitled"  # 应到: all who may vote
    PRESENT = "present"  # 实到: those who came


@dataclass(frozen=True)
class CountRule:
    """When a meeting may vote, and when a choice is carried.

    ``quorum``: the share of those entitled who must be present (at least, or
    more than it with ``quorum_strict``); ``share``: the share of ``of`` an
    option needs; ``strict``: whether it needs more than that share (True) or
    at least it (False).
    """

    quorum: Fraction = Fraction(0)
    share: Fraction = Fraction(1, 2)
    of: Base = Base.ENTITLED
    strict: bool = True
    quorum_strict: bool = False

    def __post_init__(self) -> None:
        if not (0 <= self.quorum <= 1 and 0 <= self.share <= 1):
            raise ValueError("a quorum and a share are fractions between 0 and 1")

    def quorate(self, entitled: int, present: int) -> bool:
        have, needed = present * self.quorum.denominator, entitled * self.quorum.numerator
        return have > needed if self.quorum_strict else have >= needed

    def describe_quorum(self) -> str:
        return f"{'more than' if self.quorum_strict else 'at least'} {self.quorum} of those entitled present"

    def carries(self, votes: int, entitled: int, present: int) -> bool:
        base = entitled if self.of is Base.ENTITLED else present
        needed = base * self.share.numerator
        have = votes * self.share.denominator
        return have > needed if self.strict else have >= needed

    def describe(self) -> str:
        relation = "more than" if self.strict else "at least"
        return f"{relation} {self.share} of those {self.of}"


#: The committee's rule (《党政领导干部选拔任用工作条例》(2019), 第六章 讨论决定): two thirds of the
#: members present (三分之二以上成员到会), approval by more than half of those entitled (应到会成员超过半数同意).
COMMITTEE = CountRule(quorum=Fraction(2, 3), share=Fraction(1, 2), of=Base.ENTITLED, strict=True)


@dataclass(frozen=True)
class Tally:
    """A closed ballot's count: how many ballots were cast, how many were void, and the votes per option."""

    cast: int
    void: int
    votes: dict[str, int]

    def ranking(self) -> list[tuple[str, int]]:
        """Options by votes, most first; options with equal votes keep no order between them (see ``tied_top``)."""
        return sorted(self.votes.items(), key=lambda item: -item[1])

    def tied_top(self, among: Iterable[str]) -> list[str]:
        """The options of ``among`` that share the highest vote, when more than one does."""
        candidates = [o for o in among if o in self.votes]
        if not candidates:
            return []
        best = max(self.votes[o] for o in candidates)
        top = sorted(o for o in candidates if self.votes[o] == best)
        return top if len(top) > 1 else []


@dataclass
class Ballot:
    """One ballot's state: its roll, who took part, and, once closed, its tally.

    ``entitled`` is None when anyone may take part (a recommendation meeting
    whose roll is not kept here); ``present`` likewise.
    """

    ballot_id: str
    options: list[str]
    max_choices: int
    entitled: list[str] | None = None
    present: list[str] | None = None
    participants: list[str] = field(default_factory=list)
    tally: Tally | None = None

    @property
    def closed(self) -> bool:
        return self.tally is not None

    def refusal_to_take_part(self, voter_id: str) -> str | None:
        """Why ``voter_id`` may not take part now, or None."""
        if self.closed:
            return f"ballot {self.ballot_id} is closed"
        roll = self.present if self.present is not None else self.entitled
        if roll is not None and voter_id not in roll:
            return f"{voter_id} is not on the roll of ballot {self.ballot_id}"
        if voter_id in self.participants:
            return f"{voter_id} has already taken part in ballot {self.ballot_id}"
        return None

    def take_part(self, voter_id: str) -> None:
        self.participants.append(voter_id)

    def valid(self, ballot: Sequence[str]) -> bool:
        return (
            len(ballot) <= self.max_choices
            and len(set(ballot)) == len(ballot)
            and all(option in self.options for option in ballot)
        )

    def refusal_to_count(self, ballots: Sequence[Sequence[str]]) -> str | None:
        """Why these ballots cannot be the count of this ballot, or None."""
        if self.closed:
            return f"ballot {self.ballot_id} has been counted"
        if not self.participants:
            return f"nobody has taken part in ballot {self.ballot_id}"
        if len(ballots) > len(self.participants):
            return (
                f"{len(ballots)} ballots for {len(self.participants)} participants in ballot {self.ballot_id}: "
                "more ballots than voters, the count is void"
            )
        return None

    def count(self, ballots: Sequence[Sequence[str]]) -> Tally:
        """The tally of ``ballots`` (call ``refusal_to_count`` first); every option appears, with 0 if unmarked."""
        votes = dict.fromkeys(self.options, 0)
        void = 0
        for ballot in ballots:
            if not self.valid(ballot):
                void += 1
                continue
            for option in ballot:
                votes[option] += 1
        return Tally(len(ballots), void, votes)

    def close(self, tally: Tally) -> None:
        self.tally = tally
