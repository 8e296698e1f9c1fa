"""The platform's Ed25519 keys: one directory, one key pair per holder.

A holder is a process that signs: the gateway (identity assertions), each
service (its own calls, and its relay's events), the operator's tools, and the
local token issuer that stands in for a real identity provider. Its private key
is ``<name>.key`` (PKCS#8 PEM, readable by its owner only), its public key
``<name>.pub`` (PEM). A deployment mounts each process's own private key and
everyone's public keys; ``orgctl keys init`` makes a full set for local runs.
The one key pair here that signs nothing, feedback's X25519 pair that
submitters' identities are sealed to (``shared.security.sealed_identity``),
is made with feedback's, so every local run and test sandbox has it too.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
)

from shared.config import SERVICE_NAMES
from shared.security import sealed_identity
from shared.security.pem_files import read_pem

HOLDER = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")

#: Everyone who signs: the gateway, the operator's tools, the local token
#: issuer (standing in for an identity provider), the audit log's tree heads
#: (``audit``), and each service.
HOLDERS: tuple[str, ...] = ("gateway", "operator", "tokens", "audit", *SERVICE_NAMES)


class MissingKey(LookupError):
    """A key that is not in the key directory (or no directory is configured)."""


class KeyRing:
    """The keys in one directory, read once each."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory) if directory else None

    def _path(self, name: str, suffix: str) -> Path:
        if not HOLDER.match(name):
            raise MissingKey(f"{name!r} is not a key holder's name")
        if self.directory is None:
            raise MissingKey(f"no key directory is configured (SECURITY_KEYS_DIR) for {name!r}")
        return self.directory / f"{name}{suffix}"

    def private(self, name: str) -> Ed25519PrivateKey:
        """The private key of ``name``; ``MissingKey`` when this process does not hold it."""
        path = self._path(name, ".key")
        if not path.is_file():
            raise MissingKey(f"no private key for {name!r} in {self.directory}")
        key = load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise MissingKey(f"{path} is not an Ed25519 private key")
        return key

    def public(self, name: str) -> Ed25519PublicKey | None:
        """The public key of ``name``, or None when it is not trusted here."""
        try:
            path = self._path(name, ".pub")
        except MissingKey:
            return None
        key = read_pem(path, private=False)
        return key if isinstance(key, Ed25519PublicKey) else None


def generate(directory: str | Path, names: list[str]) -> list[str]:
    """Make a key pair for each name that has none yet; return the names made.

    With ``feedback`` among the names, feedback's identity pair
    (``feedback.hpke.key``/``.pub``) is made too when missing, and named
    ``feedback.hpke`` among those made: the gateway seals identities to it.
    """
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    made = []
    for name in names:
        if not HOLDER.match(name):
            raise ValueError(f"{name!r} is not a key holder's name")
        private_path, public_path = target / f"{name}.key", target / f"{name}.pub"
        if private_path.exists() and public_path.exists():
            continue
        key = Ed25519PrivateKey.generate()
        fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
        public_path.write_bytes(key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
        made.append(name)
    if "feedback" in names and sealed_identity.generate(target):
        made.append(sealed_identity.HOLDER)
    return made
