"""The local token issuer: bearer tokens for the gateway, signed with the ``tokens`` key.

In production an identity provider issues the tokens people present at the
gateway, and publishes its keys as a JWKS. Locally (``make run``, the demo,
the tests) the ``tokens`` key pair in the key directory stands in for it:
``issue`` mints a token as that provider would (``kid``, issuer, audience,
expiry, ``sub`` and ``roles``), and ``write_jwks`` publishes its public key as
``tokens.jwks.json`` for the gateway to trust. PyJWT does the token work.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import jwt
from jwt.algorithms import OKPAlgorithm

from shared.security.keys import KeyRing, MissingKey

#: The holder whose key pair signs the local tokens.
ISSUER_KEY = "tokens"
JWKS_FILE = f"{ISSUER_KEY}.jwks.json"
DEFAULT_ISSUER = "orgwork-local"
DEFAULT_AUDIENCE = "orgwork-gateway"


def issue(
    keys: KeyRing,
    subject: str,
    roles: Iterable[str],
    *,
    minutes: float = 60.0,
    issuer: str = DEFAULT_ISSUER,
    audience: str = DEFAULT_AUDIENCE,
    now: float | None = None,
) -> str:
    """A bearer token for ``subject`` holding ``roles``, good for ``minutes``."""
    issued = int(time.time() if now is None else now)
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "roles": list(roles),
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(minutes * 60),
        "jti": str(uuid.uuid4()),
    }
    return jwt.encode(claims, keys.private(ISSUER_KEY), algorithm="EdDSA", headers={"kid": ISSUER_KEY})


def jwks(keys: KeyRing) -> dict[str, object]:
    """The local issuer's public key as a JSON Web Key Set."""
    public = keys.public(ISSUER_KEY)
    if public is None:
        raise MissingKey(f"no public key for {ISSUER_KEY!r} in {keys.directory}")
    jwk = OKPAlgorithm.to_jwk(public, as_dict=True)
    return {"keys": [{**jwk, "kid": ISSUER_KEY, "alg": "EdDSA", "use": "sig"}]}


def write_jwks(directory: str | Path) -> Path:
    """``<directory>/tokens.jwks.json``, written when missing or when it no longer shows the ``tokens`` key."""
    path = Path(directory) / JWKS_FILE
    document = jwks(KeyRing(directory))
    try:
        current = json.loads(path.read_text())
    except (OSError, ValueError):
        current = None
    if current != document:
        path.write_text(json.dumps(document, indent=2) + "\n")
    return path
