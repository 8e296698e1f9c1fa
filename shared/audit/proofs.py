#!/usr/bin/env python3
"""Merkle proofs of the event log, in the style of RFC 9162 (Certificate Transparency 2.0).

This one file is both the platform's proof code and the verifier anyone can
run outside the platform: it needs only the standard library and
``cryptography``, and imports nothing of the project. Save it, save a signed
tree head now and then, and later check that a published notice is in the
log, or that the log only grew:

    python3 proofs.py inclusion PROOF.json --public-key HEX [--saved-head HEAD.json]
    python3 proofs.py consistency OLD_HEAD.json NEW_HEAD.json PROOF.json --public-key HEX

Each service's store is one log. Its leaves are its events in the store's
commit-safe order ``(tx_id, position)``, the order in which nothing is ever
inserted before an event once it is readable. A leaf's input is the canonical
JSON object of every stored field of the event (``tx_id`` included), so a
change to any of them changes the tree. Hashes follow RFC 9162 section 2.1:
``leaf = SHA-256(0x00 || input)``, ``node = SHA-256(0x01 || left || right)``.

A signed tree head names the log, its size, its root, the time (milliseconds
since the epoch, UTC) and the signing key's id (SHA-256 of the raw Ed25519
public key), and the Ed25519 signature covers all five. The key to check it
with comes from the command line, never from the file being checked.

Exit codes: 0 proven; 1 the proof or a signature does not hold; 2 bad input.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HEAD_DOMAIN = "orgwork-tree-head-v1"
EMPTY_ROOT = hashlib.sha256(b"").digest()

#: The stored fields of an event, as a leaf input names them (sorted: the canonical order).
LEAF_FIELDS = (
    "data",
    "event_id",
    "hash",
    "metadata",
    "position",
    "prev_hash",
    "schema_version",
    "stream_id",
    "tx_id",
    "type",
    "version",
)


class ProofFailed(Exception):
    """A proof, a signature or a head that does not hold; the message says which."""


# -- hashing (RFC 9162, 2.1.1) ---------------------------------------------------------------


def leaf_hash(leaf_input: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf_input).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (n > 1): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def leaf_input(
    *,
    position: int,
    tx_id: int,
    stream_id: str,
    version: int,
    event_id: str,
    type: str,
    schema_version: int,
    data_json: str,
    metadata_json: str,
    prev_hash: bytes,
    hash: bytes,
) -> bytes:
    """The canonical JSON object of an event's stored fields, keys sorted.

    ``data_json`` and ``metadata_json`` are already canonical (keys sorted, no
    spaces, UTF-8); the result is then exactly what ``json.dumps(...,
    sort_keys=True, separators=(",", ":"), ensure_ascii=False)`` gives for
    the whole object, built without decoding the payload again.
    """

    text = json.encoder.encode_basestring  # json.dumps of a string with ensure_ascii=False, without its set-up

    return (
        f'{{"data":{data_json},"event_id":{text(event_id)},"hash":"{hash.hex()}","metadata":{metadata_json},'
        f'"position":{int(position)},"prev_hash":"{prev_hash.hex()}","schema_version":{int(schema_version)},'
        f'"stream_id":{text(stream_id)},"tx_id":{int(tx_id)},"type":{text(type)},"version":{int(version)}}}'
    ).encode()


def root_of(leaf_hashes: list[bytes]) -> bytes:
    """MTH of a whole list of leaf hashes (for tests and small trees)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return subtree_hash(0, len(leaf_hashes), lambda level, index: _from_leaves(leaf_hashes, level, index))


def _from_leaves(leaves: list[bytes], level: int, index: int) -> bytes:
    if level == 0:
        return leaves[index]
    return node_hash(_from_leaves(leaves, level - 1, 2 * index), _from_leaves(leaves, level - 1, 2 * index + 1))


# -- a tree from its stored perfect subtrees --------------------------------------------------

#: ``node(level, index)``: the root of the perfect subtree over leaves
#: ``[index * 2**level, (index + 1) * 2**level)``; level 0 is a leaf hash.
NodeSource = Callable[[int, int], bytes]


