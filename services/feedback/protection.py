"""Protecting the public who write in: receipt codes, sealed identities, hashed sources.

- A receipt code is 120 random bits (``secrets``), shown once to the submitter;
  the store keeps only its SHA-256, so the log cannot be used to read someone's case.
- An identity is personal data of ``submitter:<submission id>``: the store
  seals it under that subject's own key (``shared.privacy``), so that erasing
  the subject erases it. Before that, identities were sealed with Fernet
  (AES-128-CBC + HMAC) under the one ``FEEDBACK_IDENTITY_KEY``; ``open`` still
  reads those (``SubmissionReceived.identity_sealed``), and destroying that key
  erases them all at once.
- Rate-limit keys are HMACs of the source, never the source itself, under
  ``FEEDBACK_SOURCE_KEY`` (a key of its own, not the identity key). Without one,
  each process makes a random key: limits then hold per process only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

RECEIPT_BYTES = 15  # 120 bits
_PROCESS_SOURCE_KEY = secrets.token_bytes(32)


def new_receipt_code() -> str:
    return secrets.token_urlsafe(RECEIPT_BYTES)


def receipt_hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


class IdentitySeal:
    """Seals identities with the configured key; keeps nothing without one."""

    def __init__(self, key: str = "", source_key: str = "") -> None:
        self._fernet = Fernet(key.encode()) if key else None
        self._source_key = source_key.encode() if source_key else _PROCESS_SOURCE_KEY

    @property
    def keeps_identities(self) -> bool:
        return self._fernet is not None

    def seal(self, identity: dict[str, Any] | None) -> str | None:
        if identity is None or self._fernet is None:
            return None
        return self._fernet.encrypt(json.dumps(identity, sort_keys=True).encode()).decode()

    def open(self, sealed: str) -> dict[str, Any]:
        if self._fernet is None:
            raise ValueError("no identity key is configured")
        try:
            return dict(json.loads(self._fernet.decrypt(sealed.encode())))
        except InvalidToken as error:
            raise ValueError("the sealed identity does not open with this key") from error

    def source_key(self, source: str) -> str:
        return hmac.new(self._source_key, source.encode("utf-8"), hashlib.sha256).hexdigest()


def generate_key() -> str:
    """A new identity key (for ``FEEDBACK_IDENTITY_KEY``)."""
    return Fernet.generate_key().decode()
