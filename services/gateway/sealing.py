"""Personal data off the broker: a submitter's identity leaves the gateway sealed, or not at all.

The gateway is where the public hands over a name and a contact, and the RPC
request that carries them to feedback crosses RabbitMQ: its queues, any
tracing or mirroring, and, when refused, the dead letters. So once the
request is checked (the identity held to its rules like every argument), the
identity is replaced by ``sealed_identity``: HPKE to feedback's public key
(``shared.security.sealed_identity``). The gateway holds that public key
only; it cannot open what it sealed. A gateway without the key refuses a
submission that gives an identity (503) rather than forward it in clear;
anonymous ones go through as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from services.gateway import problems
from services.gateway.problems import Problem
from services.gateway.routes import Route
from shared.config import Settings
from shared.security import sealed_identity

#: The calls whose ``identity`` is sealed to their service before the call: ``(service, method)``.
SEALED_CALLS: frozenset[tuple[str, str]] = frozenset({("feedback", "submit")})
CLEAR, SEALED = "identity", "sealed_identity"


@dataclass(frozen=True)
class IdentitySealing:
    """Seals the identity of the calls that take one, to ``public_key`` (None: refuses them instead)."""

    public_key: X25519PublicKey | None

    @classmethod
    def from_settings(cls, settings: Settings) -> IdentitySealing:
        """``feedback.hpke.pub`` in the key directory; a file that is no X25519 key stops the gateway."""
        return cls(sealed_identity.load_public(settings.security.keys_dir))

    def apply(self, route: Route, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The arguments to forward: checked ones, with a clear identity replaced by its seal."""
        forwarded = dict(arguments)
        if (route.service, route.method) not in SEALED_CALLS or forwarded.get(CLEAR) is None:
            return forwarded
        if self.public_key is None:
            raise Problem(
                problems.UNAVAILABLE,
                "this gateway has no key to seal an identity with (feedback.hpke.pub in SECURITY_KEYS_DIR), "
                "and does not forward one in clear: submit anonymously, or try again later",
            )
        forwarded[SEALED] = sealed_identity.seal(self.public_key, forwarded.pop(CLEAR))
        return forwarded
