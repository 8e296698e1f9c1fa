"""Subscribers that come late, or lose their queue, read what they missed from the publisher's store.

Before this, an event published while no queue was bound for it was dropped
by the broker (nameko publishes without ``mandatory``), and a subscriber that
started later never saw it.
"""

from __future__ import annotations

from typing import Any

import kombu

from shared.db.database import Database
from shared.runtime.observability.metrics import REGISTRY
from tests.support import environment
from tests.support.apps.ledger.service import Ledger
from tests.support.apps.tally.service import Tally
from tests.support.platform import InProcess, wait_until
from tests.support.probes import deposit_directly, inbox_rows, scalar, tally_state


def delete_tally_queue(env: environment.RunEnvironment) -> None:
    with kombu.Connection(env.amqp_uri) as connection:
        connection.channel().queue_delete("tally.inbox.ledger")


def unroutable() -> float:
    labels = {"orgwork_service": "ledger", "type": "Deposited"}
    return REGISTRY.get_sample_value("orgwork_events_unroutable_total", labels) or 0


def all_tallied(database: Database, accounts: dict[str, int]) -> bool:
    return all(tally_state(database, account).deposits == count for account, count in accounts.items())


def test_a_subscriber_that_starts_after_its_publisher_reads_the_past_from_the_store(
    in_process: InProcess, rpc: Any, database: Database, test_env: environment.RunEnvironment
) -> None:
    delete_tally_queue(test_env)  # tally has never run: no queue is bound for ledger's events
    before = unroutable()
    in_process.start(Ledger)
    for n in range(3):
        rpc.ledger.deposit(account_id=f"early-{n}", amount=2, count=2)
    wait_until(lambda: unroutable() >= before + 6, what="the broker to return the unroutable events")

    in_process.start(Tally)
    accounts = {f"early-{n}": 2 for n in range(3)}
    wait_until(lambda: all_tallied(database, accounts), timeout=30, what="the past to be tallied")
    rpc.ledger.deposit(account_id="early-0", amount=2)  # and live delivery goes on
    accounts["early-0"] = 3
    wait_until(lambda: all_tallied(database, accounts), what="the live deposit")
    assert inbox_rows(database) == 7, "each event once"
    assert all(tally_state(database, account).out_of_order == 0 for account in accounts)
    position = scalar(database, "SELECT count(*) FROM tally.subscriptions WHERE source = 'ledger' AND position > 0")
    assert position == 1, "the subscription keeps its place in ledger's store"


def test_a_lost_queue_is_declared_again_and_what_was_published_meanwhile_is_read_from_the_store(
    in_process: InProcess, database: Database, test_env: environment.RunEnvironment
) -> None:
    in_process.start(Ledger)
    in_process.start(Tally)
    deposit_directly(database, "lost-1", 1)
    wait_until(lambda: tally_state(database, "lost-1").deposits == 1, what="the first deposit")

    delete_tally_queue(test_env)  # an operator deletes it; the broker cancels the consumer
    for n in range(4):
        deposit_directly(database, f"lost-{n}", 1, count=3)
    accounts = {"lost-0": 3, "lost-1": 4, "lost-2": 3, "lost-3": 3}
    wait_until(lambda: all_tallied(database, accounts), timeout=60, interval=0.2, what="every deposit after the loss")
    assert inbox_rows(database) == 13, "each event once"
    assert all(tally_state(database, account).out_of_order == 0 for account in accounts)
