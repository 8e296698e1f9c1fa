"""The supervision service's RPC requests: commands (who and why) and queries.

Every request is a dataclass whose marshmallow schema (derived from it)
validates the call before anything runs: a bad field gets an error naming it.
Replies are in ``views`` (commands) and ``read_models`` (queries).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from marshmallow import validate

from services.supervision.domain.case import ROLES
from services.supervision.domain.inspection import TaskKind
from shared.application.commands import ID, LONG_TEXT, NAME, Command

# -- cases ------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OpenCase(Command):
    cadre_id: str = field(metadata=ID)
    summary: str = field(metadata=LONG_TEXT)
    process_id: str | None = field(default=None, metadata=ID)
    case_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True, kw_only=True)
class OnCase(Command):
    case_id: str = field(metadata=ID)


@dataclass(frozen=True, kw_only=True)
class AssignCase(OnCase):
    investigator: str = field(metadata=NAME)


@dataclass(frozen=True)
class ParticipantInput:
    name: str = field(metadata=NAME)
    role: str = field(metadata={"validate": validate.OneOf(ROLES)})


@dataclass(frozen=True, kw_only=True)
class JointMeeting(OnCase):
    participants: list[ParticipantInput] = field(metadata={"validate": validate.Length(min=2, max=50)})
    decision: str = field(metadata=LONG_TEXT)


@dataclass(frozen=True, kw_only=True)
class RecordOutcome(OnCase):
    substantiated: bool
    reasons: str = field(metadata=LONG_TEXT)


@dataclass(frozen=True)
class CaseQuery:
    cadre_id: str | None = field(default=None, metadata=ID)
    status: str | None = field(
        default=None, metadata={"validate": validate.OneOf(["open", "substantiated", "not_substantiated"])}
    )


# -- inspection tasks ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class AssignTask(Command):
    kind: TaskKind = field(metadata={"by_value": True})
    unit: str = field(metadata=NAME)
    goal: str = field(metadata=LONG_TEXT)
    deadline: dt.datetime
    responsible: str = field(metadata=NAME)
    task_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True, kw_only=True)
class OnTask(Command):
    task_id: str = field(metadata=ID)


@dataclass(frozen=True, kw_only=True)
class ReportProgress(OnTask):
    percent: int = field(metadata={"validate": validate.Range(min=0, max=100)})
    note: str = field(metadata=LONG_TEXT)


@dataclass(frozen=True, kw_only=True)
class RecordFinding(OnTask):
    finding: str = field(metadata=LONG_TEXT)
    follow_up_deadline: dt.datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CompleteTask(OnTask):
    summary: str = field(metadata=LONG_TEXT)


@dataclass(frozen=True)
class TaskQuery:
    status: str | None = field(
        default=None, metadata={"validate": validate.OneOf(["active", "completed", "escalated"])}
    )
