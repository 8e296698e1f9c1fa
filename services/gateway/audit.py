"""What the gateway itself gives a reader who checks the record: the verifier, the key, and "not yet".

The proofs come from the services (``audit_proof``, ``audit_consistency``);
what a reader checks them with must not depend on trusting those answers.
So the verifier served is the platform's own ``shared/audit/proofs.py``,
read once at start and served byte for byte (its SHA-256 goes with the key,
for anyone to compare with a copy from elsewhere), and the key is the one
this gateway is configured to trust, with a note that says to take it from
an independent channel as well: a server that rewrote its record could
serve a key of its own.

An event stored after the latest signed head is not provable for a few
seconds. The service says so with ``NotYetCovered``; this module teaches the
RPC client that type (it lives in ``shared.audit``, above the platform's
common errors) and answers it as a 409 with ``Retry-After``: the time
between two heads.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from werkzeug.wrappers import Response

from services.gateway import problems
from services.gateway.problems import Problem
from shared.audit import proofs
from shared.audit.heads import trusted_public_key
from shared.audit.tree import NotYetCovered
from shared.config import AuditSettings, Settings
from shared.runtime.messaging.rpc import register_remote_errors

VERIFIER = Path(proofs.__file__)
VERIFIER_MEDIA_TYPE = "text/x-python"

KEY_NOTE = (
    "This is the key this server trusts. Before you rely on it, check it against the key in the department's "
    "published notice (an independent channel, not this server): a server that rewrote its record could also "
    "serve you a key of its own. Give it to the verifier as --public-key."
)

register_remote_errors(NotYetCovered)


@dataclass(frozen=True)
class PublicAudit:
    """The verifier's bytes, the trusted key (None: this gateway is given none) and the time between heads."""

    verifier: bytes
    public_key: bytes | None
    head_seconds: float

    @classmethod
    def from_settings(cls, settings: Settings) -> PublicAudit:
        """As configured: ``AUDIT_PUBLIC_KEY`` or ``audit.pub``; a key that does not parse stops the gateway."""
        return cls(VERIFIER.read_bytes(), trusted_public_key(settings), settings.audit.head_seconds)

    @classmethod
    def without_key(cls) -> PublicAudit:
        """The verifier only (a gateway built by hand, as tests do)."""
        return cls(VERIFIER.read_bytes(), None, AuditSettings().head_seconds)

    def answer(self, endpoint: str) -> Response:
        """The document ``endpoint`` names (see ``routes.DOCUMENT_ROUTES``)."""
        if endpoint == "verifier":
            return Response(self.verifier, mimetype=VERIFIER_MEDIA_TYPE)
        if endpoint == "audit_public_key":
            return self.key()
        raise KeyError(endpoint)

    def key(self) -> Response:
        if self.public_key is None:
            raise Problem(
                problems.UNAVAILABLE,
                "this gateway is not configured with the audit public key (AUDIT_PUBLIC_KEY); "
                "take it from the department's published notice",
            )
        body = {
            "algorithm": "Ed25519",
            "public_key": self.public_key.hex(),
            "key_id": proofs.key_id(self.public_key),
            "verifier_sha256": hashlib.sha256(self.verifier).hexdigest(),
            "note": KEY_NOTE,
        }
        return Response(json.dumps(body), mimetype="application/json")

    def not_yet_covered(self, error: NotYetCovered) -> Problem:
        return problems.not_yet_covered(str(error), self.head_seconds)
