"""A submitter's identity, sealed at the gateway for the feedback service alone (HPKE, RFC 9180).

Why: the gateway is where a member of the public hands over their name and
contact, and the feedback service is the only one that may read them (it
keeps them sealed again, at rest, under the submitter's own key:
``shared.privacy``). Between the two lies RabbitMQ: the RPC request sits in
its queues, can be traced or mirrored, and a refused one is kept as a dead
letter. So the gateway seals the identity to feedback's public key before it
forwards the request, and holds no key that opens it; only feedback's
private key does. Nothing is hand-rolled: the suite is HPKE's
DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM, from ``cryptography``.

The key pair is not a signing key (``shared.security.keys`` holds those):
it lives in the same key directory (``SECURITY_KEYS_DIR``) as
``feedback.hpke.key`` (PKCS#8 PEM, 0600: feedback's pods only) and
``feedback.hpke.pub`` (the gateway's). ``generate`` makes it when missing.

A sealed identity is base64url text (no padding) of HPKE's
``enc || ciphertext``; ``INFO`` binds it to this purpose and version, so a
ciphertext made for anything else does not open here.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from shared.security.pem_files import read_pem

#: Who holds the pair, and the files it is kept in (beside the signing keys).
HOLDER = "feedback.hpke"
PRIVATE_FILE = f"{HOLDER}.key"
PUBLIC_FILE = f"{HOLDER}.pub"

#: What a sealed identity is for, bound into the key schedule: another purpose's ciphertext does not open.
INFO = b"orgwork identity v1"
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)

#: HPKE's encapsulated key (X25519: 32 bytes) and AES-GCM's tag: the least a sealed value can be.
_OVERHEAD = 32 + 16


class MissingIdentityKey(LookupError):
    """A key of the pair that is not in the key directory (or no directory is configured)."""


def seal(public_key: X25519PublicKey, identity: dict[str, Any]) -> str:
    """``identity`` (a JSON object) sealed to the holder of ``public_key``: base64url text.

    Each seal is fresh (a new ephemeral key), so two seals of one identity differ.
    """
    if not isinstance(identity, dict):
        raise TypeError("an identity is a JSON object")
    plaintext = json.dumps(identity, sort_keys=True, separators=(",", ":")).encode("ascii")
    sealed = SUITE.encrypt(plaintext, public_key, info=INFO)
    return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")


def open(private_key: X25519PrivateKey, sealed: str) -> dict[str, Any]:
    """The identity ``sealed`` holds; ``ValueError`` for anything that does not open to a JSON object."""
    if not isinstance(sealed, str):
        raise ValueError("a sealed identity is base64url text")
    try:
        raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("a sealed identity is base64url text") from error
    if len(raw) <= _OVERHEAD:
        raise ValueError("the sealed identity is too short to hold anything")
    try:
        plaintext = SUITE.decrypt(raw, private_key, info=INFO)
    except InvalidTag as error:
        raise ValueError("the sealed identity does not open with this key (tampered, truncated or not ours)") from error
    try:
        opened = json.loads(plaintext)
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError("the sealed identity does not hold JSON") from error
    if not isinstance(opened, dict):
        raise ValueError("the sealed identity does not hold a JSON object")
    return opened


# -- the key pair in a directory ------------------------------------------------------------


def generate(directory: str | Path) -> bool:
    """Make the pair in ``directory`` unless both files are there; True when it was made."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    private_path, public_path = target / PRIVATE_FILE, target / PUBLIC_FILE
    if private_path.exists() and public_path.exists():
        return False
    key = X25519PrivateKey.generate()
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    public_path.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    return True


def load_private(directory: str | Path | None) -> X25519PrivateKey:
    """Feedback's private key from the key directory; ``MissingIdentityKey`` when this process has none.

    Read again only when the file changes (a rotated Secret is picked up).
    """
    path = _path(directory, PRIVATE_FILE)
    key = _private_key(path)
    if key is None:
        raise MissingIdentityKey(f"no {PRIVATE_FILE} in {path.parent}")
    return key


def load_public(directory: str | Path | None) -> X25519PublicKey | None:
    """Feedback's public key from the key directory, or None when it is not there.

    A file that is there but holds no X25519 public key is an error
    (``ValueError``): a process misconfigured so should not start.
    """
    try:
        path = _path(directory, PUBLIC_FILE)
    except MissingIdentityKey:
        return None
    return _public_key(path)


def _path(directory: str | Path | None, name: str) -> Path:
    if not directory:
        raise MissingIdentityKey(f"no key directory is configured (SECURITY_KEYS_DIR) for {name}")
    return Path(directory) / name


def _private_key(path: Path) -> X25519PrivateKey | None:
    key = read_pem(path, private=True)
    if key is not None and not isinstance(key, X25519PrivateKey):
        raise ValueError(f"{path} is not an X25519 private key")
    return key


def _public_key(path: Path) -> X25519PublicKey | None:
    key = read_pem(path, private=False)
    if key is not None and not isinstance(key, X25519PublicKey):
        raise ValueError(f"{path} is not an X25519 public key")
    return key
