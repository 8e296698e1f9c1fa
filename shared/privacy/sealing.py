"""Sealing a personal field under its subject's key, and opening it again.

Why per subject: erasing one person must not touch anyone else, and the log
cannot be rewritten (it is append-only and hash-chained). So each data
subject (``cadre:c-42``) has a key of its own, every personal value about
them is encrypted under it, and forgetting the key erases them all at once.

A sealed value describes itself, so that a read needs no schema to open it::

    {"sealed": {"alg": "A256GCM", "subject": "cadre:c-42", "nonce": "<b64>", "ciphertext": "<b64>"}}

with ``"erased": <stand-in>`` added when the field declared a stand-in of its
own. The plaintext is the canonical JSON of the value; the associated data
binds the ciphertext to its subject, its field and its event, so that a
sealed value copied into another field or event does not open.

Plain functions over plain data: no database here (``keys`` keeps the keys).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from shared.eventstore.hashing import canonical_json
from shared.eventstore.records import ERASED, RecordedEvent

SEALED = "sealed"
ALGORITHM = "A256GCM"
KEY_BYTES = 32
NONCE_BYTES = 12
_AAD_DOMAIN = "orgwork-personal-v1"
_ENVELOPE_KEYS = frozenset({"alg", "subject", "nonce", "ciphertext"})

Keys = Mapping[str, bytes]


def new_key() -> bytes:
    """A fresh AES-256 key for one subject."""
    return os.urandom(KEY_BYTES)


def _aad(subject: str, field: str, event_id: str) -> bytes:
    return "\n".join([_AAD_DOMAIN, subject, field, str(event_id)]).encode("utf-8")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def seal_value(key: bytes, subject: str, field: str, event_id: str, value: Any, erased: Any = ERASED) -> dict[str, Any]:
    """``value`` (a JSON value) sealed under ``key`` for ``subject``'s ``field`` of event ``event_id``."""
    nonce = os.urandom(NONCE_BYTES)
    plaintext = canonical_json(value, field).encode("utf-8")
    ciphertext = AESGCM(key).encrypt(nonce, plaintext, _aad(subject, field, event_id))
    envelope: dict[str, Any] = {
        "alg": ALGORITHM,
        "subject": subject,
        "nonce": _b64(nonce),
        "ciphertext": _b64(ciphertext),
    }
    if erased != ERASED:
        envelope["erased"] = erased
    return {SEALED: envelope}


def envelope_of(value: Any) -> dict[str, Any] | None:
    """The envelope when ``value`` is a sealed value, else None."""
    if type(value) is not dict or len(value) != 1:
        return None
    envelope = value.get(SEALED)
    if type(envelope) is not dict or not _ENVELOPE_KEYS <= envelope.keys() <= _ENVELOPE_KEYS | {"erased"}:
        return None
    if envelope["alg"] != ALGORITHM or not isinstance(envelope["subject"], str):
        return None
    return envelope


def open_value(keys: Keys, field: str, event_id: str, value: Any) -> Any:
    """The plaintext of a sealed value; its erased stand-in when the key is gone (or is not the one it was sealed with)."""
    envelope = envelope_of(value)
    if envelope is None:
        return value
    stand_in = envelope.get("erased", ERASED)
    key = keys.get(envelope["subject"])
    if key is None:
        return stand_in
    try:
        nonce = base64.b64decode(envelope["nonce"], validate=True)
        ciphertext = base64.b64decode(envelope["ciphertext"], validate=True)
        plaintext = AESGCM(key).decrypt(nonce, ciphertext, _aad(envelope["subject"], field, event_id))
    except (InvalidTag, ValueError, TypeError):
        # A key made anew after an erasure does not open what the erased one sealed.
        return stand_in
    return json.loads(plaintext)


def seal_fields(
    keys: Keys, event_id: str, data: Mapping[str, Any], personal: Mapping[str, str], erased: Mapping[str, Any]
) -> dict[str, Any]:
    """``data`` with each personal field sealed under its subject's key (None stays None: nothing to keep)."""
    sealed = dict(data)
    for field, subject in personal.items():
        value = data.get(field)
        stand_in = erased.get(field, ERASED)
        if value is None or value == stand_in:
            continue  # nothing personal to keep (already erased where it came from)
        sealed[field] = seal_value(keys[subject], subject, field, event_id, value, stand_in)
    return sealed


def sealed_subjects(records: Iterable[RecordedEvent]) -> set[str]:
    """The subjects whose keys opening ``records`` needs (empty: nothing in them is sealed)."""
    found: set[str] = set()
    for record in records:
        for value in record.data.values():
            envelope = envelope_of(value)
            if envelope is not None:
                found.add(envelope["subject"])
    return found


def is_sealed(record: RecordedEvent) -> bool:
    return any(envelope_of(value) is not None for value in record.data.values())


def open_record(record: RecordedEvent, keys: Keys) -> RecordedEvent:
    """The record with its sealed fields opened (or erased); the record itself when nothing in it is sealed."""
    if not is_sealed(record):
        return record
    data = {field: open_value(keys, field, record.event_id, value) for field, value in record.data.items()}
    return dataclasses.replace(record, data=data)


def open_records(records: list[RecordedEvent], keys: Keys) -> list[RecordedEvent]:
    return [open_record(record, keys) for record in records]
