"""The calendar over RPC and orgctl: the operator loads a year into every running service, and each counts on it.

Two services (the test apps ``ledger`` and ``tally``) run in this process;
``orgctl calendar load`` and ``show`` call them as the operator, as they call
the platform's services.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from nameko.runners import ServiceRunner
from typer.testing import CliRunner

from shared.application.calendars import CALENDAR_STREAM
from shared.application.postgres import PostgresUnitOfWork
from shared.audit import history
from shared.cli import common as cli_common
from shared.cli import orgctl
from shared.db.database import Database
from shared.domain.calendar import OrganisationCalendar
from shared.errors import Forbidden, ValidationFailed
from shared.runtime.messaging.client import rpc_client
from shared.security.assertions import Identity
from shared.security.policy import OPERATOR
from tests.support.apps.ledger.service import Ledger
from tests.support.apps.tally.service import Tally
from tests.support.environment import RunEnvironment
from tests.support.identities import THE_PUBLIC, staff
from tests.support.platform import InProcess

THE_OPERATOR = Identity("operator:ops-1", (OPERATOR,), OPERATOR)

YEAR_2027 = """\
year = 2027
source = "国务院办公厅关于2027年部分节假日安排的通知"
provisional = false
holidays = ["2027-01-01", "2027-02-05", "2027-02-08", "2027-10-01", "2027-10-04"]
make_up_working_days = ["2027-02-20", "2027-10-09"]
"""
DATA_2027: dict[str, Any] = {
    "year": 2027,
    "source": "国务院办公厅关于2027年部分节假日安排的通知",
    "holidays": ["2027-01-01", "2027-02-05", "2027-02-08", "2027-10-01", "2027-10-04"],
    "make_up_working_days": ["2027-02-20", "2027-10-09"],
}


@pytest.fixture
def both(in_process: InProcess) -> ServiceRunner:
    return in_process.start(Ledger, Tally)


def events_of(database: Database, schema: str) -> list[dict[str, Any]]:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            f'SELECT type, data, metadata FROM "{schema}".events WHERE stream_id = %s ORDER BY version',
            [CALENDAR_STREAM],
        )
        return [{"type": t, "data": d, "metadata": m} for t, d, m in cur.fetchall()]


def calendar_of(runner: ServiceRunner, service: str) -> OrganisationCalendar:
    """The calendar a use case of ``service`` gets now: a worker's unit of work on the container's book."""
    container = next(c for c in runner.containers if c.service_name == service)
    storage = next(d for d in container.dependencies if d.attr_name == "uow")
    uow = PostgresUnitOfWork(
        storage.pool.database, service, storage.registry, storage.clocks.clock, calendars=storage.calendars
    )
    try:
        return uow.calendar
    finally:
        uow.close()


def status_of(runner: ServiceRunner, service: str) -> dict[str, Any]:
    """What the service's health port answers on /status."""
    container = next(c for c in runner.containers if c.service_name == service)
    operations = next(d for d in container.dependencies if d.attr_name == "operations")
    return dict(operations.status())


def test_the_operator_loads_a_year_it_is_stored_as_an_event_and_use_cases_count_on_it(
    both: ServiceRunner, database: Database, test_env: RunEnvironment
) -> None:
    assert status_of(both, "ledger")["calendar"] == {
        "loaded": [],
        "shipped": [2026, 2027],
        "summary": "shipped years only (none loaded)",
    }
    before = calendar_of(both, "ledger")
    assert before.years[2027].provisional and before.is_working_day(dt.date(2027, 10, 4))
    with rpc_client(timeout=20, identity=THE_OPERATOR, issuer=OPERATOR) as rpc:
        shown = rpc.ledger.calendar_years()["items"]
        assert [(y["year"], y["origin"]) for y in shown] == [(2026, "shipped"), (2027, "shipped")]
        reply = rpc.ledger.load_calendar(reason="the 2027 notice is out", **DATA_2027)
        assert (reply["year"], reply["origin"], reply["changed"]) == (2027, "loaded", True)
        assert rpc.ledger.load_calendar(**DATA_2027)["changed"] is False, "the same year again changes nothing"
        shown = {y["year"]: y for y in rpc.ledger.calendar_years()["items"]}
        assert (shown[2026]["origin"], shown[2027]["origin"]) == ("shipped", "loaded")
        assert rpc.tally.calendar_years()["items"][1]["origin"] == "shipped", "loaded into ledger alone"

    [event] = events_of(database, "ledger")
    assert event["type"] == "CalendarYearLoaded"
    assert event["data"]["holidays"] == DATA_2027["holidays"] and event["data"]["provisional"] is False
    assert (event["metadata"]["actor"], event["metadata"]["reason"]) == ("operator:ops-1", "the 2027 notice is out")

    after = calendar_of(both, "ledger")
    assert not after.years[2027].provisional
    assert not after.is_working_day(dt.date(2027, 10, 4)) and after.is_working_day(dt.date(2027, 10, 9))
    assert calendar_of(both, "tally").years[2027].provisional
    assert status_of(both, "ledger")["calendar"]["summary"] == "loaded 2027; shipped 2026"

    # an auditor rebuilds the calendar record as of any moment, from its events alone
    owner, recorded = history.find_stream(database, ["tally", "ledger"], CALENDAR_STREAM)
    state = history.as_of(Ledger, CALENDAR_STREAM, recorded, position=recorded[-1].position)
    assert owner == "ledger" and [y["year"] for y in state["state"]["years"]] == [2027]
    assert state["state"]["years"][0]["holidays"] == DATA_2027["holidays"]
    assert status_of(both, "tally")["calendar"]["loaded"] == []


