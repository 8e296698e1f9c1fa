"""The feedback service on its PostgreSQL store, with no broker: what needs the database.

Rate limits are counted in a table, a receipt code finds its case through the
read model, the deadline sweep asks the read model what is due, and the
notices the public may comment on are the ones cadre published.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.feedback.entrypoint import FeedbackService
from services.feedback.inbound import OpenedNotice, PublishedNotice, SupervisionCase, SupervisionOutcome
from services.feedback.protection import generate_key
from services.feedback.service_layer import loop
from services.feedback.service_layer import notices as notice_work
from shared.db.database import fetch_one
from shared.domain import schemas
from shared.errors import NotFound, RateLimited, RuleViolation, ValidationFailed
from shared.eventstore.records import record_from_envelope
from shared.eventstore.store import EventStore
from tests.support import foreign
from tests.support.environment import RunEnvironment
from tests.support.identities import public_at, staff
from tests.support.local import OnPostgres
from tests.support.platform import settings_for_tests

KEY = generate_key()

#: Who answers: the verified caller is who the public sees, never a name the caller typed.
CLERK_LI = staff("clerk-li", "department_staff")


@pytest.fixture
def feedback(test_env: RunEnvironment) -> Iterator[OnPostgres]:
    limits = {"identity_key": KEY, "source_limit": 5, "receipt_limit": 3, "source_key": "test-source-key"}
    service = OnPostgres(FeedbackService, settings_for_tests(feedback=limits))
    yield service
    service.close()


def submit(service: OnPostgres, source: str = "198.51.100.7", **kwargs: Any) -> dict[str, Any]:
    request = {"channel": "mailbox", "category": "general", "text": "The village road is broken."}
    return dict(service.call("submit", _as=public_at(source), **{**request, **kwargs}))


def stored_events(service: OnPostgres) -> str:
    with service.database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT data, metadata FROM feedback.events")
        return json.dumps(cur.fetchall(), ensure_ascii=False)


def test_rate_limits_count_per_source_and_per_receipt_code(feedback: OnPostgres) -> None:
    receipts = [submit(feedback) for _ in range(5)]
    with pytest.raises(RateLimited) as caught:
        submit(feedback)
    assert caught.value.scope == "source" and caught.value.limit == 5 and caught.value.retry_after_seconds > 0
    for _ in range(5):  # requests that fail count too: no free retries
        with pytest.raises(NotFound):
            submit(feedback, "203.0.113.9", channel="notice_comment", notice_id="notice-never-published")
    with pytest.raises(RateLimited):
        submit(feedback, "203.0.113.9")
    feedback.project()

    code = receipts[0]["receipt_code"]
    feedback.call("follow_up", receipt_code=code, text="any news?")
    feedback.call("my_case", receipt_code=code)  # every use of a code counts
    feedback.call("follow_up", receipt_code=code, text="any news?")
    with pytest.raises(RateLimited, match="receipt"):
        feedback.call("follow_up", receipt_code=code, text="any news?")
    feedback.call("my_case", receipt_code=receipts[1]["receipt_code"])  # another code has its own count


def test_a_receipt_code_opens_its_case_and_is_stored_only_as_a_hash(feedback: OnPostgres) -> None:
    receipt = submit(feedback)
    code = receipt["receipt_code"]
    assert len(code) >= 20 and receipt["identity_kept"] is False and receipt["routed_to"] is None
    assert code not in stored_events(feedback), "the code itself is never stored"
    feedback.project()
    assert feedback.call("my_case", receipt_code=code)["replies"] == []

    feedback.call("reply", _as=CLERK_LI, submission_id=receipt["submission_id"], text="Repairs start Monday.")
    feedback.project()
    case = feedback.call("my_case", receipt_code=code)
    assert [(r["by"], r["text"]) for r in case["replies"]] == [("staff:clerk-li", "Repairs start Monday.")]
    with pytest.raises(NotFound):
        feedback.call("my_case", receipt_code="x" * 20)


def test_complaints_and_training_suggestions_are_routed_by_the_events_they_record(feedback: OnPostgres) -> None:
    complaint = submit(feedback, category="complaint_about_cadre", cadre_id="c-42", text="He takes bribes.")
    suggestion = submit(feedback, category="suggestion_on_training", text="More courses online")
    assert (complaint["routed_to"], suggestion["routed_to"]) == ("supervision", "training")
    with feedback.database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT stream_id, type, data FROM feedback.events WHERE type LIKE '%Routed%' ORDER BY position")
        routed = cur.fetchall()
    assert [(stream, kind) for stream, kind, _ in routed] == [
        (f"submission-{complaint['submission_id']}", "ComplaintRoutedToSupervision"),
        (f"submission-{suggestion['submission_id']}", "SuggestionRoutedToTraining"),
    ]
    assert routed[0][2]["cadre_id"] == "c-42"
    # the text is the submitter's: stored sealed under their key, read back in clear through the store
    assert routed[1][2]["text"]["sealed"]["subject"] == f"submitter:{suggestion['submission_id']}"
    (stored,) = EventStore(feedback.database, "feedback").read_stream(f"submission-{suggestion['submission_id']}")[1:]
    assert stored.data["text"] == "More courses online"


def test_an_identity_is_kept_only_sealed_never_in_clear(feedback: OnPostgres) -> None:
    name, contact = f"Chen {uuid.uuid4().hex[:4]}", f"+86 139 {uuid.uuid4().int % 10**8:08d}"
    receipt = submit(feedback, anonymous=False, identity={"name": name, "contact": contact})
    assert receipt["identity_kept"] is True
    stored = stored_events(feedback)
    assert name not in stored and contact not in stored
    stream = f"submission-{receipt['submission_id']}"
    with feedback.database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT data->'identity' FROM feedback.events WHERE stream_id = %s AND version = 1", [stream])
        (sealed,) = fetch_one(cur)
    assert sealed["sealed"]["subject"] == f"submitter:{receipt['submission_id']}"  # under the submitter's own key
    (received,) = EventStore(feedback.database, "feedback").read_stream(stream)
    assert received.data["identity"] == {"name": name, "contact": contact} and received.data["identity_sealed"] is None


def test_the_deadline_sweep_finds_what_is_due_and_records_each_breach_once(feedback: OnPostgres) -> None:
    question = submit(feedback, category="consultation", channel="consultation", text="How are cadres appraised?")
    answered = submit(feedback, category="consultation", channel="consultation", text="And when?")
    feedback.call("reply", _as=CLERK_LI, submission_id=answered["submission_id"], text="In December.")
    feedback.project()
    feedback.move_clock(dt.timedelta(days=7))  # past 3 working days for a first reply

    assert feedback.call("check_deadlines") == {"breaches": 1}
    feedback.project()
    assert feedback.call("check_deadlines") == {"breaches": 0}, "a breach is recorded once"
    case = feedback.call("my_case", receipt_code=question["receipt_code"])
    assert case["breaches"] == ["first_reply"]
    statistics = [r for r in feedback.call("statistics")["items"] if r["category"] == "consultation"]
    assert statistics[0]["received"] == 2 and statistics[0]["breaches"] == 1


def test_a_comment_on_a_notice_is_taken_while_it_is_open_and_refused_once_closed(feedback: OnPostgres) -> None:
    now = feedback.clock.now()
    notice_id = f"notice-{uuid.uuid4().hex[:8]}"
    published = {
        "notice_id": notice_id,
        "title": "Deputy head",
        "cadre_ids": ["c1"],
        "opens_at": (now - dt.timedelta(hours=1)).isoformat(),
        "closes_at": (now + dt.timedelta(days=2)).isoformat(),
    }
    record = record_from_envelope(foreign.envelope("cadre", "PublicNoticeOpened", f"selection-{notice_id}", published))
    notice = PublishedNotice(notice_id, "Deputy head", ["c1"], now - dt.timedelta(hours=1), now + dt.timedelta(days=2))
    uow = feedback.uow()
    notice_work.note_notice(notice_work.PRE_APPOINTMENT, notice, record, uow)
    notice_work.note_notice(notice_work.PRE_APPOINTMENT, notice, record, uow)  # delivered twice: one notice
    uow.close()
    assert [n["notice_id"] for n in feedback.call("open_notices")["items"]] == [notice_id]

    receipt = submit(
        feedback, channel="notice_comment", category="complaint_about_cadre", cadre_id="c1", notice_id=notice_id
    )
    assert receipt["routed_to"] == "supervision"
    with feedback.database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT metadata->>'correlation_id' FROM feedback.events WHERE type = 'SubmissionReceived'")
        assert cur.fetchone() == (record.correlation_id,), "the comment continues the notice's story"

    feedback.move_clock(dt.timedelta(days=3))
    assert feedback.call("open_notices")["items"] == []
    with pytest.raises(RuleViolation) as caught:
        submit(feedback, "198.51.100.8", channel="notice_comment", category="general", notice_id=notice_id)
    assert caught.value.rule == "submission.notice_closed"


def test_a_repeated_command_id_returns_the_first_reply_and_stores_nothing_new(feedback: OnPostgres) -> None:
    """A client that timed out and retries must not file a second submission (finding 7 of the hardening issue)."""
    command_id = str(uuid.uuid4())
    first = submit(feedback, command_id=command_id)
    again = submit(feedback, command_id=command_id)
    assert again == first, "the same reply, receipt code included"
    with feedback.database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM feedback.events WHERE type = 'SubmissionReceived'")
        assert cur.fetchone() == (1,)
        cur.execute("SELECT sealed_reply FROM feedback.processed_commands")
        sealed = [bytes(row[0]) for row in cur.fetchall()]
    assert len(sealed) == 1 and first["receipt_code"].encode() not in sealed[0], "the kept reply is sealed"
    with pytest.raises(ValidationFailed) as caught:
        submit(feedback, command_id=command_id, text="Another text altogether.")
    assert "command_id" in caught.value.errors
    assert submit(feedback, command_id=str(uuid.uuid4()))["submission_id"] != first["submission_id"]


# -- the generic notice, and complaints attached to it (finding 3, feedback's side) -------------------


def opened_notice(feedback: OnPostgres, cadre_id: str, process_id: str, **changes: Any) -> str:
    """cadre's generic ``NoticeOpened``, as feedback's handler takes it."""
    now = feedback.clock.now()
    notice_id = f"notice-{uuid.uuid4().hex[:8]}"
    data = {
        "notice_id": notice_id,
        "kind": "pre_appointment",
        "decision_id": process_id,
        "subject_ids": [cadre_id],
        "title": "Deputy head of Qingshan township",
        "unit": "Qingshan",
        "opens_at": (now - dt.timedelta(hours=1)).isoformat(),
        "closes_at": (now + dt.timedelta(days=7)).isoformat(),
        "working_days": 5,
        **changes,
    }
    record = record_from_envelope(foreign.envelope("cadre", "NoticeOpened", f"selection-{process_id}", data))
    notice = schemas.load(OpenedNotice, data, tolerant=True)
    uow = feedback.uow()
    notice_work.note_opened(notice_work.CADRE, notice, record, uow)
    notice_work.note_opened(notice_work.CADRE, notice, record, uow)  # delivered twice: one notice
    uow.close()
    return notice_id


def routed(feedback: OnPostgres, submission_id: str) -> dict[str, Any]:
    with feedback.database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT data FROM feedback.events WHERE type = 'ComplaintRoutedToSupervision' AND stream_id = %s",
            [f"submission-{submission_id}"],
        )
        return dict(fetch_one(cur)[0])


def test_a_complaint_naming_a_cadre_under_notice_is_attached_to_it_with_or_without_ids(feedback: OnPostgres) -> None:
    """Finding 3: a complaint naming only the cadre, on any channel, carries the notice's process to supervision."""
    cadre_id = f"c-{uuid.uuid4().hex[:6]}"
    notice_id = opened_notice(feedback, cadre_id, "sel-42")
    assert [n["kind"] for n in feedback.call("open_notices")["items"] if n["notice_id"] == notice_id] == [
        "pre_appointment"
    ]
    complaint = {"category": "complaint_about_cadre", "cadre_id": cadre_id, "text": "He took gifts."}
    hotline = submit(feedback, channel="hotline", **complaint)  # no notice id, no process id
    mailbox = submit(feedback, "198.51.100.8", channel="mailbox", process_id="sel-42", **complaint)
    comment = submit(feedback, "198.51.100.9", channel="notice_comment", **complaint)  # a comment, no notice id
    named = submit(feedback, "198.51.100.10", channel="mailbox", notice_id=notice_id, **complaint)
    for receipt in (hotline, mailbox, comment, named):
        assert receipt["notice_id"] == notice_id, "the receipt says which notice it was attached to"
        assert (
            routed(feedback, receipt["submission_id"])["notice_id"],
            routed(feedback, receipt["submission_id"])["process_id"],
        ) == (notice_id, "sel-42")

    elsewhere = submit(feedback, "198.51.100.11", channel="hotline", **{**complaint, "cadre_id": "c-not-on-notice"})
    assert routed(feedback, elsewhere["submission_id"])["notice_id"] is None
    feedback.move_clock(dt.timedelta(days=8))  # the notice has closed: a complaint is no longer attached to it
    late = submit(feedback, "198.51.100.12", channel="hotline", **complaint)
    assert routed(feedback, late["submission_id"])["notice_id"] is None


