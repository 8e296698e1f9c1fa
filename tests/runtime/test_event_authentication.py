"""Events are taken only from their source: signed by its relay, and continuing its chain.

The tally app consumes the ledger app's ``Deposited``. Each test puts an
envelope on ``ledger.events`` the way an intruder with access to the exchange
could, and checks that tally dead-letters it as ``unauthenticated``, applies
nothing of it, and still takes the genuine event behind it.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from shared.db.database import Database
from tests.support import environment, foreign
from tests.support.apps.ledger.service import Ledger
from tests.support.apps.tally.service import Tally
from tests.support.platform import InProcess, wait_until
from tests.support.probes import scalar, tally_state


@pytest.fixture
def tally(in_process: InProcess) -> InProcess:
    in_process.start(Tally)
    return in_process


def deposit(stream: str, amount: int = 3, version: int = 1, prev_hash: str = foreign.GENESIS) -> dict[str, Any]:
    return foreign.envelope(
        "ledger", "Deposited", stream, {"amount": amount, "note": ""}, version=version, prev_hash=prev_hash
    )


def refusals(database: Database) -> list[tuple[Any, ...]]:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT reason, envelope IS NULL, error FROM tally.dead_letters ORDER BY id")
        return list(cur.fetchall())


def replayable(database: Database) -> int:
    return scalar(database, "SELECT count(*) FROM tally.dead_letters WHERE envelope IS NOT NULL")


def account() -> str:
    return f"account-{uuid.uuid4().hex[:8]}"


def genuine_goes_through(amqp_uri: str, database: Database) -> None:
    stream = account()
    foreign.publish(amqp_uri, "ledger", deposit(stream, amount=1))
    wait_until(lambda: tally_state(database, stream.split("-", 1)[1]).deposits == 1, what="the genuine event")


@pytest.mark.parametrize(
    ("how", "signed_by", "why"),
    [
        ("unsigned", None, "carries no signature"),
        ("signed with another service's key", "cadre", "signature is not ledger's"),
        ("signed with the gateway's key", "gateway", "signature is not ledger's"),
    ],
)
def test_an_event_its_source_did_not_sign_is_dead_lettered_as_unauthenticated(
    tally: InProcess, database: Database, test_env: environment.RunEnvironment, how: str, signed_by: Any, why: str
) -> None:
    stream = account()
    foreign.publish(test_env.amqp_uri, "ledger", deposit(stream, amount=500), signed_by=signed_by)
    letters = wait_until(lambda: refusals(database), what="the refusal")
    assert [(reason, kept_raw) for reason, kept_raw, _ in letters] == [("unauthenticated", True)], how
    assert why in letters[0][2]
    genuine_goes_through(test_env.amqp_uri, database)
    assert tally_state(database, stream.split("-", 1)[1]).deposits == 0, "nothing of the forgery is applied"
    assert replayable(database) == 0, "a forgery cannot be replayed into effect"


def test_an_event_altered_after_its_source_signed_it_is_dead_lettered(
    tally: InProcess, database: Database, test_env: environment.RunEnvironment
) -> None:
    stream = account()
    signed = deposit(stream, amount=1)
    altered = {**signed, "data": {"amount": 900, "note": ""}}  # the signature and hash of the genuine one
    foreign.publish(test_env.amqp_uri, "ledger", altered, signed_by=None)  # publish without re-signing...
    # ...then with the genuine signature copied over, as an intruder who captured it would
    from shared.runtime.messaging.publisher import BatchPublisher, event_message

    publisher = BatchPublisher(test_env.amqp_uri, "ledger")
    try:
        publisher.publish([event_message(altered, foreign.signature("ledger", signed))])
    finally:
        publisher.close()
    wait_until(lambda: len(refusals(database)) == 2, what="both refusals")
    letters = refusals(database)
    assert [reason for reason, _, _ in letters] == ["unauthenticated", "unauthenticated"]
    assert "hash is not the hash of its content" in letters[1][2]
    genuine_goes_through(test_env.amqp_uri, database)
    assert tally_state(database, stream.split("-", 1)[1]).deposits == 0


def test_an_event_that_does_not_continue_its_stream_is_dead_lettered_and_a_replay_changes_nothing(
    tally: InProcess, database: Database, test_env: environment.RunEnvironment
) -> None:
    stream = account()
    key = stream.split("-", 1)[1]
    first = deposit(stream, amount=2)
    foreign.publish(test_env.amqp_uri, "ledger", first)
    wait_until(lambda: tally_state(database, key).deposits == 1, what="the first event")

    # signed by ledger's key, but not chained to the v1 consumed: history rewritten at the source
    forked_next = deposit(stream, amount=40, version=2, prev_hash="ab" * 32)
    foreign.publish(test_env.amqp_uri, "ledger", forked_next)
    letters = wait_until(lambda: refusals(database), what="the out-of-chain refusal")
    assert letters[0][0] == "unauthenticated" and "out of chain" in letters[0][2]

    # a second, different v1, signed: a fork
    foreign.publish(test_env.amqp_uri, "ledger", deposit(stream, amount=70))
    wait_until(lambda: len(refusals(database)) == 2, what="the fork's refusal")

    # the genuine v1 again, captured and replayed: a duplicate, nothing applied twice
    foreign.publish(test_env.amqp_uri, "ledger", first)
    # and the genuine v2, chained to v1, is taken
    foreign.publish(test_env.amqp_uri, "ledger", deposit(stream, amount=5, version=2, prev_hash=first["hash"]))
    wait_until(lambda: tally_state(database, key).deposits == 2, what="the genuine v2")
    assert tally_state(database, key).total == 7
    assert len(refusals(database)) == 2


def test_events_of_a_real_source_pass(
    in_process: InProcess, rpc: Any, database: Database, test_env: environment.RunEnvironment
) -> None:
    """The relay signs what it publishes: a ledger running beside tally is believed."""
    in_process.start(Ledger, Tally)
    name = f"real-{uuid.uuid4().hex[:6]}"
    for amount in (1, 2, 3):
        rpc.ledger.deposit(account_id=name, amount=amount)
    wait_until(lambda: tally_state(database, name).deposits == 3, what="three deposits")
    assert tally_state(database, name).total == 6 and refusals(database) == []