def test_only_the_operator_loads_a_calendar(both: ServiceRunner, database: Database) -> None:
    others = [
        staff(
            "clerk",
            "department_staff",
            "auditor",
            "supervision_officer",
            "training_officer",
            "learner",
            "grassroots_officer",
            "talent_officer",
        ),
        THE_PUBLIC,
    ]
    for identity in others:
        with rpc_client(timeout=20, identity=identity) as rpc, pytest.raises(Forbidden):
            rpc.ledger.load_calendar(**DATA_2027)
    with rpc_client(timeout=20, identity=staff("auditor-1", "auditor")) as rpc:
        assert len(rpc.ledger.calendar_years()["items"]) == 2, "what a service counts on is there to be read"
    assert events_of(database, "ledger") == []


def test_a_bad_year_is_refused_over_rpc_naming_the_problem(both: ServiceRunner, database: Database) -> None:
    with rpc_client(timeout=20, identity=THE_OPERATOR, issuer=OPERATOR) as rpc:
        with pytest.raises(ValidationFailed) as caught:
            rpc.ledger.load_calendar(**{**DATA_2027, "holidays": ["2027-10-01", "2026-10-01"]})
        assert caught.value.errors == {"holidays": ["2026-10-01 is not in 2027"]}
        with pytest.raises(ValidationFailed) as caught:
            rpc.ledger.load_calendar(**{**DATA_2027, "make_up_working_days": ["2027-10-01"]})
        assert caught.value.errors == {
            "make_up_working_days": ["2027-10-01 is a Friday: a make-up working day (调休) is a Saturday or Sunday"],
            "holidays": ["2027-10-01 is both a holiday and a make-up working day"],
        }
        with pytest.raises(ValidationFailed) as caught:
            rpc.ledger.load_calendar(**{k: v for k, v in DATA_2027.items() if k != "source"})
        assert "source" in caught.value.errors
    assert events_of(database, "ledger") == []


# -- orgctl ------------------------------------------------------------------------------------


@pytest.fixture
def orgctl_sees_the_apps(monkeypatch: pytest.MonkeyPatch) -> None:
    """orgctl's services are those under services/; here, the two running in this process."""
    monkeypatch.setattr(cli_common, "existing_services", lambda: ["ledger", "tally"])


def run(*args: str) -> Any:
    return CliRunner().invoke(orgctl.app, list(args))


def test_orgctl_loads_a_year_into_every_running_service_and_shows_what_each_counts_on(
    both: ServiceRunner, orgctl_sees_the_apps: None, database: Database, tmp_path: Path
) -> None:
    shown = run("calendar", "show", "--json")
    assert shown.exit_code == 0, shown.output
    assert {(r["service"], r["year"], r["origin"]) for r in json.loads(shown.output)} == {
        (s, y, "shipped") for s in ("ledger", "tally") for y in (2026, 2027)
    }
    table = run("calendar", "show")
    assert table.exit_code == 0 and "shipped" in table.output and "loaded)" in table.output

    path = tmp_path / "2027.toml"
    path.write_text(YEAR_2027, encoding="utf-8")
    loaded = run("calendar", "load", str(path), "--json")
    assert loaded.exit_code == 0, loaded.output
    assert json.loads(loaded.output) == [
        {"service": "ledger", "year": 2027, "changed": True, "error": None},
        {"service": "tally", "year": 2027, "changed": True, "error": None},
    ]
    assert run("calendar", "load", str(path)).exit_code == 0, "loading it again is fine, and changes nothing"
    for schema in ("ledger", "tally"):
        [event] = events_of(database, schema)
        assert event["data"]["year"] == 2027 and event["metadata"]["actor"].startswith("operator:")

    rows = json.loads(run("calendar", "show", "--json").output)
    assert {(r["service"], r["year"], r["origin"]) for r in rows} == {
        (s, y, o) for s in ("ledger", "tally") for y, o in ((2026, "shipped"), (2027, "loaded"))
    }
    assert calendar_of(both, "tally").is_working_day(dt.date(2027, 10, 9))


def test_orgctl_refuses_a_bad_file_naming_each_problem_and_loads_nothing(
    both: ServiceRunner, orgctl_sees_the_apps: None, database: Database, tmp_path: Path
) -> None:
    path = tmp_path / "2027.toml"
    path.write_text(YEAR_2027.replace('"2027-10-04"', '"2028-10-04"').replace("source = ", "origin = "), "utf-8")
    result = run("calendar", "load", str(path))
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "is not a valid calendar year" in said
    assert "holidays: 2028-10-04 is not in 2027" in said
    assert "source: missing" in said and "origin: unknown field" in said
    assert events_of(database, "ledger") == [] and events_of(database, "tally") == []


def test_orgctl_says_which_service_does_not_answer(
    both: ServiceRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(cli_common, "existing_services", lambda: ["ledger", "nobody"])
    result = run("calendar", "show", "--json")
    assert result.exit_code == 1
    rows = json.loads(result.output)
    assert {r["service"] for r in rows if r["error"] is None} == {"ledger"}
    assert [r["error"] for r in rows if r["service"] == "nobody"] == ["not running (no answer)"]