def test_of_two_open_notices_on_one_cadre_the_named_process_wins(feedback: OnPostgres) -> None:
    cadre_id = f"c-{uuid.uuid4().hex[:6]}"
    preview = opened_notice(feedback, cadre_id, "sel-a", kind="assessment_preview")
    opened_notice(feedback, cadre_id, "sel-b")
    receipt = submit(
        feedback, channel="hotline", category="complaint_about_cadre", cadre_id=cadre_id, text="t", process_id="sel-a"
    )
    assert routed(feedback, receipt["submission_id"])["notice_id"] == preview


# -- the loop closed (finding 9) --------------------------------------------------------------------


def supervision_record(event_type: str, case_id: str, data: dict[str, Any]) -> Any:
    return record_from_envelope(foreign.envelope("supervision", event_type, f"case-{case_id}", data))


def test_a_supervision_outcome_is_read_with_the_receipt_code_and_the_deadline_followed_the_case(
    feedback: OnPostgres,
) -> None:
    """Finding 9: the outcome reaches the submitter; no resolution breach while the case was open."""
    receipt = submit(feedback, channel="hotline", category="complaint_about_cadre", cadre_id="c-7", text="Bribes.")
    submission_id, code = receipt["submission_id"], receipt["receipt_code"]
    feedback.call("reply", _as=CLERK_LI, submission_id=submission_id, text="Passed to supervision.")
    case_id = f"complaint-{submission_id}"
    uow = feedback.uow()
    opened = {"cadre_id": "c-7", "origin": "complaint", "submission_id": submission_id}
    loop.case_opened(schemas.load(SupervisionCase, opened), supervision_record("CaseOpened", case_id, opened), uow)
    department = {"cadre_id": "c-7", "origin": "department", "submission_id": None}
    loop.case_opened(
        schemas.load(SupervisionCase, department), supervision_record("CaseOpened", "k-1", department), uow
    )
    uow.close()
    feedback.project()
    assert feedback.call("my_case", receipt_code=code)["investigation"] == "open"

    feedback.move_clock(dt.timedelta(days=40))  # far past 15 working days: the case is still open
    assert feedback.call("check_deadlines") == {"breaches": 0}

    # an older outcome event, without the submission's id: found by the case feedback heard of
    outcome = {"case_id": case_id, "cadre_id": "c-7", "substantiated": True, "reasons": "Bribes were confirmed."}
    uow = feedback.uow()
    loop.outcome_recorded(
        schemas.load(SupervisionOutcome, outcome, tolerant=True),
        supervision_record("SupervisionOutcomeRecorded", case_id, outcome),
        uow,
    )
    uow.close()
    feedback.project()
    case = feedback.call("my_case", receipt_code=code)
    assert case["status"] == "resolved" and case["investigation"] == "substantiated" and case["breaches"] == []
    assert case["replies"][-1]["by"] == "supervision" and "Bribes were confirmed." in case["replies"][-1]["text"]
    feedback.call("close", receipt_code=code, rating=5, comment="")


