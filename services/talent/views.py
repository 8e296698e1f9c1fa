"""What the talent service's commands answer, and how each is made from an aggregate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.talent.domain.platform import TalentNeed, TalentPlatform
from services.talent.domain.program import TalentProgram
from services.talent.domain.talent import TalentRecord


@dataclass(frozen=True)
class TalentView:
    person_id: str
    version: int
    team: str
    name: str
    unit: str
    post: str | None
    status: str
    evaluations: int
    incentives: int


def talent_view(talent: TalentRecord) -> TalentView:
    s = talent.state
    return TalentView(
        talent.id, talent.version, s.team, s.name, s.unit, s.post, s.status, len(s.evaluated), len(s.incentives)
    )


@dataclass(frozen=True)
class ProgramView:
    program_id: str
    version: int
    phase: str
    quota: int
    applicants: list[str]
    selected: list[str]
    withdrawn: list[str]
    notice_closes_at: dt.datetime | None
    granted: list[str]  # who received the incentive on confirmation
    already_held: list[str]  # confirmed, but already receiving an incentive of the kind for that time


def program_view(
    program: TalentProgram, granted: list[str] | None = None, already_held: list[str] | None = None
) -> ProgramView:
    s = program.state
    return ProgramView(
        program.id,
        program.version,
        str(s.phase),
        s.quota,
        list(s.applicants),
        list(s.selected),
        list(s.withdrawn),
        s.notice_closes_at,
        granted or [],
        already_held or [],
    )


@dataclass(frozen=True)
class PlatformView:
    platform_id: str
    version: int
    talents: list[str]


def platform_view(platform: TalentPlatform) -> PlatformView:
    return PlatformView(platform.id, platform.version, list(platform.state.talents))


@dataclass(frozen=True)
class NeedView:
    need_id: str
    version: int
    status: str


def need_view(need: TalentNeed) -> NeedView:
    return NeedView(need.id, need.version, need.state.status)


@dataclass(frozen=True)
class ExpiryCount:
    expired: int
