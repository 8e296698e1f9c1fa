"""Events between services, in one process: once in effect, through outages and poison."""

from __future__ import annotations

import time
from typing import Any

import eventlet
import pytest

from shared.db.database import Database
from shared.eventstore.store import EventStore
from shared.projections.runner import ProjectionRunner
from shared.runtime.messaging.publisher import BatchPublisher, event_message
from tests.support import environment, foreign
from tests.support.apps.ledger.service import Ledger
from tests.support.apps.tally.service import Tally, Totals
from tests.support.platform import InProcess, settings_for_tests, wait_until
from tests.support.probes import deposit_directly, inbox_rows, scalar, tally_state


@pytest.fixture
def both(in_process: InProcess) -> InProcess:
    in_process.start(Ledger)
    in_process.start(Tally)
    return in_process


def test_an_event_reaches_the_other_service_once_and_a_redelivery_changes_nothing(
    both: InProcess, rpc: Any, database: Database, test_env: environment.RunEnvironment
) -> None:
    rpc.ledger.deposit(account_id="a-1", amount=7)
    wait_until(lambda: tally_state(database, "a-1").deposits == 1, what="the deposit to be tallied")

    # The broker delivers the very same message again (as after a lost ack).
    stored = EventStore(database, "ledger").read_stream("account-a-1")
    publisher = BatchPublisher(test_env.amqp_uri, "ledger")
    envelope = stored[0].envelope()
    publisher.publish([event_message(envelope, foreign.signature("ledger", envelope))] * 2)
    publisher.close()
    wait_until(
        lambda: scalar(database, "SELECT count(*) FROM tally.inbox") == 1 and _duplicates() >= 2, what="duplicates"
    )

    state = tally_state(database, "a-1")
    assert (state.deposits, state.total) == (1, 7)
    assert inbox_rows(database) == 1


def _duplicates() -> float:
    from shared.runtime.observability.metrics import REGISTRY

    labels = {"orgwork_service": "tally", "source": "ledger"}
    return REGISTRY.get_sample_value("orgwork_duplicates_skipped_total", labels) or 0


def test_a_broker_outage_loses_nothing_and_doubles_nothing(
    both: InProcess, database: Database, test_env: environment.RunEnvironment
) -> None:
    deposit_directly(database, "before", 1)
    wait_until(lambda: tally_state(database, "before").deposits == 1, what="the first deposit")

    environment.set_vhost_max_connections(test_env, 0)
    environment.close_vhost_connections(test_env, "outage in a test")
    try:
        for n in range(4):
            deposit_directly(database, f"during-{n}", 2, count=5)  # appended while the broker is away
        deposit_directly(database, "before", 1)
    finally:
        environment.set_vhost_max_connections(test_env, -1)

    def all_tallied() -> bool:
        return all(tally_state(database, f"during-{n}").deposits == 5 for n in range(4)) and (
            tally_state(database, "before").deposits == 2
        )

    wait_until(all_tallied, timeout=60, interval=0.2, what="every event after the outage")
    for n in range(4):
        state = tally_state(database, f"during-{n}")
        assert (state.deposits, state.total, state.out_of_order) == (5, 10, 0)
    assert inbox_rows(database) == 22
    assert scalar(database, "SELECT count(*) FROM tally.events") == 22


def test_a_poison_event_is_dead_lettered_the_service_stays_up_and_it_can_be_replayed(
    both: InProcess, rpc: Any, database: Database
) -> None:
    rpc.ledger.deposit(account_id="p-1", amount=13)  # poison
    rpc.ledger.deposit(account_id="p-1", amount=1)  # same stream, after it
    rpc.ledger.deposit(account_id="p-2", amount=2)  # another stream

    letters = wait_until(lambda: rpc.tally.dead_letters()["items"], what="a dead letter")
    assert len(letters) == 1
    letter = letters[0]
    assert (letter["handler"], letter["source"], letter["type"]) == ("on_deposit", "ledger", "Deposited")
    assert (letter["error_type"], letter["attempts"]) == ("RuntimeError", 3)
    wait_until(lambda: tally_state(database, "p-1").deposits == 1 and tally_state(database, "p-2").deposits == 1)

    Tally.refuse_unlucky = False  # the fix is deployed
    assert rpc.tally.replay_dead_letter(id=letter["id"]) == {"id": letter["id"], "outcome": "handled"}
    assert (tally_state(database, "p-1").deposits, tally_state(database, "p-1").total) == (2, 14)
    assert rpc.tally.dead_letters()["items"] == []
    assert [d["id"] for d in rpc.tally.dead_letters(status="replayed")["items"]] == [letter["id"]]
    with pytest.raises(Exception, match="not found"):
        rpc.tally.replay_dead_letter(id=letter["id"])


