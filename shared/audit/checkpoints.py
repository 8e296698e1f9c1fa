"""Signed checkpoints: a store's whole history up to a point, in 32 bytes and a signature.

The digest runs over every event's stored hash in the store's commit-safe
order (``(tx_id, position)``), the order in which nothing can be inserted
before a point once it is readable: ``d_n = sha256(d_{n-1} || hash_n)``.
Each checkpoint continues the previous one's digest, so a checkpoint vouches
for everything before it. The message signed with Ed25519 names the service,
the cursor, the count and both digests.

The signing key comes from ``AUDIT_SIGNING_KEY`` (the 32-byte private key,
base64) or the file named by ``AUDIT_SIGNING_KEY_FILE``; auditors verify with
the public key alone (``AUDIT_PUBLIC_KEY``, hex, or the exported file's).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from shared.config import AuditSettings
from shared.db.database import Database, fetch_one
from shared.eventstore.records import START, Cursor
from shared.eventstore.store import EventStore

ZERO = bytes(32)
PAGE = 5000


@dataclass(frozen=True)
class Checkpoint:
    service: str
    cursor: Cursor
    count: int
    digest: bytes
    previous: bytes
    public_key: bytes
    signature: bytes
    signed_at: str = ""

    def message(self) -> bytes:
        return signed_message(self.service, self.cursor, self.count, self.digest, self.previous)

    def signature_valid(self, public_key: bytes | None = None) -> bool:
        """Whether the signature verifies, with the given (trusted) key or the one stored beside it."""
        try:
            Ed25519PublicKey.from_public_bytes(public_key or self.public_key).verify(self.signature, self.message())
            return True
        except (InvalidSignature, ValueError):
            return False

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "cursor": str(self.cursor),
            "count": self.count,
            "digest": self.digest.hex(),
            "previous": self.previous.hex(),
            "public_key": self.public_key.hex(),
            "signature": self.signature.hex(),
            "signed_at": self.signed_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Checkpoint":
        return cls(
            data["service"],
            Cursor.parse(data["cursor"]),
            int(data["count"]),
            bytes.fromhex(data["digest"]),
            bytes.fromhex(data["previous"]),
            bytes.fromhex(data["public_key"]),
            bytes.fromhex(data["signature"]),
            data.get("signed_at", ""),
        )


def signed_message(service: str, cursor: Cursor, count: int, digest: bytes, previous: bytes) -> bytes:
    return f"orgwork-checkpoint-v1\n{service}\n{cursor}\n{count}\n{digest.hex()}\n{previous.hex()}".encode()


def advance(digest: bytes, event_hashes: Iterable[bytes]) -> tuple[bytes, int]:
    """Fold event hashes into a running digest; return it and how many were folded."""
    count = 0
    for event_hash in event_hashes:
        digest = hashlib.sha256(digest + event_hash).digest()
        count += 1
    return digest, count


# -- keys --------------------------------------------------------------------------


def load_signing_key(settings: AuditSettings) -> Ed25519PrivateKey | None:
    """The key that signs checkpoints: ``AUDIT_SIGNING_KEY``, else ``AUDIT_SIGNING_KEY_FILE``; None without."""
    raw = settings.signing_key
    if not raw and settings.signing_key_file:
        raw = Path(settings.signing_key_file).read_text().strip()
    if not raw:
        return None
    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw))


def trusted_public_key(settings: AuditSettings) -> bytes | None:
    """The auditors' public key: ``AUDIT_PUBLIC_KEY`` (hex), else the signing key's."""
    if settings.public_key:
        return bytes.fromhex(settings.public_key)
    key = load_signing_key(settings)
    return public_bytes(key) if key else None


def new_signing_key() -> str:
    """A new private key, base64, for ``AUDIT_SIGNING_KEY``."""
    key = Ed25519PrivateKey.generate()
    return base64.b64encode(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


# -- storage -------------------------------------------------------------------------


class CheckpointBook:
    """A store's signed checkpoints (``<schema>.audit_checkpoints``)."""

    def __init__(self, database: Database, service: str) -> None:
        self.database = database
        self.service = service
        self.table = f'"{service}".audit_checkpoints'

    def all(self, conn: Any = None) -> list[Checkpoint]:
        with self.database.transaction(conn) as tx, tx.cursor() as cur:
            cur.execute(
                "SELECT tx_id, position, event_count, digest, previous, public_key, signature, signed_at::text "
                f"FROM {self.table} ORDER BY id"
            )
            rows = cur.fetchall()
        return [
            Checkpoint(self.service, Cursor(r[0], r[1]), r[2], bytes(r[3]), bytes(r[4]), bytes(r[5]), bytes(r[6]), r[7])
            for r in rows
        ]

    def take(self, key: Ed25519PrivateKey) -> Checkpoint | None:
        """Sign a checkpoint at the store's safe horizon; None when nothing new is readable.

        Continues from the latest checkpoint, whose signature is checked first:
        a tampered book is refused rather than extended. Replicas take turns
        (an advisory lock), so each checkpoint continues the one before.
        """
        store = EventStore(self.database, self.service)
        with self.database.transaction() as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"orgwork.checkpoint.{self.service}"])
            book = self.all(conn)
            latest = book[-1] if book else None
            if latest is not None and not latest.signature_valid(public_bytes(key)):
                raise ValueError(f"{self.service}: the latest checkpoint is not signed with this key")
            start = latest.cursor if latest else START
            digest = latest.digest if latest else ZERO
            total = latest.count if latest else 0
            previous, last = digest, start
            while True:
                page = store.read_all(last, PAGE, conn=conn)
                digest, folded = advance(digest, (event.hash for event in page.events))
                total += folded
                last = page.next_cursor
                if folded < PAGE:
                    break
            if last == start:
                return None
            message = signed_message(self.service, last, total, digest, previous)
            checkpoint = Checkpoint(self.service, last, total, digest, previous, public_bytes(key), key.sign(message))
            cur.execute(
                f"INSERT INTO {self.table} (tx_id, position, event_count, digest, previous, public_key, signature) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING signed_at::text",
                [last.tx_id, last.position, total, digest, previous, checkpoint.public_key, checkpoint.signature],
            )
            signed_at = fetch_one(cur)[0]
        return replace(checkpoint, signed_at=signed_at)
