"""Identity assertions: who is calling, vouched for by a key the callee trusts.

A call between processes carries a short-lived assertion: a JWT signed with
Ed25519 (``EdDSA``) by its issuer, naming the subject, the subject's roles,
the audience (the one service it is for) and an expiry a minute away. The key
id is the issuer's name, and the callee looks the issuer's public key up in
its own key directory: an assertion from an unknown issuer, for another
audience, expired, not signed with the pinned algorithm, or vouching for roles
its issuer may not grant (``policy.may_assert``), is refused as
``Unauthorized``. The recorded actor of every event is the subject verified
here, never a field of the request.

PyJWT does the token work; nothing of JSON Web Signatures is written by hand.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared.errors import Unauthorized
from shared.security.keys import HOLDER, KeyRing
from shared.security.policy import may_assert, service_role

ALGORITHM = "EdDSA"
#: The context key (``nameko.identity`` on the wire) that carries the assertion.
CONTEXT_KEY = "identity"
#: The longest life an assertion may claim, whatever its issuer says.
MAX_LIFETIME = 300.0
MAX_ASSERTION_BYTES = 8192
#: A signer hands out the same assertion for an audience until this share of its life is gone.
REUSE_SHARE = 0.5
#: How many verified assertions a verifier remembers (each one until it expires).
VERIFIED_KEPT = 4096


@dataclass(frozen=True)
class Identity:
    """A verified caller: who, with which roles, vouched for by whom.

    ``client`` is the network address the gateway saw the request come from
    (behind its trusted proxies), for rate limits; None for calls that did not
    come through the gateway.
    """

    subject: str
    roles: tuple[str, ...]
    issuer: str
    client: str | None = None


def service_identity(service: str) -> Identity:
    """A service acting as itself (its calls, its timers)."""
    return Identity(service_role(service), (service_role(service),), service)


class AssertionSigner:
    """Mints assertions as ``issuer`` with its private key."""

    def __init__(self, issuer: str, key: Ed25519PrivateKey, lifetime: float = 60.0) -> None:
        if not HOLDER.match(issuer):
            raise ValueError(f"{issuer!r} is not an issuer's name")
        self.issuer = issuer
        self._key = key
        self.lifetime = min(lifetime, MAX_LIFETIME)
        self._issued: dict[tuple[Identity, str], tuple[str, float]] = {}

    @classmethod
    def from_keys(cls, keys: KeyRing, issuer: str, lifetime: float = 60.0) -> AssertionSigner:
        return cls(issuer, keys.private(issuer), lifetime)

    def assertion(self, identity: Identity, audience: str) -> str:
        """A token vouching for ``identity``, good for ``audience`` only, for ``lifetime`` seconds.

        The same token is handed out again for the same identity and audience
        until half its life is gone: it is a bearer token for its whole life
        either way, and a reused one costs neither side a signature (the
        verifier remembers it).
        """
        key = (identity, audience)
        kept = self._issued.get(key)
        now = time.time()
        if kept is not None and now < kept[1]:
            return kept[0]
        token = self._mint(identity, audience)
        if len(self._issued) >= VERIFIED_KEPT:
            self._issued.clear()
        self._issued[key] = (token, now + self.lifetime * REUSE_SHARE)
        return token

    def _mint(self, identity: Identity, audience: str) -> str:
        now = int(time.time())
        claims: dict[str, object] = {
            "iss": self.issuer,
            "sub": identity.subject,
            "aud": audience,
            "roles": list(identity.roles),
            "iat": now,
            "exp": now + int(self.lifetime),
            "jti": str(uuid.uuid4()),
        }
        if identity.client:
            claims["client"] = identity.client
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.issuer})


class AssertionVerifier:
    """Checks assertions addressed to ``audience`` against the keys in a key ring."""

    def __init__(self, keys: KeyRing, audience: str, services: Iterable[str], leeway: float = 5.0) -> None:
        self.keys = keys
        self.audience = audience
        self.services = tuple(services)
        self.leeway = leeway
        # A verified token is remembered with its expiry and the key that verified it;
        # a refusal is never remembered (exceptions are not cached).
        self._verified = functools.lru_cache(maxsize=VERIFIED_KEPT)(self._verify_signed)

    def verify(self, token: object) -> Identity:
        """The identity ``token`` vouches for, or ``Unauthorized`` saying why not.

        A token verified before is not verified again while it lives and its
        issuer's key is still the one that verified it: the expiry is checked
        on every call, and a key withdrawn or rotated refuses it at once.
        """
        if not isinstance(token, str) or not token:
            raise Unauthorized("the call carries no identity assertion")
        if len(token) > MAX_ASSERTION_BYTES:
            raise Unauthorized("the identity assertion is too large")
        identity, expires, key = self._verified(token)
        if time.time() > expires + self.leeway:
            raise Unauthorized("the identity assertion has expired")
        if self.keys.public(identity.issuer) is not key:
            self._verified.cache_clear()
            return self._verify_signed(token)[0]
        return identity

    def _verify_signed(self, token: str) -> tuple[Identity, float, object]:
        """The identity, its expiry and the issuer's key, from the token's signature and claims."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("the identity assertion is not a JWT") from None
        issuer = header.get("kid")
        if header.get("alg") != ALGORITHM:
            raise Unauthorized(f"identity assertions are signed with {ALGORITHM} only")
        if not isinstance(issuer, str) or not HOLDER.match(issuer):
            raise Unauthorized("the identity assertion names no issuer")
        key = self.keys.public(issuer)
        if key is None:
            raise Unauthorized(f"issuer {issuer!r} is not trusted here")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the identity assertion has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthorized(f"the identity assertion is not for {self.audience}") from None
        except jwt.PyJWTError as error:
            raise Unauthorized(f"the identity assertion is not valid: {error}") from None
        roles, subject, client = claims.get("roles"), claims.get("sub"), claims.get("client")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise Unauthorized("the identity assertion's roles are not a list of names")
        if not isinstance(subject, str) or not 0 < len(subject) <= 200:
            raise Unauthorized("the identity assertion's subject is not a name")
        if claims["exp"] - claims["iat"] > MAX_LIFETIME:
            raise Unauthorized("the identity assertion lives too long")
        if not may_assert(issuer, roles, self.services):
            raise Unauthorized(f"issuer {issuer!r} may not vouch for roles {sorted(roles)}")
        identity = Identity(subject, tuple(roles), issuer, client if isinstance(client, str) else None)
        return identity, float(claims["exp"]), key