def test_a_slow_handler_does_not_kill_the_service(in_process: InProcess, rpc: Any, database: Database) -> None:
    """With a 1 s heartbeat, a handler waiting 5 s on PostgreSQL would kill a
    container whose hub it blocked; the green driver keeps the hub answering."""
    settings = settings_for_tests(amqp_heartbeat=1)
    in_process.start(Ledger, settings=settings)
    runner = in_process.start(Tally, settings=settings)
    rpc.ledger.deposit(account_id="slow-1", amount=1, note="slow:5")
    wait_until(lambda: tally_state(database, "slow-1").deposits == 1, timeout=30, what="the slow deposit")
    rpc.ledger.deposit(account_id="slow-1", amount=2)
    wait_until(lambda: tally_state(database, "slow-1").deposits == 2, what="the next deposit")
    container = next(iter(runner.containers))
    assert not container._died.ready(), "the tally container is still running"
    assert inbox_rows(database) == 2


def test_a_projection_rebuilt_from_zero_equals_the_live_one(both: InProcess, rpc: Any, database: Database) -> None:
    for account, amount in [("r-1", 3), ("r-2", 4), ("r-1", 5)]:
        rpc.ledger.deposit(account_id=account, amount=amount)
    wait_until(lambda: rpc.tally.totals(account_id="r-1")["deposits"] == 2, what="the projection")
    wait_until(lambda: rpc.tally.totals(account_id="r-2")["deposits"] == 1, what="the projection")

    def rows() -> list[tuple]:
        with database.transaction() as conn, conn.cursor() as cur:
            cur.execute("SELECT account_id, deposits, total FROM tally.tally_totals ORDER BY account_id")
            return cur.fetchall()

    live = rows()
    assert live == [("r-1", 2, 8), ("r-2", 1, 4)]
    runner = ProjectionRunner(database, "tally", Totals(), Tally.events)
    runner.rebuild()  # the live projector may apply some of the replay itself
    wait_until(lambda: rows() == live, what="the rebuilt rows")
    applied = scalar(database, "SELECT applied FROM tally.projection_checkpoints WHERE projection = 'totals'")
    assert applied == 3, "counted from zero again, not on top of the live count"


def test_a_backlog_with_few_workers_and_connections_does_not_deadlock(
    in_process: InProcess, database: Database
) -> None:
    """Lanes of two or more events each, two workers, three connections: every
    worker hands its connection back before the next in its lane starts."""
    in_process.start(Ledger)
    for n in range(10):
        deposit_directly(database, f"b-{n}", 1, count=3)
    in_process.start(Tally, settings=settings_for_tests(max_workers=2, db_pool_size=3))
    wait_until(
        lambda: all(tally_state(database, f"b-{n}").deposits == 3 for n in range(10)),
        timeout=60,
        what="the whole backlog",
    )
    assert all(tally_state(database, f"b-{n}").out_of_order == 0 for n in range(10))


def test_an_idle_relay_keeps_its_broker_connection(in_process: InProcess, database: Database) -> None:
    """With a 1 s heartbeat, a relay that never read the broker's heartbeats
    would drop its connection (and its leadership) after 2 s of idleness."""
    runner = in_process.start(Ledger, settings=settings_for_tests(amqp_heartbeat=1))
    container = next(iter(runner.containers))
    relay = next(d for d in container.dependencies if type(d).__name__ == "OutboxRelay")
    wait_until(lambda: relay.status.leader, what="the relay to lead")
    time.sleep(5)
    assert relay.status.leader and relay.status.last_error is None


def test_events_arriving_while_their_lane_runs_are_handled_once_each(in_process: InProcess, database: Database) -> None:
    """Deliveries for a stream keep arriving while its previous event finishes:
    the next must start exactly once (a second start would ack a message twice
    and kill the container)."""
    in_process.start(Ledger)
    runner = in_process.start(Tally)

    def producer(n: int) -> None:
        for _ in range(6):
            deposit_directly(database, f"busy-{n}", 1, count=5)
            eventlet.sleep(0.01)

    pool = eventlet.GreenPool(20)
    for n in range(20):
        pool.spawn(producer, n)
    pool.waitall()
    wait_until(
        lambda: all(tally_state(database, f"busy-{n}").deposits == 30 for n in range(20)),
        timeout=90,
        what="every deposit",
    )
    container = next(iter(runner.containers))
    assert not container._died.ready(), "the tally container is still running"
    assert inbox_rows(database) == 600


def test_an_event_a_projection_keeps_failing_on_is_parked_and_the_projection_goes_on(
    both: InProcess, database: Database
) -> None:
    """Before, the projection retried the event for ever and applied nothing after it
    (finding 8 of the hardening issue)."""
    deposit_directly(database, "beast-1", 666)
    deposit_directly(database, "beast-1", 1)
    deposit_directly(database, "beast-2", 2)
    runner = ProjectionRunner(database, "tally", Totals(), Tally.events)
    wait_until(lambda: runner.parked(), what="the poison event to be parked")
    wait_until(
        lambda: scalar(database, "SELECT coalesce(sum(total), 0) FROM tally.tally_totals") == 3,
        what="the events after it",
    )
    (parked,) = runner.parked()
    assert (parked["type"], parked["error_type"], parked["attempts"]) == ("DepositCounted", "RuntimeError", 3)

    Totals.refuse_beastly = False  # the fix is deployed
    runner.retry_parked(parked["id"])
    assert scalar(database, "SELECT total FROM tally.tally_totals WHERE account_id = 'beast-1'") == 667
    assert [p["status"] for p in runner.parked()] == ["retried"]
