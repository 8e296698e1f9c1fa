"""The feedback service layer against the in-memory unit of work: no broker, no database.

The deadline sweep records each breach once, as the service itself, and skips
submissions closed meanwhile; the department's replies and resolutions are
acknowledged with the submission's status. (What needs the read models or the
rate limits, submitting and the receipt code, is in ``test_on_postgres``.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable

import pytest

from services.feedback import messages as m
from services.feedback.domain.policy import Category, Channel
from services.feedback.domain.submission import Submission
from services.feedback.entrypoint import FeedbackService
from services.feedback.inbound import SupervisionOutcome, TrainingAnswer
from services.feedback.protection import new_receipt_code, receipt_hash
from services.feedback.service_layer import deadlines, loop, submissions
from shared.application import Author, Sweep, UnitOfWork
from shared.application.memory import InMemoryUnitOfWork
from shared.errors import RuleViolation
from shared.eventstore.records import record_from_envelope
from tests.support import foreign
from tests.support.local import memory_uow


def received(uow: InMemoryUnitOfWork, submission_id: str, category: Category = Category.CONSULTATION) -> None:
    channel = Channel.CONSULTATION if category is Category.CONSULTATION else Channel.MAILBOX
    uow.create(
        Submission,
        submission_id,
        lambda s: s.receive(
            channel,
            category,
            "How are cadres appraised?",
            "h" * 64,
            True,
            None,
            uow.clock.now(),
            uow.calendar,
            cadre_id="c1" if category is Category.COMPLAINT_ABOUT_CADRE else None,
        ),
        Author("public"),
    )


def sweep_over(ids: Iterable[str]) -> Sweep[Submission]:
    """The deadline sweep, with the read model's answer given (the query itself runs on PostgreSQL)."""

    def due(uow: UnitOfWork, now: dt.datetime) -> list[str]:
        return list(ids)

    return dataclasses.replace(deadlines.BREACHES, due=due)


def breaches(uow: InMemoryUnitOfWork, submission_id: str) -> list[str]:
    return [e.data["deadline"] for e in uow.events_of(f"submission-{submission_id}") if e.type == "DeadlineBreached"]


def test_the_deadline_sweep_records_each_breach_once_as_the_service() -> None:
    uow = memory_uow(FeedbackService)
    received(uow, "s1")
    received(uow, "s2")
    received(uow, "s3")
    submissions.reply(m.ReplyTo(actor="clerk Li", submission_id="s2", text="soon"), uow)
    uow.clock.advance(dt.timedelta(days=7))  # past 3 working days, within 10

    assert deadlines.check_deadlines(uow, sweep_over(["s1", "s2"])).breaches == 1
    assert breaches(uow, "s1") == ["first_reply"] and breaches(uow, "s2") == []
    breach = uow.events_of("submission-s1")[-1]
    assert breach.metadata["actor"] == "service:feedback" and breach.metadata["reason"] == "deadline check"
    assert deadlines.check_deadlines(uow, sweep_over(["s1"])).breaches == 0, "each breach once"

    uow.clock.advance(dt.timedelta(days=14))  # past the resolution deadline too
    assert deadlines.check_deadlines(uow, sweep_over(["s1", "s3"])).breaches == 3
    assert breaches(uow, "s1") == ["first_reply", "resolution"]
    assert breaches(uow, "s3") == ["first_reply", "resolution"]


def test_a_submission_closed_meanwhile_is_skipped_by_the_sweep() -> None:
    uow = memory_uow(FeedbackService)
    received(uow, "s1")
    submissions.reply(m.ReplyTo(actor="clerk Li", submission_id="s1", text="answered"), uow)
    uow.update(Submission, "s1", lambda s: s.close(5, "thanks", uow.clock.now()), Author("public"))
    uow.clock.advance(dt.timedelta(days=40))
    result = sweep_over(["s1"]).run(uow)
    assert (result.changed, result.skipped) == (0, 1)


def test_the_department_replies_and_resolves_and_a_late_reply_records_its_breach() -> None:
    uow = memory_uow(FeedbackService)
    received(uow, "s1", Category.GENERAL)
    with pytest.raises(RuleViolation, match=r"submission\.answered_first"):
        submissions.resolve(m.ReplyTo(actor="clerk Li", submission_id="s1", text="done"), uow)
    uow.clock.advance(dt.timedelta(days=10))  # past 5 working days
    ack = submissions.reply(m.ReplyTo(actor="clerk Li", submission_id="s1", text="sorry"), uow)
    assert (ack.submission_id, ack.status) == ("s1", "open")
    assert breaches(uow, "s1") == ["first_reply"]
    reply = uow.events_of("submission-s1")[-1]
    assert reply.metadata["actor"] == "clerk Li" and reply.type == "ReplySent"
    ack = submissions.resolve(m.ReplyTo(actor="clerk Li", submission_id="s1", text="repaired"), uow)
    assert ack.status == "resolved" and ack.version == len(uow.events_of("submission-s1"))


