"""The cadre service on its PostgreSQL store, with no broker: its read models after a whole selection.

The demo's selection runs through the service's own entrypoints, in this
process, on its schema; the projections then answer the queries: each
candidate's journey, the notices, the selections by phase, the records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from services.cadre.entrypoint import CadreService
from services.scenarios import run_selection
from shared.errors import NotFound
from tests.support.environment import RunEnvironment
from tests.support.local import OnPostgres
from tests.support.platform import settings_for_tests


@pytest.fixture
def cadre(test_env: RunEnvironment) -> Iterator[OnPostgres]:
    service = OnPostgres(CadreService, settings_for_tests())
    yield service
    service.close()


def test_a_selection_leaves_a_journey_per_candidate_and_the_notices_the_public_saw(cadre: OnPostgres) -> None:
    seen: list[dict[str, Any]] = []

    def during_notice(view: dict[str, Any]) -> None:
        cadre.project()
        seen.extend(cadre.call("open_notices")["items"])

    view = run_selection(cadre.proxy, cadre.move_clock, "t", during_notice=during_notice)
    cadre.project()
    assert [(n["kind"], n["process_id"], n["cadre_ids"]) for n in seen] == [
        ("pre_appointment", "t-selection", ["t-c1"])
    ]
    assert cadre.call("open_notices")["items"] == [], "the notice has closed"

    journey = cadre.call("candidate_journey", process_id=view["process_id"], cadre_id="t-c1")["steps"]
    steps = [s["step"] for s in journey]
    assert steps[:2] == ["registered", "recommended"] and steps[-1] == "appointed"
    assert {"shortlisted", "assessment_preview", "assessed", "committee_vote", "public_notice"} <= set(steps)
    assessed = next(s for s in journey if s["step"] == "assessed")
    assert assessed["details"]["weighted_total"] == "90.20"
    assert assessed["details"]["weights"] == {"integrity": "40", "ability": "30", "performance": "30"}
    not_shortlisted = [
        s["step"] for s in cadre.call("candidate_journey", process_id="t-selection", cadre_id="t-c3")["steps"]
    ]
    assert "shortlisted" not in not_shortlisted
    with pytest.raises(NotFound):
        cadre.call("candidate_journey", process_id="t-selection", cadre_id="nobody")

    assert [(p["process_id"], p["candidates"]) for p in cadre.call("list_selections", phase="closed")["items"]] == [
        ("t-selection", 3)
    ]
    assert cadre.call("list_selections", phase="registration")["items"] == []
    appointed = cadre.call("get_cadre", cadre_id="t-c1")
    assert [(p["post_id"], p["process_id"]) for p in appointed["posts"]] == [("t-post", "t-selection")]
    assert [c["cadre_id"] for c in cadre.call("cadres_by_unit", unit="Qingshan township")["items"]] == [
        "t-c1",
        "t-c2",
        "t-c3",
    ]
