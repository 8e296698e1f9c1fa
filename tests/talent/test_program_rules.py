"""A talent program, a platform and a need, at their boundaries: pure Python, no database, no broker.

The launch (a quota of one or more, a window that closes after it opens, a
retention way for a retention program and for no other, a review panel of at
least three distinct members); applications only inside the window (from its
opening, not at its closing), once, and only from those the eligibility admits
(empty lists admit anyone; never someone who left); the selection once the
window has closed, among the applicants, one to the quota; the notice of five
working days or more, after the selection; objection cases only about someone
selected, while selected or on notice; the confirmation once the notice has
closed and no case is open, less those a substantiated case withdrew. A
platform attaches a person once and detaches only someone attached. A need
expires after it is posted, is filled only while open and before its expiry,
and expires only when open, from its expiry on. A refused command leaves the
aggregate as it was.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any

import pytest

from services.talent.domain.events import (
    ApplicationTaken,
    CandidatesSelected,
    Eligibility,
    NeedExpired,
    NeedFilled,
    NeedPosted,
    ObjectionCaseNoted,
    ObjectionOutcomeNoted,
    PlatformOpened,
    ProgramLaunched,
    SelectionConfirmed,
    TalentAttached,
    TalentDetached,
)
from services.talent.domain.kinds import PlatformKind, ProgramKind, RetentionWay, Team
from services.talent.domain.platform import TalentNeed, TalentPlatform
from services.talent.domain.program import Applicant, ProgramPhase, TalentProgram, decision_id, eligible
from shared.domain import Aggregate
from shared.domain.calendar import OrganisationCalendar
from shared.domain.notices import NoticeKind, NoticeOpened
from shared.errors import RuleViolation

CALENDAR = OrganisationCalendar.shipped()
LAUNCHED_AT = dt.datetime(2026, 2, 23, 9, 0, tzinfo=dt.UTC)
OPENS = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # a Monday
CLOSES = dt.datetime(2026, 3, 16, 9, 0, tzinfo=dt.UTC)  # a Monday: the selection and its notice
NOTICE_CLOSES = CALENDAR.end_of_working_days(CLOSES, 5)
SECOND = dt.timedelta(seconds=1)
PANEL = ["r1", "r2", "r3"]
QUOTA = 2
SKILLED = Applicant("highly_skilled", "senior", "local", True)
CULTIVATION = ProgramKind.CULTIVATION


def broken(rule: str) -> AbstractContextManager[Any]:
    """Expect the command to break exactly ``rule``."""
    return pytest.raises(RuleViolation, match=rf"\[rule: {re.escape(rule)}\]")


def recorded(aggregate: Aggregate, command: Any) -> list[Any]:
    """Run ``command`` on the aggregate; give what it recorded."""
    before = len(aggregate.pending_events)
    command(aggregate)
    return aggregate.pending_events[before:]


def untouched(aggregate: Aggregate, version: int) -> bool:
    return aggregate.version == version and len(aggregate.pending_events) == version


def launch(
    program: TalentProgram,
    kind: ProgramKind = CULTIVATION,
    way: RetentionWay | None = None,
    quota: int = QUOTA,
    opens_at: dt.datetime = OPENS,
    closes_at: dt.datetime = CLOSES,
    panel: Sequence[str] = PANEL,
    eligibility: Eligibility | None = None,
) -> None:
    program.launch(
        "Rural craftsmen",
        kind,
        way,
        eligibility or Eligibility(),
        quota,
        opens_at,
        closes_at,
        list(panel),
        "housing_allowance",
        12,
        LAUNCHED_AT,
    )


def launched(eligibility: Eligibility | None = None) -> TalentProgram:
    program = TalentProgram("g1")
    launch(program, eligibility=eligibility)
    return program


def applied(*people: str) -> TalentProgram:
    program = launched()
    for person in people:
        program.take_application(person, SKILLED, OPENS)
    return program


def selected(people: Sequence[str] = ("t1", "t2")) -> TalentProgram:
    program = applied("t1", "t2", "t3")
    program.select(list(people), CLOSES)
    return program


def on_notice() -> TalentProgram:
    program = selected()
    program.open_notice("notice-1", "u1", 5, CALENDAR, CLOSES)
    return program


# -- the launch -----------------------------------------------------------------------------


def test_a_program_is_launched_once_with_its_rules() -> None:
    eligibility = Eligibility(teams=["highly_skilled"], levels=["senior"], sources=["local"])
    program = launched(eligibility)
    assert program.pending_events == [
        ProgramLaunched(
            "Rural craftsmen",
            "cultivation",
            None,
            eligibility,
            QUOTA,
            OPENS,
            CLOSES,
            PANEL,
            "housing_allowance",
            12,
            LAUNCHED_AT,
        )
    ]
    assert program.state.phase is ProgramPhase.LAUNCHED
    with broken("program.launch_once"):
        launch(program, quota=5)
    assert program.state.quota == QUOTA and untouched(program, 1)


@pytest.mark.parametrize("quota", [0, -1])
def test_a_program_selecting_no_one_is_refused(quota: int) -> None:
    program = TalentProgram("g1")
    with broken("program.quota"):
        launch(program, quota=quota)
    assert program.state.phase is None and untouched(program, 0)


def test_a_quota_of_one_is_accepted() -> None:
    program = TalentProgram("g1")
    launch(program, quota=1)
    assert program.state.quota == 1


@pytest.mark.parametrize("closes_at", [OPENS, OPENS - SECOND], ids=["at_opening", "before_opening"])
def test_a_window_not_closing_after_it_opens_is_refused(closes_at: dt.datetime) -> None:
    program = TalentProgram("g1")
    with broken("program.window"):
        launch(program, closes_at=closes_at)
    assert program.state.phase is None and untouched(program, 0)


def test_a_window_closing_a_second_after_it_opens_is_accepted() -> None:
    program = TalentProgram("g1")
    launch(program, closes_at=OPENS + SECOND)
    assert program.state.closes_at == OPENS + SECOND


@pytest.mark.parametrize(
    ("kind", "way"),
    [
        (ProgramKind.RETENTION, None),
        *((kind, RetentionWay.CARE) for kind in ProgramKind if kind is not ProgramKind.RETENTION),
    ],
)
def test_a_retention_way_is_named_for_a_retention_program_and_no_other(
    kind: ProgramKind, way: RetentionWay | None
) -> None:
    program = TalentProgram("g1")
    with broken("program.retention_way"):
        launch(program, kind=kind, way=way)
    assert program.state.phase is None and untouched(program, 0)


@pytest.mark.parametrize("way", list(RetentionWay))
def test_a_retention_program_keeps_talent_by_career_care_or_pay(way: RetentionWay) -> None:
    program = TalentProgram("g1")
    launch(program, kind=ProgramKind.RETENTION, way=way)
    event = program.pending_events[-1]
    assert isinstance(event, ProgramLaunched) and event.retention_way == way.value
    assert program.state.kind == "retention"


@pytest.mark.parametrize(
    "panel", [[], ["r1", "r2"], ["r1", "r1", "r2"], ["r1", "r2", "r2", "r1"]], ids=["none", "two", "dup", "dups"]
)
def test_a_panel_of_fewer_than_three_distinct_members_is_refused(panel: list[str]) -> None:
    program = TalentProgram("g1")
    with broken("program.panel"):
        launch(program, panel=panel)
    assert program.state.phase is None and untouched(program, 0)


@pytest.mark.parametrize("panel", [["r1", "r2", "r3"], ["r1", "r2", "r1", "r3", "r2"]])
def test_a_panel_of_three_distinct_members_is_accepted_each_once(panel: list[str]) -> None:
    program = TalentProgram("g1")
    launch(program, panel=panel)
    assert program.state.panel == ["r1", "r2", "r3"]
    event = program.pending_events[-1]
    assert isinstance(event, ProgramLaunched) and event.panel == ["r1", "r2", "r3"]


# -- applications ---------------------------------------------------------------------------


@pytest.mark.parametrize("at", [OPENS, CLOSES - SECOND], ids=["at_opening", "a_second_before_closing"])
def test_applications_are_taken_inside_the_window(at: dt.datetime) -> None:
    program = launched()
    assert recorded(program, lambda p: p.take_application("t1", SKILLED, at)) == [ApplicationTaken("t1", at)]
    assert program.state.applicants == ["t1"]


@pytest.mark.parametrize("at", [OPENS - SECOND, CLOSES, CLOSES + SECOND], ids=["before", "at_closing", "after"])
def test_applications_outside_the_window_are_refused(at: dt.datetime) -> None:
    program = launched()
    with broken("program.window"):
        program.take_application("t1", SKILLED, at)
    assert program.state.applicants == [] and untouched(program, 1)


def test_a_person_applies_once() -> None:
    program = applied("t1")
    with broken("program.apply_once"):
        program.take_application("t1", SKILLED, OPENS + SECOND)
    assert program.state.applicants == ["t1"] and untouched(program, 2)


def test_applications_need_a_launched_program_not_yet_selected() -> None:
    with broken("program.exists"):
        TalentProgram("g1").take_application("t1", SKILLED, OPENS)
    program = selected()
    version = program.version
    with broken("program.apply"):
        program.take_application("t4", SKILLED, CLOSES - SECOND)
    assert untouched(program, version)


def test_an_ineligible_applicant_is_refused() -> None:
    program = launched(Eligibility(teams=["rural_practical"]))
    with broken("program.eligible"):
        program.take_application("t1", SKILLED, OPENS)
    assert program.state.applicants == [] and untouched(program, 1)
    farmer = Applicant("rural_practical", "senior", "local", True)
    assert recorded(program, lambda p: p.take_application("t2", farmer, OPENS)) == [ApplicationTaken("t2", OPENS)]


def test_a_person_who_left_cannot_apply() -> None:
    program = launched()
    with broken("program.eligible"):
        program.take_application("t1", Applicant("highly_skilled", "senior", "local", False), OPENS)
    assert untouched(program, 1)


@pytest.mark.parametrize(
    "applicant",
    [SKILLED, Applicant("rural_practical", "", "introduced", True), Applicant("", "", "", True)],
)
def test_empty_eligibility_admits_anyone_active(applicant: Applicant) -> None:
    assert eligible(Eligibility(), applicant)


@pytest.mark.parametrize(
    "rules",
    [
        Eligibility(),
        Eligibility(teams=["highly_skilled"], levels=["senior"], sources=["local"]),
    ],
    ids=["open_to_all", "matching"],
)
def test_a_person_who_left_is_never_eligible(rules: Eligibility) -> None:
    assert eligible(rules, SKILLED)
    assert not eligible(rules, Applicant("highly_skilled", "senior", "local", False))


@pytest.mark.parametrize(
    ("rules", "admitted", "refused"),
    [
        (
            Eligibility(teams=["highly_skilled", "rural_practical"]),
            Applicant("rural_practical", "junior", "introduced", True),
            Applicant("professional_technical", "senior", "local", True),
        ),
        (
            Eligibility(levels=["senior", "chief"]),
            Applicant("rural_practical", "chief", "introduced", True),
            Applicant("highly_skilled", "junior", "local", True),
        ),
        (
            Eligibility(sources=["introduced"]),
            Applicant("highly_skilled", "junior", "introduced", True),
            Applicant("highly_skilled", "junior", "local", True),
        ),
        (
            Eligibility(teams=["highly_skilled"], levels=["senior"], sources=["local"]),
            SKILLED,
            Applicant("highly_skilled", "senior", "introduced", True),
        ),
    ],
    ids=["team", "level", "source", "all_three"],
)
def test_a_team_level_or_source_restricted_must_be_listed(
    rules: Eligibility, admitted: Applicant, refused: Applicant
) -> None:
    assert eligible(rules, admitted)
    assert not eligible(rules, refused)


# -- the selection --------------------------------------------------------------------------


def test_the_selection_waits_for_the_window_to_close() -> None:
    program = applied("t1", "t2")
    with broken("program.window_closed_first"):
        program.select(["t1"], CLOSES - SECOND)
    assert program.state.phase is ProgramPhase.LAUNCHED and untouched(program, 3)
    assert recorded(program, lambda p: p.select(["t1"], CLOSES)) == [CandidatesSelected(["t1"], CLOSES)]
    assert program.state.phase is ProgramPhase.SELECTED and program.state.selected == ["t1"]


def test_only_applicants_are_selected() -> None:
    program = applied("t1", "t2")
    with broken("program.applicants"):
        program.select(["t1", "t9"], CLOSES)
    assert program.state.selected == [] and untouched(program, 3)


@pytest.mark.parametrize("people", [[], ["t1", "t2", "t3"]], ids=["none", "quota_plus_one"])
def test_a_selection_of_none_or_beyond_the_quota_is_refused(people: list[str]) -> None:
    program = applied("t1", "t2", "t3")
    with broken("program.quota"):
        program.select(people, CLOSES)
    assert program.state.selected == [] and untouched(program, 4)


@pytest.mark.parametrize("people", [["t1"], ["t1", "t3"], ["t1", "t3", "t1"]], ids=["one", "quota", "quota_dup"])
def test_one_to_the_quota_are_selected_each_once(people: list[str]) -> None:
    program = selected(people)
    distinct = list(dict.fromkeys(people))
    assert program.pending_events[-1] == CandidatesSelected(distinct, CLOSES)
    assert program.state.selected == distinct


def test_the_selection_is_made_once_and_only_on_a_launched_program() -> None:
    with broken("program.exists"):
        TalentProgram("g1").select(["t1"], CLOSES)
    program = selected()
    with broken("program.select"):
        program.select(["t3"], CLOSES)
    assert program.state.selected == ["t1", "t2"] and untouched(program, 5)


# -- the notice -----------------------------------------------------------------------------


def test_the_notice_follows_the_selection() -> None:
    program = applied("t1", "t2")
    with broken("program.open_the_notice"):
        program.open_notice("notice-1", "u1", 5, CALENDAR, CLOSES)
    assert program.state.notice_closes_at is None and untouched(program, 3)


def test_the_selection_is_on_notice_for_five_working_days_or_more_and_once() -> None:
    program = selected()
    with broken("program.notice_days"):
        program.open_notice("notice-1", "u1", 4, CALENDAR, CLOSES)
    assert program.state.phase is ProgramPhase.SELECTED and untouched(program, 5)
    program.open_notice("notice-1", "u1", 5, CALENDAR, CLOSES)
    closes = program.state.notice_closes_at
    assert closes == dt.datetime(2026, 3, 24, 0, 0, tzinfo=dt.UTC) == NOTICE_CLOSES  # the end of Monday 23 March
    assert program.pending_events[-1] == NoticeOpened(
        "notice-1",
        NoticeKind.PROGRAM_SELECTION,
        decision_id("g1"),
        ["t1", "t2"],
        "Selected for Rural craftsmen",
        "u1",
        CLOSES,
        NOTICE_CLOSES,
        5,
    )
    assert program.state.phase is ProgramPhase.ON_NOTICE and program.state.notice_closes_at == NOTICE_CLOSES
    with broken("program.open_the_notice"):
        program.open_notice("notice-2", "u1", 10, CALENDAR, CLOSES)
    assert program.state.notice_closes_at == NOTICE_CLOSES and untouched(program, 6)


# -- objection cases ------------------------------------------------------------------------


@pytest.mark.parametrize("make", [selected, on_notice], ids=["selected", "on_notice"])
def test_a_case_is_noted_about_someone_selected_once(make: Any) -> None:
    program = make()
    assert recorded(program, lambda p: p.note_case("case-1", "t1", NOTICE_CLOSES - SECOND)) == [
        ObjectionCaseNoted("case-1", "t1", NOTICE_CLOSES - SECOND)
    ]
    assert recorded(program, lambda p: p.note_case("case-1", "t1", NOTICE_CLOSES - SECOND)) == []
    assert program.state.open_cases == {"case-1": "t1"}


def test_a_case_about_someone_not_selected_or_out_of_time_is_not_noted() -> None:
    program = on_notice()
    version = program.version
    program.note_case("case-1", "t3", CLOSES)  # applied, not selected
    program.note_case("case-2", "t9", CLOSES)  # never applied
    assert program.state.open_cases == {} and untouched(program, version)
    early = applied("t1", "t2")
    early.note_case("case-1", "t1", OPENS)
    assert early.state.open_cases == {} and untouched(early, 3)
    done = on_notice()
    done.confirm(NOTICE_CLOSES)
    version = done.version
    done.note_case("case-1", "t1", NOTICE_CLOSES)
    assert done.state.open_cases == {} and untouched(done, version)


# -- the confirmation -----------------------------------------------------------------------


def test_the_confirmation_follows_the_notice() -> None:
    program = selected()
    with broken("program.confirm"):
        program.confirm(NOTICE_CLOSES)
    assert program.state.phase is ProgramPhase.SELECTED and untouched(program, 5)


def test_the_confirmation_waits_for_the_notice_to_close() -> None:
    program = on_notice()
    with broken("program.notice_closed_first"):
        program.confirm(NOTICE_CLOSES - SECOND)
    assert program.state.phase is ProgramPhase.ON_NOTICE and untouched(program, 6)
    assert program.confirm(NOTICE_CLOSES) == ["t1", "t2"]
    assert program.pending_events[-1] == SelectionConfirmed(["t1", "t2"], [], NOTICE_CLOSES)
    assert program.state.phase is ProgramPhase.CONFIRMED
    with broken("program.confirm"):
        program.confirm(NOTICE_CLOSES + SECOND)
    assert untouched(program, 7)


def test_the_confirmation_waits_for_an_open_case_and_an_unsubstantiated_outcome_releases_it() -> None:
    program = on_notice()
    program.note_case("case-1", "t1", CLOSES)
    version = program.version
    with broken("program.case_open"):
        program.confirm(NOTICE_CLOSES)
    assert program.state.phase is ProgramPhase.ON_NOTICE and untouched(program, version)
    assert recorded(program, lambda p: p.note_outcome("case-1", False, NOTICE_CLOSES)) == [
        ObjectionOutcomeNoted("case-1", "t1", False, NOTICE_CLOSES)
    ]
    assert program.confirm(NOTICE_CLOSES) == ["t1", "t2"]
    assert program.pending_events[-1] == SelectionConfirmed(["t1", "t2"], [], NOTICE_CLOSES)


def test_a_substantiated_case_withdraws_the_person_from_the_confirmation() -> None:
    program = on_notice()
    program.note_case("case-1", "t1", CLOSES)
    assert recorded(program, lambda p: p.note_outcome("case-1", True, NOTICE_CLOSES)) == [
        ObjectionOutcomeNoted("case-1", "t1", True, NOTICE_CLOSES)
    ]
    assert recorded(program, lambda p: p.note_outcome("case-1", True, NOTICE_CLOSES)) == []
    assert program.confirm(NOTICE_CLOSES) == ["t2"]
    confirmed = program.pending_events[-1]
    assert confirmed == SelectionConfirmed(["t2"], ["t1"], NOTICE_CLOSES)
    assert "t1" not in confirmed.person_ids and confirmed.withdrawn == ["t1"]


# -- platforms ------------------------------------------------------------------------------


def opened() -> TalentPlatform:
    platform = TalentPlatform("pl1")
    platform.open(PlatformKind.EXPERT_WORKSTATION, "Soil workstation", "u1", LAUNCHED_AT)
    return platform


def test_a_platform_is_opened_once() -> None:
    platform = opened()
    assert platform.pending_events == [PlatformOpened("expert_workstation", "Soil workstation", "u1", LAUNCHED_AT)]
    with broken("platform.once"):
        platform.open(PlatformKind.STARTUP_PARK, "Park", "u2", OPENS)
    assert untouched(platform, 1)


def test_a_person_is_attached_to_an_open_platform_once() -> None:
    with broken("platform.exists"):
        TalentPlatform("pl1").attach("t1", OPENS)
    platform = opened()
    assert recorded(platform, lambda p: p.attach("t1", OPENS)) == [TalentAttached("t1", OPENS)]
    with broken("platform.attached"):
        platform.attach("t1", CLOSES)
    assert platform.state.talents == ["t1"] and untouched(platform, 2)


def test_only_someone_attached_is_detached() -> None:
    platform = opened()
    with broken("platform.attached"):
        platform.detach("t1", OPENS)
    assert untouched(platform, 1)
    platform.attach("t1", OPENS)
    assert recorded(platform, lambda p: p.detach("t1", CLOSES)) == [TalentDetached("t1", CLOSES)]
    assert platform.state.talents == []
    with broken("platform.attached"):
        platform.detach("t1", CLOSES)
    assert untouched(platform, 3)
    assert recorded(platform, lambda p: p.attach("t1", NOTICE_CLOSES)) == [TalentAttached("t1", NOTICE_CLOSES)]


# -- needs ----------------------------------------------------------------------------------

POSTED = OPENS
EXPIRES = CLOSES


def posted() -> TalentNeed:
    need = TalentNeed("n1")
    need.post("u1", Team.RURAL_PRACTICAL, "orchards", "an orchard technician", EXPIRES, POSTED)
    return need


@pytest.mark.parametrize("expires_at", [POSTED, POSTED - SECOND], ids=["at_posting", "before_posting"])
def test_a_need_expiring_by_the_time_it_is_posted_is_refused(expires_at: dt.datetime) -> None:
    need = TalentNeed("n1")
    with broken("need.expires"):
        need.post("u1", Team.RURAL_PRACTICAL, "orchards", "an orchard technician", expires_at, POSTED)
    assert need.state.status == "" and untouched(need, 0)


def test_a_need_is_posted_once_expiring_after_it_is_posted() -> None:
    need = TalentNeed("n1")
    need.post("u1", Team.RURAL_PRACTICAL, "orchards", "an orchard technician", POSTED + SECOND, POSTED)
    assert need.pending_events == [
        NeedPosted("u1", "rural_practical", "orchards", "an orchard technician", POSTED, POSTED + SECOND)
    ]
    with broken("need.once"):
        need.post("u1", Team.RURAL_PRACTICAL, "orchards", "again", EXPIRES, POSTED)
    assert need.state.expires_at == POSTED + SECOND and untouched(need, 1)


def test_a_need_is_filled_until_a_second_before_its_expiry_and_once() -> None:
    with broken("need.exists"):
        TalentNeed("n1").fill("t1", POSTED)
    need = posted()
    assert recorded(need, lambda n: n.fill("t1", EXPIRES - SECOND)) == [NeedFilled("t1", EXPIRES - SECOND)]
    assert need.state.status == "filled"
    with broken("need.open"):
        need.fill("t2", EXPIRES - SECOND)
    assert untouched(need, 2)


def test_a_need_is_not_filled_at_its_expiry() -> None:
    need = posted()
    with broken("need.expired"):
        need.fill("t1", EXPIRES)
    assert need.state.status == "open" and untouched(need, 1)


def test_a_need_expires_from_its_expiry_on_and_once() -> None:
    with broken("need.exists"):
        TalentNeed("n1").expire(EXPIRES)
    need = posted()
    with broken("need.not_yet"):
        need.expire(EXPIRES - SECOND)
    assert need.state.status == "open" and untouched(need, 1)
    assert recorded(need, lambda n: n.expire(EXPIRES)) == [NeedExpired(EXPIRES)]
    assert need.state.status == "expired"
    with broken("need.open"):
        need.expire(EXPIRES + SECOND)
    with broken("need.open"):
        need.fill("t1", EXPIRES - SECOND)
    assert untouched(need, 2)


def test_a_filled_need_does_not_expire() -> None:
    need = posted()
    need.fill("t1", POSTED)
    with broken("need.open"):
        need.expire(EXPIRES)
    assert need.state.status == "filled" and untouched(need, 2)