def test_receipt_codes_are_long_random_and_kept_only_as_hashes() -> None:
    codes = {new_receipt_code() for _ in range(100)}
    assert len(codes) == 100 and min(len(c) for c in codes) >= 20
    assert receipt_hash("abc") != receipt_hash("abd") and len(receipt_hash("abc")) == 64


def types(uow: InMemoryUnitOfWork, submission_id: str) -> list[str]:
    return [e.type for e in uow.events_of(f"submission-{submission_id}")]


def test_a_supervision_outcome_is_a_reply_that_resolves_the_complaint_in_the_cases_story() -> None:
    """Finding 9: supervision outcomes reach the submitter, as the service, caused by the outcome."""
    uow = memory_uow(FeedbackService)
    received(uow, "s1", Category.COMPLAINT_ABOUT_CADRE)
    outcome = SupervisionOutcome("complaint-s1", True, "Gifts from a contractor were confirmed.", "s1")
    record = record_from_envelope(
        foreign.envelope("supervision", "SupervisionOutcomeRecorded", "case-complaint-s1", {"case_id": "complaint-s1"})
    )
    uow.handle_event(record)
    loop.outcome_recorded(outcome, record, uow)
    assert types(uow, "s1")[-3:] == ["InvestigationConcluded", "ReplySent", "SubmissionResolved"]
    reply = uow.events_of("submission-s1")[-2]
    assert reply.data["by"] == "supervision" and "confirmed" in reply.data["text"]
    assert reply.metadata["actor"] == "service:feedback" and reply.metadata["causation_id"] == record.event_id
    assert reply.metadata["correlation_id"] == record.correlation_id

    loop.outcome_recorded(SupervisionOutcome("k-x", False, "x", "never-submitted"), record, uow)
    assert len(uow.events) == 5, "an outcome naming a submission feedback does not know changes nothing"


def test_trainings_answer_comes_back_the_same_way() -> None:
    """The seam for training: its answer to a routed suggestion is a reply that resolves it."""
    uow = memory_uow(FeedbackService)
    received(uow, "s1", Category.SUGGESTION_ON_TRAINING)
    record = record_from_envelope(foreign.envelope("training", "SuggestionAnswered", "course-1", {}))
    loop.answer_from_training(TrainingAnswer("s1", "An online course opens in May."), record, uow)
    assert types(uow, "s1")[-2:] == ["ReplySent", "SubmissionResolved"]
    assert uow.events_of("submission-s1")[-2].data["by"] == "training"


def test_the_department_rejects_transfers_merges_and_reopens_as_the_verified_caller() -> None:
    uow = memory_uow(FeedbackService)
    for submission_id in ("s1", "s2", "s3"):
        received(uow, submission_id, Category.GENERAL)
    ack = submissions.reject(m.Reject(actor="staff:li", submission_id="s1", reason="Outside our remit."), uow)
    assert ack.status == "rejected"
    rejected = uow.events_of("submission-s1")[-1]
    assert rejected.metadata["actor"] == "staff:li" and rejected.data["reason"] == "Outside our remit."
    ack = submissions.reopen(m.Reopen(actor="staff:wang", submission_id="s1", reason="appeal upheld"), uow)
    assert ack.status == "open" and uow.events_of("submission-s1")[-1].metadata["actor"] == "staff:wang"

    ack = submissions.transfer(m.Transfer(actor="staff:li", submission_id="s2", to="county petitions office"), uow)
    assert ack.status == "open" and uow.events_of("submission-s2")[-1].data["to"] == "county petitions office"

    ack = submissions.merge(m.Merge(actor="staff:li", submission_id="s3", into="s2"), uow)
    assert ack.status == "merged" and uow.events_of("submission-s3")[-1].data["into"] == "s2"
    with pytest.raises(RuleViolation, match=r"submission\.merged"):
        submissions.reply(m.ReplyTo(actor="staff:li", submission_id="s3", text="x"), uow)
