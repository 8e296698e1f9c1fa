"""The grassroots service's RPC requests: commands (who and why) and queries.

Every request is a dataclass whose marshmallow schema (derived from it)
validates the call before anything runs: a bad field gets an error naming it.
Replies are in ``views`` (commands) and ``read_models`` (queries).

A person's and an election's ids have no colon and at most 50 characters:
the decisions their notices hold are named ``admission:<person>`` and
``election:<election>`` (ids of at most 64), as supervision's cases name them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from marshmallow import validate

from services.grassroots.domain.kinds import (
    NominationSource,
    OrganisationKind,
    OrganisationType,
    Recommendation,
    Stage,
)
from shared.application.commands import ID, LONG_TEXT, NAME, Command

SHORT_ID = {
    "validate": validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$", error="an id here is 1-50 letters, digits or _.- (no colon)"
    )
}
BY_VALUE = {"by_value": True}
PEOPLE = {"validate": validate.Length(max=2000)}
FEW = {"validate": validate.Length(max=50)}
SCORE = {"validate": validate.Range(min=0, max=100)}
YEAR = {"validate": validate.Range(min=2000, max=2100)}
DAYS = {"validate": validate.Range(min=1, max=30)}

# -- organisations --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class FoundOrganisation(Command):
    kind: OrganisationKind = field(metadata=BY_VALUE)
    org_type: OrganisationType = field(metadata=BY_VALUE)
    name: str = field(metadata=NAME)
    parent_id: str | None = field(default=None, metadata=ID)
    founding_members: list[str] = field(default_factory=list, metadata=PEOPLE)
    organisation_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True, kw_only=True)
class MoveOrganisation(Command):
    organisation_id: str = field(metadata=ID)
    parent_id: str = field(metadata=ID)


# -- elections ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CallElection(Command):
    organisation_id: str = field(metadata=ID)
    seats: int = field(metadata={"validate": validate.Range(min=1, max=15)})
    election_id: str | None = field(default=None, metadata=SHORT_ID)


@dataclass(frozen=True, kw_only=True)
class OnElection(Command):
    election_id: str = field(metadata=SHORT_ID)


@dataclass(frozen=True, kw_only=True)
class Nominate(OnElection):
    candidate_id: str = field(metadata=SHORT_ID)
    source: NominationSource = field(metadata=BY_VALUE)


@dataclass(frozen=True, kw_only=True)
class QualifyCandidates(OnElection):
    candidate_ids: list[str] = field(metadata=FEW)


@dataclass(frozen=True, kw_only=True)
class OpenNotice(Command):
    working_days: int = field(metadata=DAYS)


@dataclass(frozen=True, kw_only=True)
class OpenCandidateNotice(OpenNotice):
    election_id: str = field(metadata=SHORT_ID)


@dataclass(frozen=True, kw_only=True)
class ConveneElection(OnElection):
    present: list[str] = field(metadata=PEOPLE)


@dataclass(frozen=True, kw_only=True)
class TakePart(OnElection):
    voter_id: str = field(metadata=SHORT_ID)


@dataclass(frozen=True, kw_only=True)
class CountElection(OnElection):
    """The box, counted: each ballot lists the candidates it marks, and names no voter."""

    ballots: list[list[str]] = field(metadata=PEOPLE)


@dataclass(frozen=True, kw_only=True)
class ApproveElection(OnElection):
    secretary_id: str = field(metadata=SHORT_ID)


# -- member development ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Apply(Command):
    person_id: str = field(metadata=SHORT_ID)
    name: str = field(metadata=NAME)
    birth_date: dt.date
    branch_id: str = field(metadata=ID)
    entrepreneur: bool = False


@dataclass(frozen=True, kw_only=True)
class OnPerson(Command):
    person_id: str = field(metadata=SHORT_ID)


@dataclass(frozen=True, kw_only=True)
class HoldTalk(OnPerson):
    talked_by: str = field(metadata=NAME)


@dataclass(frozen=True, kw_only=True)
class DesignateActivist(OnPerson):
    recommended_by: Recommendation = field(metadata=BY_VALUE)
    contacts: list[str] = field(metadata=FEW)


@dataclass(frozen=True, kw_only=True)
class ReviewActivist(OnPerson):
    note: str = field(metadata=LONG_TEXT)


@dataclass(frozen=True, kw_only=True)
class AssignIntroducers(OnPerson):
    introducers: list[str] = field(metadata=FEW)


@dataclass(frozen=True, kw_only=True)
class Decision(OnPerson):
    passed: bool


@dataclass(frozen=True, kw_only=True)
class OpenTargetNotice(OpenNotice):
    person_id: str = field(metadata=SHORT_ID)


@dataclass(frozen=True, kw_only=True)
class BranchMeeting(OnPerson):
    """The branch meeting on the admission: those present with a vote, and the yes votes."""

    present: int = field(metadata={"validate": validate.Range(min=0, max=100000)})
    yes: int = field(metadata={"validate": validate.Range(min=0, max=100000)})


@dataclass(frozen=True, kw_only=True)
class ApproveAdmission(OnPerson):
    extended: bool = False  # the period extended to six months (特殊情况)


@dataclass(frozen=True, kw_only=True)
class ExtendProbation(OnPerson):
    months: int = field(metadata={"validate": validate.Range(min=1, max=24)})


@dataclass(frozen=True, kw_only=True)
class CancelDevelopment(OnPerson):
    reason: str = field(metadata=LONG_TEXT)


# -- dual cultivation, ratings, affairs ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PairCultivation(Command):
    branch_id: str = field(metadata=ID)
    member_id: str = field(metadata=SHORT_ID)
    entrepreneur_id: str = field(metadata=SHORT_ID)
    entrepreneur_name: str = field(metadata=NAME)
    enterprise: str = field(metadata=NAME)
    goals: list[str] = field(metadata={"validate": validate.Length(min=1, max=20)})
    pairing_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True, kw_only=True)
class PairingGoal(Command):
    pairing_id: str = field(metadata=ID)
    goal: str = field(metadata=NAME)


@dataclass(frozen=True, kw_only=True)
class RateBranch(Command):
    branch_id: str = field(metadata=ID)
    year: int = field(metadata=YEAR)
    criteria_score: int = field(metadata=SCORE)
    survey_satisfaction: int = field(metadata=SCORE)
    problems: list[str] = field(default_factory=list, metadata=FEW)


@dataclass(frozen=True, kw_only=True)
class SchedulePublication(Command):
    branch_id: str = field(metadata=ID)
    category: str = field(metadata=NAME)
    scope: str = field(metadata={"validate": validate.OneOf(["party", "public"])})
    every_days: int = field(metadata={"validate": validate.Range(min=1, max=366)})


@dataclass(frozen=True, kw_only=True)
class PublishAffairs(Command):
    branch_id: str = field(metadata=ID)
    category: str = field(metadata=NAME)
    title: str = field(metadata=NAME)
    body: str = field(metadata=LONG_TEXT)


# -- queries ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PipelineQuery:
    branch_id: str | None = field(default=None, metadata=ID)
    stage: Stage | None = field(default=None, metadata=BY_VALUE)


@dataclass(frozen=True)
class PersonRef:
    person_id: str = field(metadata=SHORT_ID)


@dataclass(frozen=True)
class ElectionQuery:
    organisation_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True)
class RatingQuery:
    year: int | None = field(default=None, metadata=YEAR)


@dataclass(frozen=True)
class BranchRef:
    branch_id: str | None = field(default=None, metadata=ID)
