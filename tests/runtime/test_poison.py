"""Bad messages, as a careless or hostile client sends them: never fatal, never a loop, never a stall.

Each test puts raw bytes on the wire (``foreign.publish_raw``), then checks the
service is still up, what it answered or dead-lettered, and that a genuine
message behind the bad one goes through.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shared.db.database import Database
from shared.runtime.observability.metrics import REGISTRY
from tests.support import environment, foreign
from tests.support.apps.ledger.service import Ledger
from tests.support.apps.tally.service import Tally
from tests.support.platform import InProcess, wait_until
from tests.support.probes import scalar, tally_state


@pytest.fixture
def both(in_process: InProcess) -> InProcess:
    in_process.start(Ledger)
    in_process.start(Tally)
    return in_process


@pytest.fixture
def raw_rpc(test_env: environment.RunEnvironment) -> Iterator[foreign.RawRpc]:
    client = foreign.RawRpc(test_env.amqp_uri)
    yield client
    client.close()


def deposit_body(account_id: str, amount: Any = 5) -> bytes:
    return json.dumps({"args": [], "kwargs": {"account_id": account_id, "amount": amount}}).encode()


def still_serving(rpc: Any, database: Database) -> None:
    """Both services answer, and an event still travels from one to the other."""
    account = f"alive-{uuid.uuid4().hex[:6]}"
    rpc.ledger.deposit(account_id=account, amount=1)
    wait_until(lambda: tally_state(database, account).deposits == 1, what="a genuine deposit to be tallied")


def rejected(kind: str, reason: str, service: str) -> float:
    labels = {"orgwork_service": service, "kind": kind, "reason": reason}
    return REGISTRY.get_sample_value("orgwork_messages_rejected_total", labels) or 0.0


# -- RPC ---------------------------------------------------------------------------------


def test_an_rpc_request_without_a_reply_address_is_refused_unrun_and_the_service_stays_up(
    both: InProcess, rpc: Any, database: Database, test_env: environment.RunEnvironment
) -> None:
    before = rejected("rpc", "no_reply_to", "ledger")
    foreign.publish_raw(
        test_env.amqp_uri, "nameko-rpc", "ledger.deposit", deposit_body("no-reply-1"), correlation_id="c-1"
    )
    wait_until(lambda: rejected("rpc", "no_reply_to", "ledger") == before + 1, what="the refusal")
    still_serving(rpc, database)
    assert scalar(database, "SELECT count(*) FROM ledger.events WHERE stream_id = 'account-no-reply-1'") == 0


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"{not json", "application/json", "undecodable"),
        (
            b'{"args": [], "kwargs": {"account_id": "nan-1", "amount": NaN}}',
            "application/json",
            "undecodable",
        ),
        (b"\xff\xfe\x00garbage", "application/json", "undecodable"),
        (b"account_id=t-1", "text/plain", "content_type"),
        (b'{"args": [], "kwargs": {}}' + b" " * (1024 * 1024 + 10), "application/json", "too_large"),
        (b"[1, 2, 3]", "application/json", "malformed"),
        (b'{"args": [], "kwargs": {"account_id": "' + b"[" * 5000 + b'"}}', "application/json", "malformed"),
    ],
    ids=["not-json", "nan", "not-utf8", "text-plain", "too-large", "not-an-object", "deep"],
)
def test_a_malformed_rpc_request_gets_an_error_reply_and_the_service_stays_up(
    both: InProcess,
    rpc: Any,
    database: Database,
    raw_rpc: foreign.RawRpc,
    body: bytes,
    content_type: str,
    reason: str,
) -> None:
    raw_rpc.send("ledger.deposit", body, content_type, reply_to=raw_rpc.reply_key, correlation_id="c-2")
    reply = raw_rpc.reply()
    assert reply is not None, "a request with a reply address gets an answer"
    assert reply["result"] is None and reply["error"]["exc_type"] in ("MalformedRequest", "ValidationFailed")
    still_serving(rpc, database)


# -- events --------------------------------------------------------------------------------


def deposit_event(stream: str, version: int = 1, **overrides: Any) -> dict[str, Any]:
    envelope = foreign.envelope("ledger", "Deposited", stream, {"amount": 3, "note": ""}, version=version)
    envelope.update(overrides)
    return envelope


def dead_letters(database: Database) -> list[tuple[Any, ...]]:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT handler, type, error_type, attempts, reason FROM tally.dead_letters ORDER BY id")
        return list(cur.fetchall())


def test_an_event_whose_metadata_is_not_an_object_is_dead_lettered_and_its_stream_goes_on(
    both: InProcess, rpc: Any, database: Database, test_env: environment.RunEnvironment
) -> None:
    bad = deposit_event("account-meta-1", metadata="not an object")
    foreign.publish_raw(test_env.amqp_uri, "ledger.events", "Deposited", json.dumps(bad).encode())
    letters = wait_until(lambda: dead_letters(database), what="the dead letter")
    assert [(h, t, r) for h, t, _, _, r in letters] == [("on_deposit", "Deposited", "malformed")]
    foreign.publish(test_env.amqp_uri, "ledger", deposit_event("account-meta-1"))  # the genuine one, same stream
    wait_until(lambda: tally_state(database, "meta-1").deposits == 1, what="the stream to go on")
    still_serving(rpc, database)


@pytest.mark.parametrize(
    "data",
    [
        b'{"amount": NaN, "note": ""}',
        b'{"amount": 3, "note": "a\\u0000b"}',
        b'{"amount": 3, "note": "\\ud800"}',
        b'{"amount": Infinity, "note": ""}',
    ],
    ids=["nan", "nul", "lone-surrogate", "infinity"],
)
def test_an_unstorable_event_is_dead_lettered_once_without_a_loop(
    both: InProcess, rpc: Any, database: Database, test_env: environment.RunEnvironment, data: bytes
) -> None:
    envelope = json.dumps(deposit_event("account-poison-1")).replace('{"amount": 3, "note": ""}', data.decode())
    assert data.decode() in envelope
    foreign.publish_raw(test_env.amqp_uri, "ledger.events", "Deposited", envelope.encode())
    letters = wait_until(lambda: dead_letters(database), what="the dead letter")
    assert [(handler, attempts) for handler, _, _, attempts, _ in letters] == [("on_deposit", 1)]
    foreign.publish(test_env.amqp_uri, "ledger", deposit_event("account-poison-1"))
    wait_until(lambda: tally_state(database, "poison-1").deposits == 1, what="the genuine event behind it")
    assert len(dead_letters(database)) == 1, "dead-lettered once, not again and again"
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT envelope IS NULL, body FROM tally.dead_letters")
        no_envelope, body = cur.fetchone() or (None, None)
    assert no_envelope and bytes(body) == envelope.encode(), "the raw body is kept, as it came"
    still_serving(rpc, database)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json at all", "undecodable"),
        (b'{"event_id": "x"}' + b" " * (1024 * 1024 + 10), "too_large"),
        (b'"just a string"', "malformed"),
    ],
    ids=["not-json", "too-large", "not-an-object"],
)
def test_an_event_body_that_cannot_be_read_is_dead_lettered_raw(
    both: InProcess, rpc: Any, database: Database, test_env: environment.RunEnvironment, body: bytes, reason: str
) -> None:
    foreign.publish_raw(test_env.amqp_uri, "ledger.events", "Deposited", body)
    letters = wait_until(lambda: dead_letters(database), what="the dead letter")
    assert [(h, r) for h, _, _, _, r in letters] == [("on_deposit", reason)]
    still_serving(rpc, database)


def test_metric_labels_come_from_a_closed_set(
    both: InProcess, rpc: Any, database: Database, test_env: environment.RunEnvironment
) -> None:
    for n in range(5):
        bad = deposit_event(f"account-label-{n}", type=f"Random{uuid.uuid4().hex}", metadata=[n])
        foreign.publish_raw(test_env.amqp_uri, "ledger.events", "Deposited", json.dumps(bad).encode())
    wait_until(lambda: len(dead_letters(database)) == 5, what="five dead letters")
    types = {
        sample.labels.get("type")
        for metric in REGISTRY.collect()
        for sample in metric.samples
        if sample.labels.get("orgwork_service") == "tally" and "type" in sample.labels
    }
    assert not any(t and t.startswith("Random") for t in types), types
    still_serving(rpc, database)


def test_a_redelivered_command_is_carried_out_once(
    both: InProcess, rpc: Any, database: Database, test_env: environment.RunEnvironment
) -> None:
    """The broker delivers a command again after a crash between commit and acknowledgement:
    the same message, the same correlation id (finding 7 of the hardening issue)."""

    def deposits_run() -> float:
        labels = {"orgwork_service": "ledger", "method": "deposit"}
        return REGISTRY.get_sample_value("orgwork_rpc_duration_seconds_count", labels) or 0.0

    before = deposits_run()
    raw = foreign.RawRpc(test_env.amqp_uri)
    try:
        for _ in range(2):
            raw.send(
                "ledger.deposit", deposit_body("again-1"), reply_to="nobody-listens", correlation_id="same-message"
            )
    finally:
        raw.close()
    wait_until(lambda: deposits_run() == before + 2, what="both deliveries to run")
    assert scalar(database, "SELECT count(*) FROM ledger.events WHERE stream_id = 'account-again-1'") == 1
    assert scalar(database, "SELECT count(*) FROM ledger.processed_commands") == 1
