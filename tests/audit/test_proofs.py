"""Merkle proofs: the RFC 9162 algorithms against a direct reading of the RFC, and the
standalone verifier run as a citizen would, outside the platform, on a real store's proofs."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.audit import proofs
from shared.audit.proofs import ProofFailed, leaf_hash, node_hash, split_point
from shared.audit.tree import MerkleLog, NotYetCovered
from shared.db.database import Database
from shared.eventstore.records import Metadata, NewEvent
from shared.eventstore.store import EventStore

VERIFIER = Path(proofs.__file__)
META = Metadata(actor="clerk")


# -- RFC 9162, section 2.1, read literally -------------------------------------------------------


def mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return leaf_hash(d[0])
    k = split_point(len(d))
    return node_hash(mth(d[:k]), mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = split_point(len(d))
    return [*path(m, d[:k]), mth(d[k:])] if m < k else [*path(m - k, d[k:]), mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = split_point(n)
    return [*subproof(m, d[:k], b), mth(d[k:])] if m <= k else [*subproof(m - k, d[k:], False), mth(d[:k])]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 31, 33])
def test_paths_and_proofs_match_the_rfc_and_verify(n: int) -> None:
    d = [f"entry {i}".encode() for i in range(n)]
    leaves = [leaf_hash(x) for x in d]

    def node(level: int, index: int) -> bytes:
        return mth(d[index << level : (index + 1) << level])

    assert proofs.root_of(leaves) == mth(d)
    assert proofs.frontier_root([node(*key) for key in proofs.frontier_nodes(n)]) == mth(d)
    for m in range(n):
        p = proofs.inclusion_path(m, n, node)
        assert p == path(m, d)
        proofs.verify_inclusion(leaves[m], m, n, p, mth(d))
        with pytest.raises(ProofFailed):
            proofs.verify_inclusion(leaf_hash(b"forged"), m, n, p, mth(d))
    for m in range(1, n + 1):
        c = proofs.consistency_path(m, n, node)
        assert c == subproof(m, d, True)
        proofs.verify_consistency(m, n, mth(d[:m]), mth(d), c)
        if m < n:
            with pytest.raises(ProofFailed):
                proofs.verify_consistency(m, n, mth([*d[: m - 1], b"rewritten"]), mth(d), c)


def test_a_head_signs_every_field() -> None:
    key = Ed25519PrivateKey.generate()
    public = proofs.raw_public_key(key)
    head = proofs.sign_head(key, "cadre", 5, bytes(32), 1_700_000_000_000)
    head.check_signature(public)
    for change in ({"tree_size": 6}, {"timestamp": 1}, {"log_id": "talent"}, {"root_hash": "11" * 32}):
        forged = proofs.TreeHead.from_json({**head.as_json(), **change})
        with pytest.raises(ProofFailed):
            forged.check_signature(public)
    with pytest.raises(ProofFailed, match="not the trusted key"):
        head.check_signature(proofs.raw_public_key(Ed25519PrivateKey.generate()))


# -- the standalone verifier on a real store ----------------------------------------------------


def run_verifier(*args: str) -> subprocess.CompletedProcess[str]:
    """``python3 -I proofs.py``: isolated, so nothing of the project is importable; only the file itself."""
    return subprocess.run(
        [sys.executable, "-I", str(VERIFIER), *args], capture_output=True, text=True, timeout=60, check=False
    )


def save(tmp: Path, name: str, data: Any) -> str:
    target = tmp / name
    target.write_text(json.dumps(data))
    return str(target)


def test_the_standalone_verifier_checks_inclusion_and_consistency(
    database: Database, schema: str, tmp_path: Path
) -> None:
    key = Ed25519PrivateKey.generate()
    public = proofs.raw_public_key(key).hex()
    store, tree = EventStore(database, schema), MerkleLog(database, schema)
    notice = store.append("notice-1", [NewEvent("NoticeOpened", {"subject": "Zhang San, deputy head"})], 0, META)[0]
    store.append("notice-2", [NewEvent("NoticeOpened", {"subject": "Li Si"})], 0, META)
    with pytest.raises(NotYetCovered):
        tree.prove(str(notice.event_id))
    saved = tree.sign(key)
    assert saved is not None and saved.tree_size == 2
    for i in range(5):
        store.append(f"notice-{i + 3}", [NewEvent("NoticeOpened", {"n": i})], 0, META)
    later = store.append("notice-9", [NewEvent("NoticeOpened", {"subject": "Wang Wu"})], 0, META)[0]
    newest = tree.sign(key)
    assert newest is not None and newest.tree_size == 8
    saved_file = save(tmp_path, "saved-head.json", saved.as_json())

    bundle = tree.prove(str(later.event_id), since=saved.tree_size)
    proven = run_verifier(
        "inclusion", save(tmp_path, "later.json", bundle), "--saved-head", saved_file, "--public-key", public
    )
    assert proven.returncode == 0, proven.stderr
    assert "PROVEN" in proven.stdout and str(later.event_id) in proven.stdout

    old = tree.prove(str(notice.event_id), tree_size=saved.tree_size)
    assert (
        run_verifier(
            "inclusion", save(tmp_path, "old.json", old), "--saved-head", saved_file, "--public-key", public
        ).returncode
        == 0
    )

    forged = {**bundle, "leaf_input": bundle["leaf_input"].replace("Wang Wu", "Zhao Liu")}
    refused = run_verifier("inclusion", save(tmp_path, "forged.json", forged), "--public-key", public)
    assert refused.returncode == 1 and "NOT PROVEN" in refused.stderr
    other_key = proofs.raw_public_key(Ed25519PrivateKey.generate()).hex()
    assert run_verifier("inclusion", save(tmp_path, "b.json", bundle), "--public-key", other_key).returncode == 1

    step = tree.consistency(saved.tree_size, newest.tree_size)
    files = [save(tmp_path, "old-head.json", step["old"]), save(tmp_path, "new-head.json", step["new"])]
    grown = run_verifier(
        "consistency", *files, save(tmp_path, "c.json", {"path": step["path"]}), "--public-key", public
    )
    assert grown.returncode == 0, grown.stderr
    broken = run_verifier(
        "consistency", *files, save(tmp_path, "c2.json", {"path": step["path"][1:]}), "--public-key", public
    )
    assert broken.returncode == 1
    assert run_verifier("consistency", files[0], files[1], files[0], "--public-key", public).returncode == 2
