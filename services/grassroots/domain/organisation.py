"""A party organisation: where it sits in the tree, its members, and the leadership its election installs.

The tree has no cycles: an organisation is founded under an existing parent of
a kind that may hold it, and is moved only under one that is not itself or
below it (the use case gives the new parent's line of ancestors). A branch is
founded with at least three full members; with seven or more full members
it elects a branch committee, with fewer only a secretary.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from services.grassroots.domain.events import (
    LeadershipInstalled,
    MemberJoined,
    MemberLeft,
    MemberMadeFull,
    OrganisationFounded,
    OrganisationMoved,
)
from services.grassroots.domain.kinds import (
    COMMITTEE_FROM_MEMBERS,
    DEFAULT_TERM_YEARS,
    MIN_BRANCH_MEMBERS,
    PARENTS,
    TERM_YEARS,
    OrganisationKind,
    OrganisationType,
)
from shared.domain import Aggregate, applies, command
from shared.domain.calendar import years_after


@dataclass
class OrganisationState:
    founded: bool = False
    kind: str = ""
    org_type: str = ""
    name: str = ""
    parent_id: str | None = None
    full_members: list[str] = field(default_factory=list)
    probationary: list[str] = field(default_factory=list)
    secretary_id: str | None = None
    committee: list[str] = field(default_factory=list)
    term_ends: dt.datetime | None = None


class PartyOrganisation(Aggregate):
    category = "organisation"
    State = OrganisationState
    state: OrganisationState
    snapshot_every = 100

    @property
    def elects_committee(self) -> bool:
        return len(self.state.full_members) >= COMMITTEE_FROM_MEMBERS

    @property
    def term_years(self) -> int:
        return TERM_YEARS.get(OrganisationType(self.state.org_type), DEFAULT_TERM_YEARS)

    def members(self) -> set[str]:
        return {*self.state.full_members, *self.state.probationary}

    def require_founded(self) -> None:
        self.require(self.state.founded, "organisation.exists", f"organisation {self.id} does not exist")

    @command
    def found(
        self,
        kind: OrganisationKind,
        org_type: OrganisationType,
        name: str,
        parent: PartyOrganisation | None,
        founding_members: list[str],
        now: dt.datetime,
    ) -> None:
        self.require(not self.state.founded, "organisation.found_once", f"organisation {self.id} exists already")
        allowed = PARENTS[kind]
        if allowed:
            self.require(parent is not None, "organisation.parent", f"a {kind} is founded under a party organisation")
            assert parent is not None
            parent.require_founded()
            self.require(
                parent.state.kind in allowed,
                "organisation.parent_kind",
                f"a {kind} is founded under a {' or '.join(allowed)}, not a {parent.state.kind}",
            )
        else:
            self.require(parent is None, "organisation.parent", f"a {kind} is the top of the tree")
        members = list(dict.fromkeys(founding_members))
        if kind == OrganisationKind.BRANCH:
            self.require(
                len(members) >= MIN_BRANCH_MEMBERS,
                "organisation.branch_members",
                f"a branch is founded with at least {MIN_BRANCH_MEMBERS} full members; {len(members)} given",
            )
        self.record(
            OrganisationFounded(
                kind.value, org_type.value, name, parent.id if parent is not None else None, members, now
            )
        )

    @command
    def move(self, parent: PartyOrganisation, ancestors: list[str], now: dt.datetime) -> None:
        """Under ``parent``, whose line of ancestors (nearest first) is ``ancestors``: never under itself."""
        self.require_founded()
        parent.require_founded()
        self.require(
            self.id != parent.id and self.id not in ancestors,
            "organisation.no_cycle",
            f"{self.id} cannot be moved under {parent.id}, which is itself or below it",
        )
        allowed = PARENTS[OrganisationKind(self.state.kind)]
        self.require(
            parent.state.kind in allowed,
            "organisation.parent_kind",
            f"a {self.state.kind} sits under a {' or '.join(allowed) or 'nothing'}, not a {parent.state.kind}",
        )
        if parent.id != self.state.parent_id:
            self.record(OrganisationMoved(parent.id, now))

    @command
    def admit(self, person_id: str, full: bool, now: dt.datetime) -> None:
        self.require_founded()
        self.require(person_id not in self.members(), "organisation.member_once", f"{person_id} is a member already")
        self.record(MemberJoined(person_id, full, now))

    @command
    def make_full(self, person_id: str, now: dt.datetime) -> None:
        self.require_founded()
        self.require(
            person_id in self.state.probationary,
            "organisation.probationary",
            f"{person_id} is not a probationary member of {self.id}",
        )
        self.record(MemberMadeFull(person_id, now))

    @command
    def remove(self, person_id: str, reason: str, now: dt.datetime) -> None:
        self.require_founded()
        self.require(person_id in self.members(), "organisation.member", f"{person_id} is not a member of {self.id}")
        self.record(MemberLeft(person_id, person_id in self.state.full_members, reason, now))

    @command
    def install(self, election_id: str, secretary_id: str, committee: list[str], now: dt.datetime) -> None:
        """The approved result of an election takes effect, for the organisation's term."""
        self.require_founded()
        self.require(
            secretary_id in committee, "organisation.secretary_elected", "the secretary is one of those elected"
        )
        self.record(LeadershipInstalled(election_id, secretary_id, committee, now, years_after(now, self.term_years)))

    @applies(OrganisationFounded)
    def _founded(self, e: OrganisationFounded) -> None:
        s = self.state
        s.founded, s.kind, s.org_type, s.name, s.parent_id = True, e.kind, e.org_type, e.name, e.parent_id
        s.full_members = list(e.founding_members)

    @applies(OrganisationMoved)
    def _moved(self, e: OrganisationMoved) -> None:
        self.state.parent_id = e.parent_id

    @applies(MemberJoined)
    def _joined(self, e: MemberJoined) -> None:
        (self.state.full_members if e.full else self.state.probationary).append(e.person_id)

    @applies(MemberMadeFull)
    def _made_full(self, e: MemberMadeFull) -> None:
        self.state.probationary.remove(e.person_id)
        self.state.full_members.append(e.person_id)

    @applies(MemberLeft)
    def _left(self, e: MemberLeft) -> None:
        for members in (self.state.full_members, self.state.probationary):
            if e.person_id in members:
                members.remove(e.person_id)

    @applies(LeadershipInstalled)
    def _installed(self, e: LeadershipInstalled) -> None:
        s = self.state
        s.secretary_id, s.committee, s.term_ends = e.secretary_id, list(e.committee), e.term_ends
