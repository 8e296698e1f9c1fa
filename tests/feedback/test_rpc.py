"""The feedback service's contract over RabbitMQ: every RPC method and event handler, once.

One walk through the public's channels and the department's answers, through
RPC, records what each method answers; each method's test checks its replies
against what it declares. The rules are tested in memory (``test_use_cases``)
and what needs the database on PostgreSQL (``test_on_postgres``); here, the
transport.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from services.feedback.entrypoint import FeedbackService
from services.feedback.protection import generate_key, receipt_hash
from shared.db.clock import advance_clock
from shared.db.database import Database, fetch_one
from shared.errors import NotFound, ValidationFailed
from shared.eventstore.store import EventStore
from shared.runtime.messaging.client import rpc_client
from shared.runtime.observability.metrics import REGISTRY
from shared.security import sealed_identity
from tests.support import foreign
from tests.support.contracts import (
    Recorder,
    assert_bad_input_is_refused,
    assert_dead_lettered_then_replayed,
    every_method_keeps_its_contract,
    poison_and_replay,
    rpc_method_names,
    walk_the_audit,
)
from tests.support.environment import RunEnvironment
from tests.support.identities import EVERY_ROLE
from tests.support.platform import service_running, settings_for_tests, wait_until
from tests.support.probes import platform_now, scalar


@pytest.fixture(scope="module")
def feedback(test_env: RunEnvironment, database: Database) -> Iterator[None]:
    limits = {"identity_key": generate_key(), "source_limit": 50, "receipt_limit": 100, "source_key": "k"}
    with service_running(database, FeedbackService, settings_for_tests(clock="offset", feedback=limits)):
        yield


def published_notice(notice_id: str, now: dt.datetime, days: int = 2) -> dict[str, Any]:
    return {
        "notice_id": notice_id,
        "title": "Deputy head",
        "unit": "u",
        "cadre_ids": ["c1"],
        "opens_at": (now - dt.timedelta(hours=1)).isoformat(),
        "closes_at": (now + dt.timedelta(days=days)).isoformat(),
        "working_days": 5,
    }


def fetched(database: Database, statement: str, params: tuple[Any, ...] = ()) -> Any:
    """The one value a statement selects."""
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        return fetch_one(cur)[0]


def first_replies_missed() -> float:
    """``orgwork_deadlines_missed_total`` of first replies, as the service running in this process counts it."""
    labels = {"orgwork_service": "feedback", "kind": "first_reply"}
    return REGISTRY.get_sample_value("orgwork_deadlines_missed_total", labels) or 0.0


@pytest.fixture(scope="module")
def replies(feedback: None, database: Database, test_env: RunEnvironment) -> dict[str, list[Any]]:
    """Every RPC method of the service called at least once, in a walk through its use cases."""
    now = platform_now(database)
    notice_id = f"notice-{uuid.uuid4().hex[:8]}"
    foreign.publish(
        test_env.amqp_uri,
        "cadre",
        foreign.envelope("cadre", "PublicNoticeOpened", f"selection-{notice_id}", published_notice(notice_id, now)),
    )
    with rpc_client(timeout=20, identity=EVERY_ROLE) as rpc:
        service = Recorder(rpc.feedback)
        wait_until(lambda: any(n["notice_id"] == notice_id for n in service.open_notices()["items"]), what="the notice")
        comment = service.submit(
            channel="notice_comment",
            category="complaint_about_cadre",
            text="He took gifts.",
            cadre_id="c1",
            notice_id=notice_id,
        )
        question = service.submit(channel="consultation", category="consultation", text="How are cadres appraised?")
        code = question["receipt_code"]
        wait_until(lambda: service.my_case(receipt_code=code), what="the case")
        service.follow_up(receipt_code=code, text="any news?")
        service.reply(submission_id=question["submission_id"], text="By the yearly review.")
        service.resolve(submission_id=question["submission_id"], text="Answered.")
        service.close(receipt_code=code, rating=4, comment="clear")
        wait_until(lambda: service.submissions(status="closed")["items"], what="the closed case")
        wait_until(lambda: service.statistics()["items"], what="statistics")
        wait_until(
            lambda: [r for r in service.open_statistics()["items"] if r["channel"] == "consultation" and r["ratings"]],
            what="the month's open statistics",
        )
        missed_before = first_replies_missed()
        advance_clock(database, dt.timedelta(days=7))  # the comment's first reply is overdue
        service.check_deadlines()
        wait_until(
            lambda: any(
                s["submission_id"] == comment["submission_id"] and s["breaches"]
                for s in service.submissions(status="open")["items"]
            ),
            what="the breach",
        )
        missed = first_replies_missed() - missed_before  # by the call, or by the timer: once either way
        wait_until(  # the notice's window has closed by now: it is in the archive, under its unit
            lambda: [n for n in service.notice_archive(unit="u")["items"] if n["notice_id"] == notice_id],
            what="the closed notice in the archive",
        )
        service.notice_archive(unit="another unit")

        # the department's other answers: transfer, merge a duplicate, reject, reopen
        road, again, private = (
            rpc.feedback.submit(channel="mailbox", category="general", text=text)["submission_id"]
            for text in ("The road is broken.", "The road is still broken.", "My neighbour's dog.")
        )
        service.transfer(submission_id=road, to="county transport bureau", note="theirs to repair")
        service.merge(submission_id=again, into=road)
        service.reject(submission_id=private, reason="A private dispute: the village committee mediates.")
        service.reopen(submission_id=private, reason="The committee declined; we take it up.")

        poison = foreign.envelope("cadre", "AssessmentPreviewPublished", "selection-poison", {"title": "no window"})
        poison_and_replay(service, test_env.amqp_uri, "cadre", poison)
        walk_the_audit(service, database, "feedback")
        replies = dict(service.replies)
        replies["_comment"] = [comment]
        replies["_first_replies_missed"] = [missed]
        return replies


test_every_rpc_method_answers_what_it_declares = every_method_keeps_its_contract(FeedbackService)


def test_the_open_statistics_count_the_month_the_replies_on_time_and_the_rating(
    replies: dict[str, list[Any]],
) -> None:
    (month,) = [r for r in replies["open_statistics"][-1]["items"] if r["channel"] == "consultation"][-1:]
    assert month["received"] >= 1 and month["replied"] >= 1 and month["resolved"] >= 1 and month["ratings"] >= 1
    assert 0 < Decimal(month["on_time_reply_rate"]) <= 1, "this walk's reply came the day it was asked"
    assert month["replied_on_time"] <= month["replied"] and month["resolved_on_time"] <= month["resolved"]
    assert 1 <= Decimal(month["average_rating"]) <= 5
    assert set(month) >= {"month", "on_time_resolution_rate"} and "submission_id" not in month


def test_the_board_says_the_unit_and_the_working_days_left_and_the_archive_keeps_what_closed(
    replies: dict[str, list[Any]],
) -> None:
    on_board = [n for page in replies["open_notices"] for n in page["items"] if n["title"] == "Deputy head"]
    assert on_board and all(n["unit"] == "u" and isinstance(n["working_days_left"], int) for n in on_board)
    archived = [n for n in replies["notice_archive"][-2]["items"] if n["notice_id"] == on_board[0]["notice_id"]]
    assert archived and archived[0]["working_days_left"] is None
    assert not [n for n in replies["notice_archive"][-1]["items"] if n["notice_id"] == on_board[0]["notice_id"]]


def test_the_running_service_counts_the_breach_its_deadline_check_recorded_once(
    replies: dict[str, list[Any]],
) -> None:
    assert replies["_first_replies_missed"] == [1]


def test_the_public_and_the_department_see_what_they_should(replies: dict[str, list[Any]], database: Database) -> None:
    comment, question = replies["submit"]
    assert comment["routed_to"] == "supervision" and question["routed_to"] is None
    assert len(question["receipt_code"]) >= 20
    assert (
        scalar(
            database,
            "SELECT count(*) FROM feedback.events WHERE data->>'receipt_hash' = %s",
            (receipt_hash(question["receipt_code"]),),
        )
        == 1
    ), "only the code's hash is stored"
    assert [a["status"] for a in replies["follow_up"] + replies["reply"] + replies["resolve"] + replies["close"]] == [
        "open",
        "open",
        "resolved",
        "closed",
    ]
    assert replies["my_case"][-1]["status"] == "open" and replies["my_case"][-1]["replies"] == []
    assert replies["check_deadlines"] == [{"breaches": 1}]
    assert [n["kind"] for n in replies["open_notices"][-1]["items"]] == ["pre_appointment"]
    closed = next(r["items"] for r in replies["submissions"] if r["items"] and r["items"][0]["status"] == "closed")
    assert [s["submission_id"] for s in closed] == [question["submission_id"]] and closed[0]["replied"] is True
    assert {(r["category"], r["received"]) for r in replies["statistics"][-1]["items"]} == {
        ("complaint_about_cadre", 1),
        ("consultation", 1),
    }


def test_the_department_transfers_merges_rejects_and_reopens_as_the_caller(
    replies: dict[str, list[Any]], database: Database
) -> None:
    assert [a["status"] for a in replies["transfer"] + replies["merge"] + replies["reject"] + replies["reopen"]] == [
        "open",
        "merged",
        "rejected",
        "open",
    ]
    actors = fetched(
        database,
        "SELECT array_agg(DISTINCT metadata->>'actor') FROM feedback.events WHERE type IN "
        "('SubmissionTransferred', 'SubmissionMerged', 'SubmissionRejected', 'SubmissionReopened')",
    )
    assert actors == [EVERY_ROLE.subject], "the actor is the verified caller"


def test_a_poison_event_is_dead_lettered_and_a_replay_that_fails_again_says_so(replies: dict[str, list[Any]]) -> None:
    assert_dead_lettered_then_replayed(replies, "on_assessment_preview", "AssessmentPreviewPublished")


def test_a_notice_from_cadre_is_remembered_once_and_closes_on_time(
    feedback: None, rpc: Any, database: Database, test_env: RunEnvironment
) -> None:
    notice_id = f"preview-{uuid.uuid4().hex[:8]}"
    envelope = foreign.envelope(
        "cadre",
        "AssessmentPreviewPublished",
        f"selection-{notice_id}",
        published_notice(notice_id, platform_now(database), 1),
    )
    foreign.publish(test_env.amqp_uri, "cadre", envelope, envelope)  # delivered twice: remembered once
    notices = wait_until(
        lambda: [n for n in rpc.feedback.open_notices()["items"] if n["notice_id"] == notice_id], what="the notice"
    )
    assert [n["kind"] for n in notices] == ["assessment_preview"]
    advance_clock(database, dt.timedelta(days=2))
    assert not [n for n in rpc.feedback.open_notices()["items"] if n["notice_id"] == notice_id]


def test_errors_cross_the_wire_with_their_type(feedback: None, rpc: Any) -> None:
    with pytest.raises(NotFound):
        rpc.feedback.my_case(receipt_code="x" * 20)
    with pytest.raises(ValidationFailed) as caught:
        rpc.feedback.submit(channel="mailbox", category="general", text="x" * 4001)
    assert set(caught.value.errors) == {"text"} and "4000" in str(caught.value)


def sealed(identity: Any, public_key: X25519PublicKey | None = None) -> str:
    """``identity`` sealed as the gateway seals it: to feedback's key in the run's key directory, unless another."""
    key = public_key or sealed_identity.load_public(os.environ["SECURITY_KEYS_DIR"])
    assert key is not None, "the sandbox has feedback's identity pair"
    return sealed_identity.seal(key, identity)


def test_a_bad_sealed_identity_is_refused_naming_it_and_nothing_is_stored(
    feedback: None, rpc: Any, database: Database
) -> None:
    events = 'SELECT count(*) FROM "feedback".events'
    before = scalar(database, events)
    elsewhere = X25519PrivateKey.generate().public_key()
    good = sealed({"name": "Chen Jing", "contact": "+86 139 0000 0000"})
    for bad in [
        "A" * 120,  # opens to nothing
        good[:-6],  # truncated
        good[:40] + ("B" if good[40] != "B" else "C") + good[41:],  # tampered
        sealed({"name": "Chen Jing", "contact": "+86 139"}, elsewhere),  # to another key
        sealed({"name": "", "contact": "+86 139"}),  # opens, but to no valid identity
        sealed({"name": "Chen", "contact": "+86 139", "address": "Room 3"}),
        "x" * 8193,  # too long to try
    ]:
        with pytest.raises(ValidationFailed) as caught:
            rpc.feedback.submit(channel="mailbox", category="general", text="t", anonymous=False, sealed_identity=bad)
        assert set(caught.value.errors) == {"sealed_identity"}, caught.value.errors
        assert "Chen" not in str(caught.value), "a refusal never echoes what was sealed"
    with pytest.raises(ValidationFailed) as caught:
        rpc.feedback.submit(
            channel="mailbox",
            category="general",
            text="t",
            identity={"name": "Chen", "contact": "+86 139"},
            sealed_identity=good,
        )
    assert set(caught.value.errors) == {"identity", "sealed_identity"}
    assert scalar(database, events) == before


def test_a_sealed_identity_is_kept_as_one_in_clear_is_and_a_repeat_is_known_by_it(
    feedback: None, rpc: Any, database: Database
) -> None:
    identity = {"name": f"Chen {uuid.uuid4().hex[:6]}", "contact": "+86 139 0000 0000"}
    command_id = str(uuid.uuid4())
    request = {"channel": "mailbox", "category": "general", "text": "t", "anonymous": False, "command_id": command_id}
    receipt = rpc.feedback.submit(**request, sealed_identity=sealed(identity))
    assert receipt["identity_kept"] is True
    (received,) = EventStore(database, "feedback").read_stream(f"submission-{receipt['submission_id']}")[:1]
    assert received.data["identity"] == identity
    # every send is sealed afresh: the same identity under the same command id is a repeat, another is not
    assert rpc.feedback.submit(**request, sealed_identity=sealed(identity)) == receipt
    with pytest.raises(ValidationFailed) as caught:
        rpc.feedback.submit(**request, sealed_identity=sealed({**identity, "contact": "someone else"}))
    assert set(caught.value.errors) == {"command_id"}


@pytest.mark.parametrize("method", rpc_method_names(FeedbackService))
def test_bad_input_on_every_rpc_method_names_the_field_and_stores_nothing(
    feedback: None, rpc: Any, database: Database, method: str
) -> None:
    assert_bad_input_is_refused(rpc.feedback, method, database, "feedback")


def test_a_notice_forged_in_advance_is_refused_and_the_real_one_takes_objections(
    feedback: None, rpc: Any, database: Database, test_env: RunEnvironment
) -> None:
    """The attack of the gateway issue: a notice id claimed early, closed, to refuse the public's objections."""
    notice_id = f"notice-{uuid.uuid4().hex[:8]}"
    now = platform_now(database)
    closed_early = {**published_notice(notice_id, now), "closes_at": (now - dt.timedelta(minutes=1)).isoformat()}
    forged = foreign.envelope("cadre", "PublicNoticeOpened", f"selection-{notice_id}", closed_early)
    foreign.publish(test_env.amqp_uri, "cadre", forged, signed_by=None)
    wait_until(
        lambda: any(x["reason"] == "unauthenticated" for x in rpc.feedback.dead_letters()["items"]),
        what="the forgery's dead letter",
    )
    real = foreign.envelope("cadre", "PublicNoticeOpened", f"selection-{notice_id}", published_notice(notice_id, now))
    foreign.publish(test_env.amqp_uri, "cadre", real)
    wait_until(lambda: [n for n in rpc.feedback.open_notices()["items"] if n["notice_id"] == notice_id], what="it")
    receipt = rpc.feedback.submit(
        channel="notice_comment",
        category="complaint_about_cadre",
        text="He took gifts.",
        cadre_id="c1",
        notice_id=notice_id,
    )
    assert receipt["receipt_code"]


