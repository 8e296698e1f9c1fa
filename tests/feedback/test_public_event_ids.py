"""What the public reads of feedback names the stored event it comes from, for its inclusion proof.

Each reply a submitter reads names the event that recorded it, in feedback's
log; each notice open for comment names its source service and the event of
that service that opened it. Replies written before the ids were kept get
theirs from the log when the migration runs, exactly or not at all.
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
from services.feedback.protection import generate_key
from services.feedback.service_layer import notices as notice_work
from shared.db.database import Database
from shared.eventstore.records import Metadata, NewEvent, record_from_envelope
from shared.eventstore.store import EventStore
from tests.support import foreign
from tests.support.environment import RunEnvironment
from tests.support.identities import public_at, staff
from tests.support.local import OnPostgres
from tests.support.migrating import migrate_the_rest, store_before
from tests.support.platform import settings_for_tests

CLERK = staff("clerk-wu", "department_staff")
AT = dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC)


@pytest.fixture
def feedback(test_env: RunEnvironment) -> Iterator[OnPostgres]:
    limits = {"identity_key": generate_key(), "source_limit": 50, "receipt_limit": 50, "source_key": "k"}
    service = OnPostgres(FeedbackService, settings_for_tests(feedback=limits))
    yield service
    service.close()


def submit(service: OnPostgres) -> dict[str, Any]:
    request = {"channel": "mailbox", "category": "general", "text": "The village road is broken."}
    return dict(service.call("submit", _as=public_at("198.51.100.7"), **request))


def event_type(service: OnPostgres, event_id: str) -> str:
    with service.database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT type FROM feedback.events WHERE event_id = %s", [event_id])
        row = cur.fetchone()
    assert row is not None, f"{event_id} is not an event of feedback's log"
    return str(row[0])


def test_each_reply_names_the_event_that_recorded_it(feedback: OnPostgres) -> None:
    answered, rejected = submit(feedback), submit(feedback)
    feedback.call("reply", _as=CLERK, submission_id=answered["submission_id"], text="Repairs start Monday.")
    feedback.call("reject", _as=CLERK, submission_id=rejected["submission_id"], reason="A private dispute.")
    feedback.project()
    (reply,) = feedback.call("my_case", receipt_code=answered["receipt_code"])["replies"]
    assert event_type(feedback, reply["event_id"]) == "ReplySent"
    (reason,) = feedback.call("my_case", receipt_code=rejected["receipt_code"])["replies"]
    assert event_type(feedback, reason["event_id"]) == "SubmissionRejected"


def test_a_notice_open_for_comment_names_its_source_and_the_event_there(feedback: OnPostgres) -> None:
    now, notice_id = feedback.clock.now(), f"notice-{uuid.uuid4().hex[:8]}"
    opens, closes = now - dt.timedelta(hours=1), now + dt.timedelta(days=2)
    published = {
        "notice_id": notice_id,
        "title": "Deputy head",
        "cadre_ids": ["c1"],
        "opens_at": opens.isoformat(),
        "closes_at": closes.isoformat(),
    }
    record = record_from_envelope(foreign.envelope("cadre", "PublicNoticeOpened", f"selection-{notice_id}", published))
    uow = feedback.uow()
    notice_work.note_notice(
        notice_work.PRE_APPOINTMENT, PublishedNotice(notice_id, "Deputy head", ["c1"], opens, closes), record, uow
    )
    uow.close()
    (notice,) = feedback.call("open_notices")["items"]
    assert (notice["source"], notice["event_id"]) == ("cadre", record.event_id)


def test_replies_written_before_get_their_events_from_the_log_or_none(database: Database) -> None:
    with store_before(database, FeedbackService, 4) as schema:
        store, meta = EventStore(database, schema), Metadata(actor="staff:clerk-wu")
        _, sent, rejected = store.append(
            "submission-s1",
            [
                NewEvent("SubmissionReceived", {"channel": "mailbox"}),
                NewEvent("ReplySent", {"text": "We will look."}),
                NewEvent("SubmissionRejected", {"reason": "A private dispute."}),
            ],
            0,
            meta,
        )
        store.append("submission-s2", [NewEvent("ReplySent", {"text": "One of two."})], 0, meta)
        old = [{"by": "staff:clerk-wu", "text": "We will look.", "sent_at": AT.isoformat()}]
        with database.transaction() as conn, conn.cursor() as cur:
            for submission_id, replies in (("s1", [*old, {**old[0], "text": "A private dispute."}]), ("s2", old * 2)):
                cur.execute(
                    f'INSERT INTO "{schema}".submissions (submission_id, receipt_hash, channel, category, status, '
                    "received_at, first_reply_due, resolution_due, replies) "
                    "VALUES (%s, %s, 'mailbox', 'general', 'open', %s, %s, %s, %s::jsonb)",
                    [submission_id, f"hash-{submission_id}", AT, AT, AT, json.dumps(replies)],
                )

        applied = migrate_the_rest(database, schema, FeedbackService)
        assert applied[0] == "service/0004_reply_event_ids", applied

        with database.transaction() as conn, conn.cursor() as cur:
            cur.execute(f'SELECT submission_id, replies FROM "{schema}".submissions ORDER BY submission_id')
            after = dict(cur.fetchall())
        assert [r.get("event_id") for r in after["s1"]] == [sent.event_id, rejected.event_id]
        assert after["s1"][1]["text"] == "A private dispute."
        assert after["s2"] == old * 2, "two replies, one event: nothing is guessed"
