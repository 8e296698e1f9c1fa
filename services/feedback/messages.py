"""The feedback service's RPC requests and replies."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from marshmallow import validate

from services.feedback.domain.policy import Category, Channel
from shared.runtime.requests import ID

TEXT_LIMIT = 4000
TEXT = {"validate": validate.Length(min=1, max=TEXT_LIMIT, error=f"text is 1 to {TEXT_LIMIT} characters")}
RECEIPT = {"validate": validate.Length(min=16, max=64)}


@dataclass(frozen=True)
class Identity:
    name: str = field(metadata={"validate": validate.Length(min=1, max=100)})
    contact: str = field(metadata={"validate": validate.Length(min=1, max=200)})


@dataclass(frozen=True, kw_only=True)
class Submit:
    channel: Channel = field(metadata={"by_value": True})
    category: Category = field(metadata={"by_value": True})
    text: str = field(metadata=TEXT)
    source: str = field(metadata={"validate": validate.Length(min=1, max=200)})
    anonymous: bool = True
    identity: Identity | None = None
    cadre_id: str | None = field(default=None, metadata=ID)
    notice_id: str | None = field(default=None, metadata=ID)
    process_id: str | None = field(default=None, metadata=ID)


@dataclass(frozen=True)
class Receipt:
    submission_id: str
    receipt_code: str
    first_reply_due: dt.datetime
    resolution_due: dt.datetime
    routed_to: str | None
    identity_kept: bool


@dataclass(frozen=True)
class FollowUp:
    receipt_code: str = field(metadata=RECEIPT)
    text: str = field(metadata=TEXT)


@dataclass(frozen=True, kw_only=True)
class ReplyTo:
    submission_id: str = field(metadata=ID)
    text: str = field(metadata=TEXT)
    actor: str = field(metadata={"validate": validate.Length(min=1, max=200)})


@dataclass(frozen=True)
class ReceiptRef:
    receipt_code: str = field(metadata=RECEIPT)


@dataclass(frozen=True)
class Close:
    receipt_code: str = field(metadata=RECEIPT)
    rating: int = field(metadata={"validate": validate.Range(min=1, max=5)})
    comment: str = field(default="", metadata={"validate": validate.Length(max=TEXT_LIMIT)})


@dataclass(frozen=True)
class ReplyView:
    by: str
    text: str
    sent_at: dt.datetime


@dataclass(frozen=True)
class CaseView:
    submission_id: str
    status: str
    channel: str
    category: str
    received_at: dt.datetime
    first_reply_due: dt.datetime
    resolution_due: dt.datetime
    replies: list[ReplyView]
    breaches: list[str]
    rating: int | None


@dataclass(frozen=True)
class SubmissionAck:
    submission_id: str
    version: int
    status: str


@dataclass(frozen=True)
class BreachCount:
    breaches: int


@dataclass(frozen=True)
class StatisticsRow:
    channel: str
    category: str
    received: int
    open: int
    closed: int
    breaches: int
    average_rating: Decimal | None


@dataclass(frozen=True)
class Statistics:
    items: list[StatisticsRow]


@dataclass(frozen=True)
class NoticeView:
    notice_id: str
    process_id: str
    kind: str
    title: str
    cadre_ids: list[str]
    opens_at: dt.datetime
    closes_at: dt.datetime


@dataclass(frozen=True)
class NoticeList:
    items: list[NoticeView]


@dataclass(frozen=True)
class StaffQuery:
    status: str = field(default="open", metadata={"validate": validate.OneOf(["open", "resolved", "closed"])})
    limit: int = field(default=100, metadata={"validate": validate.Range(min=1, max=1000)})


@dataclass(frozen=True)
class StaffRow:
    submission_id: str
    channel: str
    category: str
    status: str
    received_at: dt.datetime
    first_reply_due: dt.datetime
    resolution_due: dt.datetime
    replied: bool
    breaches: list[str]


@dataclass(frozen=True)
class StaffList:
    items: list[StaffRow]
