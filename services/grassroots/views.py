"""What the grassroots service's commands answer, and how each is made from an aggregate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.grassroots.domain.affairs import BranchAffairs
from services.grassroots.domain.development import MemberDevelopment
from services.grassroots.domain.election import BranchElection
from services.grassroots.domain.organisation import PartyOrganisation
from services.grassroots.domain.pairing import Pairing
from services.grassroots.domain.rating import BranchRating


@dataclass(frozen=True)
class OrganisationView:
    organisation_id: str
    version: int
    kind: str
    org_type: str
    name: str
    parent_id: str | None
    full_members: int
    probationary_members: int
    elects_committee: bool
    secretary_id: str | None
    term_ends: dt.datetime | None


def organisation_view(organisation: PartyOrganisation) -> OrganisationView:
    s = organisation.state
    return OrganisationView(
        organisation.id,
        organisation.version,
        s.kind,
        s.org_type,
        s.name,
        s.parent_id,
        len(s.full_members),
        len(s.probationary),
        organisation.elects_committee,
        s.secretary_id,
        s.term_ends,
    )


@dataclass(frozen=True)
class ElectionView:
    election_id: str
    version: int
    organisation_id: str
    phase: str
    seats: int
    committee: bool
    entitled: int
    candidates: list[str]
    notice_closes_at: dt.datetime | None
    present: int
    voted: int
    elected: list[str]
    secretary_id: str | None


def election_view(election: BranchElection) -> ElectionView:
    s = election.state
    ballot = s.ballot
    return ElectionView(
        election.id,
        election.version,
        s.organisation_id,
        str(s.phase),
        s.seats,
        s.committee,
        len(s.entitled),
        list(s.candidates),
        s.notice_closes_at,
        len(ballot.present or []) if ballot else 0,
        len(ballot.participants) if ballot else 0,
        list(s.elected),
        s.secretary_id,
    )


@dataclass(frozen=True)
class DevelopmentView:
    person_id: str
    version: int
    stage: str
    branch_id: str
    next_step: str | None
    next_due: dt.datetime | None
    notice_closes_at: dt.datetime | None
    open_cases: list[str]


def development_view(development: MemberDevelopment) -> DevelopmentView:
    s = development.state
    due = development.next_due()
    return DevelopmentView(
        development.id,
        development.version,
        str(s.stage),
        s.branch_id,
        due[0] if due else None,
        due[1] if due else None,
        s.notice_closes_at,
        sorted(s.open_cases),
    )


@dataclass(frozen=True)
class PairingView:
    pairing_id: str
    version: int
    goals: list[str]
    met: list[str]


def pairing_view(pairing: Pairing) -> PairingView:
    return PairingView(pairing.id, pairing.version, list(pairing.state.goals), list(pairing.state.met))


@dataclass(frozen=True)
class RatingView:
    rating_id: str
    version: int
    level: str


def rating_view(rating: BranchRating) -> RatingView:
    return RatingView(rating.id, rating.version, rating.state.level)


@dataclass(frozen=True)
class AffairsView:
    branch_id: str
    version: int
    categories: list[str]


def affairs_view(affairs: BranchAffairs) -> AffairsView:
    return AffairsView(affairs.id, affairs.version, sorted(affairs.state.schedules))


@dataclass(frozen=True)
class DeadlineCheck:
    developments_flagged: int
    publications_flagged: int
    checked_at: dt.datetime
