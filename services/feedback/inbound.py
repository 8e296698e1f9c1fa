"""Other services' events, as feedback reads them.

Each payload lists only the fields feedback uses; unknown fields are ignored
(the publisher may add fields), and the rules a field must keep are checked
here: a payload that breaks them is dead-lettered, never applied.

- cadre's notices (the public may comment while one is open): the generic
  ``NoticeOpened`` (``shared.domain.notices``), and the older
  ``AssessmentPreviewPublished`` / ``PublicNoticeOpened`` that stores still hold;
- supervision's cases on routed complaints: ``CaseOpened`` and
  ``SupervisionOutcomeRecorded`` (the outcome the submitter reads);
- training's answer to a routed suggestion (``SuggestionAnswered``, read as
  ``TrainingAnswer``): the reply the submitter reads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from marshmallow import validate

from shared.application.commands import ID, LONG_TEXT, NAME

SUBJECTS = {"validate": validate.Length(max=500)}


@dataclass(frozen=True)
class PublishedNotice:
    """cadre's ``AssessmentPreviewPublished`` and ``PublicNoticeOpened``."""

    notice_id: str = field(metadata=ID)
    title: str = field(metadata=NAME)
    cadre_ids: list[str] = field(metadata=SUBJECTS)
    opens_at: dt.datetime
    closes_at: dt.datetime
    unit: str | None = field(default=None, metadata=NAME)


@dataclass(frozen=True)
class OpenedNotice:
    """The generic ``NoticeOpened`` (``shared.domain.notices``): ``decision_id`` is the process it holds."""

    notice_id: str = field(metadata=ID)
    kind: str = field(metadata=ID)
    decision_id: str = field(metadata=ID)
    subject_ids: list[str] = field(metadata=SUBJECTS)
    title: str = field(metadata=NAME)
    opens_at: dt.datetime
    closes_at: dt.datetime
    unit: str | None = field(default=None, metadata=NAME)


@dataclass(frozen=True)
class SupervisionCase:
    """supervision's ``CaseOpened``: a case on a complaint names the submission it came from."""

    cadre_id: str = field(metadata=ID)
    origin: str = field(metadata=ID)
    submission_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True)
class SupervisionOutcome:
    """supervision's ``SupervisionOutcomeRecorded``; ``submission_id`` is absent from older events."""

    case_id: str = field(metadata=ID)
    substantiated: bool
    reasons: str = field(metadata=LONG_TEXT)
    submission_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True)
class TrainingAnswer:
    """training's ``SuggestionAnswered``: ``text`` says whether the suggestion was adopted, and why."""

    submission_id: str = field(metadata=ID)
    text: str = field(metadata=LONG_TEXT)
