"""Other services' events, as talent reads them (every one with catch-up: history before talent started counts).

- cadre's ``CadreRegistered`` (stream ``cadre-<cadre_id>``): a party-and-government talent record;
- cadre's ``CandidateAppointed`` and ``CadreAppointedToPost``: the record kept current with the post;
- cadre's ``AppraisalCycleClosed`` (stream ``appraisal-<cycle>``): each result, as performance input;
- training's ``TrainingCompleted``: progress in cultivation;
- grassroots' ``DualCultivationPaired``: the entrepreneur, a rural practical talent;
- supervision's ``CaseOpened`` and ``SupervisionOutcomeRecorded``: an objection on
  a program's selection notice (``process_id`` is ``program:<id>``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from marshmallow import validate

from shared.application.commands import ID, NAME

AMOUNT = {"validate": validate.Range(min=0, max=100000)}


@dataclass(frozen=True)
class RegisteredCadre:
    name: str = field(metadata=NAME)
    unit: str = field(metadata=NAME)
    post_category: str = field(metadata=NAME)


@dataclass(frozen=True)
class AppointedCandidate:
    cadre_id: str = field(metadata=ID)
    post_id: str = field(metadata=ID)
    post_title: str = field(metadata=NAME)
    unit: str = field(metadata=NAME)
    appointed_at: dt.datetime


@dataclass(frozen=True)
class AppointedToPost:
    post_id: str = field(metadata=ID)
    post_title: str = field(metadata=NAME)
    unit: str = field(metadata=NAME)
    appointed_at: dt.datetime


@dataclass(frozen=True)
class AppraisalLine:
    cadre_id: str = field(metadata=ID)
    score: Decimal = field(metadata=AMOUNT)
    grade: str = field(metadata=ID)


@dataclass(frozen=True)
class ClosedAppraisal:
    results: list[AppraisalLine] = field(metadata={"validate": validate.Length(max=100000)})
    closed_at: dt.datetime


@dataclass(frozen=True)
class CompletedTraining:
    person_id: str = field(metadata=ID)
    program_id: str = field(metadata=ID)
    kind: str = field(metadata=ID)
    hours: Decimal = field(metadata=AMOUNT)
    completed_at: dt.datetime


@dataclass(frozen=True)
class PairedCultivation:
    entrepreneur_id: str = field(metadata=ID)
    entrepreneur_name: str = field(metadata=NAME)
    enterprise: str = field(metadata=NAME)
    paired_at: dt.datetime


@dataclass(frozen=True)
class OpenedCase:
    """supervision's ``CaseOpened``: ``cadre_id`` is the person the objection is about."""

    cadre_id: str = field(metadata=ID)
    process_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True)
class CaseOutcome:
    """supervision's ``SupervisionOutcomeRecorded``."""

    case_id: str = field(metadata=ID)
    cadre_id: str = field(metadata=ID)
    substantiated: bool
    process_id: str | None = field(default=None, metadata=ID)
