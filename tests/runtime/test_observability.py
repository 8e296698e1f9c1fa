"""What operators read: log lines, the metrics registry, missed deadlines, checkpoint ages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
import logging
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.metrics import MetricWrapperBase

from services.feedback import messages as m
from services.feedback.domain.policy import Category, Channel
from services.feedback.domain.submission import Submission
from services.feedback.entrypoint import FeedbackService
from services.feedback.service_layer import deadlines, submissions
from services.grassroots.service_layer import affairs
from services.supervision.service_layer import inspections
from services.talent.service_layer import platforms
from services.training.service_layer import requirements
from shared.application import Author, Sweep, UnitOfWork, sweeps
from shared.application.memory import InMemoryUnitOfWork
from shared.db.database import Database
from shared.domain import Repository
from shared.eventstore.records import Metadata, RecordedEvent
from shared.eventstore.store import EventStore
from shared.projections.runner import ProjectionRunner
from shared.runtime.messaging.subscriptions import SubscriptionBook
from shared.runtime.observability import logs, metrics
from shared.runtime.operations import CheckpointAges
from tests.support.apps.ledger.service import Account, Ledger
from tests.support.apps.tally.service import AccountTally, Tally, Totals
from tests.support.local import memory_uow
from tests.support.probes import deposit_directly

RFC3339_UTC_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")

# -- logs ------------------------------------------------------------------------------------


@pytest.fixture
def in_shanghai(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The host's timezone eight hours from UTC: the logs' time must not follow it."""
    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def log_record(created: float) -> logging.LogRecord:
    record = logging.LogRecord("orgwork.test", logging.WARNING, __file__, 1, "disk %s", ("full",), None)
    record.created, record.msecs = created, (created - int(created)) * 1000
    logs.ContextFilter().filter(record)
    return record


def test_a_json_line_has_its_time_in_rfc3339_utc_to_the_millisecond(in_shanghai: None) -> None:
    at = dt.datetime(2026, 12, 2, 20, 43, 17, 123456, tzinfo=dt.UTC).timestamp()
    line = json.loads(logs.JsonLineFormatter().format(log_record(at)))
    assert line["time"] == "2026-12-02T20:43:17.123Z"
    assert (line["level"], line["logger"], line["message"]) == ("WARNING", "orgwork.test", "disk full")
    whole_second = json.loads(logs.JsonLineFormatter().format(log_record(int(at))))
    assert whole_second["time"] == "2026-12-02T20:43:17.000Z", "always three digits"


def test_a_human_line_starts_with_the_same_rfc3339_time(in_shanghai: None) -> None:
    at = dt.datetime(2027, 1, 1, 0, 0, 0, 5000, tzinfo=dt.UTC).timestamp()
    line = logs.HumanFormatter(logs.HUMAN_FORMAT).format(log_record(at))
    assert line.startswith("2027-01-01T00:00:00.005Z WARNING ")
    assert line.endswith("orgwork.test: disk full")


@pytest.mark.parametrize("fmt", ["json", "human"])
def test_configured_logs_write_rfc3339_times(fmt: str, monkeypatch: pytest.MonkeyPatch) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure_logging("ledger", fmt)
        logging.getLogger("orgwork.test").warning("hello")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    line = stream.getvalue().strip()
    stamp = json.loads(line)["time"] if fmt == "json" else line.split(" ", 1)[0]
    assert RFC3339_UTC_MS.match(stamp), line
    written = dt.datetime.fromisoformat(stamp)
    assert written.utcoffset() == dt.timedelta(0)
    assert abs(written.timestamp() - time.time()) < 60


# -- the registry ----------------------------------------------------------------------------


def test_the_registry_serves_the_process_and_python_collectors() -> None:
    scrape = generate_latest(metrics.REGISTRY).decode()
    for name in ("process_cpu_seconds_total", "process_resident_memory_bytes", "process_start_time_seconds"):
        assert re.search(rf"^{name} \d", scrape, re.MULTILINE), name
    assert re.search(r'^python_info\{.*implementation="CPython"', scrape, re.MULTILINE)
    assert "python_gc_objects_collected_total" in scrape


