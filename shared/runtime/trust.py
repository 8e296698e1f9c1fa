"""What one service container believes and how it signs: its keys, read once.

Every service holds its own private key (it signs its relay's events and its
own calls) and the public keys of those it trusts: the gateway and the
operator (identity assertions) and the other services (their events). A
service without its own key does not start: it could publish nothing a
consumer would accept.
"""

from __future__ import annotations

from functools import cached_property

from nameko.extensions import SharedExtension

from shared.config import SERVICE_NAMES
from shared.runtime.resources import settings_of
from shared.security.assertions import AssertionVerifier
from shared.security.event_signatures import EventSigner, EventVerifier
from shared.security.keys import KeyRing, MissingKey


class Trust(SharedExtension):
    """The container's key ring, its assertion verifier, its event signer and verifier."""

    def setup(self) -> None:
        try:
            assert self.event_signer is not None
        except MissingKey as error:
            raise RuntimeError(f"{self.container.service_name} cannot start: {error}") from error

    @cached_property
    def keys(self) -> KeyRing:
        return KeyRing(settings_of(self.container).security.keys_dir)

    @cached_property
    def assertions(self) -> AssertionVerifier:
        security = settings_of(self.container).security
        return AssertionVerifier(self.keys, self.container.service_name, SERVICE_NAMES, security.leeway)

    @cached_property
    def events(self) -> EventVerifier:
        return EventVerifier(self.keys)

    @cached_property
    def event_signer(self) -> EventSigner:
        service = self.container.service_name
        return EventSigner(service, self.keys.private(service))
