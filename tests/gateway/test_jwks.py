"""Where the gateway finds the identity provider's keys: a JWKS file (re-read when it changes) or a
JWKS URL (fetched and cached); and RS256 as well as EdDSA, only when configured, and only with a key
of that kind."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import eventlet
import eventlet.wsgi
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm

from services.gateway.problems import Problem
from services.gateway.tokens import Bearer, BearerTokens, JwksFile, JwksUrl, KeySet

ISSUER, AUDIENCE = "https://idp.example", "orgwork-gateway"


def claims() -> dict[str, Any]:
    now = int(time.time())
    return {"iss": ISSUER, "aud": AUDIENCE, "sub": "wang.fang", "roles": ["auditor", "nobody"], "exp": now + 60}


def ed25519_jwk(key: Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    return {**OKPAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "use": "sig"}


def rsa_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    return {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "alg": "RS256", "use": "sig"}


def checker(keys: KeySet, *algorithms: str) -> BearerTokens:
    return BearerTokens(keys, issuer=ISSUER, audience=AUDIENCE, algorithms=algorithms or ("EdDSA",))


def status_of(check: BearerTokens, token: str) -> int:
    with pytest.raises(Problem) as refused:
        check.verify(token)
    return refused.value.kind.status


@pytest.fixture
def jwks_url() -> Iterator[tuple[str, dict[str, Any]]]:
    """A JWKS served over HTTP; the test fills the document."""
    document: dict[str, Any] = {"keys": []}

    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(document).encode()]

    listener = eventlet.listen(("127.0.0.1", 0))
    quiet = logging.getLogger("tests.gateway.jwks")
    server = eventlet.spawn(eventlet.wsgi.server, listener, app, log=quiet, log_output=False)
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/.well-known/jwks.json", document
    finally:
        server.kill()
        listener.close()


def test_keys_from_a_jwks_url(jwks_url: tuple[str, dict[str, Any]]) -> None:
    url, document = jwks_url
    key = Ed25519PrivateKey.generate()
    document["keys"] = [ed25519_jwk(key, "idp-1")]
    token = jwt.encode(claims(), key, algorithm="EdDSA", headers={"kid": "idp-1"})
    assert checker(JwksUrl(url)).verify(token) == Bearer("wang.fang", ("auditor",)), "unknown roles are ignored"
    stranger = jwt.encode(claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "idp-2"})
    assert status_of(checker(JwksUrl(url)), stranger) == 401


def test_a_jwks_url_that_cannot_be_reached_is_503() -> None:
    token = jwt.encode(claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "idp-1"})
    assert status_of(checker(JwksUrl("http://127.0.0.1:1/jwks.json", timeout=1)), token) == 503


def test_a_rotated_jwks_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "jwks.json"
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    path.write_text(json.dumps({"keys": [ed25519_jwk(old, "k1")]}))
    check = checker(JwksFile(path))
    rotated = jwt.encode(claims(), new, algorithm="EdDSA", headers={"kid": "k2-rotated"})
    assert status_of(check, rotated) == 401
    path.write_text(json.dumps({"keys": [ed25519_jwk(new, "k2-rotated")]}))
    assert check.verify(rotated).subject == "wang.fang"


def test_rs256_only_when_configured_and_only_with_an_rsa_key(tmp_path: Path) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ed_key = Ed25519PrivateKey.generate()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [rsa_jwk(rsa_key, "rsa"), ed25519_jwk(ed_key, "ed")]}))
    rs256 = jwt.encode(claims(), rsa_key, algorithm="RS256", headers={"kid": "rsa"})
    assert checker(JwksFile(path), "RS256").verify(rs256).subject == "wang.fang"
    assert status_of(checker(JwksFile(path), "EdDSA"), rs256) == 401, "RS256 is not accepted unless configured"
    confused = jwt.encode(claims(), ed_key, algorithm="EdDSA", headers={"kid": "rsa"})
    assert status_of(checker(JwksFile(path), "EdDSA", "RS256"), confused) == 401, "the key names its algorithm"
