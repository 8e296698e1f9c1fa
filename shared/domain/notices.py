"""The public notice: one contract for every service that decides in the open.

A service that must put a decision before the public (a pre-appointment
notice, an assessment preview; later a development target, an election's
candidate list, a talent programme's selection) records ``NoticeOpened``
in its own stream. feedback takes comments and objections against any open
notice, whichever service opened it, and an objection about a subject under
notice opens a supervision case; the deciding service holds its decision
while such a case is open (see ``docs/DOMAIN.md``).

The event is declared here once, so that every publisher records the same
shape and every consumer reads it the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from shared.domain.events import DomainEvent
from shared.domain.personal import personal


class NoticeKind(StrEnum):
    ASSESSMENT_PREVIEW = "assessment_preview"  # 考察预告
    PRE_APPOINTMENT = "pre_appointment"  # 任前公示
    DEVELOPMENT_TARGET = "development_target"  # 发展对象公示
    CANDIDATE_LIST = "candidate_list"  # 候选人名单公示
    PROGRAM_SELECTION = "program_selection"  # 人才项目评选公示


@dataclass(frozen=True)
class NoticeOpened(DomainEvent):
    """A notice is open: the public may comment on or object to its subjects until ``closes_at``.

    ``decision_id`` names what the notice holds (a selection process, an
    election); ``subject_ids`` who is under notice (cadres, members,
    applicants), in the publishing service's own ids.
    """

    notice_id: str
    kind: NoticeKind = field(metadata={"by_value": True})
    decision_id: str
    subject_ids: list[str]
    # a development target's notice is titled with their name: the person's
    title: str = field(
        metadata=personal("person", of="subject_ids", when=lambda e: e.kind == NoticeKind.DEVELOPMENT_TARGET)
    )
    unit: str
    opens_at: dt.datetime
    closes_at: dt.datetime
    working_days: int
