"""What the cadre service's commands answer, and how each is made from an aggregate or a row."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from services.cadre.domain.appraisal import AppraisalCycle
from services.cadre.domain.cadre_record import CadreRecord
from services.cadre.domain.selection import SelectionProcess

# -- selection ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PostView:
    post_id: str
    title: str


@dataclass(frozen=True)
class CandidateView:
    cadre_id: str
    name: str
    shortlisted: bool
    recommendations: int
    weighted_total: Decimal | None
    approvals: int
    nominated_post: str | None
    result: str | None


@dataclass(frozen=True)
class SelectionView:
    """A command's reply: the process as the command left it."""

    process_id: str
    version: int
    phase: str
    allowed: list[str]
    title: str
    unit: str
    kind: str
    variant: str
    posts: list[PostView]
    candidates: list[CandidateView]
    notice_closes_at: dt.datetime | None
    notice_opens_at: dt.datetime | None = None
    preview_opens_at: dt.datetime | None = None
    preview_closes_at: dt.datetime | None = None


def selection_view(process: SelectionProcess) -> SelectionView:
    s = process.state
    return SelectionView(
        process_id=process.id,
        version=process.version,
        phase=str(s.phase),
        allowed=list(process.describe()["allowed"]),
        title=s.title,
        unit=s.unit,
        kind=str(s.kind),
        variant=str(s.variant),
        posts=[PostView(p.post_id, p.title) for p in s.posts],
        candidates=[
            CandidateView(
                c.cadre_id,
                c.name,
                c.shortlisted,
                c.meeting_recommendations + c.talk_recommendations,
                c.weighted_total,
                c.approvals,
                c.nominated_post,
                c.result,
            )
            for c in s.candidates.values()
        ],
        notice_closes_at=s.notice.closes_at if s.notice else None,
        notice_opens_at=s.notice.opens_at if s.notice else None,
        preview_opens_at=s.preview.opens_at if s.preview else None,
        preview_closes_at=s.preview.closes_at if s.preview else None,
    )


# -- cadre records --------------------------------------------------------------------------


@dataclass(frozen=True)
class CadreView:
    cadre_id: str
    name: str
    unit: str
    post_category: str
    leadership_team: bool
    head_of_unit: bool
    latest_grade: str | None
    posts: list[dict[str, Any]]
    commendations: list[dict[str, Any]]
    appraisals: list[dict[str, Any]]
    credit_hours: dict[str, Decimal]


def _json_values(item: object) -> dict[str, Any]:
    return dict(json.loads(json.dumps(vars(item), default=str)))


def cadre_view(cadre: CadreRecord) -> CadreView:
    """A command's reply: the record as the command left it."""
    s = cadre.state
    return CadreView(
        cadre_id=cadre.id,
        name=s.name,
        unit=s.unit,
        post_category=s.post_category,
        leadership_team=s.leadership_team,
        head_of_unit=s.head_of_unit,
        latest_grade=cadre.latest_grade,
        posts=[_json_values(p) for p in s.posts],
        commendations=[vars(c) for c in s.commendations],
        appraisals=[_json_values(a) for a in s.appraisals],
        credit_hours=dict(s.credit_hours),
    )


def cadre_view_of_row(row: dict[str, Any]) -> CadreView:
    """A query's reply: the record as the cadres read model keeps it."""
    return CadreView(
        cadre_id=row["cadre_id"],
        name=row["name"],
        unit=row["unit"],
        post_category=row["post_category"],
        leadership_team=row["leadership_team"],
        head_of_unit=row["head_of_unit"],
        latest_grade=row["latest_grade"],
        posts=row["posts"],
        commendations=row["commendations"],
        appraisals=row["appraisals"],
        credit_hours={year: Decimal(hours) for year, hours in row["credit_hours"].items()},
    )


# -- appraisal --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CycleView:
    cycle_id: str
    version: int
    year: int
    post_category: str
    closed: bool
    enrolled: list[str]


def cycle_view(cycle: AppraisalCycle) -> CycleView:
    s = cycle.state
    return CycleView(cycle.id, cycle.version, s.year, s.post_category, s.closed, sorted(s.subjects))