def subtree_hash(start: int, end: int, node: NodeSource) -> bytes:
    """MTH(D[start:end]) from perfect subtrees: O(log n) of them for the ranges proofs use."""
    size = end - start
    if size == 1:
        return node(0, start)
    if size & (size - 1) == 0 and start % size == 0:
        return node(size.bit_length() - 1, start // size)
    k = split_point(size)
    return node_hash(subtree_hash(start, start + k, node), subtree_hash(start + k, end, node))


def frontier_root(frontier: list[bytes]) -> bytes:
    """The root of a tree from its perfect subtrees along the right edge, largest first."""
    if not frontier:
        return EMPTY_ROOT
    root = frontier[-1]
    for left in reversed(frontier[:-1]):
        root = node_hash(left, root)
    return root


def frontier_nodes(size: int) -> list[tuple[int, int]]:
    """The (level, index) of the perfect subtrees that make up a tree of ``size`` leaves, largest first."""
    nodes, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size & (1 << level):
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


# -- inclusion (RFC 9162, 2.1.3) ----------------------------------------------------------------


def inclusion_path(index: int, size: int, node: NodeSource) -> list[bytes]:
    """PATH(m, D[n]): the sibling hashes from leaf ``index`` up to the root of a tree of ``size``."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            path.append(subtree_hash(start + k, end, node))
            end = start + k
        else:
            path.append(subtree_hash(start, start + k, node))
            start += k
    path.reverse()
    return path


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], root: bytes) -> None:
    """RFC 9162 2.1.3.2; raises ``ProofFailed``."""
    if not 0 <= index < size:
        raise ProofFailed(f"leaf index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofFailed("the inclusion path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofFailed("the inclusion path is shorter than the tree is deep")
    if r != root:
        raise ProofFailed("the inclusion path does not lead to the signed root")


# -- consistency (RFC 9162, 2.1.4) --------------------------------------------------------------


def consistency_path(old_size: int, new_size: int, node: NodeSource) -> list[bytes]:
    """PROOF(m, D[n]): what shows that the tree of ``old_size`` is a prefix of the one of ``new_size``."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from {old_size} to {new_size}")
    proof: list[bytes] = []

    def sub(m: int, start: int, end: int, whole: bool) -> None:
        n = end - start
        if m == n:
            if not whole:
                proof.append(subtree_hash(start, end, node))
            return
        k = split_point(n)
        if m <= k:
            sub(m, start, start + k, whole)
            proof.append(subtree_hash(start + k, end, node))
        else:
            sub(m - k, start + k, end, False)
            proof.append(subtree_hash(start, start + k, node))

    sub(old_size, 0, new_size, True)
    return proof


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: list[bytes]) -> None:
    """RFC 9162 2.1.4.2; raises ``ProofFailed``."""
    if old_size == new_size:
        if path or old_root != new_root:
            raise ProofFailed("two heads of the same size with different roots")
        return
    if not 0 < old_size < new_size:
        raise ProofFailed(f"the log cannot grow from {old_size} to {new_size}")
    if not path:
        raise ProofFailed("an empty consistency proof")
    path = list(path)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofFailed("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofFailed("the consistency proof is too short")
    if fr != old_root:
        raise ProofFailed("the older head's root is not a prefix of the newer log")
    if sr != new_root:
        raise ProofFailed("the consistency proof does not lead to the newer head's root")


# -- signed tree heads --------------------------------------------------------------------------


def key_id(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()


def raw_public_key(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class TreeHead:
    """A signed statement: the log ``log_id`` had ``tree_size`` leaves with this root at this time."""

    log_id: str
    tree_size: int
    root_hash: bytes
    timestamp: int  # milliseconds since the epoch, UTC
    key_id: str
    signature: bytes

    def message(self) -> bytes:
        return head_message(self.log_id, self.tree_size, self.root_hash, self.timestamp, self.key_id)

    def check_signature(self, public_key: bytes) -> None:
        """Raise ``ProofFailed`` unless this head is signed by ``public_key`` (raw Ed25519)."""
        if self.key_id != key_id(public_key):
            raise ProofFailed(f"head of size {self.tree_size} names key {self.key_id[:16]}…, not the trusted key")
        try:
            Ed25519PublicKey.from_public_bytes(public_key).verify(self.signature, self.message())
        except (InvalidSignature, ValueError):
            raise ProofFailed(
                f"head of size {self.tree_size} of {self.log_id}: the signature does not verify"
            ) from None

    def as_json(self) -> dict[str, Any]:
        return {
            "log_id": self.log_id,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash.hex(),
            "timestamp": self.timestamp,
            "key_id": self.key_id,
            "signature": self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TreeHead:
        """Read a head; ``ValueError`` names what is missing or malformed."""
        try:
            head = cls(
                str(data["log_id"]),
                int(data["tree_size"]),
                bytes.fromhex(data["root_hash"]),
                int(data["timestamp"]),
                str(data["key_id"]),
                bytes.fromhex(data["signature"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"not a signed tree head: {type(error).__name__}: {error}") from None
        if head.tree_size < 0 or len(head.root_hash) != 32:
            raise ValueError("not a signed tree head: bad size or root")
        return head


def head_message(log_id: str, tree_size: int, root_hash: bytes, timestamp: int, key: str) -> bytes:
    return f"{HEAD_DOMAIN}\n{log_id}\n{tree_size}\n{root_hash.hex()}\n{timestamp}\n{key}".encode()


def sign_head(key: Ed25519PrivateKey, log_id: str, tree_size: int, root_hash: bytes, timestamp: int) -> TreeHead:
    kid = key_id(raw_public_key(key))
    signature = key.sign(head_message(log_id, tree_size, root_hash, timestamp, kid))
    return TreeHead(log_id, tree_size, root_hash, timestamp, kid, signature)


# -- checking a proof bundle ---------------------------------------------------------------------


def _hashes(values: Any, what: str) -> list[bytes]:
    if not isinstance(values, list):
        raise ValueError(f"{what} must be a list of hex hashes")
    out = [bytes.fromhex(v) for v in values]
    if any(len(h) != 32 for h in out):
        raise ValueError(f"{what}: every hash is 32 bytes")
    return out


def check_inclusion_bundle(
    bundle: Mapping[str, Any], public_key: bytes, saved_head: TreeHead | None = None
) -> dict[str, Any]:
    """Check an inclusion proof bundle (``orgctl audit prove``, or the gateway's); return the proven event.

    The bundle's head must be signed by ``public_key``; the leaf must be in it.
    With ``saved_head`` (one the reader kept earlier, also signed by that key),
    the bundle's head must extend it: same head, or a consistency proof from it.
    """
    head = TreeHead.from_json(bundle["head"])
    head.check_signature(public_key)
    leaf_text = bundle["leaf_input"]
    if not isinstance(leaf_text, str):
        raise ValueError("leaf_input must be text")
    verify_inclusion(
        leaf_hash(leaf_text.encode("utf-8")),
        int(bundle["leaf_index"]),
        head.tree_size,
        _hashes(bundle["inclusion_path"], "inclusion_path"),
        head.root_hash,
    )
    if saved_head is not None:
        saved_head.check_signature(public_key)
        if saved_head.log_id != head.log_id:
            raise ProofFailed(f"the saved head is of {saved_head.log_id}, the proof of {head.log_id}")
        if saved_head.tree_size > head.tree_size:
            raise ProofFailed("the saved head is newer than the proof's: ask for a proof at your saved head's size")
        consistency = bundle.get("consistency") or {}
        if saved_head.tree_size == head.tree_size:
            verify_consistency(head.tree_size, head.tree_size, saved_head.root_hash, head.root_hash, [])
        else:
            if int(consistency.get("from_size", -1)) != saved_head.tree_size:
                raise ProofFailed(f"the bundle has no consistency proof from size {saved_head.tree_size}")
            verify_consistency(
                saved_head.tree_size,
                head.tree_size,
                saved_head.root_hash,
                head.root_hash,
                _hashes(consistency.get("path"), "consistency.path"),
            )
    event: dict[str, Any] = json.loads(leaf_text)
    if "event_id" in bundle and event.get("event_id") != bundle["event_id"]:
        raise ProofFailed("the proven leaf is not the event the bundle names")
    return event


def _load(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    inclusion = commands.add_parser("inclusion", help="an event is in the log a signed head describes")
    inclusion.add_argument("bundle", help="the proof bundle (JSON)")
    inclusion.add_argument("--saved-head", help="a signed head you saved earlier (JSON): the proof must extend it")
    inclusion.add_argument("--public-key", required=True, help="the log's Ed25519 public key, hex")
    consistency = commands.add_parser("consistency", help="the log only grew between two signed heads")
    consistency.add_argument("old_head")
    consistency.add_argument("new_head")
    consistency.add_argument("proof", help="JSON: {'path': [hex, ...]} or a list of hex hashes")
    consistency.add_argument("--public-key", required=True, help="the log's Ed25519 public key, hex")
    args = parser.parse_args(argv)
    try:
        public_key = bytes.fromhex(args.public_key)
        if args.command == "inclusion":
            saved = TreeHead.from_json(_load(args.saved_head)) if args.saved_head else None
            event = check_inclusion_bundle(_load(args.bundle), public_key, saved)
            head = TreeHead.from_json(_load(args.bundle)["head"])
            print(f"PROVEN: event {event['event_id']} ({event['type']}, {event['stream_id']} v{event['version']})")
            print(f"  is leaf {_load(args.bundle)['leaf_index']} of {head.log_id}'s log of {head.tree_size} events")
            print(f"  recorded at {event['metadata'].get('recorded_at')}; payload: {json.dumps(event['data'])}")
            return 0
        old, new = TreeHead.from_json(_load(args.old_head)), TreeHead.from_json(_load(args.new_head))
        old.check_signature(public_key)
        new.check_signature(public_key)
        if old.log_id != new.log_id:
            raise ProofFailed(f"two different logs: {old.log_id} and {new.log_id}")
        proof = _load(args.proof)
        path = _hashes(proof["path"] if isinstance(proof, dict) else proof, "path")
        verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, path)
        print(f"PROVEN: {new.log_id}'s log of {new.tree_size} events extends the one of {old.tree_size}")
        return 0
    except ProofFailed as failure:
        print(f"NOT PROVEN: {failure}", file=sys.stderr)
        return 1
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"bad input: {type(error).__name__}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
