"""Inbound queues as quorum queues: they survive a node, and a message handed back too often is kept, not looped.

The broker is asked what it holds (``rabbitmqctl list_queues``); a message
is handed back as a dying consumer hands it back (its connection closes
without an acknowledgement) or as a consumer that gives it back does
(``basic.reject`` with requeue), by a raw AMQP consumer, before the service
starts; then the service takes what the broker dead-lettered into its own
``dead_letters``.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import amqp
import kombu
import pytest

from services.cadre.entrypoint import CadreService
from services.feedback.entrypoint import FeedbackService
from services.grassroots.entrypoint import GrassrootsService
from services.supervision.entrypoint import SupervisionService
from services.talent.entrypoint import TalentService
from services.training.entrypoint import TrainingService
from shared.db.database import Database
from shared.runtime.messaging.dead_lettering import DEAD_LETTERED, DELIVERY_LIMIT, read_letter
from shared.runtime.messaging.inbound import subscriptions_of
from shared.runtime.messaging.topology import QueueDeclaredOtherwise, declare_topology, inbound_queue_arguments
from shared.runtime.observability.metrics import REGISTRY
from shared.runtime.process.provisioning import declare_queues
from tests.support import foreign
from tests.support.apps.ledger.service import Ledger
from tests.support.apps.tally.service import Tally
from tests.support.environment import RunEnvironment
from tests.support.platform import InProcess, settings_for_tests, wait_until
from tests.support.probes import tally_state

SERVICES = (CadreService, FeedbackService, GrassrootsService, SupervisionService, TalentService, TrainingService)
LIMIT = 2  # handed back twice, delivered three times; the third hand-back dead-letters it
INBOX, DEAD_LETTERS = "tally.inbox.ledger", "tally.dead-letters"


def queues(env: RunEnvironment) -> dict[str, dict[str, Any]]:
    """``{queue: {"type": ..., "arguments": {name: value}, "messages": n}}``, as the broker has them."""
    done = subprocess.run(
        [
            shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl",
            "-q",
            "list_queues",
            "-p",
            env.vhost,
            "name",
            "type",
            "arguments",
            "messages",
            "--formatter",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return {
        q["name"]: {"type": q["type"], "arguments": {a[0]: a[2] for a in q["arguments"]}, "messages": q["messages"]}
        for q in json.loads(done.stdout or "[]")
    }


def take(uri: str, queue: str, settle: str, timeout: float = 5.0) -> amqp.Message | None:
    """One message from ``queue`` on a fresh connection, then ``settle`` it: ``close`` (as a dying consumer
    would: the connection drops, unacknowledged), ``requeue`` (basic.reject with requeue) or ``ack``."""
    connection = amqp.Connection(**_connection_args(uri))
    connection.connect()
    try:
        channel = connection.channel()
        channel.basic_qos(0, 1, False)
        got: list[amqp.Message] = []
        tag = channel.basic_consume(queue, callback=got.append)
        deadline = time.monotonic() + timeout
        while not got and time.monotonic() < deadline:
            try:
                connection.drain_events(timeout=0.2)
            except TimeoutError:
                pass
        channel.basic_cancel(tag)  # or a message given back would come straight back to this consumer
        if got and settle == "requeue":
            channel.basic_reject(got[0].delivery_tag, requeue=True)
        elif got and settle == "ack":
            channel.basic_ack(got[0].delivery_tag)
        if settle == "close":
            connection.sock.shutdown(socket.SHUT_RDWR)  # no goodbye: as a process that died
        return got[0] if got else None
    finally:
        try:
            connection.close()
        except Exception:
            pass


def _connection_args(uri: str) -> dict[str, Any]:
    parsed = kombu.Connection(uri)
    return {
        "host": f"{parsed.hostname}:{parsed.port or 5672}",
        "userid": parsed.userid,
        "password": parsed.password,
        "virtual_host": parsed.virtual_host,
    }


def dead_letters(database: Database) -> list[dict[str, Any]]:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT event_id::text, handler, source, type, error_type, error, attempts, reason, "
            "envelope IS NOT NULL, body FROM tally.dead_letters ORDER BY id"
        )
        columns = ("event_id", "handler", "source", "type", "error_type", "error", "attempts", "reason", "replayable")
        return [dict(zip((*columns, "body"), row, strict=True)) for row in cur.fetchall()]


def dead_lettered_total() -> float:
    labels = {"orgwork_service": "tally", "handler": "on_deposit"}
    return REGISTRY.get_sample_value("orgwork_dead_letters_total", labels) or 0.0


@pytest.fixture
def limited(apps: None, test_env: RunEnvironment) -> Iterator[None]:
    """tally's inbound queue declared afresh with a delivery limit of ``LIMIT``, its dead-letter queue empty."""
    with kombu.Connection(test_env.amqp_uri) as connection:
        channel = connection.channel()
        channel.queue_delete(INBOX)
        channel.queue_delete(DEAD_LETTERS)
    declare_topology(test_env.amqp_uri, {"tally": subscriptions_of(Tally)}, delivery_limit=LIMIT)
    yield
    with kombu.Connection(test_env.amqp_uri) as connection:
        connection.channel().queue_delete(DEAD_LETTERS)  # nothing of this test for the next one's tally


