"""The feedback loop closed, across services over the broker: feedback and supervision running together.

Finding 9 of issue 13: a complaint's case and its outcome come back to the
submitter, who reads the outcome with the receipt code; the complaint's
resolution deadline followed the case meanwhile. Finding 3 on feedback's
side: a complaint that names only a cadre under notice reaches supervision
with the notice's process id.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from services.feedback.entrypoint import FeedbackService
from services.feedback.protection import generate_key
from services.supervision.entrypoint import SupervisionService
from shared.db.clock import advance_clock
from shared.db.database import Database
from tests.support import foreign
from tests.support.environment import RunEnvironment
from tests.support.platform import services_running, settings_for_tests, wait_until
from tests.support.probes import platform_now

MEETING = [{"name": "Zhao", "role": "organization"}, {"name": "Qian", "role": "discipline_inspection"}]


@pytest.fixture(scope="module")
def platform(test_env: RunEnvironment, database: Database) -> Iterator[None]:
    limits = {"identity_key": generate_key(), "source_limit": 50, "receipt_limit": 100, "source_key": "k"}
    settings = settings_for_tests(clock="offset", feedback=limits)
    with services_running(database, settings, FeedbackService, SupervisionService):
        yield


def test_the_submitter_reads_the_outcome_and_the_deadline_followed_the_case(
    platform: None, rpc: Any, database: Database, test_env: RunEnvironment
) -> None:
    cadre_id, process_id = f"c-{uuid.uuid4().hex[:6]}", f"sel-{uuid.uuid4().hex[:6]}"
    now = platform_now(database)
    notice = {
        "notice_id": f"notice-{uuid.uuid4().hex[:8]}",
        "kind": "pre_appointment",
        "decision_id": process_id,
        "subject_ids": [cadre_id],
        "title": "Deputy head of Qingshan township",
        "unit": "Qingshan",
        "opens_at": (now - dt.timedelta(hours=1)).isoformat(),
        "closes_at": (now + dt.timedelta(days=7)).isoformat(),
        "working_days": 5,
    }
    foreign.publish(
        test_env.amqp_uri, "cadre", foreign.envelope("cadre", "NoticeOpened", f"selection-{process_id}", notice)
    )
    wait_until(lambda: rpc.feedback.open_notices()["items"], what="the notice")

    # a hotline complaint that names only the cadre
    receipt = rpc.feedback.submit(channel="hotline", category="complaint_about_cadre", text="Gifts.", cadre_id=cadre_id)
    code = receipt["receipt_code"]
    case = wait_until(lambda: rpc.supervision.cases(cadre_id=cadre_id)["items"], what="the case")[0]
    assert (case["origin"], case["process_id"], case["submission_id"]) == (
        "complaint",
        process_id,
        receipt["submission_id"],
    ), "the complaint reached supervision with the notice's process"
    wait_until(lambda: rpc.feedback.my_case(receipt_code=code)["investigation"] == "open", what="the investigation")
    rpc.feedback.reply(submission_id=receipt["submission_id"], text="Your complaint is with the supervision office.")

    advance_clock(database, dt.timedelta(days=40))  # far past 15 working days: the case is still open
    rpc.feedback.check_deadlines()
    assert rpc.feedback.my_case(receipt_code=code)["breaches"] == [], "the deadline follows the case"

    rpc.supervision.assign_case(case_id=case["case_id"], investigator="Zhao")
    rpc.supervision.hold_joint_meeting(case_id=case["case_id"], participants=MEETING, decision="investigated")
    rpc.supervision.record_outcome(case_id=case["case_id"], substantiated=True, reasons="Gifts were taken.")
    answered = wait_until(
        lambda: (c := rpc.feedback.my_case(receipt_code=code))["status"] == "resolved" and c, what="the outcome"
    )
    assert answered["investigation"] == "substantiated" and answered["breaches"] == []
    assert answered["replies"][-1]["by"] == "supervision" and "Gifts were taken." in answered["replies"][-1]["text"]
    assert rpc.feedback.close(receipt_code=code, rating=5)["status"] == "closed"
