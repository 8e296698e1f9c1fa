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
from services.feedback.inbound import PublishedNotice
from services.feedback.protection import IdentitySeal, generate_key
from services.feedback.service_layer import notices as notice_work
from shared.errors import NotFound, RateLimited, RuleViolation, ValidationFailed
from shared.eventstore.records import record_from_envelope
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
    assert routed[0][2]["cadre_id"] == "c-42" and routed[1][2]["text"] == "More courses online"


def test_an_identity_is_kept_only_sealed_never_in_clear(feedback: OnPostgres) -> None:
    name, contact = f"Chen {uuid.uuid4().hex[:4]}", f"+86 139 {uuid.uuid4().int % 10**8:08d}"
    receipt = submit(feedback, anonymous=False, identity={"name": name, "contact": contact})
    assert receipt["identity_kept"] is True
    stored = stored_events(feedback)
    assert name not in stored and contact not in stored
    with feedback.database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT data->>'identity_sealed' FROM feedback.events WHERE data ? 'identity_sealed'")
        sealed = next(value for (value,) in cur.fetchall() if value)
    assert IdentitySeal(KEY).open(sealed) == {"name": name, "contact": contact}


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