# -- what the broker holds --------------------------------------------------------------------


def test_every_inbound_queue_is_a_quorum_queue_dead_lettering_into_its_services_own(test_env: RunEnvironment) -> None:
    declare_queues(settings_for_tests(), SERVICES)
    held = queues(test_env)
    consumers = [cls.name for cls in SERVICES if subscriptions_of(cls)]
    assert len(consumers) >= 5
    for cls in SERVICES:
        for source in subscriptions_of(cls):
            queue = held[f"{cls.name}.inbox.{source}"]
            assert queue["type"] == "quorum", queue
            assert queue["arguments"] == {
                "x-queue-type": "quorum",
                "x-single-active-consumer": True,
                "x-delivery-limit": 20,
                "x-dead-letter-exchange": f"{cls.name}.dead-letters",
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            }
    for service in consumers:
        assert held[f"{service}.dead-letters"]["type"] == "quorum"
        assert held[f"{service}.dead-letters"]["arguments"] == {
            "x-queue-type": "quorum",
            "x-single-active-consumer": True,
        }
    for cls in SERVICES:
        if not subscriptions_of(cls):
            assert f"{cls.name}.dead-letters" not in held, "a service that takes no events has nothing to dead-letter"


def test_a_delivery_limit_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="INBOUND_DELIVERY_LIMIT=0"):
        inbound_queue_arguments("tally", 0)


# -- past the limit -----------------------------------------------------------------------------


@pytest.mark.parametrize("signed", [True, False], ids=["signed", "unsigned"])
def test_a_message_handed_back_past_the_limit_is_kept_once_in_dead_letters_and_the_queue_moves_on(
    limited: None, in_process: InProcess, rpc: Any, database: Database, test_env: RunEnvironment, signed: bool
) -> None:
    uri = test_env.amqp_uri
    poison = foreign.envelope("ledger", "Deposited", "account-dl-1", {"amount": 7, "note": ""})
    foreign.publish(uri, "ledger", poison, **({} if signed else {"signed_by": None}))

    handed_back = 0
    for settle in ("requeue", "close", "close", "close"):  # a consumer gives it back, then dies twice
        if take(uri, INBOX, settle, timeout=2.0 if handed_back > LIMIT else 5.0) is None:
            break
        handed_back += 1
    assert handed_back == LIMIT + 1, "delivered once and redelivered up to the limit, then no more"
    wait_until(lambda: queues(test_env)[DEAD_LETTERS]["messages"] == 1, what="the message dead-lettered")
    assert queues(test_env)[INBOX]["messages"] == 0

    # A crash between recording and acknowledging: the letter comes again (and a copy of it, to be sure).
    letter = take(uri, DEAD_LETTERS, "close")
    assert letter is not None and letter.headers["x-first-death-reason"] == "delivery_limit"
    with kombu.Connection(uri) as connection:
        connection.channel().basic_publish(
            amqp.Message(letter.body, content_type="application/json", application_headers=letter.headers),
            exchange=DEAD_LETTERS,
            routing_key="Deposited",
        )

    behind = foreign.envelope("ledger", "Deposited", "account-dl-2", {"amount": 5, "note": ""})
    foreign.publish(uri, "ledger", behind)
    before = dead_lettered_total()
    in_process.start(Tally, settings=settings_for_tests(inbound_delivery_limit=LIMIT))

    wait_until(lambda: tally_state(database, "dl-2").deposits == 1, what="the event behind it")
    wait_until(lambda: queues(test_env)[DEAD_LETTERS]["messages"] == 0, what="the dead-letter queue taken")
    kept = dead_letters(database)
    assert len(kept) == 1, "kept once, however often it came"
    assert dead_lettered_total() == before + 1
    (row,) = kept
    assert (row["handler"], row["source"], row["type"]) == ("on_deposit", "ledger", "Deposited")
    assert (row["reason"], row["error_type"], row["attempts"]) == (DELIVERY_LIMIT, "DeliveryLimitExceeded", LIMIT + 1)
    assert INBOX in row["error"] and '"x-death"' in row["error"] and '"x-first-death-queue"' in row["error"]
    assert tally_state(database, "dl-1").deposits == 0, "dead-lettered, not applied"

    (listed,) = rpc.tally.dead_letters()["items"]
    assert (listed["reason"], listed["replayable"]) == (DELIVERY_LIMIT, signed)
    if signed:
        assert row["event_id"] == poison["event_id"]
        assert rpc.tally.replay_dead_letter(id=listed["id"]) == {"id": listed["id"], "outcome": "handled"}
        assert tally_state(database, "dl-1").deposits == 1, "replayed: not lost"
    else:
        as_sent = json.dumps(poison, separators=(",", ":"), ensure_ascii=False).encode()  # as a relay sends it
        assert bytes(row["body"]) == as_sent, "unsigned: kept as it came, never replayable"
        assert '"orgwork.signature"' not in row["error"]


