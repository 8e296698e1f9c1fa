"""``orgctl audit upcast-check`` against the fixtures' history: every service's stored events still load.

The history is written the way the platform writes it (``services_history``:
the demo's stories through each service's RPC methods, the events between
services through their real handlers), and the recorded history is stored
beside it: one event of each type and shape as earlier versions of the code
stored them (``tests/audit/fixtures/stored_history.json``). Then every stored
event of every store goes through today's upcasters and schemas. The recorded
part is what catches a change of shape: today's code always loads what it has
just written, not always what it wrote last year.

CI runs this module as a step of its own (``.ci/run``), so that an event type
changed without an upcaster is named there. An event whose payload no longer
validates is named with its service and position, and the command exits 1.

To add what new event types store to the recorded history (never to make a
failing check pass): ``ORGWORK_RECORD_HISTORY=1 .venv/bin/pytest
tests/audit/test_upcast_history.py -k record``, and review the diff.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from shared.cli.orgctl import app
from shared.eventstore.records import Metadata, NewEvent
from shared.eventstore.store import EventStore
from tests.audit.services_history import RECORDED, SERVICES, Platform, platform, record, restore, write_history
from tests.support.environment import RunEnvironment


@pytest.fixture(scope="module")
def history(test_env: RunEnvironment) -> Iterator[tuple[Platform, dict[str, Any]]]:
    with platform() as made:
        written = write_history(made)
        recorded = 0 if os.environ.get("ORGWORK_RECORD_HISTORY") else restore(made)
        yield made, {**written, "recorded": recorded}


def upcast_check(*args: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, ["audit", "upcast-check", "--json", *args])
    return result.exit_code, json.loads(result.output) if result.output.startswith("[") else result.output


def test_every_event_of_every_service_loads_through_todays_upcasters(
    history: tuple[Platform, dict[str, Any]],
) -> None:
    code, reports = upcast_check()
    assert code == 0, reports
    by_service = {r["service"]: r for r in reports}
    assert set(by_service) == {cls.name for cls in SERVICES}
    for name, report in by_service.items():
        assert report["present"] and report["ok"], name
        assert report["events_checked"] == sum(p["events"] for p in report["pairs"]) > 0, name
        assert len(report["pairs"]) >= 3, f"{name} stored too few kinds of event to be worth checking"
    assert sum(len(r["pairs"]) for r in reports) >= 50, "the history covers many event types"
    assert history[1]["recorded"] >= 50, "the recorded history was stored beside it"


def test_the_quick_pass_loads_one_event_of_each_type_and_version(history: tuple[Platform, dict[str, Any]]) -> None:
    code, reports = upcast_check("--pairs-only", "--service", "cadre")
    assert code == 0
    [cadre] = reports
    assert cadre["events_checked"] == len(cadre["pairs"]) < sum(p["events"] for p in cadre["pairs"])


def test_an_event_whose_payload_no_longer_loads_is_named_with_its_position(
    history: tuple[Platform, dict[str, Any]],
) -> None:
    made, _ = history
    store = EventStore(made["supervision"].database, "supervision")
    [bad] = store.append(
        "case-h-broken",
        [NewEvent("CaseOpened", {"cadre_id": 42})],  # as an older, looser version might have stored it
        0,
        Metadata(actor="staff:someone-long-ago"),
    )
    try:
        code, reports = upcast_check("--service", "supervision")
        assert code == 1
        [report] = reports
        [failure] = report["failures"]
        assert (failure["service"], failure["position"], failure["event_id"], failure["type"]) == (
            "supervision",
            bad.position,
            bad.event_id,
            "CaseOpened",
        )
        assert failure["schema_version"] == 1 and "ValidationFailed" in failure["error"]
        [pair] = [p for p in report["pairs"] if p["type"] == "CaseOpened"]
        assert pair["failed"] == 1 and pair["events"] >= 2

        text = CliRunner().invoke(app, ["audit", "upcast-check", "--service", "supervision"], env={"COLUMNS": "100"})
        assert text.exit_code == 1
        assert f"position {bad.position}" in text.output and bad.event_id in text.output
    finally:
        with made["supervision"].database.transaction() as conn, conn.cursor() as cur:
            cur.execute("ALTER TABLE supervision.events DISABLE TRIGGER USER")
            cur.execute("DELETE FROM supervision.events WHERE position = %s", [bad.position])
            cur.execute("ALTER TABLE supervision.events ENABLE TRIGGER USER")


@pytest.mark.skipif(not os.environ.get("ORGWORK_RECORD_HISTORY"), reason="set ORGWORK_RECORD_HISTORY=1 to record")
def test_record_the_history(history: tuple[Platform, dict[str, Any]]) -> None:
    """Write what today's code stores to the recorded history (one event of each type and shape)."""
    assert record(history[0]) > 0
    assert RECORDED.is_file()
