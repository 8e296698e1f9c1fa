"""Channels, categories, where each is routed, and its deadlines (in working days)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    HOTLINE = "hotline"  # 服务热线
    MAILBOX = "mailbox"  # 网上信箱
    SUGGESTION_BOX = "suggestion_box"  # 征求意见箱
    NOTICE_COMMENT = "notice_comment"  # a comment on a public notice or assessment preview
    CONSULTATION = "consultation"  # 政策咨询


class Category(StrEnum):
    COMPLAINT_ABOUT_CADRE = "complaint_about_cadre"  # routed to supervision
    SUGGESTION_ON_TRAINING = "suggestion_on_training"  # routed to training
    CONSULTATION = "consultation"  # answered here
    TALENT_POLICY_CONSULTATION = "talent_policy_consultation"  # a question on talent policy, answered here
    GENERAL = "general"


@dataclass(frozen=True)
class Deadlines:
    first_reply_days: int
    resolution_days: int


DEADLINES: dict[Category, Deadlines] = {
    Category.COMPLAINT_ABOUT_CADRE: Deadlines(2, 15),
    Category.SUGGESTION_ON_TRAINING: Deadlines(5, 30),
    Category.CONSULTATION: Deadlines(3, 10),
    Category.TALENT_POLICY_CONSULTATION: Deadlines(3, 10),
    Category.GENERAL: Deadlines(5, 20),
}

#: What the consultation channel (政策咨询) takes: questions, on policy in general or on talent policy.
QUESTIONS = (Category.CONSULTATION, Category.TALENT_POLICY_CONSULTATION)
