"""A history with every service's events in it, written the way the platform writes it, without a broker.

Each service runs on its PostgreSQL store in this process (``OnPostgres``), on
one shared clock; the demo's stories drive them through their RPC methods,
and each event another service handles is handed to that service's real
handler (``hand_over``): the inbox, the chain check and the unit of work that
records the cause, its hash included, exactly as the router would run it. So
the stores hold commands' events and handlers' events, across services,
linked by correlation and causation: what the audit commands read.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.cadre.entrypoint import CadreService
from services.feedback.entrypoint import FeedbackService
from services.feedback.protection import generate_key
from services.grassroots.entrypoint import GrassrootsService
from services.scenarios import publish_program, run_program, run_selection
from services.scenarios.grassroots import found_branch
from services.supervision.entrypoint import SupervisionService
from services.talent.entrypoint import TalentService
from services.training.entrypoint import TrainingService
from shared.application.memory import DEFAULT_START
from shared.domain.calendar import ManualClock
from shared.eventstore.records import Metadata, NewEvent, RecordedEvent, stream_category
from shared.eventstore.store import EventStore
from shared.runtime.messaging.inbound import Handles
from shared.runtime.service import ServiceBase
from tests.support.identities import public_at
from tests.support.local import OnPostgres, worker
from tests.support.platform import settings_for_tests

SERVICES: tuple[type[ServiceBase], ...] = (
    CadreService,
    TrainingService,
    TalentService,
    SupervisionService,
    FeedbackService,
    GrassrootsService,
)
#: Stored events as earlier versions of the code wrote them: one of each (service, type, version, shape).
#: Never regenerated to make a failing check pass; only to add what new versions store (see ``record``).
RECORDED = Path(__file__).parent / "fixtures" / "stored_history.json"
MEETING = [{"name": "Zhao", "role": "organization"}, {"name": "Qian", "role": "discipline_inspection"}]


def handlers_of(service_cls: type[ServiceBase]) -> dict[tuple[str, str], str]:
    """``{(source, event type): method name}`` of a service's ``@handles`` methods."""
    found = {}
    for name in dir(service_cls):
        for entrypoint in getattr(getattr(service_cls, name, None), "nameko_entrypoints", ()):
            if isinstance(entrypoint, Handles):
                found[(entrypoint.source, entrypoint.event_type)] = name
    return found


def stored(service: OnPostgres) -> list[RecordedEvent]:
    return EventStore(service.database, service.service_cls.name).read_by_position(0, 100_000)


def hand_over(source: OnPostgres, target: OnPostgres, handled: set[str] | None = None) -> list[tuple[str, str]]:
    """Every event of ``source``'s store that ``target`` handles, through its handler, in store order.

    Returns ``(event id, outcome)`` pairs; ``handled`` (event ids already
    given to ``target``) keeps a second hand-over from repeating the first.
    """
    handlers = handlers_of(target.service_cls)
    outcomes = []
    for record in stored(source):
        method = handlers.get((source.service_cls.name, record.type))
        if method is None or (handled is not None and record.event_id in handled):
            continue
        uow = target.uow()
        try:
            outcomes.append(
                (record.event_id, getattr(worker(target.service_cls, uow, target.settings), method)(record))
            )
        finally:
            uow.close()
        if handled is not None:
            handled.add(record.event_id)
    return outcomes


@dataclass
class Platform:
    """The six services on their stores, in this process, on one clock."""

    clock: ManualClock = field(default_factory=lambda: ManualClock(DEFAULT_START))
    services: dict[str, OnPostgres] = field(default_factory=dict)
    handed: dict[tuple[str, str], set[str]] = field(default_factory=dict)

    def __getitem__(self, name: str) -> OnPostgres:
        return self.services[name]

    def move_clock(self, delta: dt.timedelta) -> None:
        self.clock.advance(delta)

    def hand_over(self, source: str, target: str) -> list[tuple[str, str]]:
        """What ``target`` handles of ``source``'s events not yet handed to it."""
        seen = self.handed.setdefault((source, target), set())
        return hand_over(self[source], self[target], seen)


@contextmanager
def platform(*classes: type[ServiceBase]) -> Iterator[Platform]:
    """Fresh stores (schemas dropped and migrated again) for ``classes`` (every service by default)."""
    settings = settings_for_tests(feedback={"identity_key": generate_key(), "source_key": "history-source-key"})
    made = Platform()
    try:
        for cls in classes or SERVICES:
            made.services[cls.name] = OnPostgres(cls, settings, made.clock)
        yield made
    finally:
        for service in made.services.values():
            service.close()


