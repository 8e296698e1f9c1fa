"""The feedback service's RPC requests: from the public (by receipt code) and from the staff.

Every request is a dataclass whose marshmallow schema (derived from it)
validates the call before anything runs: a bad field gets an error naming it.
Replies are in ``views`` (commands) and ``read_models`` (queries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError, validate, validates_schema

from services.feedback.domain.policy import Category, Channel
from shared.application.commands import FROM_CALLER, FROM_CLIENT, ID, LONG_TEXT, NAME, TEXT_LIMIT, Command, Idempotent

RECEIPT = {"validate": validate.Length(min=16, max=64)}

#: A sealed identity (``shared.security.sealed_identity``) of the largest ``Identity``: 300 characters,
#: each at most 12 bytes as ASCII JSON, plus the keys and HPKE's 48 bytes, is under 3,700 bytes,
#: under 5,000 characters of base64url. Anything longer is refused before a key is used on it.
SEALED_IDENTITY = {"validate": validate.Length(min=1, max=8192)}


@dataclass(frozen=True)
class Identity:
    name: str = field(metadata={"validate": validate.Length(min=1, max=100)})
    contact: str = field(metadata={"validate": validate.Length(min=1, max=200)})


@dataclass(frozen=True, kw_only=True)
class Submit(Idempotent):
    """A submission. Its submitter's identity is ``sealed_identity`` when it comes through the gateway.

    The gateway seals the ``identity`` it is given to the feedback service's
    key, so the name and contact never cross the broker in clear; ``identity``
    in clear is for trusted callers inside. Either is held to ``Identity``'s rules.
    """

    channel: Channel = field(metadata={"by_value": True})
    category: Category = field(metadata={"by_value": True})
    text: str = field(metadata=LONG_TEXT)
    source: str = field(default="", metadata=FROM_CLIENT)  # where it came from, for the rate limit
    anonymous: bool = True
    identity: Identity | None = None
    sealed_identity: str | None = field(default=None, metadata=SEALED_IDENTITY)
    cadre_id: str | None = field(default=None, metadata=ID)
    notice_id: str | None = field(default=None, metadata=ID)
    process_id: str | None = field(default=None, metadata=ID)

    @validates_schema
    def _one_identity(self, data: dict[str, Any], **kwargs: Any) -> None:
        """An identity comes in clear (a trusted caller inside) or sealed (through the gateway), never both.

        Run wherever the request is checked: the gateway refuses both with a 422
        before sealing anything, the service again.
        """
        if data.get("identity") is not None and data.get("sealed_identity") is not None:
            both = "give identity or sealed_identity, not both"
            raise ValidationError({"identity": [both], "sealed_identity": [both]})


@dataclass(frozen=True)
class FollowUp(Idempotent):
    receipt_code: str = field(metadata=RECEIPT)
    text: str = field(metadata=LONG_TEXT)


@dataclass(frozen=True, kw_only=True)
class ReplyTo(Idempotent):
    """The department answers (or resolves) a submission; ``text`` is the answer the submitter reads."""

    submission_id: str = field(metadata=ID)
    text: str = field(metadata=LONG_TEXT)
    actor: str = field(default="", metadata=FROM_CALLER)


@dataclass(frozen=True)
class ReceiptRef:
    receipt_code: str = field(metadata=RECEIPT)


@dataclass(frozen=True)
class Close(Idempotent):
    receipt_code: str = field(metadata=RECEIPT)
    rating: int = field(metadata={"validate": validate.Range(min=1, max=5)})
    comment: str = field(default="", metadata={"validate": validate.Length(max=TEXT_LIMIT)})


@dataclass(frozen=True, kw_only=True)
class OnSubmission(Command):
    """A department's command on one submission: ``actor`` is the verified caller."""

    submission_id: str = field(metadata=ID)


@dataclass(frozen=True, kw_only=True)
class Reject(OnSubmission):
    """Decline to take it up (不予受理): ``reason`` is what the submitter reads."""

    reason: str = field(metadata=LONG_TEXT)  # type: ignore[assignment]


@dataclass(frozen=True, kw_only=True)
class Transfer(OnSubmission):
    """Hand it to another office or channel (``to``), with a note of why."""

    to: str = field(metadata=NAME)
    note: str = field(default="", metadata={"validate": validate.Length(max=TEXT_LIMIT)})


@dataclass(frozen=True, kw_only=True)
class Merge(OnSubmission):
    """``submission_id`` is a duplicate of ``into``: its submitter reads that one's answers."""

    into: str = field(metadata=ID)


@dataclass(frozen=True, kw_only=True)
class Reopen(OnSubmission):
    """Take up again what was resolved, rejected or closed; ``reason`` says why."""

    reason: str = field(metadata=LONG_TEXT)  # type: ignore[assignment]


STATUSES = ["open", "resolved", "rejected", "merged", "closed"]


@dataclass(frozen=True)
class StaffQuery:
    status: str = field(default="open", metadata={"validate": validate.OneOf(STATUSES)})
    limit: int = field(default=100, metadata={"validate": validate.Range(min=1, max=1000)})