def test_rpc_queues_stay_classic(in_process: InProcess, test_env: RunEnvironment) -> None:
    in_process.start(Tally)
    wait_until(lambda: "rpc-tally" in queues(test_env), what="tally's RPC queue")
    held = queues(test_env)
    assert held["rpc-tally"]["type"] == "classic"
    assert held[INBOX]["type"] == "quorum"


# -- a queue from before ----------------------------------------------------------------------


def test_a_classic_queue_from_before_is_named_with_the_remedy(apps: None, test_env: RunEnvironment) -> None:
    with kombu.Connection(test_env.amqp_uri) as connection:
        channel = connection.channel()
        channel.queue_delete(INBOX)
        channel.queue_declare(INBOX, durable=True, auto_delete=False, arguments={"x-single-active-consumer": True})
    try:
        with pytest.raises(QueueDeclaredOtherwise) as raised:
            declare_queues(settings_for_tests(), [Ledger, Tally])
        message = str(raised.value)
        assert INBOX in message and "PRECONDITION_FAILED" in message
        assert f"rabbitmqctl delete_queue -p <vhost> {INBOX}" in message
        assert "catches up from ledger's store" in message
        assert queues(test_env)[INBOX]["type"] == "classic", "left as it was"
    finally:
        with kombu.Connection(test_env.amqp_uri) as connection:
            connection.channel().queue_delete(INBOX)
    declare_queues(settings_for_tests(), [Ledger, Tally])
    assert queues(test_env)[INBOX]["type"] == "quorum", "deleted, it is declared afresh"


# -- reading a letter, without a broker ---------------------------------------------------------


def test_a_letter_names_its_source_only_for_the_services_own_inbound_queues() -> None:
    def message(queue: str, reason: str) -> Any:
        headers = {"x-first-death-queue": queue, "x-first-death-reason": reason, "x-death": [{"count": 1}]}
        return SimpleNamespace(headers=headers, body=b"{}", delivery_info={"routing_key": "Deposited"})

    mine = read_letter("tally", message("tally.inbox.ledger", "delivery_limit"), 5)
    assert (mine.source, mine.reason, mine.attempts, type(mine.error).__name__) == (
        "ledger",
        DELIVERY_LIMIT,
        6,
        "DeliveryLimitExceeded",
    )
    other = read_letter("tally", message("ledger.inbox.tally", "something new"), 5)
    assert (other.source, other.reason, type(other.error).__name__) == (None, DEAD_LETTERED, "DeadLetteredByBroker")
