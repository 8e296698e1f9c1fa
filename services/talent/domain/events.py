"""Everything that happens in talent work, as events.

Published: a program's selection notice (``NoticeOpened``, kind
``program_selection``; feedback takes objections on it), ``SelectionConfirmed``
and ``IncentiveGranted``.

Personal data (``personal``): a talent's name, sealed under ``cadre:<cadre id>``
for a cadre, else ``person:<id>`` (the same subjects cadre and grassroots use).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from shared.domain import DomainEvent, EventRegistry
from shared.domain.notices import NoticeOpened
from shared.domain.personal import Subject, personal

# -- talent records ---------------------------------------------------------------------


@dataclass(frozen=True)
class TalentRegistered(DomainEvent):
    team: str
    # a cadre's name is the cadre's (as cadre seals it), a party member's the person's, else the record's person's
    name: str = field(
        metadata=personal("cadre", of="cadre_id", otherwise=(Subject("person", of="member_id"), Subject("person")))
    )
    specialty: str
    level: str
    source: str
    unit: str
    cadre_id: str | None
    member_id: str | None
    registered_at: dt.datetime


@dataclass(frozen=True)
class TalentPostUpdated(DomainEvent):
    """Where the person now serves: a cadre's appointment keeps the party-and-government record current."""

    unit: str
    post: str
    since: dt.datetime


@dataclass(frozen=True)
class TalentLeft(DomainEvent):
    reason: str
    note: str
    left_at: dt.datetime


@dataclass(frozen=True)
class TalentReturned(DomainEvent):
    returned_at: dt.datetime


@dataclass(frozen=True)
class TalentEvaluated(DomainEvent):
    """品德、能力、业绩: all three dimensions, by one evaluator, for one period."""

    period: str
    evaluator_id: str
    evaluator_kind: str
    integrity: int
    ability: int
    performance: int
    evidence: list[str]
    evaluated_at: dt.datetime


@dataclass(frozen=True)
class AppraisalNoted(DomainEvent):
    """cadre's annual appraisal, as performance input."""

    cycle_id: str
    grade: str
    score: Decimal
    noted_at: dt.datetime


@dataclass(frozen=True)
class TrainingNoted(DomainEvent):
    """training's completion: progress in cultivation."""

    program_id: str
    kind: str
    hours: Decimal
    completed_at: dt.datetime


@dataclass(frozen=True)
class IncentiveGranted(DomainEvent):
    person_id: str
    program_id: str
    kind: str
    starts_on: dt.date
    ends_on: dt.date


# -- programs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    """Who may apply: of these teams and levels (empty: any), local or introduced (empty: either)."""

    teams: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ProgramLaunched(DomainEvent):
    title: str
    kind: str
    retention_way: str | None
    eligibility: Eligibility
    quota: int
    opens_at: dt.datetime
    closes_at: dt.datetime
    panel: list[str]
    incentive: str
    incentive_months: int
    launched_at: dt.datetime


@dataclass(frozen=True)
class ApplicationTaken(DomainEvent):
    person_id: str
    applied_at: dt.datetime


@dataclass(frozen=True)
class CandidatesSelected(DomainEvent):
    """The review panel's choice, within quota."""

    person_ids: list[str]
    selected_at: dt.datetime


@dataclass(frozen=True)
class ObjectionCaseNoted(DomainEvent):
    case_id: str
    person_id: str
    noted_at: dt.datetime


@dataclass(frozen=True)
class ObjectionOutcomeNoted(DomainEvent):
    case_id: str
    person_id: str
    substantiated: bool
    noted_at: dt.datetime


@dataclass(frozen=True)
class SelectionConfirmed(DomainEvent):
    """The notice closed with no objection open: those still selected receive the incentive."""

    person_ids: list[str]
    withdrawn: list[str]  # selections a substantiated objection withdrew
    confirmed_at: dt.datetime


# -- platforms and needs --------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformOpened(DomainEvent):
    kind: str
    name: str
    unit: str
    opened_at: dt.datetime


@dataclass(frozen=True)
class TalentAttached(DomainEvent):
    person_id: str
    attached_at: dt.datetime


@dataclass(frozen=True)
class TalentDetached(DomainEvent):
    person_id: str
    detached_at: dt.datetime


@dataclass(frozen=True)
class NeedPosted(DomainEvent):
    """An entry of the catalogue of talent needs (人才需求目录)."""

    unit: str
    team: str
    specialty: str
    description: str
    posted_at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True)
class NeedFilled(DomainEvent):
    person_id: str
    filled_at: dt.datetime


@dataclass(frozen=True)
class NeedExpired(DomainEvent):
    expired_at: dt.datetime


registry = EventRegistry(
    [
        TalentRegistered,
        TalentPostUpdated,
        TalentLeft,
        TalentReturned,
        TalentEvaluated,
        AppraisalNoted,
        TrainingNoted,
        IncentiveGranted,
        ProgramLaunched,
        ApplicationTaken,
        CandidatesSelected,
        NoticeOpened,
        ObjectionCaseNoted,
        ObjectionOutcomeNoted,
        SelectionConfirmed,
        PlatformOpened,
        TalentAttached,
        TalentDetached,
        NeedPosted,
        NeedFilled,
        NeedExpired,
    ]
)