def test_a_complaint_closed_while_with_supervision_still_reads_the_outcome(feedback: OnPostgres) -> None:
    """A6: closed after "it is with supervision", the case did not stay ``open`` for ever, nor the reply unread."""
    receipt = submit(feedback, channel="hotline", category="complaint_about_cadre", cadre_id="c-7", text="Bribes.")
    submission_id, code = receipt["submission_id"], receipt["receipt_code"]
    feedback.call("reply", _as=CLERK_LI, submission_id=submission_id, text="It is with supervision.")
    case_id = f"complaint-{submission_id}"
    opened = {"cadre_id": "c-7", "origin": "complaint", "submission_id": submission_id}
    uow = feedback.uow()
    loop.case_opened(schemas.load(SupervisionCase, opened), supervision_record("CaseOpened", case_id, opened), uow)
    uow.close()
    feedback.project()
    feedback.call("close", receipt_code=code, rating=2, comment="")
    outcome = {"case_id": case_id, "submission_id": submission_id, "cadre_id": "c-7", "substantiated": False}
    uow = feedback.uow()
    loop.outcome_recorded(
        schemas.load(SupervisionOutcome, {**outcome, "reasons": "No evidence."}, tolerant=True),
        supervision_record("SupervisionOutcomeRecorded", case_id, {**outcome, "reasons": "No evidence."}),
        uow,
    )
    uow.close()
    feedback.project()
    case = feedback.call("my_case", receipt_code=code)
    assert case["status"] == "closed" and case["rating"] == 2 and case["investigation"] == "not_substantiated"
    assert case["replies"][-1]["by"] == "supervision" and "No evidence." in case["replies"][-1]["text"]


