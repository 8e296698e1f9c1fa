"""The feedback service over real RabbitMQ and PostgreSQL, through RPC."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.feedback.protection import IdentitySeal, generate_key, receipt_hash
from services.feedback.service import FeedbackService
from shared.db.database import Database
from shared.errors import NotFound, RateLimited, RuleViolation, ValidationFailed
from shared.runtime.clock import advance_clock
from tests.support import foreign
from tests.support.contracts import assert_bad_input_is_refused, rpc_method_names
from tests.support.environment import RunEnvironment
from tests.support.platform import InProcess, reset_apps, settings_for_tests, wait_until
from tests.support.probes import scalar

KEY = generate_key()


@pytest.fixture(scope="module")
def feedback(test_env: RunEnvironment, database: Database) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FEEDBACK_IDENTITY_KEY", KEY)
        patch.setenv("FEEDBACK_SOURCE_LIMIT", "5")
        patch.setenv("FEEDBACK_RECEIPT_LIMIT", "100")
        patch.setenv("FEEDBACK_SOURCE_KEY", "test-source-key")
        settings = dataclasses.replace(settings_for_tests(), clock="offset")
        reset_apps(database, settings, FeedbackService)
        runners = InProcess()
        runners.start(FeedbackService, settings=settings)
        yield
        runners.stop_all()


@pytest.fixture
def source() -> str:
    return f"198.51.100.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"


def submit(rpc: Any, source: str, **kwargs: Any) -> dict[str, Any]:
    request = {
        "channel": "mailbox",
        "category": "general",
        "text": "The village road is broken.",
        "source": source,
        **kwargs,
    }
    return rpc.feedback.submit(**request)


def events(database: Database) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT data, metadata FROM feedback.events")
        return cur.fetchall()


def test_an_anonymous_submission_gets_a_long_random_receipt_and_can_be_followed(
    feedback: None, rpc: Any, database: Database, source: str
) -> None:
    receipt = submit(rpc, source)
    code = receipt["receipt_code"]
    assert len(code) >= 20 and receipt["identity_kept"] is False and receipt["routed_to"] is None
    assert code not in json.dumps(events(database)), "the code itself is never stored"
    case = wait_until(lambda: rpc.feedback.my_case(receipt_code=code), what="the case")
    assert case["status"] == "open" and case["replies"] == []
    other = submit(rpc, source)["receipt_code"]
    assert other != code

    rpc.feedback.reply(submission_id=receipt["submission_id"], text="Repairs start Monday.", actor="clerk Li")
    wait_until(lambda: rpc.feedback.my_case(receipt_code=code)["replies"], what="the reply")
    assert rpc.feedback.close(receipt_code=code, rating=4, comment="quick") == {
        "submission_id": receipt["submission_id"],
        "version": 3,
        "status": "closed",
    }
    with pytest.raises(NotFound):
        rpc.feedback.my_case(receipt_code="x" * 20)


def test_an_identity_is_kept_only_sealed_never_in_clear(
    feedback: None, rpc: Any, database: Database, source: str
) -> None:
    name, contact = f"Chen {uuid.uuid4().hex[:4]}", f"+86 139 {uuid.uuid4().int % 10**8:08d}"
    receipt = submit(rpc, source, anonymous=False, identity={"name": name, "contact": contact})
    assert receipt["identity_kept"] is True
    stored = json.dumps(events(database), ensure_ascii=False)
    assert name not in stored and contact not in stored
    sealed = next(d["identity_sealed"] for d, _ in events(database) if d.get("identity_sealed"))
    assert IdentitySeal(KEY).open(sealed) == {"name": name, "contact": contact}


def test_a_complaint_is_routed_to_supervision_by_event(
    feedback: None, rpc: Any, database: Database, source: str
) -> None:
    receipt = submit(rpc, source, category="complaint_about_cadre", cadre_id="c-42", text="He takes bribes.")
    assert receipt["routed_to"] == "supervision"
    routed = wait_until(
        lambda: scalar(
            database,
            "SELECT count(*) FROM feedback.events WHERE type = 'ComplaintRoutedToSupervision' AND data->>'submission_id' = %s",
            (receipt["submission_id"],),
        ),
        what="the routing event",
    )
    assert routed == 1
    assert submit(rpc, source, category="suggestion_on_training", text="More courses online")["routed_to"] == "training"


def test_rate_limits_per_source_and_per_receipt(
    feedback: None, rpc: Any, database: Database, source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipts = [submit(rpc, source) for _ in range(5)]
    with pytest.raises(RateLimited) as caught:
        submit(rpc, source)
    assert caught.value.scope == "source" and caught.value.limit == 5 and caught.value.retry_after_seconds > 0
    other = f"{source}-other"
    for _ in range(5):  # refused requests count too: no free retries
        with pytest.raises(NotFound):
            submit(rpc, other, channel="notice_comment", notice_id="notice-never-published")
    with pytest.raises(RateLimited):
        submit(rpc, other)
    wait_until(
        lambda: scalar(
            database,
            "SELECT count(*) FROM feedback.submissions WHERE submission_id = %s",
            (receipts[0]["submission_id"],),
        ),
        what="the case",
    )
    monkeypatch.setenv("FEEDBACK_RECEIPT_LIMIT", "3")
    code = receipts[0]["receipt_code"]
    rpc.feedback.follow_up(receipt_code=code, text="any news?")
    rpc.feedback.my_case(receipt_code=code)  # every use of a code counts
    rpc.feedback.follow_up(receipt_code=code, text="any news?")
    with pytest.raises(RateLimited, match="receipt"):
        rpc.feedback.follow_up(receipt_code=code, text="any news?")


def test_text_over_the_size_limit_is_refused_with_the_field_named(feedback: None, rpc: Any, source: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        submit(rpc, source, text="x" * 4001)
    assert set(caught.value.errors) == {"text"}
    assert "4000" in str(caught.value)


def test_a_comment_on_a_notice_is_taken_while_open_and_refused_once_closed(
    feedback: None, rpc: Any, database: Database, test_env: RunEnvironment, source: str
) -> None:
    now = dt.datetime.now(dt.UTC) + dt.timedelta(
        seconds=scalar(database, "SELECT offset_seconds::bigint FROM public.orgwork_clock")
    )
    notice_id = f"notice-{uuid.uuid4().hex[:8]}"
    notice = {
        "notice_id": notice_id,
        "title": "Deputy head",
        "unit": "u",
        "cadre_ids": ["c1"],
        "opens_at": (now - dt.timedelta(hours=1)).isoformat(),
        "closes_at": (now + dt.timedelta(days=2)).isoformat(),
        "working_days": 5,
    }
    foreign.publish(
        test_env.amqp_uri, "cadre", foreign.envelope("cadre", "PublicNoticeOpened", f"selection-{notice_id}", notice)
    )
    wait_until(
        lambda: any(n["notice_id"] == notice_id for n in rpc.feedback.open_notices()["items"]), what="the notice"
    )

    receipt = submit(
        rpc, source, channel="notice_comment", category="complaint_about_cadre", cadre_id="c1", notice_id=notice_id
    )
    assert receipt["routed_to"] == "supervision"
    advance_clock(database, dt.timedelta(days=3))
    with pytest.raises(RuleViolation) as caught:
        submit(rpc, source, channel="notice_comment", category="general", notice_id=notice_id)
    assert caught.value.rule == "submission.notice_closed"
    with pytest.raises(NotFound):
        submit(rpc, source, channel="notice_comment", category="general", notice_id="notice-never-published")


def test_a_missed_deadline_raises_a_breach_event_once(
    feedback: None, rpc: Any, database: Database, source: str
) -> None:
    receipt = submit(rpc, source, category="consultation", channel="consultation", text="How are cadres appraised?")
    wait_until(lambda: rpc.feedback.my_case(receipt_code=receipt["receipt_code"]), what="the case")
    advance_clock(database, dt.timedelta(days=7))  # past 3 working days
    assert rpc.feedback.check_deadlines()["breaches"] >= 1
    wait_until(lambda: rpc.feedback.my_case(receipt_code=receipt["receipt_code"])["breaches"] == ["first_reply"])
    rpc.feedback.check_deadlines()
    breaches = scalar(
        database,
        "SELECT count(*) FROM feedback.events WHERE type = 'DeadlineBreached' AND stream_id = %s",
        (f"submission-{receipt['submission_id']}",),
    )
    assert breaches == 1
    statistics = wait_until(
        lambda: [r for r in rpc.feedback.statistics()["items"] if r["category"] == "consultation" and r["breaches"]],
        what="statistics",
    )
    assert statistics[0]["received"] >= 1


def test_receipt_hashes_are_not_reversible_by_guessing_short_codes() -> None:
    assert receipt_hash("abc") != receipt_hash("abd") and len(receipt_hash("abc")) == 64


@pytest.mark.parametrize("method", rpc_method_names(FeedbackService))
def test_bad_input_on_every_rpc_method_names_the_field_and_stores_nothing(
    feedback: None, rpc: Any, database: Database, method: str
) -> None:
    assert_bad_input_is_refused(rpc.feedback, method, database, "feedback")