def test_every_orgwork_metric_names_its_service_orgwork_service_never_service() -> None:
    declared = [value for value in vars(metrics).values() if isinstance(value, MetricWrapperBase)]
    assert {metric._name for metric in declared} >= {
        "orgwork_checkpoint_age_seconds",
        "orgwork_deadlines_missed",  # a counter's name, without its _total
        "orgwork_store_horizon_lag_seconds",
        "orgwork_relay_lag_seconds",
        "orgwork_events_handled",
    }
    for metric in declared:
        assert metric._name.startswith("orgwork_"), metric._name
        assert metric._labelnames[0] == "orgwork_service" and "service" not in metric._labelnames, metric._name
    assert metrics.CHECKPOINT_AGE_SECONDS._labelnames == ("orgwork_service", "checkpoint")
    assert metrics.DEADLINES_MISSED._labelnames == ("orgwork_service", "kind")


# -- missed deadlines ------------------------------------------------------------------------


def missed(kind: str) -> float:
    labels = {"orgwork_service": "feedback", "kind": kind}
    return metrics.REGISTRY.get_sample_value("orgwork_deadlines_missed_total", labels) or 0.0


def received(uow: InMemoryUnitOfWork, submission_id: str) -> None:
    uow.create(
        Submission,
        submission_id,
        lambda s: s.receive(
            Channel.CONSULTATION,
            Category.CONSULTATION,
            "How are cadres appraised?",
            "h" * 64,
            True,
            None,
            uow.clock.now(),
            uow.calendar,
        ),
        Author("public"),
    )


def sweep_over(ids: Iterable[str]) -> Sweep[Submission]:
    def due(uow: UnitOfWork, now: dt.datetime) -> list[str]:
        return list(ids)

    return dataclasses.replace(deadlines.BREACHES, due=due)


@pytest.fixture
def counted() -> None:
    """The runtime's listener, as every service's ``Operations`` registers it."""
    sweeps.on_missed_deadline(metrics.count_missed_deadline)


def test_each_breach_a_sweep_records_is_counted_once_by_kind(counted: None) -> None:
    uow = memory_uow(FeedbackService)
    for name in ("s1", "s2", "s3"):
        received(uow, name)
    first, resolution = missed("first_reply"), missed("resolution")
    uow.clock.advance(dt.timedelta(days=7))  # past 3 working days for a first reply, within 10 for a resolution

    assert deadlines.check_deadlines(uow, sweep_over(["s1", "s2"])).breaches == 2
    assert (missed("first_reply") - first, missed("resolution") - resolution) == (2, 0)
    deadlines.check_deadlines(uow, sweep_over(["s1", "s2"]))
    assert missed("first_reply") - first == 2, "a second sweep finds the same breaches recorded: not again"

    uow.clock.advance(dt.timedelta(days=14))
    assert deadlines.check_deadlines(uow, sweep_over(["s1", "s2", "s3"])).breaches == 4
    assert (missed("first_reply") - first, missed("resolution") - resolution) == (3, 3)


def test_a_breach_recorded_by_a_late_reply_counts_and_one_rolled_back_does_not(counted: None) -> None:
    uow = memory_uow(FeedbackService)
    received(uow, "late")
    received(uow, "undone")
    before = missed("first_reply")
    uow.clock.advance(dt.timedelta(days=7))

    with pytest.raises(RuntimeError), uow.transaction():
        submissions.reply(m.ReplyTo(actor="clerk Li", submission_id="undone", text="sorry"), uow)
        raise RuntimeError("the transaction fails after the breach was recorded")
    assert missed("first_reply") == before, "nothing committed, nothing counted"

    submissions.reply(m.ReplyTo(actor="clerk Li", submission_id="late", text="sorry"), uow)
    assert missed("first_reply") == before + 1


def an_event(type_: str, **data: Any) -> RecordedEvent:
    return RecordedEvent(1, 1, "x-1", 1, "e", type_, 1, data, {}, b"\0" * 32, b"\0" * 32)


