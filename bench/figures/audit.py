"""P10: an inclusion proof on a log of a million events, against reading that one event raw.

Runs on P7's store (the one filled to ``p7_fill`` events): the Merkle tree is
built over every event first (its rate is reported too), a head is signed,
then proofs are asked for events picked at random, each checked against the
signed root the way a citizen's verifier would (not timed).
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.measure import figure
from shared.audit import proofs
from shared.audit.tree import MerkleLog
from shared.db.database import Database

PROOFS = 300


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def p10(database: Database, schema: str = "p1") -> dict[str, Any]:
    key = Ed25519PrivateKey.generate()
    public = proofs.raw_public_key(key)
    tree = MerkleLog(database, schema)
    started = time.perf_counter()
    head = tree.sign(key)
    build_seconds = time.perf_counter() - started
    assert head is not None
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'SELECT event_id::text FROM "{schema}".events TABLESAMPLE SYSTEM (1) LIMIT 5000')
        sample = [row[0] for row in cur.fetchall()]
    chosen = random.Random(10).sample(sample, min(PROOFS, len(sample)))

    def raw_read(event_id: str) -> float:
        begun = time.perf_counter()
        with database.transaction() as conn, conn.cursor() as cur:
            cur.execute(
                f'SELECT data::text, metadata::text FROM "{schema}".events WHERE event_id = %s::uuid', [event_id]
            )
            cur.fetchone()
        return (time.perf_counter() - begun) * 1000

    def proof(event_id: str) -> float:
        begun = time.perf_counter()
        bundle = tree.prove(event_id)
        elapsed = (time.perf_counter() - begun) * 1000
        proofs.check_inclusion_bundle(bundle, public)
        return elapsed

    ours, raw = [], []
    for event_id in chosen:  # in turns, so neither gets the quiet moments
        ours.append(proof(event_id))
        raw.append(raw_read(event_id))
    p99 = _percentile(ours, 0.99)
    return figure(
        p99,
        "ms (p99)",
        f"an inclusion proof in < 10 ms on {head.tree_size:,} events",
        p99 < 10,
        {"raw_single_event_read_p99_ms": _percentile(raw, 0.99)},
        events=head.tree_size,
        proofs=len(chosen),
        p50_ms=round(statistics.median(ours), 3),
        raw_read_p50_ms=round(statistics.median(raw), 3),
        tree_build_seconds=round(build_seconds, 1),
        tree_build_events_per_second=round(head.tree_size / build_seconds),
    )
