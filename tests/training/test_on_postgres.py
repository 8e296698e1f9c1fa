"""The training service on its PostgreSQL store, with no broker: what needs the read models.

A program runs from plan to close and its completions reach the learners'
records, online hours capped; appointees and development targets are placed
in the open program of their kind, or await one and are placed when it is
published; the deadline check flags inductions past their year and reviews
the year just ended against its requirement; the roster gives the completion rate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from services.training.entrypoint import TrainingService
from services.training.inbound import AppointedToPost, RegisteredCadre
from services.training.service_layer import learners
from shared.eventstore.records import RecordedEvent, record_from_envelope
from tests.support import foreign
from tests.support.environment import RunEnvironment
from tests.support.local import OnPostgres
from tests.support.platform import settings_for_tests


@pytest.fixture
def training(test_env: RunEnvironment) -> Iterator[OnPostgres]:
    service = OnPostgres(TrainingService, settings_for_tests())
    yield service
    service.close()


def day(service: OnPostgres, days: int = 0) -> dt.date:
    return (service.clock.now() + dt.timedelta(days=days)).date()


def at(service: OnPostgres, days: int, hour: int = 9) -> str:
    moment = service.clock.now() + dt.timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0).isoformat()


def program(
    service: OnPostgres,
    program_id: str,
    *,
    kind: str = "thematic",
    mode: str = "classroom",
    capacity: int = 30,
    sessions: tuple[Decimal, ...] = (Decimal(8), Decimal(8)),
    publish: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    service.call(
        "plan_program",
        program_id=program_id,
        title=f"{kind} program {program_id}",
        kind=kind,
        mode=mode,
        provider="party_school",
        starts_on=day(service, 1).isoformat(),
        ends_on=day(service, 10).isoformat(),
        capacity=capacity,
        **extra,
    )
    for n, hours in enumerate(sessions, start=1):
        view = service.call(
            "schedule_session",
            program_id=program_id,
            session_id=f"s{n}",
            title=f"session {n}",
            starts_at=at(service, n),
            hours=str(hours),
        )
    if publish:
        view = service.call("publish_program", program_id=program_id)
    return dict(view)


def learner(service: OnPostgres, person_id: str, post_category: str | None = "township", **extra: Any) -> None:
    service.call(
        "register_learner",
        person_id=person_id,
        name=f"learner {person_id}",
        unit="Qingshan",
        post_category=post_category,
        **extra,
    )


def run_through(service: OnPostgres, program_id: str, people: list[str], sessions: int = 2) -> dict[str, Any]:
    """Start the program, everyone attends every session, close it."""
    service.call("start_program", program_id=program_id)
    for person in people:
        for n in range(1, sessions + 1):
            service.call("record_attendance", program_id=program_id, person_id=person, session_id=f"s{n}")
    return dict(service.call("close_program", program_id=program_id))


def test_a_program_from_plan_to_close_credits_its_learners_and_the_record_shows_it(training: OnPostgres) -> None:
    learner(training, "c1")
    learner(training, "c2")
    program(training, "p1")
    training.call("enrol", program_id="p1", person_id="c1")
    training.call("enrol", program_id="p1", person_id="c2")
    training.project()
    [row] = training.call("open_programs")["items"]
    assert (row["program_id"], row["seats_left"], Decimal(row["total_hours"])) == ("p1", 28, Decimal(16))

    training.call("start_program", program_id="p1")
    for n in (1, 2):
        training.call("record_attendance", program_id="p1", person_id="c1", session_id=f"s{n}")
    training.call("record_attendance", program_id="p1", person_id="c2", session_id="s1")
    closed = training.call("close_program", program_id="p1")
    assert (closed["completed"], closed["not_completed"]) == (["c1"], ["c2"])

    training.project()
    record = training.call("learner_record", person_id="c1")
    year = training.clock.now().year
    assert [(y["year"], Decimal(y["counted_hours"])) for y in record["years"]] == [(year, Decimal(16))]
    assert Decimal(record["window_hours"]) == Decimal(16)
    assert [c["program_id"] for c in record["courses"]] == ["p1"]
    assert training.call("learner_record", person_id="c2")["courses"] == []
    roster = training.call("roster", program_id="p1")
    assert (roster["enrolled"], roster["completed"], Decimal(roster["completion_rate"])) == (2, 1, Decimal("0.5"))


def test_online_hours_count_up_to_the_years_share(training: OnPostgres) -> None:
    learner(training, "c1")
    year = training.clock.now().year
    training.call("set_requirement", year=year, post_category="township", hours="40", online_share="0.25")
    program(training, "classroom", sessions=(Decimal(9),))
    program(training, "online", mode="online", sessions=(Decimal(8),))
    for program_id in ("classroom", "online"):
        training.call("enrol", program_id=program_id, person_id="c1")
        run_through(training, program_id, ["c1"], sessions=1)
    training.project()
    [line] = training.call("learner_record", person_id="c1")["years"]
    # a quarter of the total may be online: 9 classroom hours let 3 online hours count
    assert (Decimal(line["offline_hours"]), Decimal(line["online_hours"]), Decimal(line["counted_hours"])) == (
        Decimal(9),
        Decimal(8),
        Decimal(12),
    )


def event(source: str, event_type: str, stream_id: str, data: dict[str, Any] | None = None) -> RecordedEvent:
    return record_from_envelope(foreign.envelope(source, event_type, stream_id, data or {}))


def register_cadre(service: OnPostgres, cadre_id: str, post_category: str = "township") -> None:
    uow = service.uow()
    try:
        learners.cadre_registered(
            RegisteredCadre(f"cadre {cadre_id}", "Qingshan", post_category),
            event("cadre", "CadreRegistered", f"cadre-{cadre_id}"),
            uow,
        )
    finally:
        uow.close()


def appoint(service: OnPostgres, cadre_id: str, post_id: str) -> str | None:
    uow = service.uow()
    try:
        appointed = AppointedToPost(post_id, service.clock.now())
        return learners.appointed_to_post(appointed, event("cadre", "CadreAppointedToPost", f"cadre-{cadre_id}"), uow)
    finally:
        uow.close()


def test_an_appointee_is_enrolled_in_the_open_induction_program(training: OnPostgres) -> None:
    program(training, "induction-26", kind="induction")
    training.project()
    register_cadre(training, "c9")
    assert appoint(training, "c9", "deputy-head") == "induction-26"
    training.project()
    roster = training.call("roster", program_id="induction-26")
    assert [(line["person_id"], line["source"]) for line in roster["learners"]] == [("c9", "on_appointment")]
    [due] = training.call("inductions", status="due")["items"]
    assert (due["person_id"], due["post_id"]) == ("c9", "deputy-head")


def test_an_appointee_with_no_induction_open_awaits_one_and_is_placed_when_it_is_published(
    training: OnPostgres,
) -> None:
    register_cadre(training, "c9")
    assert appoint(training, "c9", "deputy-head") is None
    training.project()
    assert training.call("learner_record", person_id="c9")["awaiting"] == ["induction"]
    view = program(training, "induction-27", kind="induction")
    assert view["placed"] == ["c9"] and view["seats_left"] == 29
    training.project()
    assert training.call("learner_record", person_id="c9")["awaiting"] == []
