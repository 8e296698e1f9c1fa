"""A person's talent record, at its boundaries: pure Python, no database, no broker.

One record a person; where they serve, recorded only when it changes; leaving
only while active (not twice) and coming back only after leaving; an
evaluation by anyone but the person (nor their cadre or member self), once an
evaluator a period, each of integrity, ability and performance scored 0 to
100 (the rule broken names the dimension); an appraisal and a training noted
only on a record, once each; an incentive ending on or after the day it
starts, and never two of the same kind at once (a day in common is an
overlap, the day after is not). A refused command leaves the record as it was.
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import pytest

from services.talent.domain.events import (
    AppraisalNoted,
    IncentiveGranted,
    TalentEvaluated,
    TalentLeft,
    TalentPostUpdated,
    TalentRegistered,
    TalentReturned,
    TrainingNoted,
)
from services.talent.domain.kinds import DepartureReason, EvaluatorKind, Source, Team
from services.talent.domain.talent import ACTIVE, LEFT, TalentRecord
from shared.domain.calendar import months_after
from shared.errors import RuleViolation

REGISTERED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
PEERS = EvaluatorKind.PEERS
HOUSING = "housing_allowance"
STIPEND = "research_stipend"
JAN_1, JUN_30 = dt.date(2026, 1, 1), dt.date(2026, 6, 30)
DAY = dt.timedelta(days=1)


def broken(rule: str) -> AbstractContextManager[Any]:
    """Expect the command to break exactly ``rule``."""
    return pytest.raises(RuleViolation, match=rf"\[rule: {re.escape(rule)}\]")


def recorded(talent: TalentRecord, command: Any) -> list[Any]:
    """Run ``command`` on the record; give what it recorded."""
    before = len(talent.pending_events)
    command(talent)
    return talent.pending_events[before:]


def untouched(talent: TalentRecord, version: int) -> bool:
    return talent.version == version and len(talent.pending_events) == version


def registered(cadre_id: str | None = "c1", member_id: str | None = "m1") -> TalentRecord:
    talent = TalentRecord("t1")
    talent.register(
        Team.PROFESSIONAL_TECHNICAL,
        "Chen Jing",
        "agronomy",
        "senior",
        Source.LOCAL,
        "u1",
        cadre_id,
        member_id,
        REGISTERED,
    )
    return talent


def evaluate(
    talent: TalentRecord,
    evaluator_id: str = "e1",
    period: str = "2026",
    integrity: int = 80,
    ability: int = 80,
    performance: int = 80,
) -> list[Any]:
    """Evaluate the record; give what it recorded."""
    return recorded(
        talent,
        lambda t: t.evaluate(period, evaluator_id, PEERS, integrity, ability, performance, ["report"], LATER),
    )


def granted(program_id: str = "p1", kind: str = HOUSING, starts_on: dt.date = JAN_1, ends_on: dt.date = JUN_30) -> Any:
    """The command granting an incentive, for ``recorded``."""
    return lambda t: t.grant_incentive(program_id, kind, starts_on, ends_on)


# -- the record -----------------------------------------------------------------------------


def test_a_person_has_one_record() -> None:
    talent = registered()
    assert talent.pending_events == [
        TalentRegistered(
            "professional_technical", "Chen Jing", "agronomy", "senior", "local", "u1", "c1", "m1", REGISTERED
        )
    ]
    assert talent.state.registered and talent.state.status == ACTIVE
    with broken("talent.once"):
        talent.register(
            Team.HIGHLY_SKILLED, "Chen Jing", "welding", "junior", Source.INTRODUCED, "u2", None, None, LATER
        )
    assert talent.state.team == "professional_technical" and talent.state.unit == "u1" and untouched(talent, 1)


@pytest.mark.parametrize(
    "command",
    [
        lambda t: t.serve("u1", "head", LATER),
        lambda t: t.leave(DepartureReason.PAY, "", LATER),
        lambda t: t.come_back(LATER),
        lambda t: t.evaluate("2026", "e1", PEERS, 80, 80, 80, [], LATER),
        granted(),
    ],
    ids=["serve", "leave", "come_back", "evaluate", "grant_incentive"],
)
def test_a_person_without_a_record_is_refused(command: Any) -> None:
    talent = TalentRecord("t1")
    with broken("talent.exists"):
        command(talent)
    assert not talent.state.registered and untouched(talent, 0)


# -- where the person serves ----------------------------------------------------------------


def test_serving_records_a_post_only_when_it_changes() -> None:
    talent = registered()
    assert recorded(talent, lambda t: t.serve("u1", "head", LATER)) == [TalentPostUpdated("u1", "head", LATER)]
    assert recorded(talent, lambda t: t.serve("u1", "head", LATER + DAY)) == []
    assert recorded(talent, lambda t: t.serve("u1", "deputy", LATER + DAY)) == [
        TalentPostUpdated("u1", "deputy", LATER + DAY)
    ]
    assert recorded(talent, lambda t: t.serve("u2", "deputy", LATER + 2 * DAY)) == [
        TalentPostUpdated("u2", "deputy", LATER + 2 * DAY)
    ]
    assert (talent.state.unit, talent.state.post) == ("u2", "deputy")


# -- comings and goings ---------------------------------------------------------------------


def test_a_person_leaves_only_while_active() -> None:
    talent = registered()
    assert recorded(talent, lambda t: t.leave(DepartureReason.CAREER, "no room to grow", LATER)) == [
        TalentLeft("career", "no room to grow", LATER)
    ]
    assert talent.state.status == LEFT
    version = talent.version
    with broken("talent.active"):
        talent.leave(DepartureReason.PAY, "again", LATER + DAY)
    assert talent.state.status == LEFT and untouched(talent, version)


def test_a_person_comes_back_only_after_leaving() -> None:
    talent = registered()
    with broken("talent.left"):
        talent.come_back(LATER)
    assert talent.state.status == ACTIVE and not talent.state.returned and untouched(talent, 1)
    talent.leave(DepartureReason.FAMILY, "", LATER)
    assert recorded(talent, lambda t: t.come_back(LATER + DAY)) == [TalentReturned(LATER + DAY)]
    assert talent.state.status == ACTIVE and talent.state.returned
    version = talent.version
    with broken("talent.left"):
        talent.come_back(LATER + 2 * DAY)
    assert untouched(talent, version)
    assert recorded(talent, lambda t: t.leave(DepartureReason.RETIREMENT, "", LATER + 3 * DAY)) != []


# -- evaluation -----------------------------------------------------------------------------


@pytest.mark.parametrize("evaluator_id", ["t1", "c1", "m1"], ids=["the_record", "its_cadre", "its_member"])
def test_no_one_evaluates_themself(evaluator_id: str) -> None:
    talent = registered()
    with broken("evaluation.not_oneself"):
        evaluate(talent, evaluator_id)
    assert talent.state.evaluated == [] and untouched(talent, 1)


def test_a_record_with_no_cadre_or_member_is_evaluated_by_anyone_else() -> None:
    talent = registered(cadre_id=None, member_id=None)
    assert evaluate(talent, "c1") == [TalentEvaluated("2026", "c1", "peers", 80, 80, 80, ["report"], LATER)]
    with broken("evaluation.not_oneself"):
        evaluate(talent, "t1")


def test_an_evaluator_evaluates_once_a_period() -> None:
    talent = registered()
    assert evaluate(talent, "e1", "2026") == [TalentEvaluated("2026", "e1", "peers", 80, 80, 80, ["report"], LATER)]
    version = talent.version
    with broken("evaluation.once_a_period"):
        evaluate(talent, "e1", "2026", 90, 90, 90)
    assert talent.state.evaluated == ["2026/e1"] and untouched(talent, version)
    assert len(evaluate(talent, "e1", "2027")) == 1
    assert len(evaluate(talent, "e2", "2026")) == 1
    assert talent.state.evaluated == ["2026/e1", "2027/e1", "2026/e2"]


@pytest.mark.parametrize("dimension", ["integrity", "ability", "performance"])
@pytest.mark.parametrize("score", [-1, 101])
def test_a_score_outside_0_to_100_is_refused_naming_its_dimension(dimension: str, score: int) -> None:
    talent = registered()
    scores = {"integrity": 80, "ability": 80, "performance": 80, dimension: score}
    with broken(f"evaluation.{dimension}"):
        evaluate(talent, integrity=scores["integrity"], ability=scores["ability"], performance=scores["performance"])
    assert talent.state.evaluated == [] and untouched(talent, 1)


@pytest.mark.parametrize("score", [0, 100])
def test_scores_of_0_and_100_are_accepted(score: int) -> None:
    talent = registered()
    assert evaluate(talent, integrity=score, ability=score, performance=score) == [
        TalentEvaluated("2026", "e1", "peers", score, score, score, ["report"], LATER)
    ]


# -- appraisals and trainings ---------------------------------------------------------------


def test_an_appraisal_is_noted_only_on_a_record_and_once() -> None:
    nobody = TalentRecord("t1")
    assert recorded(nobody, lambda t: t.note_appraisal("cycle-2025", "excellent", Decimal("92.5"), LATER)) == []
    assert nobody.state.appraisals == [] and untouched(nobody, 0)
    talent = registered()
    assert recorded(talent, lambda t: t.note_appraisal("cycle-2025", "excellent", Decimal("92.5"), LATER)) == [
        AppraisalNoted("cycle-2025", "excellent", Decimal("92.5"), LATER)
    ]
    assert recorded(talent, lambda t: t.note_appraisal("cycle-2025", "competent", Decimal("70"), LATER + DAY)) == []
    assert recorded(talent, lambda t: t.note_appraisal("cycle-2026", "competent", Decimal("70"), LATER + DAY)) == [
        AppraisalNoted("cycle-2026", "competent", Decimal("70"), LATER + DAY)
    ]
    assert talent.state.appraisals == ["cycle-2025", "cycle-2026"]


def test_a_training_is_noted_only_on_a_record_and_once() -> None:
    nobody = TalentRecord("t1")
    assert recorded(nobody, lambda t: t.note_training("course-1", "thematic", Decimal(24), LATER)) == []
    assert nobody.state.trainings == [] and untouched(nobody, 0)
    talent = registered()
    assert recorded(talent, lambda t: t.note_training("course-1", "thematic", Decimal(24), LATER)) == [
        TrainingNoted("course-1", "thematic", Decimal(24), LATER)
    ]
    assert recorded(talent, lambda t: t.note_training("course-1", "thematic", Decimal(30), LATER + DAY)) == []
    assert recorded(talent, lambda t: t.note_training("course-2", "thematic", Decimal(8), LATER + DAY)) == [
        TrainingNoted("course-2", "thematic", Decimal(8), LATER + DAY)
    ]
    assert talent.state.trainings == ["course-1", "course-2"]


# -- incentives -----------------------------------------------------------------------------


def test_an_incentive_ends_on_or_after_the_day_it_starts() -> None:
    talent = registered()
    with broken("incentive.dates"):
        talent.grant_incentive("p1", HOUSING, JAN_1, JAN_1 - DAY)
    assert talent.state.incentives == [] and untouched(talent, 1)
    assert recorded(talent, granted("p1", HOUSING, JAN_1, JAN_1)) == [
        IncentiveGranted("t1", "p1", HOUSING, JAN_1, JAN_1)
    ]


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [
        (JUN_30, dt.date(2026, 12, 31)),  # starts on the day the first ends
        (dt.date(2025, 7, 1), JAN_1),  # ends on the day the first starts
        (dt.date(2026, 3, 1), dt.date(2026, 3, 31)),  # within it
        (dt.date(2025, 12, 1), dt.date(2026, 12, 31)),  # around it
        (JAN_1, JUN_30),  # the same time
    ],
)
def test_two_incentives_of_a_kind_overlapping_by_a_day_or_more_are_refused(
    starts_on: dt.date, ends_on: dt.date
) -> None:
    talent = registered()
    talent.grant_incentive("p1", HOUSING, JAN_1, JUN_30)
    version = talent.version
    with broken("incentive.not_twice_at_once"):
        talent.grant_incentive("p2", HOUSING, starts_on, ends_on)
    assert [i.program_id for i in talent.state.incentives] == ["p1"] and untouched(talent, version)


@pytest.mark.parametrize(
    ("starts_on", "ends_on"),
    [
        (JUN_30 + DAY, dt.date(2026, 12, 31)),  # from the day after the first ends
        (dt.date(2025, 7, 1), JAN_1 - DAY),  # until the day before the first starts
    ],
)
def test_incentives_of_a_kind_one_after_the_other_are_granted(starts_on: dt.date, ends_on: dt.date) -> None:
    talent = registered()
    talent.grant_incentive("p1", HOUSING, JAN_1, JUN_30)
    assert recorded(talent, granted("p2", HOUSING, starts_on, ends_on)) == [
        IncentiveGranted("t1", "p2", HOUSING, starts_on, ends_on)
    ]
    assert [i.program_id for i in talent.state.incentives] == ["p1", "p2"]


def test_an_incentive_of_another_kind_at_the_same_time_is_granted() -> None:
    talent = registered()
    talent.grant_incentive("p1", HOUSING, JAN_1, JUN_30)
    assert recorded(talent, granted("p2", STIPEND, JAN_1, JUN_30)) == [
        IncentiveGranted("t1", "p2", STIPEND, JAN_1, JUN_30)
    ]


def test_a_program_incentive_of_months_overlaps_the_next_starting_on_its_last_day() -> None:
    """As the service grants them: from the confirmation's day to the same date ``incentive_months`` on."""
    confirmed = dt.datetime(2026, 1, 31, 9, 0, tzinfo=dt.UTC)
    ends_on = months_after(confirmed, 1).date()
    assert ends_on == dt.date(2026, 2, 28)
    talent = registered()
    talent.grant_incentive("p1", HOUSING, confirmed.date(), ends_on)
    with broken("incentive.not_twice_at_once"):
        talent.grant_incentive("p2", HOUSING, ends_on, months_after(confirmed, 13).date())
    assert len(recorded(talent, granted("p2", HOUSING, ends_on + DAY, months_after(confirmed, 13).date()))) == 1
