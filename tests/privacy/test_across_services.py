"""Personal data across running services, over real RabbitMQ and PostgreSQL.

A cadre's name leaves cadre sealed (the relay publishes what is stored, so
its hash and signature cover it), training and talent open it with cadre's
keys as they handle it, and seal it again in their own stores under the same
subject. Erased while everything runs, it reads as erased in all three.
"""

from __future__ import annotations

from typing import Any

import pytest

from services.cadre.entrypoint import CadreService
from services.talent.entrypoint import TalentService
from services.training.entrypoint import TrainingService
from shared.db.database import Database
from shared.eventstore.records import ERASED
from shared.privacy.erasure import ErasureTarget, erase_everywhere
from tests.privacy.support import broken_links, keys_held, stored_rows
from tests.support.environment import RunEnvironment
from tests.support.platform import services_running, settings_for_tests, wait_until

pytestmark = pytest.mark.slow

SERVICES = (CadreService, TrainingService, TalentService)


def names(rpc: Any, cadre_id: str) -> dict[str, str] | None:
    try:
        talents = {row["person_id"]: row["name"] for row in rpc.talent.pool()["items"]}
        return {
            "cadre": rpc.cadre.get_cadre(cadre_id=cadre_id)["name"],
            "training": rpc.training.learner_record(person_id=cadre_id)["name"],
            "talent": talents[cadre_id],
        }
    except Exception:
        return None


def test_a_name_travels_sealed_is_read_by_its_consumers_and_is_erased_in_all_of_them(
    test_env: RunEnvironment, database: Database, rpc: Any
) -> None:
    with services_running(database, settings_for_tests(), *SERVICES):
        rpc.cadre.register_cadre(cadre_id="c-sealed", name="Zhou Min", unit="Qingshan", post_category="township")
        everywhere = {"cadre": "Zhou Min", "training": "Zhou Min", "talent": "Zhou Min"}
        wait_until(lambda: names(rpc, "c-sealed") == everywhere, what="training and talent to read the name")
        for service in ("cadre", "training", "talent"):
            assert keys_held(database, service, "cadre:c-sealed") == 1, service
            assert "Zhou Min" not in str(stored_rows(database, service)), f"{service} stores it sealed"
            assert getattr(rpc, service).dead_letters()["items"] == [], f"{service} took every event"

        erase_everywhere(
            database,
            [ErasureTarget(cls.name, cls.events, [p() for p in cls.projections]) for cls in SERVICES],
            "cadre:c-sealed",
            legal_basis="consent withdrawn",
            requested_by="Zhou Min",
            actor="operator:test",
        )
        erased = {"cadre": ERASED, "training": ERASED, "talent": ERASED}
        wait_until(lambda: names(rpc, "c-sealed") == erased, what="every read model to show the name erased")
        for service in ("cadre", "training", "talent"):
            assert keys_held(database, service, "cadre:c-sealed") == 0 and broken_links(database, service) == []
