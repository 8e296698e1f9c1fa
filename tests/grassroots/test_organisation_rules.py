"""A party organisation's rules, at their boundaries: pure Python, no database, no broker.

The tree (a kind founded only under a parent that may hold it, a county
committee at the top with none, a move never under itself or below it), a
branch's founding members (at least three distinct full members), the
committee from seven full members, the term (five years for village and
community organisations, three otherwise, counted with ``years_after``), the
leadership installed only with the secretary among the committee, and the
members (admitted once, made full only from probation, leaving as what they
were). A refused command leaves the organisation as it was.
"""

from __future__ import annotations

import datetime as dt
import re
from contextlib import AbstractContextManager
from typing import Any

import pytest

from services.grassroots.domain.events import (
    LeadershipInstalled,
    MemberJoined,
    MemberLeft,
    MemberMadeFull,
    OrganisationFounded,
    OrganisationMoved,
)
from services.grassroots.domain.kinds import OrganisationKind, OrganisationType
from services.grassroots.domain.organisation import PartyOrganisation
from shared.domain.calendar import years_after
from shared.errors import RuleViolation

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LEAP_DAY = dt.datetime(2028, 2, 29, 9, 0, tzinfo=dt.UTC)
COUNTY, TOWNSHIP = OrganisationKind.COUNTY_COMMITTEE, OrganisationKind.TOWNSHIP_COMMITTEE
GENERAL, BRANCH = OrganisationKind.GENERAL_BRANCH, OrganisationKind.BRANCH
VILLAGE, ORGAN = OrganisationType.VILLAGE, OrganisationType.ORGAN
THREE = ["m1", "m2", "m3"]


def broken(rule: str) -> AbstractContextManager[Any]:
    """Expect the command to break exactly ``rule``."""
    return pytest.raises(RuleViolation, match=rf"\[rule: {re.escape(rule)}\]")


def found(
    org_id: str,
    kind: OrganisationKind,
    parent: PartyOrganisation | None = None,
    members: list[str] | None = None,
    org_type: OrganisationType = VILLAGE,
) -> PartyOrganisation:
    organisation = PartyOrganisation(org_id)
    organisation.found(kind, org_type, f"{org_id} committee", parent, THREE if members is None else members, NOW)
    return organisation


def county() -> PartyOrganisation:
    return found("county", COUNTY, org_type=ORGAN)


def township(parent: PartyOrganisation | None = None) -> PartyOrganisation:
    return found("township", TOWNSHIP, parent or county(), org_type=ORGAN)


def branch(
    org_id: str = "b1", members: list[str] | None = None, org_type: OrganisationType = VILLAGE
) -> PartyOrganisation:
    return found(org_id, BRANCH, township(), members, org_type)


def of_kind(kind: OrganisationKind) -> PartyOrganisation:
    """A founded organisation of ``kind``, in a valid place of the tree."""
    if kind is COUNTY:
        return county()
    if kind is TOWNSHIP:
        return township()
    return found(f"a-{kind}", kind, township())


def untouched(organisation: PartyOrganisation, version: int) -> bool:
    return organisation.version == version and len(organisation.pending_events) == version


# -- founding -------------------------------------------------------------------------------


def test_a_branch_founded_with_two_full_members_is_refused() -> None:
    organisation = PartyOrganisation("b1")
    with broken("organisation.branch_members"):
        organisation.found(BRANCH, VILLAGE, "Village branch", township(), ["m1", "m2"], NOW)
    assert organisation.state.founded is False and untouched(organisation, 0)


def test_a_branch_founded_with_three_full_members_has_them_as_full_members() -> None:
    parent = township()
    organisation = found("b1", BRANCH, parent, THREE)
    assert organisation.pending_events == [
        OrganisationFounded("branch", "village", "b1 committee", "township", THREE, NOW)
    ]
    assert organisation.state.full_members == THREE and organisation.state.probationary == []
    assert organisation.state.parent_id == "township"


def test_a_founding_member_named_twice_counts_once() -> None:
    with broken("organisation.branch_members"):
        branch(members=["m1", "m2", "m2", "m1"])
    organisation = branch(members=["m1", "m2", "m2", "m3"])
    assert organisation.state.full_members == THREE


def test_only_a_branch_needs_three_founding_members() -> None:
    general = found("g1", GENERAL, township(), [])
    assert general.state.founded is True and general.state.full_members == []


def test_an_organisation_is_founded_once() -> None:
    organisation = branch()
    with broken("organisation.found_once"):
        organisation.found(BRANCH, VILLAGE, "Again", township(), ["m4", "m5", "m6"], NOW)
    assert organisation.state.full_members == THREE and untouched(organisation, 1)


