"""Talent with cadre, over real RabbitMQ and PostgreSQL: history from before talent started counts.

Cadres registered and a selection run to its appointment while talent does
not exist at all (no schema, no queue); when talent first starts, it catches
up on cadre's store: every cadre is in the pool as a party-and-government
talent, and the appointee with the post they were appointed to.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import kombu
import pytest

from services.cadre.entrypoint import CadreService
from services.scenarios import run_selection
from services.talent.entrypoint import TalentService
from shared.config import SERVICE_NAMES
from shared.db.clock import advance_clock
from shared.db.database import Database
from shared.runtime.messaging.topology import events_exchange
from shared.runtime.process.provisioning import migrate_service
from tests.support.environment import RunEnvironment
from tests.support.platform import InProcess, reset_apps, settings_for_tests, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture
def cadre_alone(test_env: RunEnvironment, database: Database) -> Iterator[InProcess]:
    """cadre running, and talent as if it had never run: no schema, no queue."""
    settings = settings_for_tests(clock="offset")
    reset_apps(database, settings, CadreService)
    with kombu.Connection(settings.amqp_uri) as connection:
        channel = connection.channel()
        for source in SERVICE_NAMES:
            channel.queue_delete(f"talent.inbox.{source}")
            events_exchange(source)(channel).declare()  # as the operator's migration step declares them
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute('DROP SCHEMA IF EXISTS "talent" CASCADE')
    runners = InProcess()
    runners.start(CadreService, settings=settings)
    try:
        yield runners
    finally:
        runners.stop_all()


def test_cadres_appointed_before_talent_started_are_in_the_pool_with_their_post(
    cadre_alone: InProcess, database: Database, rpc: Any
) -> None:
    view = run_selection(rpc.cadre, lambda delta: advance_clock(database, delta), "early")
    assert [c["cadre_id"] for c in view["candidates"] if c["result"] == "appointed"] == ["early-c1"]

    settings = settings_for_tests(clock="offset")
    migrate_service(settings, TalentService)
    cadre_alone.start(TalentService, settings=settings)

    def pooled() -> dict[str, Any]:
        rows = {row["person_id"]: row for row in rpc.talent.pool(team="party_government")["items"]}
        caught_up = {"early-c1", "early-c2", "early-c3"} <= set(rows) and rows["early-c1"]["post"]
        return rows if caught_up else {}

    rows = wait_until(pooled, what="talent to catch up on cadre's store", timeout=60)
    assert (rows["early-c1"]["post"], rows["early-c1"]["unit"]) == ("Deputy head", "Qingshan township")
    assert rows["early-c2"]["post"] is None and rows["early-c2"]["cadre_id"] == "early-c2"
    assert {row["level"] for row in rows.values()} == {"cadre"}
