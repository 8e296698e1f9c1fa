"""Verification in ranges, in worker processes, gives the very report of one pass: on a clean log,
and on logs tampered with where one range ends and the next begins."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.audit import parallel
from shared.audit.proofs import raw_public_key
from shared.audit.tree import MerkleLog
from shared.audit.verify import Report, check_heads, verify
from shared.db.database import Database
from shared.eventstore.records import Metadata, NewEvent
from shared.eventstore.store import EventStore
from tests.audit.test_verify import tamper

META = Metadata(actor="clerk")
KEY = Ed25519PrivateKey.generate()
TRUSTED = raw_public_key(KEY)

#: Ranges of 4 events: ordinals 4-7 are the second range, 8-11 the third. Stream d's
#: v2 is the last event of the second range and its v3 the first of the third, so
#: d's chain crosses that boundary link by link.
CHUNK = 4
ORDER = "abcabcdddabcabcdabcdabcd"
SIGNED_AT = (10, 24)  # one head inside a range, one at the end of the last


@pytest.fixture
def log(database: Database, schema: str) -> list[int]:
    """24 events of four streams, one append each, with heads signed at 10 and 24; their positions in commit order."""
    store = EventStore(database, schema)
    versions: dict[str, int] = {}
    for i, name in enumerate(ORDER):
        stream = f"ticket-{name}"
        store.append(stream, [NewEvent("Noted", {"n": i, "text": f"{stream} #{i}"})], versions.get(stream, 0), META)
        versions[stream] = versions.get(stream, 0) + 1
        if i + 1 in SIGNED_AT:
            assert MerkleLog(database, schema).sign(KEY) is not None
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'SELECT position FROM "{schema}".events ORDER BY tx_id, position')
        return [p for (p,) in cur.fetchall()]


def both(database: Database, schema: str) -> Report:
    """The report of one pass, after checking that three workers over ranges of 4 give the same."""
    one = verify(database, schema, public_key=TRUSTED, workers=1)
    ranged = verify(database, schema, public_key=TRUSTED, workers=3, chunk=CHUNK)
    assert ranged.findings == one.findings
    assert (ranged.events, ranged.heads, ranged.covered) == (one.events, one.heads, one.covered)
    return one


def found(report: Report) -> set[tuple[str, int | None]]:
    return {(f.kind, f.position) for f in report.findings}


def test_the_log_is_really_checked_in_several_ranges(database: Database, schema: str, log: list[int]) -> None:
    report = Report(schema)
    heads = check_heads(report, MerkleLog(database, schema).heads(), None, TRUSTED)
    assert parallel.check_in_ranges(database, schema, report, heads, 2**62, workers=3, chunk=CHUNK) == 6
    assert report.events == 24 and report.ok


def test_a_small_log_is_left_to_one_pass_unless_ranges_are_asked_for(
    database: Database, schema: str, log: list[int]
) -> None:
    report = Report(schema)
    assert parallel.check_in_ranges(database, schema, report, {}, 2**62, workers=3) is None
    assert report.events == 0, "nothing was checked"
    with pytest.raises(ValueError, match="power of two"):
        parallel.check_in_ranges(database, schema, report, {}, 2**62, workers=3, chunk=3)


def test_a_clean_log_gives_the_same_report(database: Database, schema: str, log: list[int]) -> None:
    report = both(database, schema)
    assert report.ok and report.events == 24 and report.covered == 24 and report.heads == 2


Tampering = Callable[[Database, str, list[int]], None]


def changed_hash_at_the_end_of_a_range(database: Database, schema: str, positions: list[int]) -> None:
    tamper(database, schema, ("UPDATE {events} SET hash = sha256(hash) WHERE position = %s", [positions[7]]))


def broken_link_at_the_start_of_a_range(database: Database, schema: str, positions: list[int]) -> None:
    tamper(database, schema, ("UPDATE {events} SET prev_hash = sha256(prev_hash) WHERE position = %s", [positions[8]]))


def deleted_at_the_end_of_a_range(database: Database, schema: str, positions: list[int]) -> None:
    tamper(database, schema, ("DELETE FROM {events} WHERE position = %s", [positions[7]]))


def swapped_across_a_boundary(database: Database, schema: str, positions: list[int]) -> None:
    """d v2 and d v3 trade versions: each now sits on the other side of the boundary."""
    tamper(
        database,
        schema,
        ("UPDATE {events} SET version = 99 WHERE position = %s", [positions[7]]),
        ("UPDATE {events} SET version = 2 WHERE position = %s", [positions[8]]),
        ("UPDATE {events} SET version = 3 WHERE position = %s", [positions[7]]),
    )


def stored_leaf_deleted_at_a_boundary(database: Database, schema: str, positions: list[int]) -> None:
    tamper(database, schema, (f'DELETE FROM "{schema}".audit_leaves WHERE leaf_index = 8', []), table="audit_leaves")


def forged_tx_id_at_a_boundary(database: Database, schema: str, positions: list[int]) -> None:
    tamper(database, schema, ("UPDATE {events} SET tx_id = '999999999999'::xid8 WHERE position = %s", [positions[8]]))


@pytest.mark.parametrize(
    ("tampering", "expected"),
    [
        (changed_hash_at_the_end_of_a_range, {("altered", 7), ("leaf", 7), ("inserted", 8), ("head", None)}),
        (broken_link_at_the_start_of_a_range, {("altered", 8), ("inserted", 8), ("leaf", 8), ("head", None)}),
        (deleted_at_the_end_of_a_range, {("deleted", 8), ("leaf", 8), ("head", None)}),
        (swapped_across_a_boundary, {("altered", 7), ("inserted", 8), ("inserted", 7), ("leaf", 7)}),
        (stored_leaf_deleted_at_a_boundary, {("leaf", 8)}),
        (forged_tx_id_at_a_boundary, {("tx_id", 8), ("leaf", 9), ("head", None)}),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_a_tampered_log_gives_the_same_report(
    database: Database, schema: str, log: list[int], tampering: Tampering, expected: set[tuple[str, int | None]]
) -> None:
    tampering(database, schema, log)
    report = both(database, schema)
    at = {(kind, log[ordinal] if ordinal is not None else None) for kind, ordinal in expected}
    assert at <= found(report), f"expected {at}, found {found(report)}"


def test_the_findings_of_one_event_keep_their_order(database: Database, schema: str, log: list[int]) -> None:
    """d v3, met before d v2, waits; it links (badly) only after its leaf was judged: one pass reports it last."""
    swapped_across_a_boundary(database, schema, log)
    report = both(database, schema)
    assert [f.kind for f in report.findings if f.position == log[7]] == ["altered", "leaf", "inserted"]