def test_a_merged_duplicate_whose_own_case_concludes_reads_the_outcome(feedback: OnPostgres) -> None:
    """A6: the outcome is a reply on the duplicate, read before the answers to the one it joined; it stays merged."""
    complaint = {"channel": "hotline", "category": "complaint_about_cadre", "cadre_id": "c-7"}
    original = submit(feedback, **complaint, text="Bribes.")
    duplicate = submit(feedback, "198.51.100.8", **complaint, text="Bribes, again.")
    submission_id = duplicate["submission_id"]
    case_id = f"complaint-{submission_id}"
    opened = {"cadre_id": "c-7", "origin": "complaint", "submission_id": submission_id}
    uow = feedback.uow()
    loop.case_opened(schemas.load(SupervisionCase, opened), supervision_record("CaseOpened", case_id, opened), uow)
    uow.close()
    feedback.call("merge", _as=CLERK_LI, submission_id=submission_id, into=original["submission_id"])
    feedback.call("reply", _as=CLERK_LI, submission_id=original["submission_id"], text="We are looking into it.")
    outcome = {"case_id": case_id, "submission_id": submission_id, "substantiated": True, "reasons": "Confirmed."}
    uow = feedback.uow()
    loop.outcome_recorded(
        schemas.load(SupervisionOutcome, outcome),
        supervision_record("SupervisionOutcomeRecorded", case_id, outcome),
        uow,
    )
    uow.close()
    feedback.project()
    case = feedback.call("my_case", receipt_code=duplicate["receipt_code"])
    assert case["status"] == "merged" and case["investigation"] == "substantiated"
    assert [r["by"] for r in case["replies"]] == ["supervision", CLERK_LI.subject]
    assert "Confirmed." in case["replies"][0]["text"]