def write_history(p: Platform) -> dict[str, Any]:
    """Every service's part: the demo's selection, programs, a case, tasks, complaints, a branch, talents.

    Returns what later checks look for (the selection's correlation id, a few ids).
    """
    cadre, training, talent = p["cadre"].proxy, p["training"].proxy, p["talent"].proxy
    supervision, feedback, grassroots = p["supervision"].proxy, p["feedback"].proxy, p["grassroots"].proxy
    today = p.clock.now().date()

    publish_program(training, "h-induction", "Induction", "induction", today, days=1, hours="16", span=30)
    view = run_selection(cadre, p.move_clock, "h")
    p.hand_over("cadre", "training")  # learners' ledgers; the appointee enrolled in the induction program
    p.hand_over("cadre", "talent")
    p.hand_over("cadre", "feedback")  # the notices the public saw

    training.register_learner(person_id="h-staff1", name="Staff one", unit="Qingshan", post_category="township")
    publish_program(training, "h-thematic", "Thematic course", "thematic", p.clock.now().date())
    training.enrol(program_id="h-thematic", person_id="h-staff1")
    run_program(training, "h-thematic", ["h-staff1"])
    p.hand_over("training", "cadre")  # credit totals
    p.hand_over("training", "talent")

    talent.register_talent(
        person_id="h-wu",
        team="professional_technical",
        name="Engineer Wu",
        specialty="irrigation",
        level="senior",
        source="local",
        unit="Water bureau",
    )
    talent.evaluate(
        person_id="h-wu",
        period="2026",
        evaluator_id="h-feng",
        evaluator_kind="peers",
        integrity=90,
        ability=85,
        performance=88,
    )

    supervision.open_case(case_id="h-case", cadre_id="h-c2", summary="a report about a candidate")
    supervision.assign_case(case_id="h-case", investigator="Zhao")
    supervision.hold_joint_meeting(case_id="h-case", participants=MEETING, decision="not borne out")
    supervision.record_outcome(case_id="h-case", substantiated=False, reasons="no record of it")
    deadline = (p.clock.now() + dt.timedelta(days=20)).isoformat()
    supervision.assign_task(
        task_id="h-task", kind="key", unit="Qingshan", goal="repair roads", deadline=deadline, responsible="Sun"
    )
    supervision.record_finding(task_id="h-task", finding="two roads still broken")
    supervision.complete_task(task_id="h-task", summary="repaired")
    p.hand_over("supervision", "cadre")
    p.hand_over("supervision", "talent")
    p.hand_over("supervision", "feedback")

    public = public_at("198.51.100.9")
    complaint = p["feedback"].call(
        "submit",
        _as=public,
        channel="hotline",
        category="complaint_about_cadre",
        text="He took a gift.",
        cadre_id="h-c3",
    )
    suggestion = p["feedback"].call(
        "submit", _as=public, channel="suggestion_box", category="suggestion_on_training", text="More online courses."
    )
    general = p["feedback"].call(
        "submit", _as=public, channel="mailbox", category="general", text="The road is broken."
    )
    feedback.reply(submission_id=general["submission_id"], text="The township will repair it.")
    feedback.resolve(submission_id=general["submission_id"], text="Repaired.")
    p.hand_over("feedback", "supervision")  # the complaint opens a case
    p.hand_over("feedback", "training")  # the suggestion reaches training
    training.answer_suggestion(submission_id=suggestion["submission_id"], adopted=True, reasons="we add two courses")
    p.hand_over("training", "feedback")
    p.hand_over("supervision", "feedback")

    members = [f"h-m{n}" for n in range(1, 8)]
    branch = found_branch(grassroots, "h", members)
    grassroots.apply(person_id="h-zhou", name="Zhou Min", birth_date="1996-02-03", branch_id=branch)
    grassroots.hold_talk(person_id="h-zhou", talked_by="h-m1")
    grassroots.rate_branch(branch_id=branch, year=2025, criteria_score=70, survey_satisfaction=80, problems=["lax"])
    p.hand_over("grassroots", "supervision")
    p.hand_over("grassroots", "talent")
    p.hand_over("grassroots", "training")

    with p["cadre"].database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT metadata->>'correlation_id' FROM cadre.events WHERE stream_id = %s AND version = 1",
            [f"selection-{view['process_id']}"],
        )
        row = cur.fetchone()
    return {"selection": view["process_id"], "correlation_id": row[0] if row else None, "complaint": complaint}


def samples(p: Platform) -> list[dict[str, Any]]:
    """One stored event of each (service, type, schema version, payload keys), as the stores hold them."""
    chosen: dict[tuple[str, str, int, tuple[str, ...]], dict[str, Any]] = {}
    for name, service in p.services.items():
        for e in stored(service):
            key = (name, e.type, e.schema_version, tuple(sorted(e.data)))
            chosen.setdefault(
                key,
                {
                    "service": name,
                    "stream_id": e.stream_id,
                    "type": e.type,
                    "schema_version": e.schema_version,
                    "data": e.data,
                },
            )
    return list(chosen.values())


def record(p: Platform, path: Path = RECORDED) -> int:
    """Write ``samples`` to ``path`` (the recorded history), sorted so that a diff shows what changed."""
    events = sorted(samples(p), key=lambda e: (e["service"], e["type"], e["schema_version"], sorted(e["data"])))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"events": events}, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    return len(events)


def restore(p: Platform, path: Path = RECORDED) -> int:
    """Store the recorded events again, each in a stream of its own (same category), as they were stored then."""
    events = json.loads(path.read_text())["events"]
    metadata = Metadata(actor="fixture:recorded-history", reason="an event as an earlier version stored it")
    for n, e in enumerate(events):
        stream = f"{stream_category(e['stream_id'])}-recorded{n}"
        new = NewEvent(e["type"], e["data"], e["schema_version"])
        EventStore(p[e["service"]].database, e["service"]).append(stream, [new], 0, metadata)
    return len(events)