@pytest.mark.parametrize(
    ("sweep", "record", "kind"),
    [
        (deadlines.BREACHES, an_event("DeadlineBreached", deadline="resolution"), "resolution"),
        (inspections.OVERDUE, an_event("InspectionTaskEscalated"), "inspection_task"),
        (inspections.OVERDUE, an_event("InspectionNoticeIssued"), None),
        (affairs.MISSED_STEPS, an_event("DevelopmentDeadlineMissed", step="talk"), "talk"),
        (affairs.MISSED_PUBLICATIONS, an_event("PublicationMissed", category="finance"), "affairs_publication"),
        (
            requirements.OVERDUE_INDUCTIONS,
            an_event("RequirementShortfallFlagged", requirement="induction"),
            "induction",
        ),
    ],
)
def test_every_deadline_sweep_names_the_breaches_it_records(
    sweep: Sweep[Any], record: RecordedEvent, kind: str
) -> None:
    assert sweep.missed is not None
    assert sweep.missed(record) == kind


def test_the_yearly_review_counts_a_shortfall_and_an_expiry_is_no_breach() -> None:
    assert requirements.missed(an_event("RequirementShortfallFlagged", requirement="yearly")) == "yearly_requirement"
    assert requirements.missed(an_event("RequirementMet")) is None
    assert platforms.EXPIRED_NEEDS.missed is None, "a talent need that expires breaks no one's deadline"


# -- checkpoint ages -------------------------------------------------------------------------


def ages(database: Database, scan_limit: int = 1000, ahead: float = 100.0) -> dict[str, float]:
    """Tally's checkpoint ages, ``ahead`` seconds from now (so an event just stored is that old)."""
    measure = CheckpointAges("tally", ["totals"], {"ledger": ["Deposited"]}, scan_limit)
    return measure.measure(database, now=time.time() + ahead)


def last_cursor(database: Database, schema: str) -> Any:
    return EventStore(database, schema).read_all(limit=10_000).events[-1].cursor


def move_subscription(database: Database, cursor: Any) -> None:
    with database.transaction() as conn:
        SubscriptionBook("tally").open(conn, "ledger")
        SubscriptionBook("tally").move(conn, "ledger", cursor)


def close_account(database: Database, account_id: str) -> None:
    repository = Repository(Account, EventStore(database, "ledger"), Ledger.events)
    account = repository.load(account_id)
    account.close("moved away")
    repository.save(account, Metadata(actor="test"))


def test_a_checkpoint_with_nothing_to_take_is_zero_however_long_it_stood_still(apps: None, database: Database) -> None:
    assert ages(database, ahead=86_400) == {"projection:totals": 0.0, "subscription:ledger": 0.0}


def test_a_subscription_is_as_old_as_the_oldest_event_of_its_types_it_has_not_taken(
    apps: None, database: Database
) -> None:
    deposit_directly(database, "a-1", 5)
    assert 99 <= ages(database)["subscription:ledger"] < 110, "the deposit waits for tally"

    move_subscription(database, last_cursor(database, "ledger"))
    close_account(database, "a-1")
    assert ages(database)["subscription:ledger"] == 0.0, "tally does not handle AccountClosed: nothing owed"

    deposit_directly(database, "a-2", 5)
    assert 99 <= ages(database)["subscription:ledger"] < 110


def test_the_search_for_the_next_owed_event_goes_on_from_where_it_stopped(apps: None, database: Database) -> None:
    deposit_directly(database, "b-1", 1)
    move_subscription(database, last_cursor(database, "ledger"))
    close_account(database, "b-1")
    deposit_directly(database, "b-2", 1, count=3)
    close_account(database, "b-2")
    deposit_directly(database, "b-3", 1)  # owed, behind one AccountClosed then three deposits
    measure = CheckpointAges("tally", [], {"ledger": ["Deposited"]}, scan_limit=1)
    now = time.time() + 100
    assert measure.measure(database, now) == {"subscription:ledger": 0.0}, "one event looked at: not of its types"
    assert measure.measure(database, now)["subscription:ledger"] >= 99, "the next one is a deposit, owed"

    move_subscription(database, last_cursor(database, "ledger"))
    assert measure.measure(database, now) == {"subscription:ledger": 0.0}


def test_a_projection_is_as_old_as_the_first_event_past_its_checkpoint(apps: None, database: Database) -> None:
    tallies = Repository(AccountTally, EventStore(database, "tally"), Tally.events)
    tally = tallies.load_or_new("c-1")
    tally.count(1, 10)
    tallies.save(tally, Metadata(actor="test"))
    assert 99 <= ages(database)["projection:totals"] < 110

    ProjectionRunner(database, "tally", Totals(), Tally.events).catch_up()
    assert ages(database)["projection:totals"] == 0.0
