"""The grassroots service on its PostgreSQL store, with no broker: what the read models answer.

The deadline check asks the pipeline and the affairs schedules what is due:
a talk not held within a month, a category not published on schedule; each
is flagged once, and the pipeline and the branch's affairs show it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from services.grassroots.entrypoint import GrassrootsService
from tests.support.environment import RunEnvironment
from tests.support.local import OnPostgres
from tests.support.platform import settings_for_tests

MEMBERS = ["m1", "m2", "m3"]


@pytest.fixture
def grassroots(test_env: RunEnvironment) -> Iterator[OnPostgres]:
    service = OnPostgres(GrassrootsService, settings_for_tests())
    service.call("found_organisation", organisation_id="county", kind="county_committee", org_type="organ", name="c")
    service.call(
        "found_organisation",
        organisation_id="b1",
        kind="branch",
        org_type="non_public_enterprise",
        name="Tea cooperative branch",
        parent_id="county",
        founding_members=MEMBERS,
    )
    yield service
    service.close()


def test_a_talk_not_held_within_a_month_is_flagged_once_and_the_pipeline_shows_it(grassroots: OnPostgres) -> None:
    grassroots.call("apply", person_id="late", name="Late", birth_date="1990-01-01", branch_id="b1")
    grassroots.call("apply", person_id="prompt", name="Prompt", birth_date="1990-01-01", branch_id="b1")
    grassroots.call("hold_talk", person_id="prompt", talked_by="m1")
    grassroots.project()
    grassroots.move_clock(dt.timedelta(days=31))
    assert grassroots.call("check_deadlines")["developments_flagged"] == 0, "a month to the minute: still in time"
    grassroots.move_clock(dt.timedelta(minutes=1))
    assert grassroots.call("check_deadlines")["developments_flagged"] == 1
    grassroots.project()
    assert grassroots.call("check_deadlines")["developments_flagged"] == 0, "flagged once"
    rows = {r["person_id"]: r for r in grassroots.call("pipeline", branch_id="b1")["items"]}
    assert rows["late"]["next_step"] == "talk_overdue" and rows["prompt"]["next_step"] is None


def test_a_publication_missed_is_flagged_once_per_due_date(grassroots: OnPostgres) -> None:
    grassroots.call("schedule_publication", branch_id="b1", category="finances", scope="public", every_days=30)
    grassroots.call("schedule_publication", branch_id="b1", category="dues", scope="party", every_days=90)
    grassroots.project()
    grassroots.move_clock(dt.timedelta(days=31))
    assert grassroots.call("check_deadlines")["publications_flagged"] == 1
    grassroots.project()
    assert grassroots.call("check_deadlines")["publications_flagged"] == 0
    grassroots.call("publish_affairs", branch_id="b1", category="finances", title="March accounts", body="...")
    grassroots.project()
    [branch] = grassroots.call("affairs", branch_id="b1")["items"]
    assert [m["category"] for m in branch["missed"]] == ["finances"]
    assert [p["title"] for p in branch["published"]] == ["March accounts"]
    due = {s["category"]: dt.datetime.fromisoformat(s["due_by"]) for s in branch["schedules"]}
    assert due["finances"] == grassroots.clock.now() + dt.timedelta(days=30), "publishing sets the next due date"
