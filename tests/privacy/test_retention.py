"""Retention: a submission's personal data is erased when its category's period has passed, in every store.

feedback's sweep erases the submitter in its own store and records it;
supervision and training, handed that record as the relay would send it,
erase the same subject in theirs (where the complaint's and the suggestion's
texts were sealed under it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from services.feedback.entrypoint import FeedbackService
from services.feedback.protection import generate_key
from services.feedback.service_layer import retention
from services.supervision.entrypoint import SupervisionService
from services.training.entrypoint import TrainingService
from shared.config import FeedbackSettings
from shared.db.database import Database
from shared.domain.erasure import erasure_stream
from shared.eventstore.records import ERASED
from shared.eventstore.store import EventStore
from tests.privacy.support import broken_links, keys_held, relayed
from tests.support.environment import RunEnvironment
from tests.support.identities import public_at
from tests.support.local import OnPostgres
from tests.support.platform import settings_for_tests

RETENTION = {"retention_days": 30, "retention_by_category": "complaint_about_cadre=90"}


@pytest.fixture
def services(test_env: RunEnvironment) -> Iterator[dict[str, OnPostgres]]:
    feedback = {"identity_key": generate_key(), "source_limit": 50, "receipt_limit": 50, "source_key": "k", **RETENTION}
    made = {
        cls.name: OnPostgres(cls, settings_for_tests(feedback=feedback))
        for cls in (FeedbackService, SupervisionService, TrainingService)
    }
    yield made
    for service in made.values():
        service.close()


def submit(services: dict[str, OnPostgres], category: str, text: str, **extra: Any) -> str:
    feedback = services["feedback"]
    receipt = feedback.call(
        "submit", _as=public_at("198.51.100.7"), channel="mailbox", category=category, text=text, **extra
    )
    submission_id = str(receipt["submission_id"])
    feedback.call("reject", submission_id=submission_id, reason="Outside our remit.")  # concluded
    return submission_id


def sweep(feedback: OnPostgres) -> int:
    feedback.project()
    uow = feedback.uow()
    try:
        return retention.erase_expired(uow, feedback.settings.feedback).erased
    finally:
        uow.close()


def hand_over_erasures(services: dict[str, OnPostgres], submission_id: str) -> None:
    """feedback's erasure record, as the relay sends it, to the services that follow it."""
    envelope = relayed(services["feedback"], erasure_stream(f"submitter:{submission_id}"))
    for name in ("supervision", "training"):
        assert services[name].call("on_submitter_erased", event=envelope) == "handled"


def test_a_submitters_data_is_erased_everywhere_when_its_retention_period_has_passed(
    services: dict[str, OnPostgres], database: Database
) -> None:
    general = submit(
        services,
        "general",
        "The village road is broken.",
        anonymous=False,
        identity={"name": "Chen", "contact": "+86 139"},
    )
    suggestion = submit(services, "suggestion_on_training", "More courses online, says Chen.")
    complaint = submit(services, "complaint_about_cadre", "He took a bribe.", cadre_id="c-42")
    services["training"].call("on_suggestion", event=relayed(services["feedback"], f"submission-{suggestion}", 2))
    services["supervision"].call(
        "on_routed_complaint", event=relayed(services["feedback"], f"submission-{complaint}", 2)
    )
    services["training"].project()
    assert keys_held(database, "training", f"submitter:{suggestion}") == 1
    assert keys_held(database, "supervision", f"submitter:{complaint}") == 1

    assert sweep(services["feedback"]) == 0, "nothing is due yet"
    services["feedback"].move_clock(dt.timedelta(days=31))
    assert sweep(services["feedback"]) == 2, "general and suggestion: 30 days; a complaint is kept 90"
    assert sweep(services["feedback"]) == 0, "each is erased once"

    for submission_id, category in ((general, "general"), (suggestion, "suggestion_on_training")):
        subject = f"submitter:{submission_id}"
        assert keys_held(database, "feedback", subject) == 0
        (erasure,) = EventStore(database, "feedback").read_stream(erasure_stream(subject))
        assert erasure.data["legal_basis"] == f"retention period of {category} elapsed"
        assert erasure.metadata["actor"] == "service:feedback"
        hand_over_erasures(services, submission_id)
    received = EventStore(database, "feedback").read_stream(f"submission-{general}")[0]
    assert received.data["text"] == ERASED and received.data["identity"] == {"name": ERASED, "contact": ERASED}
    assert keys_held(database, "training", f"submitter:{suggestion}") == 0
    services["training"].project()
    (line,) = services["training"].call("suggestions")["items"]
    assert line["text"] == ERASED, "the read model shows it erased at once"
    assert keys_held(database, "supervision", f"submitter:{complaint}") == 1, "the complaint is kept longer"
    case_text = next(e for e in EventStore(database, "supervision").read_all().events if e.type == "CaseOpened")
    assert case_text.data["summary"] == "He took a bribe."

    services["feedback"].move_clock(dt.timedelta(days=60))
    assert sweep(services["feedback"]) == 1
    hand_over_erasures(services, complaint)
    assert keys_held(database, "feedback", f"submitter:{complaint}") == 0
    assert keys_held(database, "supervision", f"submitter:{complaint}") == 0
    case_text = next(e for e in EventStore(database, "supervision").read_all().events if e.type == "CaseOpened")
    assert case_text.data["summary"] == ERASED
    assert all(broken_links(database, name) == [] for name in services)


def test_retention_periods_are_read_per_category_and_a_malformed_one_is_refused() -> None:
    settings = FeedbackSettings(retention_days=365, retention_by_category="complaint_about_cadre=1825, consultation=90")
    assert settings.retention_periods() == {"complaint_about_cadre": 1825, "consultation": 90}
    with pytest.raises(ValueError, match="category=days"):
        FeedbackSettings(retention_by_category="complaint_about_cadre=forever")
    with pytest.raises(ValueError, match="at least 1 day"):
        FeedbackSettings(retention_days=0)
    assert callable(FeedbackService.periodic_retention), "the sweep runs on a timer"
