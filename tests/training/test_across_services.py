"""Training with the services it works with, over real RabbitMQ and PostgreSQL.

- A cadre registered in cadre has a ledger in training; the program they
  complete reaches cadre as ``CreditTotalUpdated``, and ``get_cadre`` shows it.
- A suggestion the public made while training was not running at all (no
  store, no queue) reaches training when it first starts, by catching up on
  feedback's store; its answer reaches the submitter, who reads it with the
  receipt code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from services.cadre.entrypoint import CadreService
from services.feedback.entrypoint import FeedbackService
from services.scenarios import publish_program, run_program
from services.training.entrypoint import TrainingService
from shared.db.database import Database, fetch_one
from shared.runtime.messaging.client import rpc_client
from shared.runtime.process.provisioning import migrate_service
from tests.support.environment import RunEnvironment
from tests.support.identities import THE_PUBLIC
from tests.support.platform import (
    InProcess,
    forget_service,
    reset_apps,
    services_running,
    settings_for_tests,
    wait_until,
)

pytestmark = pytest.mark.slow


def test_a_cadre_completes_a_program_and_cadre_shows_the_new_total(
    test_env: RunEnvironment, database: Database, rpc: Any
) -> None:
    settings = settings_for_tests()
    with services_running(database, settings, CadreService, TrainingService):
        rpc.cadre.register_cadre(cadre_id="c-trained", name="Chen Jing", unit="Qingshan", post_category="township")

        def ledger() -> Any:
            try:
                return rpc.training.learner_record(person_id="c-trained")
            except Exception:
                return None

        wait_until(ledger, what="training to open the cadre's ledger")
        publish_program(rpc.training, "p-credit", "Party spirit", "party_spirit", dt.datetime.now(dt.UTC).date())
        rpc.training.enrol(program_id="p-credit", person_id="c-trained")
        closed = run_program(rpc.training, "p-credit", ["c-trained"])
        assert closed["completed"] == ["c-trained"]
        year = str(dt.datetime.now(dt.UTC).year)
        credited = wait_until(
            lambda: rpc.cadre.get_cadre(cadre_id="c-trained")["credit_hours"].get(year), what="cadre to note the total"
        )
        assert Decimal(credited) == Decimal(24)


@pytest.fixture
def feedback_alone(test_env: RunEnvironment, database: Database) -> Iterator[InProcess]:
    """feedback running, and training as if it had never run: no schema, no queue."""
    settings = settings_for_tests()
    reset_apps(database, settings, FeedbackService)
    forget_service(database, settings, "training")
    runners = InProcess()
    runners.start(FeedbackService, settings=settings)
    try:
        yield runners
    finally:
        runners.stop_all()


def test_a_suggestion_made_before_training_existed_is_answered_and_the_submitter_reads_it(
    feedback_alone: InProcess, database: Database, rpc: Any
) -> None:
    with rpc_client(timeout=20, identity=THE_PUBLIC) as public:
        receipt = public.feedback.submit(
            channel="suggestion_box",
            category="suggestion_on_training",
            text="Please run evening classes for village cadres",
        )
    assert receipt["routed_to"] == "training"
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT to_regclass('training.events') IS NULL")
        assert fetch_one(cur)[0], "training has never run"

    settings = settings_for_tests()
    migrate_service(settings, TrainingService)
    feedback_alone.start(TrainingService, settings=settings)
    found = wait_until(
        lambda: [s for s in rpc.training.suggestions()["items"] if s["submission_id"] == receipt["submission_id"]],
        what="training to catch up on the suggestion",
    )
    assert found[0]["text"] == "Please run evening classes for village cadres"
    rpc.training.answer_suggestion(
        submission_id=receipt["submission_id"], adopted=True, reasons="evening classes start in the autumn term"
    )

    def answered() -> Any:
        with rpc_client(timeout=20, identity=THE_PUBLIC) as public:
            case = public.feedback.my_case(receipt_code=receipt["receipt_code"])
        return case if case["replies"] else None

    case = wait_until(answered, what="the answer to reach the submitter")
    assert case["status"] == "resolved"
    assert "Adopted" in case["replies"][-1]["text"]
    assert "evening classes start in the autumn term" in case["replies"][-1]["text"]