def test_cadres_generic_notice_attaches_a_complaint_that_names_only_the_cadre(
    feedback: None, rpc: Any, database: Database, test_env: RunEnvironment
) -> None:
    """Finding 3, feedback's side, over the broker: ``NoticeOpened``, then a hotline complaint with no ids."""
    cadre_id, process_id = f"c-{uuid.uuid4().hex[:6]}", f"sel-{uuid.uuid4().hex[:6]}"
    notice_id = f"notice-{uuid.uuid4().hex[:8]}"
    now = platform_now(database)
    opened = {
        "notice_id": notice_id,
        "kind": "pre_appointment",
        "decision_id": process_id,
        "subject_ids": [cadre_id],
        "title": "Deputy head",
        "unit": "Qingshan",
        "opens_at": (now - dt.timedelta(hours=1)).isoformat(),
        "closes_at": (now + dt.timedelta(days=7)).isoformat(),
        "working_days": 5,
    }
    envelope = foreign.envelope("cadre", "NoticeOpened", f"selection-{process_id}", opened)
    foreign.publish(test_env.amqp_uri, "cadre", envelope, envelope)  # delivered twice: remembered once
    wait_until(
        lambda: [n for n in rpc.feedback.open_notices()["items"] if n["notice_id"] == notice_id], what="the notice"
    )
    receipt = rpc.feedback.submit(channel="hotline", category="complaint_about_cadre", text="Gifts.", cadre_id=cadre_id)
    routed = fetched(
        database,
        "SELECT data FROM feedback.events WHERE type = 'ComplaintRoutedToSupervision' AND stream_id = %s",
        (f"submission-{receipt['submission_id']}",),
    )
    assert (routed["notice_id"], routed["process_id"]) == (notice_id, process_id)


