"""Events signed by the relay that published them, checked by every consumer.

The store already chains each event to the one before it in its stream
(``hash`` covers the content and ``prev_hash``). What a consumer could not
tell is *who* put an envelope on the broker: anyone with access to an
exchange could publish a well-formed one. So the relay of service S signs
each event's hash, with S's own key, and the consumer checks that signature
with S's public key before anything else trusts the envelope. The signed text
names the source, so that S's signature is worthless on another exchange.

Ed25519 via ``cryptography``: about 50 µs to sign and 120 µs to check an event.
"""

from __future__ import annotations

import base64
import binascii

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.security.keys import KeyRing

#: The AMQP header that carries an event's signature (base64).
SIGNATURE_HEADER = "orgwork.signature"
_DOMAIN = b"orgwork-event-signature-v1"


class Unauthenticated(ValueError):
    """An event whose signature does not show that its source published it."""


def signed_text(source: str, event_hash: bytes) -> bytes:
    return b"\n".join([_DOMAIN, source.encode("utf-8"), event_hash.hex().encode("ascii")])


class EventSigner:
    """Signs the events of one source (its relay holds the key)."""

    def __init__(self, source: str, key: Ed25519PrivateKey) -> None:
        self.source = source
        self._key = key

    def sign(self, event_hash: bytes) -> str:
        return base64.b64encode(self._key.sign(signed_text(self.source, event_hash))).decode("ascii")


class EventVerifier:
    """Checks events against their sources' public keys."""

    def __init__(self, keys: KeyRing) -> None:
        self.keys = keys

    def verify(self, source: str, event_hash: bytes, signature: object) -> None:
        """Return quietly when ``source`` signed ``event_hash``; raise ``Unauthenticated`` otherwise."""
        if not isinstance(signature, str | bytes) or not signature:
            raise Unauthenticated(f"the event carries no signature of {source}")
        key = self.keys.public(source)
        if key is None:
            raise Unauthenticated(f"no public key of {source} is trusted here")
        try:
            key.verify(base64.b64decode(signature, validate=True), signed_text(source, event_hash))
        except (InvalidSignature, binascii.Error, ValueError):
            raise Unauthenticated(f"the event's signature is not {source}'s") from None
