"""Commands carried out once, however often they arrive: the ``command_id``.

Every command may carry a ``command_id`` (a UUID the caller chooses). The
first time, the command runs and its reply is kept, in the same transaction
as its effects; a repeat with the same id and the same request gets that
reply and changes nothing; a repeat with the same id and another request is
refused. Without an id from the caller, the runtime uses the AMQP message's
correlation id, so a redelivery of the very same message (a crash between
commit and acknowledgement) is a repeat too.

Nothing readable is kept: the row is keyed by a hash of the id, and the
request's fingerprint and the reply are sealed with keys derived from the id
itself (Fernet, from ``cryptography``). A reply may carry a secret (the
receipt code of a submission, shown once); without the id, the row opens to
no one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from collections.abc import Callable
from typing import Any

from cryptography.fernet import Fernet

from shared.application.unit_of_work import UnitOfWork
from shared.errors import ValidationFailed

#: Processed commands older than this are forgotten (a repeat after that runs again).
RETENTION_DAYS = 7

_CLAIM = (
    "INSERT INTO processed_commands (command_hash, method, fingerprint) VALUES (%s, %s, %s) "
    "ON CONFLICT (command_hash) DO NOTHING RETURNING 1"
)
_FIND = "SELECT method, fingerprint, sealed_reply FROM processed_commands WHERE command_hash = %s"
_KEEP = "UPDATE processed_commands SET sealed_reply = %s WHERE command_hash = %s"
_FORGET = f"DELETE FROM processed_commands WHERE processed_at < now() - interval '{RETENTION_DAYS} days'"


def _derive(command_id: str, purpose: str) -> bytes:
    return hashlib.sha256(f"orgwork-command/{purpose}\n{command_id}".encode()).digest()


def _fingerprint(command_id: str, method: str, request: dict[str, Any]) -> bytes:
    text = json.dumps({"method": method, "request": request}, sort_keys=True, default=str, separators=(",", ":"))
    return hmac.new(_derive(command_id, "fingerprint"), text.encode(), hashlib.sha256).digest()


def _sealer(command_id: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_derive(command_id, "reply")))


def once(uow: UnitOfWork, method: str, command_id: str, request: dict[str, Any], run: Callable[[], Any]) -> Any:
    """``run()``'s reply the first time; the same reply on a repeat of the same request; else refused.

    ``run`` joins this transaction, so the command's effects and the record
    that it ran commit together. Two repeats at once: the second waits for the
    first to commit, then gets its reply.
    """
    key = _derive(command_id, "key")
    fingerprint = _fingerprint(command_id, method, request)
    with uow.transaction():
        if not uow.query(_CLAIM, [key, method, fingerprint]):
            found = uow.query(_FIND, [key])[0]
            if found["method"] != method or bytes(found["fingerprint"]) != fingerprint:
                raise ValidationFailed(
                    {"command_id": ["was already used for another request; a new command needs a new id"]},
                    f"invalid call to {method}",
                )
            return json.loads(_sealer(command_id).decrypt(bytes(found["sealed_reply"])))
        reply = run()
        uow.execute(_KEEP, [_sealer(command_id).encrypt(json.dumps(reply).encode()), key])
        if random.random() < 0.001:  # now and then, forget commands long past
            uow.execute(_FORGET)
    return reply
