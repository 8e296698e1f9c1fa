"""Bearer tokens: who a member of staff is, as their identity provider vouches.

A token is a JWT (RFC 7519) signed by the identity provider with an
asymmetric key the gateway finds in the provider's JWKS (a file, re-read
when it changes, or a URL, cached). The algorithm is pinned to a configured
list of asymmetric ones (``EdDSA``, ``RS256``): a token naming ``none``, an
HMAC algorithm or any other is refused before any key is looked at, so a
public key can never serve as an HMAC secret. Issuer, audience, expiry (and
not-before) are checked with a small leeway; ``sub`` and ``roles`` are
required. Roles the platform does not know (``policy.ROLES``) are ignored.
PyJWT does the token work.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import jwt

from services.gateway.problems import UNAVAILABLE, Problem, unauthorized
from shared.config import GatewaySettings
from shared.security.policy import PUBLIC, ROLES

log = logging.getLogger(__name__)

#: The algorithms a gateway may be configured to accept: asymmetric ones only.
ALLOWED_ALGORITHMS = frozenset({"EdDSA", "RS256"})
MAX_TOKEN_BYTES = 8192
SUBJECT = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


@dataclass(frozen=True)
class Bearer:
    """The verified holder of a token: a subject and the platform roles it holds."""

    subject: str
    roles: tuple[str, ...]


class KeySet(Protocol):
    def key(self, kid: str | None) -> jwt.PyJWK | None:
        """The signing key with this key id (or the only key, when the token names none)."""


class JwksFile:
    """A JWKS on disk, read again whenever it changes (a rotated key is picked up without a restart)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._seen: tuple[float, int] | None = None
        self._keys: jwt.PyJWKSet | None = None

    def _current(self) -> jwt.PyJWKSet:
        try:
            stat = self.path.stat()
            with self._lock:
                if self._keys is None or self._seen != (stat.st_mtime, stat.st_size):
                    self._keys = jwt.PyJWKSet.from_json(self.path.read_text())
                    self._seen = (stat.st_mtime, stat.st_size)
                return self._keys
        except (OSError, ValueError, jwt.PyJWKSetError) as error:
            log.error("cannot read the JWKS %s: %s", self.path, error)
            raise Problem(UNAVAILABLE, "the identity provider's keys cannot be read") from None

    def key(self, kid: str | None) -> jwt.PyJWK | None:
        return _pick(self._current().keys, kid)


class JwksUrl:
    """A JWKS published by the identity provider, fetched and cached by PyJWT's client."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.client = jwt.PyJWKClient(url, cache_jwk_set=True, lifespan=300, timeout=int(max(1, timeout)))

    def key(self, kid: str | None) -> jwt.PyJWK | None:
        try:
            return _pick(self.client.get_signing_keys(), kid)
        except jwt.PyJWKClientConnectionError as error:
            log.error("cannot fetch the JWKS: %s", error)
            raise Problem(UNAVAILABLE, "the identity provider's keys cannot be fetched") from None
        except jwt.PyJWKClientError:
            return None


def _pick(keys: list[jwt.PyJWK], kid: str | None) -> jwt.PyJWK | None:
    if kid is None:
        return keys[0] if len(keys) == 1 else None
    return next((key for key in keys if key.key_id == kid), None)


def key_set(settings: GatewaySettings, default_file: str | Path | None) -> KeySet:
    """The configured JWKS: the file, else the URL, else the local issuer's file."""
    if settings.jwks_file:
        return JwksFile(settings.jwks_file)
    if settings.jwks_url:
        return JwksUrl(settings.jwks_url)
    if default_file is None:
        raise ValueError("no JWKS is configured: set GATEWAY_JWKS_FILE or GATEWAY_JWKS_URL (or SECURITY_KEYS_DIR)")
    return JwksFile(default_file)


class BearerTokens:
    """Checks the ``Authorization: Bearer`` header of a request."""

    def __init__(
        self,
        keys: KeySet,
        *,
        issuer: str,
        audience: str,
        algorithms: tuple[str, ...] = ("EdDSA",),
        leeway: float = 30.0,
    ) -> None:
        wrong = set(algorithms) - ALLOWED_ALGORITHMS
        if wrong or not algorithms:
            raise ValueError(f"token algorithms must be among {sorted(ALLOWED_ALGORITHMS)}, not {sorted(wrong)}")
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.algorithms = tuple(algorithms)
        self.leeway = leeway

    @classmethod
    def from_settings(cls, settings: GatewaySettings, default_file: str | Path | None) -> BearerTokens:
        return cls(
            key_set(settings, default_file),
            issuer=settings.token_issuer,
            audience=settings.token_audience,
            algorithms=settings.algorithms,
            leeway=settings.leeway,
        )

    def authenticate(self, authorization: str | None) -> Bearer:
        """The bearer of the header's token; a 401 problem saying why not."""
        if not authorization:
            raise unauthorized("this call needs a bearer token", token_given=False)
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise unauthorized("give the token as 'Authorization: Bearer <token>'", token_given=False)
        if len(token) > MAX_TOKEN_BYTES:
            raise unauthorized("the token is too large")
        return self.verify(token)

    def verify(self, token: str) -> Bearer:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise unauthorized("the token is not a JWT") from None
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in self.algorithms:
            raise unauthorized(f"tokens must be signed with {', '.join(self.algorithms)}")
        if kid is not None and not isinstance(kid, str):
            raise unauthorized("the token's key id is not a string")
        key = self.keys.key(kid)
        if key is None:
            raise unauthorized("the token is signed with a key this gateway does not trust")
        if key.algorithm_name != algorithm:
            raise unauthorized(f"the key {kid!r} does not sign with {algorithm}")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise unauthorized("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise unauthorized(f"the token is not for {self.audience}") from None
        except jwt.InvalidIssuerError:
            raise unauthorized(f"the token is not issued by {self.issuer}") from None
        except jwt.PyJWTError as error:
            raise unauthorized(f"the token is not valid: {error}") from None
        return Bearer(_subject(claims), _roles(claims))


def _subject(claims: dict[str, Any]) -> str:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not SUBJECT.match(subject):
        raise unauthorized("the token's subject is not a name of 1 to 200 characters")
    if subject == PUBLIC or subject.startswith("service:"):
        raise unauthorized(f"the subject {subject!r} is reserved for the platform")
    return subject


def _roles(claims: dict[str, Any]) -> tuple[str, ...]:
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise unauthorized("the token's roles are not a list of names")
    return tuple(sorted({role for role in roles if role in ROLES}))
