"""Who signs tree heads, who is trusted to have signed them, and where heads are published.

The signing key is ``AUDIT_SIGNING_KEY`` (base64 of the raw Ed25519 key, from
a Secret), else the file ``AUDIT_SIGNING_KEY_FILE`` (the same base64, or PEM),
else ``audit.key`` in the key directory, which ``make run`` makes. Auditors
trust ``AUDIT_PUBLIC_KEY`` (hex) or ``audit.pub`` in their key directory:
never a key that comes inside what they check.

Heads are kept twice: in the store's book (``audit_tree_heads``) and in a
sink outside the database, an append-only file per service
(``<AUDIT_HEAD_SINK>/<service>.heads.jsonl``). Someone who can rewrite the
database, book included, cannot reach the sink; a head in the sink that the
book no longer holds, or that the log no longer matches, gives them away.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, load_pem_private_key

from shared.audit.proofs import TreeHead, raw_public_key
from shared.config import Settings
from shared.security.keys import KeyRing, MissingKey

AUDIT_HOLDER = "audit"
#: How much of the end of a heads file ``latest`` reads: a few hundred heads' worth.
TAIL_BYTES = 64 * 1024


class BadKey(ValueError):
    """A configured key that does not parse; the message names the setting."""


def private_key_from_text(text: str, source: str) -> Ed25519PrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = load_pem_private_key(text.encode(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise ValueError("not an Ed25519 key")
            return key
        return Ed25519PrivateKey.from_private_bytes(base64.b64decode(text, validate=True))
    except ValueError as error:
        raise BadKey(f"{source} is not an Ed25519 private key: {error}") from None


def load_signing_key(settings: Settings) -> Ed25519PrivateKey | None:
    """The key that signs tree heads, or None when none is configured; ``BadKey`` names a broken one."""
    audit = settings.audit
    if audit.signing_key:
        return private_key_from_text(audit.signing_key, "AUDIT_SIGNING_KEY")
    if audit.signing_key_file:
        try:
            text = Path(audit.signing_key_file).read_text()
        except OSError as error:
            raise BadKey(f"AUDIT_SIGNING_KEY_FILE: {error}") from None
        return private_key_from_text(text, f"AUDIT_SIGNING_KEY_FILE ({audit.signing_key_file})")
    if settings.security.keys_dir:
        try:
            return KeyRing(settings.security.keys_dir).private(AUDIT_HOLDER)
        except MissingKey as missing:
            if (Path(settings.security.keys_dir) / f"{AUDIT_HOLDER}.key").exists():
                raise BadKey(f"SECURITY_KEYS_DIR/{AUDIT_HOLDER}.key: {missing}") from None
            return None
        except (ValueError, TypeError) as error:
            raise BadKey(f"SECURITY_KEYS_DIR/{AUDIT_HOLDER}.key is not an Ed25519 private key: {error}") from None
    return None


def trusted_public_key(settings: Settings) -> bytes | None:
    """The public key auditors trust (raw, 32 bytes): ``AUDIT_PUBLIC_KEY``, else ``audit.pub``; None without."""
    if settings.audit.public_key:
        try:
            key = bytes.fromhex(settings.audit.public_key)
        except ValueError as error:
            raise BadKey(f"AUDIT_PUBLIC_KEY is not hex: {error}") from None
        if len(key) != 32:
            raise BadKey("AUDIT_PUBLIC_KEY is not a 32-byte Ed25519 public key")
        return key
    if settings.security.keys_dir:
        public = KeyRing(settings.security.keys_dir).public(AUDIT_HOLDER)
        if public is not None:
            return raw_public_key(public)
    return None


def new_signing_key() -> str:
    """A new private key, base64 of its raw bytes, for ``AUDIT_SIGNING_KEY``."""
    key = Ed25519PrivateKey.generate()
    return base64.b64encode(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()


class FileHeadSink:
    """Signed heads appended to ``<directory>/<service>.heads.jsonl``, one JSON object a line.

    Appends take an exclusive lock and are fsynced: replicas sharing the
    directory never interleave a line, and a head reported published is on disk.
    """

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def path(self, service: str) -> Path:
        return self.directory / f"{service}.heads.jsonl"

    def heads(self, service: str) -> list[TreeHead]:
        """Every head published for ``service``, oldest first; ``ValueError`` names a malformed line."""
        path = self.path(service)
        if not path.exists():
            return []
        heads = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                try:
                    heads.append(TreeHead.from_json(json.loads(line)))
                except ValueError as error:
                    raise ValueError(f"{path}, line {number}: {error}") from None
        return heads

    def latest(self, service: str) -> TreeHead | None:
        """The largest head published, from the end of the file only (``publish`` keeps sizes increasing).

        The services ask every few seconds: reading the whole file each time
        would grow with the log's age.
        """
        path = self.path(service)
        if not path.exists():
            return None
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(0, size - TAIL_BYTES))
            tail = handle.read().decode("utf-8", errors="replace").splitlines()
        lines = [line for line in (tail[1:] if size > TAIL_BYTES else tail) if line.strip()]
        if not lines:
            return None
        try:
            return max((TreeHead.from_json(json.loads(line)) for line in lines), key=lambda h: h.tree_size)
        except ValueError as error:
            raise ValueError(f"{path}, near its end: {error}") from None

    def publish(self, service: str, heads: list[TreeHead]) -> None:
        """Append the heads larger than the last one published (replicas racing to publish a head write it once).

        Sizes in the file only ever increase, so its last line is its latest head.
        """
        if not heads:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.path(service), "a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                last = self.latest(service)
                done = last.tree_size if last else 0
                for head in sorted(heads, key=lambda h: h.tree_size):
                    if head.tree_size > done:
                        handle.write(json.dumps(head.as_json(), sort_keys=True) + "\n")
                        done = head.tree_size
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def head_sink(settings: Settings) -> FileHeadSink | None:
    return FileHeadSink(settings.audit.head_sink) if settings.audit.head_sink else None
