"""Tampering with a store as a superuser (triggers disabled): verify finds each kind,
names the position, and a clean log verifies."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.audit.checkpoints import Checkpoint, CheckpointBook, load_signing_key, new_signing_key, public_bytes
from shared.audit.verify import verify
from shared.config import AuditSettings
from shared.db.database import Database, fetch_one
from shared.eventstore.hashing import canonical_json, event_hash
from shared.eventstore.records import Metadata, NewEvent
from shared.eventstore.store import EventStore

META = Metadata(actor="clerk")


def signing_key() -> Ed25519PrivateKey:
    key = load_signing_key(AuditSettings(signing_key=new_signing_key()))
    assert key is not None
    return key


KEY = signing_key()
assert KEY is not None
TRUSTED = public_bytes(KEY)


@pytest.fixture
def log(database: Database, schema: str) -> Iterator[dict[str, Any]]:
    """Three streams of three events each, and a signed checkpoint over them."""
    store = EventStore(database, schema)
    for stream in ("ticket-a", "ticket-b", "ticket-c"):
        for i in range(3):
            store.append(stream, [NewEvent("Noted", {"n": i, "text": f"{stream} #{i}"})], i, META)
    CheckpointBook(database, schema).take(KEY)
    yield {"schema": schema, "store": store}


def tamper(database: Database, schema: str, *statements: tuple[str, list[Any]]) -> None:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'ALTER TABLE "{schema}".events DISABLE TRIGGER USER')
        for sql, params in statements:
            cur.execute(sql.replace("{events}", f'"{schema}".events'), params)
        cur.execute(f'ALTER TABLE "{schema}".events ENABLE TRIGGER USER')


def row(database: Database, schema: str, stream: str, version: int) -> dict[str, Any]:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            f'SELECT position, tx_id::text, event_id::text, data, metadata, prev_hash, hash FROM "{schema}".events '
            "WHERE stream_id = %s AND version = %s",
            [stream, version],
        )
        p, tx, eid, data, metadata, prev, digest = fetch_one(cur)
    return {
        "position": p,
        "tx_id": tx,
        "event_id": eid,
        "data": data,
        "metadata": metadata,
        "prev_hash": bytes(prev),
        "hash": bytes(digest),
    }


def kinds(report: Any) -> set[str]:
    return {f.kind for f in report.findings}


def test_a_clean_log_verifies(database: Database, log: dict[str, Any]) -> None:
    report = verify(database, log["schema"], public_key=public_bytes(KEY))
    assert report.ok and report.events == 9 and report.checkpoints == 1


def test_a_changed_payload_is_found_at_its_position(database: Database, log: dict[str, Any]) -> None:
    target = row(database, log["schema"], "ticket-b", 2)
    tamper(
        database,
        log["schema"],
        ("UPDATE {events} SET data = %s::jsonb WHERE position = %s", [json.dumps({"n": 99}), target["position"]]),
    )
    report = verify(database, log["schema"], public_key=TRUSTED)
    assert not report.ok and report.first_position == target["position"]
    assert "altered" in kinds(report)


def test_a_deleted_row_is_found(database: Database, log: dict[str, Any]) -> None:
    target = row(database, log["schema"], "ticket-a", 2)
    following = row(database, log["schema"], "ticket-a", 3)
    tamper(database, log["schema"], ("DELETE FROM {events} WHERE position = %s", [target["position"]]))
    report = verify(database, log["schema"], public_key=TRUSTED)
    assert "deleted" in kinds(report)
    assert any(f.kind == "deleted" and f.position == following["position"] for f in report.findings)
    assert "checkpoint" in kinds(report), "the signed count is one more"


def test_a_deleted_last_event_is_caught_by_the_checkpoint(database: Database, log: dict[str, Any]) -> None:
    target = row(database, log["schema"], "ticket-c", 3)
    tamper(database, log["schema"], ("DELETE FROM {events} WHERE position = %s", [target["position"]]))
    report = verify(database, log["schema"], public_key=TRUSTED)
    assert kinds(report) == {"checkpoint"}
    assert "1 event(s) deleted" in report.findings[0].detail


def test_two_rows_contents_swapped_are_found(database: Database, log: dict[str, Any]) -> None:
    a, b = row(database, log["schema"], "ticket-a", 1), row(database, log["schema"], "ticket-b", 1)
    columns = "stream_id = %s, version = 1, event_id = %s::uuid, data = %s::jsonb, metadata = %s::jsonb, prev_hash = %s, hash = %s"
    tamper(
        database,
        log["schema"],
        (
            "UPDATE {events} SET event_id = gen_random_uuid(), stream_id = stream_id || '-swap' WHERE position IN (%s, %s)",
            [a["position"], b["position"]],
        ),
        (
            f"UPDATE {{events}} SET {columns} WHERE position = %s",
            [
                "ticket-b",
                b["event_id"],
                json.dumps(b["data"]),
                json.dumps(b["metadata"]),
                b["prev_hash"],
                b["hash"],
                a["position"],
            ],
        ),
        (
            f"UPDATE {{events}} SET {columns} WHERE position = %s",
            [
                "ticket-a",
                a["event_id"],
                json.dumps(a["data"]),
                json.dumps(a["metadata"]),
                a["prev_hash"],
                a["hash"],
                b["position"],
            ],
        ),
    )
    report = verify(database, log["schema"], public_key=TRUSTED)
    assert report.first_position == min(a["position"], b["position"])
    assert "altered" in kinds(report)


def forge_next(database: Database, schema: str, stream: str, tx_id: str) -> int:
    """A forged event at the end of a stream, its hash computed as the store would."""
    last = row(database, schema, stream, 3)
    data = {"n": 3, "text": "forged"}
    metadata = {**last["metadata"], "actor": "forger"}
    event_id = str(uuid.uuid4())
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f"SELECT nextval('\"{schema}\".event_position')")
        position = fetch_one(cur)[0]
    digest = event_hash(
        position=position,
        stream_id=stream,
        version=4,
        event_id=event_id,
        type="Noted",
        schema_version=1,
        data_json=canonical_json(data),
        metadata_json=canonical_json(metadata, "metadata"),
        prev_hash=last["hash"],
    )
    tamper(
        database,
        schema,
        (
            "INSERT INTO {events} (position, tx_id, stream_id, version, event_id, type, schema_version, data, metadata, prev_hash, hash) "
            "VALUES (%s, %s::xid8, %s, 4, %s, 'Noted', 1, %s::jsonb, %s::jsonb, %s, %s)",
            [position, tx_id, stream, event_id, json.dumps(data), json.dumps(metadata), last["hash"], digest],
        ),
    )
    return position


def test_a_forged_row_inserted_is_found_and_named(database: Database, log: dict[str, Any]) -> None:
    first = row(database, log["schema"], "ticket-a", 1)
    position = forge_next(database, log["schema"], "ticket-b", first["tx_id"])  # sorts inside the signed range
    report = verify(database, log["schema"], public_key=TRUSTED)
    assert [(f.kind, f.position) for f in report.findings] == [("inserted", position)]


def test_the_whole_chain_recomputed_after_an_edit_is_caught_by_the_signed_checkpoint(
    database: Database, log: dict[str, Any]
) -> None:
    schema = log["schema"]
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            f'SELECT position, stream_id, version, event_id::text, type, schema_version, data, metadata FROM "{schema}".events ORDER BY stream_id, version'
        )
        rows = cur.fetchall()
    statements = []
    previous: dict[str, bytes] = {}
    for position, stream, version, event_id, type_, schema_version, data, metadata in rows:
        if stream == "ticket-a" and version == 2:
            data = {**data, "text": "rewritten history"}
        prev = previous.get(stream, bytes(32))
        digest = event_hash(
            position=position,
            stream_id=stream,
            version=version,
            event_id=event_id,
            type=type_,
            schema_version=schema_version,
            data_json=canonical_json(data),
            metadata_json=canonical_json(metadata, "metadata"),
            prev_hash=prev,
        )
        previous[stream] = digest
        statements.append(
            (
                "UPDATE {events} SET data = %s::jsonb, prev_hash = %s, hash = %s WHERE position = %s",
                [json.dumps(data), prev, digest, position],
            )
        )
    tamper(database, schema, *statements)
    report = verify(database, schema, public_key=TRUSTED)
    assert kinds(report) == {"checkpoint"}, "every hash and link is consistent again"
    assert "altered" in report.findings[0].detail


def test_a_rewritten_checkpoint_book_is_caught_by_the_exported_copy(database: Database, log: dict[str, Any]) -> None:
    schema = log["schema"]
    exported = [Checkpoint.from_json(c.as_json()) for c in CheckpointBook(database, schema).all()]
    target = row(database, schema, "ticket-c", 3)
    tamper(database, schema, ("DELETE FROM {events} WHERE position = %s", [target["position"]]))
    forger = signing_key()
    assert forger is not None
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'DELETE FROM "{schema}".audit_checkpoints')
    CheckpointBook(database, schema).take(forger)  # the forger signs the altered log
    untrusted = verify(database, schema)
    assert kinds(untrusted) == {"signature"}, "without a trusted key, re-signed checkpoints prove nothing"
    report = verify(database, schema, exported, TRUSTED)
    assert not report.ok and "checkpoint" in kinds(report)
    assert any("lost the checkpoint" in f.detail for f in report.findings), "the book no longer extends the copy"
    rewritten = verify(database, schema, None, TRUSTED)
    assert "signature" in kinds(rewritten), "pinned to the auditors' key, the forged signature fails too"


def test_a_store_with_no_checkpoint_is_a_finding_when_signing_is_expected(database: Database, schema: str) -> None:
    EventStore(database, schema).append("ticket-z", [NewEvent("Noted", {})], 0, META)
    assert verify(database, schema).ok, "no key, no checkpoints: nothing to hold against the log"
    assert kinds(verify(database, schema, public_key=TRUSTED, require_signed=True)) == {"unsigned"}
