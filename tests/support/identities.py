"""Who the tests call as: identities the gateway would vouch for, signed with the run's own keys."""

from __future__ import annotations

from shared.security.assertions import Identity
from shared.security.policy import PUBLIC, ROLES

#: The roles the tests' own applications grant (``tests/support/apps``), beside them.
TEST_APP_ROLES = ("ledger_clerk", "tally_clerk")
#: A member of staff holding every person's role (for tests of what a call does, not of who may make it).
EVERY_ROLE = Identity("staff:test-clerk", tuple(sorted({*ROLES, *TEST_APP_ROLES})), "gateway")
#: Someone from the public, as the gateway vouches for them.
THE_PUBLIC = Identity("public", (PUBLIC,), "gateway", client="203.0.113.7")


def staff(subject: str, *roles: str) -> Identity:
    return Identity(f"staff:{subject}", roles, "gateway")


def public_at(address: str) -> Identity:
    """Someone from the public, at ``address`` as the gateway saw it."""
    return Identity("public", (PUBLIC,), "gateway", client=address)
