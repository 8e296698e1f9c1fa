"""Tampering with a store as a superuser (triggers disabled): verify finds each kind,
names the position and grades it, and a clean log verifies."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.audit.heads import FileHeadSink
from shared.audit.proofs import raw_public_key
from shared.audit.report import GAP, MANIPULATION, NOT_YET_COVERED
from shared.audit.tree import MerkleLog, TamperedLog
from shared.audit.verify import verify
from shared.db.database import Database, fetch_one
from shared.domain import Repository
from shared.eventstore.hashing import canonical_json, event_hash
from shared.eventstore.records import Metadata, NewEvent
from shared.eventstore.snapshots import SnapshotStore
from shared.eventstore.store import EventStore
from tests.support.tickets import Ticket, registry

META = Metadata(actor="clerk")


KEY = Ed25519PrivateKey.generate()
TRUSTED = raw_public_key(KEY)


@pytest.fixture
def sink(tmp_path: Any) -> FileHeadSink:
    """The copy of the heads kept outside the database."""
    return FileHeadSink(tmp_path / "heads")


@pytest.fixture
def log(database: Database, schema: str, sink: FileHeadSink) -> Iterator[dict[str, Any]]:
    """Three streams of three events each, and a signed head over them, published."""
    store = EventStore(database, schema)
    for stream in ("ticket-a", "ticket-b", "ticket-c"):
        for i in range(3):
            store.append(stream, [NewEvent("Noted", {"n": i, "text": f"{stream} #{i}"})], i, META)
    assert MerkleLog(database, schema, sink).sign(KEY) is not None
    yield {"schema": schema, "store": store}


def tamper(database: Database, schema: str, *statements: tuple[str, list[Any]], table: str = "events") -> None:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'ALTER TABLE "{schema}".{table} DISABLE TRIGGER USER')
        for sql, params in statements:
            cur.execute(sql.replace("{events}", f'"{schema}".events'), params)
        cur.execute(f'ALTER TABLE "{schema}".{table} ENABLE TRIGGER USER')


def check(database: Database, schema: str, sink: FileHeadSink | None = None, key: bytes | None = TRUSTED) -> Any:
    return verify(database, schema, public_key=key, published=sink.heads(schema) if sink else None)


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


def test_a_clean_log_verifies(database: Database, log: dict[str, Any], sink: FileHeadSink) -> None:
    report = check(database, log["schema"], sink)
    assert report.ok and report.events == 9 and report.heads == 1 and report.covered == 9
    assert report.grade is None


def test_a_changed_payload_is_found_at_its_position(database: Database, log: dict[str, Any]) -> None:
    target = row(database, log["schema"], "ticket-b", 2)
    tamper(
        database,
        log["schema"],
        ("UPDATE {events} SET data = %s::jsonb WHERE position = %s", [json.dumps({"n": 99}), target["position"]]),
    )
    report = check(database, log["schema"])
    assert not report.ok and report.first_position == target["position"]
    assert "altered" in kinds(report)


def test_a_deleted_row_is_found(database: Database, log: dict[str, Any]) -> None:
    target = row(database, log["schema"], "ticket-a", 2)
    following = row(database, log["schema"], "ticket-a", 3)
    tamper(database, log["schema"], ("DELETE FROM {events} WHERE position = %s", [target["position"]]))
    report = check(database, log["schema"])
    assert "deleted" in kinds(report)
    assert any(f.kind == "deleted" and f.position == following["position"] for f in report.findings)
    assert "head" in kinds(report), "the signed head covers one more"


def test_a_deleted_last_event_is_caught_by_the_signed_head(database: Database, log: dict[str, Any]) -> None:
    target = row(database, log["schema"], "ticket-c", 3)
    tamper(database, log["schema"], ("DELETE FROM {events} WHERE position = %s", [target["position"]]))
    report = check(database, log["schema"])
    assert kinds(report) == {"head", "leaf"} and report.grade == MANIPULATION
    assert any("the log has 8" in f.detail for f in report.findings)


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
    report = check(database, log["schema"])
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
    report = check(database, log["schema"])
    assert report.first_position == position and report.grade == MANIPULATION
    assert kinds(report) == {"leaf", "head", "uncovered"}, "it chains to its stream, but was never in the signed tree"


def rehash_everything(database: Database, schema: str, change: Any) -> None:
    """A forger with database access: edit one event, then recompute every hash and link after it."""
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT position, stream_id, version, event_id::text, type, schema_version, data, metadata "
            f'FROM "{schema}".events ORDER BY stream_id, version'
        )
        rows = cur.fetchall()
    statements = []
    previous: dict[str, bytes] = {}
    for position, stream, version, event_id, type_, schema_version, data, metadata in rows:
        data = change(stream, version, data)
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


def test_the_whole_chain_recomputed_after_an_edit_is_caught_by_the_signed_head(
    database: Database, log: dict[str, Any]
) -> None:
    schema = log["schema"]
    target = row(database, schema, "ticket-a", 2)
    rehash_everything(
        database, schema, lambda s, v, d: {**d, "text": "rewritten history"} if (s, v) == ("ticket-a", 2) else d
    )
    report = check(database, schema)
    assert kinds(report) == {"leaf", "head"}, "every hash and link is consistent again; the tree is not"
    assert report.grade == MANIPULATION and report.first_position == target["position"]


def test_a_re_hashed_tail_rewrite_is_caught_by_the_next_signed_head(
    database: Database, log: dict[str, Any], sink: FileHeadSink
) -> None:
    """The last event of the log, rewritten and re-hashed with the public algorithm; the service signs on."""
    schema, store = log["schema"], log["store"]
    tail = row(database, schema, "ticket-c", 3)
    rehash_everything(database, schema, lambda s, v, d: {**d, "text": "forged"} if (s, v) == ("ticket-c", 3) else d)
    store.append("ticket-d", [NewEvent("Noted", {"n": 0, "text": "later"})], 0, META)
    tree = MerkleLog(database, schema, sink)
    later = tree.sign(KEY)
    assert later is not None and later.tree_size == 10
    report = check(database, schema, sink)
    assert report.grade == MANIPULATION and report.first_position == tail["position"]
    assert [f.tree_size for f in sink.heads(schema)] == [9, 10], "both heads published outside"
    assert sum("do not have the root" in f.detail for f in report.findings) == 2, "both heads catch it"
    with pytest.raises(TamperedLog):
        tree.prove(tail["event_id"])  # no proof is served for an event that no longer matches its leaf


def test_a_forged_tx_id_is_detected(database: Database, log: dict[str, Any]) -> None:
    """No hash of the chain covers tx_id; a huge one freezes the stream and hides the event from readers."""
    schema = log["schema"]
    target = row(database, schema, "ticket-a", 3)
    tamper(
        database, schema, ("UPDATE {events} SET tx_id = '999999999999'::xid8 WHERE position = %s", [target["position"]])
    )
    report = check(database, schema)
    assert report.grade == MANIPULATION
    assert ("tx_id", target["position"]) in {(f.kind, f.position) for f in report.findings}
    assert "head" in kinds(report), "the leaf covers tx_id, so the signed root no longer matches"


def test_a_truncated_head_book_is_detected_and_not_signed_over(
    database: Database, log: dict[str, Any], sink: FileHeadSink
) -> None:
    schema = log["schema"]
    tamper(database, schema, (f'TRUNCATE "{schema}".audit_tree_heads', []), table="audit_tree_heads")
    report = check(database, schema, sink)
    assert report.grade == MANIPULATION
    assert any("lost the published head of size 9" in f.detail for f in report.findings)
    with pytest.raises(TamperedLog, match="lost the published head"):
        MerkleLog(database, schema, sink).sign(KEY)  # the real key never signs the rewritten book


def test_a_book_re_signed_by_another_key_proves_nothing(
    database: Database, log: dict[str, Any], sink: FileHeadSink
) -> None:
    schema = log["schema"]
    tamper(database, schema, (f'TRUNCATE "{schema}".audit_tree_heads', []), table="audit_tree_heads")
    MerkleLog(database, schema).sign(Ed25519PrivateKey.generate())  # a forger with no sink and his own key
    report = check(database, schema, sink)
    assert "signature" in kinds(report) and report.grade == MANIPULATION
    untrusted = check(database, schema, key=None)
    assert untrusted.grade == GAP, "without a trusted key, nothing a head says can be relied on"


def test_a_rewritten_stored_tree_is_refused_by_the_builder(
    database: Database, log: dict[str, Any], sink: FileHeadSink
) -> None:
    schema = log["schema"]
    tamper(
        database,
        schema,
        (f'UPDATE "{schema}".audit_nodes SET hash = sha256(hash) WHERE level = 3 AND node_index = 0', []),
        table="audit_nodes",
    )
    with pytest.raises(TamperedLog, match="no longer has the root"):
        MerkleLog(database, schema, sink).sign(KEY)


def test_events_after_the_latest_head_are_reported_not_yet_covered(database: Database, log: dict[str, Any]) -> None:
    for i in range(2):
        log["store"].append("ticket-e", [NewEvent("Noted", {"n": i})], i, META)
    report = check(database, log["schema"])
    assert report.grade == NOT_YET_COVERED and report.covered == 9 and report.events == 11
    assert [f.detail for f in report.findings] == [
        "2 event(s) after the latest signed head (size 9) are not yet covered"
    ]


def test_a_store_with_no_head_is_not_yet_covered(database: Database, schema: str) -> None:
    EventStore(database, schema).append("ticket-z", [NewEvent("Noted", {})], 0, META)
    report = check(database, schema)
    assert report.grade == NOT_YET_COVERED and report.covered == 0


def test_the_audit_tables_are_append_only(database: Database, log: dict[str, Any]) -> None:
    schema = log["schema"]
    for statement in (
        f'UPDATE "{schema}".audit_tree_heads SET timestamp_ms = 0',
        f'DELETE FROM "{schema}".audit_leaves',
        f'TRUNCATE "{schema}".audit_nodes',
    ):
        with pytest.raises(Exception, match="append-only"), database.transaction() as conn, conn.cursor() as cur:
            cur.execute(statement)


def test_a_tampered_snapshot_is_found_by_rebuilding_it(database: Database, schema: str) -> None:
    repository = Repository(Ticket, EventStore(database, schema), registry, SnapshotStore(database, schema))
    ticket = Ticket("1")
    ticket.open("Lamp")
    ticket.note(*[f"n{i}" for i in range(6)])
    repository.save(ticket, META)
    MerkleLog(database, schema).sign(KEY)
    clean = verify(database, schema, public_key=TRUSTED, aggregates=[Ticket], registry=registry)
    assert clean.ok and clean.snapshots == 1
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f"UPDATE \"{schema}\".snapshots SET state = jsonb_set(state, '{{title}}', '\"Forged\"')")
    report = verify(database, schema, public_key=TRUSTED, aggregates=[Ticket], registry=registry)
    assert kinds(report) == {"snapshot"} and report.grade == MANIPULATION
    assert "ticket-1" in report.findings[0].detail
