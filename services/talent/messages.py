"""The talent service's RPC requests: commands (who and why) and queries.

Every request is a dataclass whose marshmallow schema (derived from it)
validates the call before anything runs: a bad field gets an error naming it
(an evaluation without one of its three dimensions is refused naming it).
A program's id has no colon and at most 50 characters: its notice holds
``program:<id>``, as supervision's cases name it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from marshmallow import validate

from services.talent.domain.kinds import (
    DepartureReason,
    EvaluatorKind,
    PlatformKind,
    ProgramKind,
    RetentionWay,
    Source,
    Team,
)
from shared.application.commands import ID, LONG_TEXT, NAME, Command

SHORT_ID = {
    "validate": validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,49}$", error="an id here is 1-50 letters, digits or _.- (no colon)"
    )
}
BY_VALUE = {"by_value": True}
SCORE = {"validate": validate.Range(min=0, max=100)}
FEW = {"validate": validate.Length(max=50)}
PEOPLE = {"validate": validate.Length(max=1000)}
TEAMS = {"validate": validate.ContainsOnly([team.value for team in Team], error="each team is one of: {choices}")}
SOURCES = {
    "validate": validate.ContainsOnly([source.value for source in Source], error="each source is one of: {choices}")
}

# -- talent records ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RegisterTalent(Command):
    person_id: str = field(metadata=ID)
    team: Team = field(metadata=BY_VALUE)
    name: str = field(metadata=NAME)
    specialty: str = field(metadata=NAME)
    level: str = field(metadata=NAME)
    source: Source = field(metadata=BY_VALUE)
    unit: str = field(metadata=NAME)
    cadre_id: str | None = field(default=None, metadata=ID)
    member_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True, kw_only=True)
class OnTalent(Command):
    person_id: str = field(metadata=ID)


@dataclass(frozen=True, kw_only=True)
class RecordDeparture(OnTalent):
    reason: DepartureReason = field(metadata=BY_VALUE)
    note: str = field(metadata=LONG_TEXT)


@dataclass(frozen=True, kw_only=True)
class Evaluate(OnTalent):
    """品德、能力、业绩: every dimension is required."""

    period: str = field(metadata=ID)
    evaluator_id: str = field(metadata=ID)
    evaluator_kind: EvaluatorKind = field(metadata=BY_VALUE)
    integrity: int = field(metadata=SCORE)
    ability: int = field(metadata=SCORE)
    performance: int = field(metadata=SCORE)
    evidence: list[str] = field(default_factory=list, metadata=FEW)


# -- programs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EligibilityInput:
    teams: list[str] = field(default_factory=list, metadata=TEAMS)
    levels: list[str] = field(default_factory=list, metadata=FEW)
    sources: list[str] = field(default_factory=list, metadata=SOURCES)


@dataclass(frozen=True, kw_only=True)
class LaunchProgram(Command):
    program_id: str = field(metadata=SHORT_ID)
    title: str = field(metadata=NAME)
    kind: ProgramKind = field(metadata=BY_VALUE)
    retention_way: RetentionWay | None = field(default=None, metadata=BY_VALUE)
    eligibility: EligibilityInput = field(default_factory=EligibilityInput)
    quota: int = field(metadata={"validate": validate.Range(min=1, max=10000)})
    opens_at: dt.datetime
    closes_at: dt.datetime
    panel: list[str] = field(metadata={"validate": validate.Length(min=1, max=50)})
    incentive: str = field(metadata=NAME)
    incentive_months: int = field(metadata={"validate": validate.Range(min=1, max=60)})


@dataclass(frozen=True, kw_only=True)
class OnProgram(Command):
    program_id: str = field(metadata=SHORT_ID)


@dataclass(frozen=True, kw_only=True)
class ApplyToProgram(OnProgram):
    person_id: str = field(metadata=ID)


@dataclass(frozen=True, kw_only=True)
class SelectCandidates(OnProgram):
    person_ids: list[str] = field(metadata=PEOPLE)


@dataclass(frozen=True, kw_only=True)
class OpenSelectionNotice(OnProgram):
    working_days: int = field(metadata={"validate": validate.Range(min=1, max=30)})


# -- platforms and needs ------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OpenPlatform(Command):
    platform_id: str = field(metadata=ID)
    kind: PlatformKind = field(metadata=BY_VALUE)
    name: str = field(metadata=NAME)
    unit: str = field(metadata=NAME)


@dataclass(frozen=True, kw_only=True)
class PlatformTalent(Command):
    platform_id: str = field(metadata=ID)
    person_id: str = field(metadata=ID)


@dataclass(frozen=True, kw_only=True)
class PostNeed(Command):
    unit: str = field(metadata=NAME)
    team: Team = field(metadata=BY_VALUE)
    specialty: str = field(metadata=NAME)
    description: str = field(metadata=LONG_TEXT)
    expires_at: dt.datetime
    need_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True, kw_only=True)
class FillNeed(Command):
    need_id: str = field(metadata=ID)
    person_id: str = field(metadata=ID)


# -- queries ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolQuery:
    team: Team | None = field(default=None, metadata=BY_VALUE)
    level: str | None = field(default=None, metadata=NAME)
    unit: str | None = field(default=None, metadata=NAME)


@dataclass(frozen=True)
class PersonRef:
    person_id: str = field(metadata=ID)


@dataclass(frozen=True)
class ProgramRef:
    program_id: str = field(metadata=SHORT_ID)


@dataclass(frozen=True)
class DepartureQuery:
    year: int | None = field(default=None, metadata={"validate": validate.Range(min=2000, max=2100)})