def test_a_supervision_case_and_its_outcome_come_back_to_the_submitter(
    feedback: None, rpc: Any, database: Database, test_env: RunEnvironment
) -> None:
    """Finding 9 over the broker: ``CaseOpened`` holds the deadline, ``SupervisionOutcomeRecorded`` answers."""
    receipt = rpc.feedback.submit(channel="mailbox", category="complaint_about_cadre", text="Gifts.", cadre_id="c-9")
    submission_id, code = receipt["submission_id"], receipt["receipt_code"]
    case_id = f"complaint-{submission_id}"
    opened = foreign.envelope(
        "supervision",
        "CaseOpened",
        f"case-{case_id}",
        {
            "cadre_id": "c-9",
            "process_id": None,
            "origin": "complaint",
            "submission_id": submission_id,
            "summary": "Gifts.",
            "opened_at": platform_now(database).isoformat(),
        },
    )
    foreign.publish(test_env.amqp_uri, "supervision", opened)
    wait_until(lambda: rpc.feedback.my_case(receipt_code=code)["investigation"] == "open", what="the case")
    outcome = foreign.envelope(
        "supervision",
        "SupervisionOutcomeRecorded",
        f"case-{case_id}",
        {
            "case_id": case_id,
            "cadre_id": "c-9",
            "process_id": None,
            "substantiated": False,
            "reasons": "The gifts were a wedding custom, returned.",
            "recorded_at": platform_now(database).isoformat(),
            "submission_id": submission_id,
        },
        version=2,
        prev_hash=opened["hash"],
    )
    foreign.publish(test_env.amqp_uri, "supervision", outcome, outcome)  # delivered twice: answered once
    case = wait_until(
        lambda: (c := rpc.feedback.my_case(receipt_code=code))["status"] == "resolved" and c, what="the outcome"
    )
    assert case["investigation"] == "not_substantiated"
    assert [r["by"] for r in case["replies"]] == ["supervision"] and "wedding custom" in case["replies"][0]["text"]