def test_a_county_committee_is_the_top_of_the_tree() -> None:
    assert county().state.parent_id is None
    organisation = PartyOrganisation("county-2")
    with broken("organisation.parent"):
        organisation.found(COUNTY, ORGAN, "Another county", county(), [], NOW)
    assert organisation.state.founded is False


def test_a_township_committee_is_founded_under_a_county_committee() -> None:
    organisation = township(county())
    assert organisation.state.parent_id == "county" and organisation.state.kind == "township_committee"


def test_an_organisation_below_the_top_needs_a_parent() -> None:
    for kind in (TOWNSHIP, GENERAL, BRANCH):
        organisation = PartyOrganisation("x")
        with broken("organisation.parent"):
            organisation.found(kind, ORGAN, "Orphan", None, THREE, NOW)
        assert organisation.state.founded is False


def test_a_branch_under_a_branch_is_refused() -> None:
    parent = branch()
    organisation = PartyOrganisation("b2")
    with broken("organisation.parent_kind"):
        organisation.found(BRANCH, VILLAGE, "Sub-branch", parent, ["m4", "m5", "m6"], NOW)
    assert organisation.state.founded is False and untouched(organisation, 0)


@pytest.mark.parametrize(
    ("kind", "parent_kind"),
    [(TOWNSHIP, TOWNSHIP), (TOWNSHIP, GENERAL), (TOWNSHIP, BRANCH), (GENERAL, GENERAL), (GENERAL, BRANCH)],
)
def test_an_organisation_under_a_parent_of_a_kind_that_may_not_hold_it_is_refused(
    kind: OrganisationKind, parent_kind: OrganisationKind
) -> None:
    parent = of_kind(parent_kind)
    with broken("organisation.parent_kind"):
        found("child", kind, parent)


@pytest.mark.parametrize("parent_kind", [COUNTY, TOWNSHIP, GENERAL])
def test_a_branch_is_founded_under_either_committee_or_a_general_branch(parent_kind: OrganisationKind) -> None:
    parent = of_kind(parent_kind)
    assert found("b1", BRANCH, parent).state.parent_id == parent.id


def test_an_organisation_is_not_founded_under_a_parent_that_does_not_exist() -> None:
    organisation = PartyOrganisation("b1")
    with broken("organisation.exists"):
        organisation.found(BRANCH, VILLAGE, "Village branch", PartyOrganisation("nowhere"), THREE, NOW)
    assert organisation.state.founded is False


# -- moving ---------------------------------------------------------------------------------


def test_an_organisation_is_not_moved_under_itself() -> None:
    general = found("g1", GENERAL, township(), [])
    with broken("organisation.no_cycle"):
        general.move(general, ["township", "county"], NOW)
    assert general.state.parent_id == "township" and untouched(general, 1)


def test_an_organisation_is_not_moved_under_one_below_it() -> None:
    top = township()
    below = found("below", GENERAL, top, [])
    with broken("organisation.no_cycle"):
        top.move(below, ["township", "county"], NOW)  # the cycle is named before the kind
    assert top.state.parent_id == "county" and untouched(top, 1)


def test_a_general_branch_is_not_moved_under_a_branch_below_it_either() -> None:
    general = found("g1", GENERAL, township(), [])
    child = found("b1", BRANCH, general)
    with broken("organisation.no_cycle"):
        general.move(child, ["g1", "township", "county"], NOW)
    assert general.state.parent_id == "township"


def test_an_organisation_is_moved_under_another_parent_of_an_allowed_kind() -> None:
    organisation = branch()
    other = found("township-2", TOWNSHIP, county(), org_type=ORGAN)
    organisation.move(other, ["county"], NOW)
    assert organisation.pending_events[-1] == OrganisationMoved("township-2", NOW)
    assert organisation.state.parent_id == "township-2"


def test_a_move_under_the_parent_it_has_records_nothing() -> None:
    organisation = branch()
    organisation.move(township(), ["county"], NOW)
    assert untouched(organisation, 1)


def test_a_move_under_a_parent_of_a_kind_that_may_not_hold_it_is_refused() -> None:
    organisation = branch()
    with broken("organisation.parent_kind"):
        organisation.move(branch("b2"), ["township", "county"], NOW)
    assert organisation.state.parent_id == "township"
    top = county()
    with broken("organisation.parent_kind"):
        top.move(found("county-2", COUNTY, org_type=ORGAN), [], NOW)
    assert top.state.parent_id is None


