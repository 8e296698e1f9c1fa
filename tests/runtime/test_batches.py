"""A stream's events queued behind a running one take effect in one transaction, and change nothing else.

The tally app consumes the ledger app's ``Deposited``. The first deposit of a
stream holds its lane for a while (``slow:``), so that the ones published
with it queue up behind it: they are then claimed, handled and committed
together (``deliver_batch``). Which transaction wrote an inbox row is its
``xmin``. A batch with an event that fails, or that breaks its chain, must end
exactly as if its events had come one by one.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.db.database import Database
from tests.support import environment, foreign
from tests.support.apps.tally.service import Tally
from tests.support.platform import InProcess, settings_for_tests, wait_until
from tests.support.probes import scalar, tally_state


@pytest.fixture
def tally(in_process: InProcess) -> InProcess:
    in_process.start(Tally)
    return in_process


def chain(stream: str, amounts: list[int], first_note: str = "slow:1.5") -> list[dict[str, Any]]:
    """Deposits v1..vN of ``stream``, each chained to the one before."""
    made: list[dict[str, Any]] = []
    for version, amount in enumerate(amounts, start=1):
        made.append(
            foreign.envelope(
                "ledger",
                "Deposited",
                stream,
                {"amount": amount, "note": first_note if version == 1 else ""},
                version=version,
                prev_hash=made[-1]["hash"] if made else foreign.GENESIS,
            )
        )
    return made


def transactions(database: Database, stream: str) -> int:
    """How many transactions wrote the stream's inbox rows."""
    return scalar(database, "SELECT count(DISTINCT xmin::text) FROM tally.inbox WHERE stream_id = %s", (stream,))


def dead_letters(database: Database) -> list[tuple[Any, ...]]:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT (envelope->>'version')::int, reason, attempts, error FROM tally.dead_letters ORDER BY id")
        return list(cur.fetchall())


def account() -> str:
    return f"account-{uuid.uuid4().hex[:8]}"


def test_events_queued_behind_a_running_one_are_committed_together(
    tally: InProcess, database: Database, test_env: environment.RunEnvironment
) -> None:
    stream = account()
    amounts = [a for a in range(1, 22) if a != 13]  # 13 always fails
    foreign.publish(test_env.amqp_uri, "ledger", *chain(stream, amounts))
    key = stream.split("-", 1)[1]
    wait_until(lambda: tally_state(database, key).deposits == 20, what="every deposit")
    assert tally_state(database, key).total == sum(amounts)
    assert scalar(database, "SELECT count(*) FROM tally.inbox WHERE stream_id = %s", (stream,)) == 20
    assert transactions(database, stream) == 2  # the slow first one, then the 19 queued behind it
    assert dead_letters(database) == []


def test_a_failing_event_in_a_batch_is_dead_lettered_alone_and_the_rest_take_effect_in_order(
    tally: InProcess, database: Database, test_env: environment.RunEnvironment
) -> None:
    stream = account()
    foreign.publish(test_env.amqp_uri, "ledger", *chain(stream, [1, 2, 13, 5, 7]))  # 13 always fails
    key = stream.split("-", 1)[1]
    wait_until(lambda: tally_state(database, key).deposits == 4, what="every deposit but the unlucky one")
    assert tally_state(database, key).total == 1 + 2 + 5 + 7
    ((version, reason, attempts, error),) = dead_letters(database)
    assert (version, reason, attempts) == (3, "failed", settings_for_tests().handler_attempts)
    assert "unlucky" in error
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT version FROM tally.inbox WHERE stream_id = %s ORDER BY handled_at, version", (stream,))
        assert [row[0] for row in cur.fetchall()] == [1, 2, 4, 5]


def test_an_event_out_of_chain_in_a_batch_is_refused_and_the_genuine_ones_around_it_are_taken(
    tally: InProcess, database: Database, test_env: environment.RunEnvironment
) -> None:
    stream = account()
    genuine = chain(stream, [1, 2, 4])
    forged = foreign.envelope(
        "ledger", "Deposited", stream, {"amount": 900, "note": ""}, version=2, prev_hash=genuine[0]["hash"]
    )  # a second v2, signed by the ledger's key: a fork of its history
    foreign.publish(test_env.amqp_uri, "ledger", genuine[0], genuine[1], forged, genuine[2])
    key = stream.split("-", 1)[1]
    wait_until(lambda: dead_letters(database), what="the fork's refusal")
    wait_until(lambda: tally_state(database, key).deposits == 3, what="the genuine deposits")
    assert tally_state(database, key).total == 7
    ((version, reason, _, error),) = dead_letters(database)
    assert (version, reason) == (None, "unauthenticated") and "out of chain" in error
