"""A learner's ledger, and the rules around it, at their boundaries: pure Python, no database, no broker.

Counted hours (online hours up to the year's share: 0, a quarter, a half,
all); credits awarded once a program, and the year's total published with
the counted figure, not again when unchanged; induction on appointment (due a
year after, satisfied by one completed up to exactly a year before or any
time after, flagged once when overdue); each ended year reviewed once
against its requirement. Also ``years_after`` (29 February), the year's
requirement and a suggestion from the public (received once, answered once).
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any

import pytest

from services.training.domain.credits import counted_hours, online_hours_counted
from services.training.domain.events import (
    CreditsAwarded,
    CreditTotalUpdated,
    InductionDue,
    InductionSatisfied,
    RequirementMet,
    RequirementShortfallFlagged,
    SuggestionAnswered,
    SuggestionReceived,
)
from services.training.domain.kinds import ProgramKind
from services.training.domain.ledger import LearnerLedger, Requirement
from services.training.domain.requirement import YearRequirements
from services.training.domain.suggestion import Suggestion
from shared.domain.calendar import years_after
from shared.errors import RuleViolation

APPOINTED = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
IN_2026 = dt.datetime(2026, 6, 1, 9, 0, tzinfo=dt.UTC)
NEW_YEAR_2027 = dt.datetime(2027, 1, 1, 0, 0, tzinfo=dt.UTC)
HALF = Decimal("0.5")
QUARTER = Decimal("0.25")
INDUCTION = ProgramKind.INDUCTION.value
THEMATIC = ProgramKind.THEMATIC.value
PARTY_SPIRIT = ProgramKind.PARTY_SPIRIT.value


def broken(rule: str) -> AbstractContextManager[Any]:
    """Expect the command to break exactly ``rule``."""
    return pytest.raises(RuleViolation, match=rf"\[rule: {re.escape(rule)}\]")


def profiled(person_id: str = "c1") -> LearnerLedger:
    ledger = LearnerLedger(person_id)
    ledger.profile("Li Ming", "unit-1", "leading", "county", None, True)
    return ledger


def award(
    ledger: LearnerLedger,
    program_id: str,
    hours: int | str,
    at: dt.datetime = IN_2026,
    online: bool = False,
    kind: str = THEMATIC,
    share: Decimal = HALF,
) -> list[Any]:
    """Award a completed program; give what it recorded."""
    before = len(ledger.pending_events)
    ledger.award(program_id, kind, online, False, Decimal(hours), at, share)
    return ledger.pending_events[before:]


def recorded(ledger: LearnerLedger, command: Any) -> list[Any]:
    """Run ``command`` on the ledger; give what it recorded."""
    before = len(ledger.pending_events)
    command(ledger)
    return ledger.pending_events[before:]


# -- counted hours --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("share", "counted"),
    [(Decimal(0), Decimal(9)), (QUARTER, Decimal(12)), (HALF, Decimal(17)), (Decimal(1), Decimal(17))],
)
def test_online_hours_count_up_to_the_years_share(share: Decimal, counted: Decimal) -> None:
    assert counted_hours(Decimal(9), Decimal(8), share) == counted


def test_online_hours_under_the_cap_all_count() -> None:
    assert counted_hours(Decimal(9), Decimal(2), QUARTER) == Decimal(11)  # cap 3
    assert counted_hours(Decimal(9), Decimal(3), QUARTER) == Decimal(12)  # exactly the cap
    assert online_hours_counted(Decimal(9), Decimal(8), QUARTER) == Decimal(3)


def test_with_no_classroom_hours_online_hours_count_only_when_the_share_is_all() -> None:
    assert counted_hours(Decimal(0), Decimal(8), HALF) == 0
    assert counted_hours(Decimal(0), Decimal(8), Decimal(1)) == Decimal(8)


# -- credits --------------------------------------------------------------------------------


def test_a_program_is_credited_once() -> None:
    ledger = profiled()
    first = award(ledger, "p1", 9)
    assert first == [
        CreditsAwarded("p1", THEMATIC, False, False, 2026, Decimal(9), IN_2026),
        CreditTotalUpdated("c1", 2026, Decimal(9)),
    ]
    assert award(ledger, "p1", 9) == []
    assert award(ledger, "p1", 5, at=IN_2026 + dt.timedelta(days=30)) == []
    assert ledger.year_hours(2026).offline == Decimal(9) and len(ledger.state.completions) == 1


def test_the_years_total_is_published_with_online_hours_capped() -> None:
    ledger = profiled()
    award(ledger, "p1", 9, share=QUARTER)
    events = award(ledger, "p2", 8, online=True, share=QUARTER)
    assert events[-1] == CreditTotalUpdated("c1", 2026, Decimal(12))
    assert ledger.year_hours(2026).online == Decimal(8)


def test_the_years_total_is_not_published_again_when_unchanged() -> None:
    ledger = profiled()
    award(ledger, "p1", 9, share=QUARTER)
    award(ledger, "p2", 8, online=True, share=QUARTER)  # counted 12: online capped at 3
    events = award(ledger, "p3", 1, online=True, share=QUARTER)  # still 12
    assert [type(e) for e in events] == [CreditsAwarded]
    assert ledger.state.published == {"2026": Decimal(12)}


def test_a_recount_under_a_new_share_publishes_only_a_changed_total() -> None:
    ledger = profiled()
    award(ledger, "p1", 9, share=QUARTER)
    award(ledger, "p2", 8, online=True, share=QUARTER)
    assert recorded(ledger, lambda x: x.recount(2026, HALF)) == [CreditTotalUpdated("c1", 2026, Decimal(17))]
    assert recorded(ledger, lambda x: x.recount(2026, Decimal(1))) == []  # 17 as well
    assert recorded(ledger, lambda x: x.recount(2025, HALF)) == []  # nothing credited in 2025


def test_credits_are_awarded_only_to_a_learner_on_record() -> None:
    ledger = LearnerLedger("c1")
    with broken("learner.on_record"):
        award(ledger, "p1", 9)
    assert ledger.version == 0 and ledger.pending_events == [] and ledger.state.years == {}


def test_every_years_last_total_is_published_again() -> None:
    ledger = profiled()
    award(ledger, "p1", 9, at=dt.datetime(2025, 5, 1, tzinfo=dt.UTC))
    award(ledger, "p2", 4, at=IN_2026)
    award(ledger, "p3", 2, at=IN_2026)
    assert recorded(ledger, lambda x: x.publish_totals_again()) == [
        CreditTotalUpdated("c1", 2025, Decimal(9)),
        CreditTotalUpdated("c1", 2026, Decimal(6)),
    ]


def test_nothing_is_published_again_for_a_ledger_with_no_credits() -> None:
    assert recorded(profiled(), lambda x: x.publish_totals_again()) == []


# -- induction ------------------------------------------------------------------------------


def test_an_appointment_makes_induction_due_a_year_later() -> None:
    ledger = profiled()
    before = len(ledger.pending_events)
    assert ledger.owe_induction("post-1", APPOINTED) is True
    due_by = dt.datetime(2027, 3, 2, 9, 0, tzinfo=dt.UTC)
    assert due_by == years_after(APPOINTED, 1)
    assert ledger.pending_events[before:] == [InductionDue("c1", "post-1", APPOINTED, due_by)]


def test_induction_is_owed_only_by_a_learner_on_record() -> None:
    ledger = LearnerLedger("c1")
    with broken("learner.on_record"):
        ledger.owe_induction("post-1", APPOINTED)
    assert ledger.state.inductions == []


def test_an_induction_completed_exactly_a_year_before_the_appointment_satisfies_it() -> None:
    ledger = profiled()
    completed_at = years_after(APPOINTED, -1)
    award(ledger, "ind-1", 24, at=completed_at, kind=INDUCTION)
    before = len(ledger.pending_events)
    assert ledger.owe_induction("post-1", APPOINTED) is False
    assert ledger.pending_events[before:] == [
        InductionDue("c1", "post-1", APPOINTED, years_after(APPOINTED, 1)),
        InductionSatisfied("post-1", "ind-1", completed_at),
    ]
    assert ledger.state.inductions[0].satisfied_by == "ind-1"


def test_an_induction_completed_a_year_and_a_second_before_the_appointment_does_not() -> None:
    ledger = profiled()
    award(ledger, "ind-1", 24, at=years_after(APPOINTED, -1) - dt.timedelta(seconds=1), kind=INDUCTION)
    before = len(ledger.pending_events)
    assert ledger.owe_induction("post-1", APPOINTED) is True
    assert [type(e) for e in ledger.pending_events[before:]] == [InductionDue]
    assert ledger.state.inductions[0].satisfied_by is None


def test_another_kind_of_program_before_the_appointment_does_not_satisfy_it() -> None:
    ledger = profiled()
    award(ledger, "p1", 24, at=APPOINTED - dt.timedelta(days=30), kind=THEMATIC)
    assert ledger.owe_induction("post-1", APPOINTED) is True


def test_an_appointment_is_owed_once_per_post() -> None:
    ledger = profiled()
    assert ledger.owe_induction("post-1", APPOINTED) is True
    version = ledger.version
    assert ledger.owe_induction("post-1", APPOINTED + dt.timedelta(days=3)) is False
    assert ledger.version == version and len(ledger.state.inductions) == 1
    assert ledger.owe_induction("post-2", APPOINTED) is True
    assert len(ledger.state.inductions) == 2


def test_an_induction_completed_after_the_appointment_satisfies_it() -> None:
    ledger = profiled()
    ledger.owe_induction("post-1", APPOINTED)
    completed_at = APPOINTED + dt.timedelta(days=90)
    events = award(ledger, "ind-1", 24, at=completed_at, kind=INDUCTION)
    assert events[-1] == InductionSatisfied("post-1", "ind-1", completed_at)
    assert recorded(ledger, lambda x: x.flag_overdue_inductions(years_after(APPOINTED, 2))) == []


def test_an_induction_already_credited_after_the_appointment_satisfies_it_when_the_appointment_arrives() -> None:
    # The appointment reaches training late (the cadre's registration came after it, or the event was replayed):
    # the learner has completed induction since the appointment. It was done within the year: nothing is owed.
    ledger = profiled()
    completed_at = APPOINTED + dt.timedelta(days=30)
    award(ledger, "ind-1", 24, at=completed_at, kind=INDUCTION)
    before = len(ledger.pending_events)
    owed = ledger.owe_induction("post-1", APPOINTED)
    assert ledger.pending_events[before:] == [
        InductionDue("c1", "post-1", APPOINTED, years_after(APPOINTED, 1)),
        InductionSatisfied("post-1", "ind-1", completed_at),
    ]
    assert owed is False
    assert recorded(ledger, lambda x: x.flag_overdue_inductions(years_after(APPOINTED, 2))) == []


def test_an_overdue_induction_is_flagged_after_its_due_moment_and_once() -> None:
    ledger = profiled()
    ledger.owe_induction("post-1", APPOINTED)
    due_by = years_after(APPOINTED, 1)
    assert recorded(ledger, lambda x: x.flag_overdue_inductions(due_by)) == []
    just_after = due_by + dt.timedelta(microseconds=1)
    assert recorded(ledger, lambda x: x.flag_overdue_inductions(just_after)) == [
        RequirementShortfallFlagged(
            "c1", "unit-1", 2027, "induction", Decimal(0), Decimal(0), [INDUCTION], "post-1", just_after
        )
    ]
    assert recorded(ledger, lambda x: x.flag_overdue_inductions(due_by + dt.timedelta(days=30))) == []
    assert ledger.state.reviewed == []  # an induction's shortfall is no year's review


def test_a_satisfied_induction_is_never_flagged() -> None:
    ledger = profiled()
    award(ledger, "ind-1", 24, at=APPOINTED - dt.timedelta(days=10), kind=INDUCTION)
    ledger.owe_induction("post-1", APPOINTED)
    assert recorded(ledger, lambda x: x.flag_overdue_inductions(years_after(APPOINTED, 2))) == []


def test_an_induction_completed_late_still_satisfies_it_after_the_flag() -> None:
    ledger = profiled()
    ledger.owe_induction("post-1", APPOINTED)
    ledger.flag_overdue_inductions(years_after(APPOINTED, 1) + dt.timedelta(days=1))
    late = years_after(APPOINTED, 1) + dt.timedelta(days=20)
    events = award(ledger, "ind-1", 24, at=late, kind=INDUCTION)
    assert events[-1] == InductionSatisfied("post-1", "ind-1", late)
    assert ledger.state.inductions[0].flagged is True  # the shortfall stays on the record


# -- the year's review ----------------------------------------------------------------------

REQUIREMENT = Requirement(Decimal(50), [PARTY_SPIRIT], HALF)


def test_a_year_is_reviewed_only_once_it_has_ended() -> None:
    ledger = profiled()
    with broken("requirement.year_ended"):
        ledger.review_year(2026, REQUIREMENT, NEW_YEAR_2027 - dt.timedelta(microseconds=1))
    with broken("requirement.year_ended"):
        ledger.review_year(2027, REQUIREMENT, NEW_YEAR_2027)
    assert ledger.state.reviewed == []
    ledger.review_year(2026, REQUIREMENT, NEW_YEAR_2027)
    assert ledger.state.reviewed == [2026]


def test_a_year_is_reviewed_only_for_a_learner_on_record() -> None:
    with broken("learner.on_record"):
        LearnerLedger("c1").review_year(2026, REQUIREMENT, NEW_YEAR_2027)


def test_exactly_the_required_hours_and_kinds_meet_the_requirement() -> None:
    ledger = profiled()
    award(ledger, "p1", 40, kind=PARTY_SPIRIT)
    award(ledger, "p2", 10, online=True)  # 10 online of 50: under the half
    events = recorded(ledger, lambda x: x.review_year(2026, REQUIREMENT, NEW_YEAR_2027))
    assert events == [RequirementMet("c1", 2026, Decimal(50), NEW_YEAR_2027)]


def test_hours_short_of_the_requirement_are_flagged_with_the_counted_hours() -> None:
    ledger = profiled()
    award(ledger, "p1", 20, kind=PARTY_SPIRIT)
    award(ledger, "p2", 29, online=True)  # counted up to 20: 40 in all
    events = recorded(ledger, lambda x: x.review_year(2026, REQUIREMENT, NEW_YEAR_2027))
    assert events == [
        RequirementShortfallFlagged("c1", "unit-1", 2026, "yearly", Decimal(50), Decimal(40), [], None, NEW_YEAR_2027)
    ]


def test_a_missing_required_kind_is_flagged_even_with_the_hours() -> None:
    ledger = profiled()
    award(ledger, "p1", 60)
    award(ledger, "p2", 8, kind=PARTY_SPIRIT, at=dt.datetime(2025, 12, 31, 23, 0, tzinfo=dt.UTC))  # another year
    requirement = Requirement(Decimal(50), [PARTY_SPIRIT, INDUCTION], HALF)
    events = recorded(ledger, lambda x: x.review_year(2026, requirement, NEW_YEAR_2027))
    assert len(events) == 1
    flagged = events[0]
    assert isinstance(flagged, RequirementShortfallFlagged)
    assert flagged.missing_kinds == [INDUCTION, PARTY_SPIRIT] and flagged.counted_hours == Decimal(60)


def test_a_year_is_reviewed_once() -> None:
    ledger = profiled()
    ledger.review_year(2026, REQUIREMENT, NEW_YEAR_2027)  # flagged: nothing done
    award(ledger, "p1", 80, kind=PARTY_SPIRIT)
    later = NEW_YEAR_2027 + dt.timedelta(days=40)
    assert recorded(ledger, lambda x: x.review_year(2026, REQUIREMENT, later)) == []
    assert recorded(ledger, lambda x: x.review_year(2026, Requirement(Decimal(0), [], HALF), later)) == []
    assert ledger.state.reviewed == [2026]


# -- the year's requirement -----------------------------------------------------------------


def test_a_years_requirement_is_set_with_hours_and_a_share_from_0_to_1() -> None:
    requirements = YearRequirements("2026")
    with broken("requirement.year"):
        requirements.set(2027, "leading", Decimal(50), [], HALF, IN_2026)
    with broken("requirement.hours"):
        requirements.set(2026, "leading", Decimal(-1), [], HALF, IN_2026)
    for share in (Decimal("-0.01"), Decimal("1.01")):
        with broken("requirement.online_share"):
            requirements.set(2026, "leading", Decimal(50), [], share, IN_2026)
    requirements.set(2026, "leading", Decimal(0), [PARTY_SPIRIT, PARTY_SPIRIT], Decimal(0), IN_2026)
    requirements.set(2026, "clerical", Decimal(50), [], Decimal(1), IN_2026)
    assert requirements.of("leading") == Requirement(Decimal(0), [PARTY_SPIRIT], Decimal(0))
    assert requirements.of("professional") is None and requirements.of(None) is None


# -- years_after ----------------------------------------------------------------------------


def test_a_year_after_29_february_is_28_february() -> None:
    leap = dt.datetime(2028, 2, 29, 10, 30, tzinfo=dt.UTC)
    assert years_after(leap, 1) == dt.datetime(2029, 2, 28, 10, 30, tzinfo=dt.UTC)
    assert years_after(leap, 4) == dt.datetime(2032, 2, 29, 10, 30, tzinfo=dt.UTC)


def test_years_before_go_back_to_the_same_date() -> None:
    assert years_after(dt.datetime(2028, 2, 29, 10, 30, tzinfo=dt.UTC), -1) == dt.datetime(
        2027, 2, 28, 10, 30, tzinfo=dt.UTC
    )
    assert years_after(APPOINTED, -2) == dt.datetime(2024, 3, 2, 9, 0, tzinfo=dt.UTC)
    assert years_after(APPOINTED, 0) == APPOINTED


# -- suggestions ----------------------------------------------------------------------------


def test_a_suggestion_is_received_once() -> None:
    suggestion = Suggestion("sub-1")
    suggestion.receive("More online courses", IN_2026)
    suggestion.receive("Something else", IN_2026 + dt.timedelta(hours=1))
    assert suggestion.pending_events == [SuggestionReceived("sub-1", "More online courses", IN_2026)]
    assert suggestion.state.text == "More online courses"


def test_a_suggestion_is_answered_only_once_received() -> None:
    suggestion = Suggestion("sub-1")
    with broken("suggestion.received"):
        suggestion.answer(True, "planned for 2027", IN_2026)
    assert suggestion.version == 0 and suggestion.state.answered is False


def test_a_suggestion_is_answered_once_saying_whether_it_was_adopted() -> None:
    suggestion = Suggestion("sub-1")
    suggestion.receive("More online courses", IN_2026)
    suggestion.answer(True, "planned for 2027", IN_2026)
    answered = suggestion.pending_events[-1]
    assert isinstance(answered, SuggestionAnswered) and answered.adopted is True
    assert answered.text == "Adopted by the training service: planned for 2027"
    with broken("suggestion.answer_once"):
        suggestion.answer(False, "changed our mind", IN_2026)
    assert len(suggestion.pending_events) == 2


def test_a_suggestion_not_adopted_says_so() -> None:
    suggestion = Suggestion("sub-1")
    suggestion.receive("Fewer courses", IN_2026)
    suggestion.answer(False, "the regulations set the hours", IN_2026)
    answered = suggestion.pending_events[-1]
    assert isinstance(answered, SuggestionAnswered) and answered.adopted is False
    assert answered.text == "Not adopted by the training service: the regulations set the hours"