# -- committee, term, leadership ------------------------------------------------------------


def test_six_full_members_elect_a_secretary_and_seven_a_committee() -> None:
    organisation = branch(members=[f"m{n}" for n in range(1, 7)])
    assert organisation.elects_committee is False
    organisation.admit("p7", False, NOW)
    assert organisation.elects_committee is False  # a probationary member does not count
    organisation.make_full("p7", NOW)
    assert organisation.elects_committee is True
    organisation.remove("m1", "moved away", NOW)
    assert organisation.elects_committee is False


@pytest.mark.parametrize(
    ("org_type", "years"),
    [
        (OrganisationType.VILLAGE, 5),
        (OrganisationType.COMMUNITY, 5),
        (OrganisationType.NON_PUBLIC_ENTERPRISE, 3),
        (OrganisationType.ASSOCIATION, 3),
        (OrganisationType.ORGAN, 3),
    ],
)
def test_the_term_is_five_years_for_village_and_community_organisations_and_three_otherwise(
    org_type: OrganisationType, years: int
) -> None:
    organisation = branch(org_type=org_type)
    assert organisation.term_years == years
    organisation.install("e1", "m1", ["m1"], NOW)
    assert organisation.pending_events[-1] == LeadershipInstalled(
        "e1", "m1", ["m1"], NOW, dt.datetime(2026 + years, 3, 2, 9, 0, tzinfo=dt.UTC)
    )
    assert organisation.state.term_ends == years_after(NOW, years)


@pytest.mark.parametrize(("org_type", "ends"), [(VILLAGE, dt.date(2033, 2, 28)), (ORGAN, dt.date(2031, 2, 28))])
def test_a_term_installed_on_29_february_ends_on_28_february(org_type: OrganisationType, ends: dt.date) -> None:
    organisation = branch(org_type=org_type)
    organisation.install("e1", "m1", ["m1", "m2", "m3"], LEAP_DAY)
    assert organisation.state.term_ends == dt.datetime.combine(ends, dt.time(9, 0), tzinfo=dt.UTC)


def test_the_secretary_is_one_of_the_committee_installed() -> None:
    organisation = branch()
    with broken("organisation.secretary_elected"):
        organisation.install("e1", "m4", ["m1", "m2", "m3"], NOW)
    assert organisation.state.secretary_id is None and organisation.state.term_ends is None
    assert untouched(organisation, 1)
    organisation.install("e1", "m2", ["m1", "m2", "m3"], NOW)
    assert organisation.state.secretary_id == "m2" and organisation.state.committee == ["m1", "m2", "m3"]


def test_a_leadership_is_installed_only_in_an_organisation_that_exists() -> None:
    organisation = PartyOrganisation("b1")
    with broken("organisation.exists"):
        organisation.install("e1", "m1", ["m1"], NOW)


# -- members --------------------------------------------------------------------------------


def test_a_person_is_admitted_once() -> None:
    organisation = branch()
    with broken("organisation.member_once"):
        organisation.admit("m1", True, NOW)
    organisation.admit("p1", False, NOW)
    for full in (False, True):
        with broken("organisation.member_once"):
            organisation.admit("p1", full, NOW)
    assert organisation.state.probationary == ["p1"] and organisation.state.full_members == THREE
    assert organisation.pending_events[-1] == MemberJoined("p1", False, NOW)


def test_only_a_probationary_member_is_made_full() -> None:
    organisation = branch()
    for person in ("m1", "stranger"):
        with broken("organisation.probationary"):
            organisation.make_full(person, NOW)
    organisation.admit("p1", False, NOW)
    organisation.make_full("p1", NOW)
    assert organisation.pending_events[-1] == MemberMadeFull("p1", NOW)
    assert organisation.state.full_members == [*THREE, "p1"] and organisation.state.probationary == []
    with broken("organisation.probationary"):
        organisation.make_full("p1", NOW)


def test_a_member_who_leaves_is_recorded_as_full_or_probationary() -> None:
    organisation = branch()
    organisation.admit("p1", False, NOW)
    organisation.remove("m1", "transferred", NOW)
    organisation.remove("p1", "probation cancelled", NOW)
    assert organisation.pending_events[-2:] == [
        MemberLeft("m1", True, "transferred", NOW),
        MemberLeft("p1", False, "probation cancelled", NOW),
    ]
    assert organisation.members() == {"m2", "m3"}


def test_only_a_member_leaves() -> None:
    organisation = branch()
    with broken("organisation.member"):
        organisation.remove("stranger", "never joined", NOW)
    assert untouched(organisation, 1)