def test_a_merged_duplicate_reads_the_answers_to_the_one_it_joined(feedback: OnPostgres) -> None:
    original, duplicate = submit(feedback), submit(feedback, text="The village road is still broken.")
    feedback.call("merge", _as=CLERK_LI, submission_id=duplicate["submission_id"], into=original["submission_id"])
    feedback.call("reply", _as=CLERK_LI, submission_id=original["submission_id"], text="Repairs start Monday.")
    feedback.project()
    case = feedback.call("my_case", receipt_code=duplicate["receipt_code"])
    assert case["status"] == "merged" and case["merged"] is True
    assert [r["text"] for r in case["replies"]] == ["Repairs start Monday."]
    assert [s["submission_id"] for s in feedback.call("submissions", status="merged")["items"]] == [
        duplicate["submission_id"]
    ]


def test_the_satisfaction_figure_says_how_many_answered(feedback: OnPostgres) -> None:
    """Finding 9: the average is over those who answered, and the figure says how many of the concluded did."""
    rated, silent, rejected = (
        submit(feedback, source) for source in ("198.51.100.20", "198.51.100.21", "198.51.100.22")
    )
    for receipt in (rated, silent):
        feedback.call("reply", _as=CLERK_LI, submission_id=receipt["submission_id"], text="Done.")
        feedback.call("resolve", _as=CLERK_LI, submission_id=receipt["submission_id"], text="Repaired.")
    feedback.call("reject", _as=CLERK_LI, submission_id=rejected["submission_id"], reason="A private dispute.")
    feedback.project()
    feedback.call("close", receipt_code=rated["receipt_code"], rating=4)
    feedback.project()
    row = next(r for r in feedback.call("statistics")["items"] if r["category"] == "general")
    assert (row["received"], row["open"], row["closed"], row["responses"]) == (3, 0, 3, 1)
    assert row["response_rate"] == "0.33" and row["average_rating"] == "4.00"
    case = feedback.call("my_case", receipt_code=rejected["receipt_code"])
    assert case["status"] == "rejected" and case["replies"][-1]["text"] == "A private dispute."

    feedback.call("reopen", _as=CLERK_LI, submission_id=rated["submission_id"], reason="The road broke again.")
    feedback.project()
    row = next(r for r in feedback.call("statistics")["items"] if r["category"] == "general")
    assert (row["open"], row["closed"], row["responses"], row["average_rating"]) == (1, 2, 0, None)
