"""``orgctl audit history`` readable at 80 columns and through a pipe; the table kept where it fits.

The command is run as a user runs it (typer's runner, ``COLUMNS=80``, output
not a terminal): each event is a block — a header line, a line of ids, the
payload as indented JSON — never a payload squeezed into a column. ``--json``
keeps its shape. On a wide terminal the table stays; long output on a
terminal goes through the pager.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console
from typer.testing import CliRunner

from services.supervision.entrypoint import SupervisionService
from shared.cli import reading_views as views
from shared.cli.orgctl import app
from tests.audit.services_history import platform
from tests.support.environment import RunEnvironment

MEETING = [{"name": "Zhao", "role": "organization"}, {"name": "Qian", "role": "discipline_inspection"}]
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
HEADER = re.compile(r"^#(\d+)  v(\d+)  (\S+)  (\w+)  by (\S+)  (reason: .*|\(no reason given\))$")
IDS = re.compile(rf"^  event ({UUID})  correlation ({UUID})  causation ({UUID}|-)$")


@pytest.fixture(scope="module")
def case(test_env: RunEnvironment) -> Iterator[str]:
    """A supervision case from opening to outcome: four events, one with a long summary and brackets."""
    with platform(SupervisionService) as made:
        supervision = made["supervision"]
        supervision.call(
            "open_case",
            case_id="k1",
            cadre_id="c-1",
            summary="[bold]not markup[/bold]: " + "a report about a candidate's gifts " * 4,
            reason="a complaint came in",
        )
        supervision.call("assign_case", case_id="k1", investigator="Zhao")
        supervision.call("hold_joint_meeting", case_id="k1", participants=MEETING, decision="not borne out")
        supervision.call("record_outcome", case_id="k1", substantiated=False, reasons="no record of it")
        yield "case-k1"


def run(*args: str, columns: int = 80) -> Any:
    return CliRunner().invoke(app, ["audit", *args], env={"COLUMNS": str(columns)})


def blocks(output: str) -> list[list[str]]:
    """The output after its title line, split into the blocks separated by blank lines."""
    title, *rest = output.rstrip("\n").split("\n")
    assert title.startswith("supervision: case-k1  (4 events)"), title
    found: list[list[str]] = []
    for line in rest:
        if line == "":
            found.append([])
        else:
            found[-1].append(line)
    return found


def test_at_80_columns_and_piped_each_event_is_a_block_with_its_payload_as_json(case: str) -> None:
    result = run("history", case)
    assert result.exit_code == 0, result.output
    machine = json.loads(run("history", case, "--json").output)["events"]
    found = blocks(result.output)
    assert len(found) == len(machine) == 4
    for block, event in zip(found, machine, strict=True):
        header, ids, *payload = block
        match = HEADER.match(header)
        assert match, header
        assert (int(match[1]), int(match[2]), match[3], match[4], match[5]) == (
            event["position"],
            event["version"],
            event["recorded_at"],
            event["type"],
            event["actor"],
        )
        assert IDS.match(ids), ids
        assert ids.split() == [
            "event",
            event["event_id"],
            "correlation",
            event["correlation_id"],
            "causation",
            event["causation_id"] or "-",
        ]
        assert all(line.startswith(views.PAYLOAD_INDENT) for line in payload)
        assert json.loads("\n".join(line[len(views.PAYLOAD_INDENT) :] for line in payload)) == event["data"]
        assert len(payload) == len(json.dumps(event["data"], indent=2).splitlines()), "one line per JSON line"
    assert found[0][0].endswith("reason: a complaint came in")
    assert "[bold]not markup[/bold]" in result.output, "payloads are printed as they are, never as markup"
    assert "┃" not in result.output and "│" not in result.output, "no table"


def test_json_for_machines_keeps_its_shape(case: str) -> None:
    document = json.loads(run("history", case, "--json").output)
    assert set(document) == {"service", "stream_id", "events"} and document["service"] == "supervision"
    assert [set(e) for e in document["events"]] == [
        {
            "position",
            "version",
            "recorded_at",
            "type",
            "actor",
            "reason",
            "correlation_id",
            "causation_id",
            "event_id",
            "data",
        }
    ] * 4


def test_a_stream_nowhere_is_a_problem(case: str) -> None:
    assert run("history", "case-nothing-here").exit_code == 1


def rows(count: int = 2) -> list[dict[str, Any]]:
    return [
        {
            "position": n,
            "version": n,
            "recorded_at": "2026-03-02T09:00:00+00:00",
            "type": "CaseAssigned",
            "actor": "staff:li",
            "reason": None,
            "correlation_id": "c",
            "causation_id": None,
            "event_id": f"e{n}",
            "data": {"investigator": "Zhao"},
        }
        for n in range(1, count + 1)
    ]


def terminal(width: int, height: int = 100) -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=width, height=height, color_system=None), out


def test_on_a_wide_terminal_the_table_stays() -> None:
    console, out = terminal(200)
    views.show_history(console, "supervision", "case-k1", rows())
    assert "┃ pos" in out.getvalue() and "CaseAssigned" in out.getvalue()
    console, out = terminal(80)
    views.show_history(console, "supervision", "case-k1", rows())
    assert "┃" not in out.getvalue() and "#1  v1" in out.getvalue(), "too narrow for the table: blocks"


def test_long_output_on_a_terminal_is_paged_and_short_output_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGER", "less")
    paged: list[bool] = []

    def pager(self: Console, styles: bool = False, **_: Any) -> Any:
        @contextlib.contextmanager
        def paging() -> Iterator[None]:
            paged.append(styles)
            yield

        return paging()

    monkeypatch.setattr(Console, "pager", pager)
    console, _ = terminal(80, height=20)
    views.show_history(console, "supervision", "case-k1", rows(1))
    assert paged == []
    views.show_history(console, "supervision", "case-k1", rows(10))
    assert paged == [True], "paged, in colour (LESS=FRX unless the user set LESS)"
    piped = Console(file=io.StringIO(), height=20)
    views.show_history(piped, "supervision", "case-k1", rows(10))
    assert paged == [True], "never paged when piped"
