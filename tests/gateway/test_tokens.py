"""Bearer tokens at the door: only a token from the trusted issuer, for this gateway, alive, signed
with a pinned asymmetric algorithm, gets in (401 otherwise, with a ``WWW-Authenticate`` challenge);
and a token's roles must grant the call (403 otherwise), deny by default."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from werkzeug.test import Client

from services.gateway.app import Gateway
from services.gateway.ratelimit import RateLimits
from services.gateway.routes import route_table
from services.gateway.tokens import BearerTokens, JwksFile
from shared.security import tokens
from shared.security.keys import KeyRing
from tests.gateway.conftest import bearer, token

LIST = "/api/v1/cadre/list_selections"


def keys() -> KeyRing:
    return KeyRing(os.environ["SECURITY_KEYS_DIR"])


def claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "iss": tokens.DEFAULT_ISSUER,
        "aud": tokens.DEFAULT_AUDIENCE,
        "sub": "staff:mallory",
        "roles": ["selection_officer"],
        "iat": now,
        "exp": now + 600,
    }
    return {**base, **changes}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(payload: dict[str, Any], secret: bytes, kid: str = "tokens") -> str:
    """An HS256 token made by hand (PyJWT rightly refuses to use a public key as an HMAC secret)."""
    signing_input = (
        f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT', 'kid': kid}).encode())}.{b64(json.dumps(payload).encode())}"
    )
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def refused(client: Client, authorization: str | None) -> dict[str, Any]:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.post(LIST, json={}, headers=headers)
    assert response.status_code == 401, response.json
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="orgwork"')
    assert response.json is not None and response.json["status"] == 401
    return {"challenge": response.headers["WWW-Authenticate"], **response.json}


def test_a_valid_token_gets_in(client: Client) -> None:
    response = client.post(LIST, json={}, headers=bearer("selection_officer"))
    assert response.status_code == 200, response.json
    assert set(response.json or {}) == {"items"}


def test_a_learner_reaches_the_courses_on_offer_and_their_own_record(client: Client) -> None:
    response = client.post("/api/v1/training/open_programs", json={}, headers=bearer("learner", subject="l-gw-1"))
    assert response.status_code == 200, response.json
    assert set(response.json or {}) == {"items"}
    mine = client.post("/api/v1/training/my_record", json={}, headers=bearer("learner", subject="l-gw-1"))
    assert mine.status_code == 404, mine.json  # the service answered for the caller: no learner l-gw-1 on record


def test_a_grassroots_officer_reaches_grassroots_and_department_staff_read_it(client: Client) -> None:
    officer = bearer("grassroots_officer", subject="staff:gw-grassroots")
    response = client.post("/api/v1/grassroots/organisation_tree", json={}, headers=officer)
    assert response.status_code == 200, response.json
    assert set(response.json or {}) == {"items"}
    unknown = client.post(
        "/api/v1/grassroots/hold_talk", json={"person_id": "gw-nobody", "talked_by": "Li"}, headers=officer
    )
    assert unknown.status_code == 404, unknown.json  # let through, and the service answered: nobody applied
    staff_reads = client.post("/api/v1/grassroots/pipeline", json={}, headers=bearer("department_staff"))
    assert staff_reads.status_code == 200, staff_reads.json


def test_a_talent_officer_reaches_talent_and_department_staff_read_it(client: Client) -> None:
    officer = bearer("talent_officer", subject="staff:gw-talent")
    response = client.post("/api/v1/talent/pool", json={}, headers=officer)
    assert response.status_code == 200, response.json
    assert set(response.json or {}) == {"items"}
    unknown = client.post("/api/v1/talent/record_return", json={"person_id": "gw-nobody"}, headers=officer)
    assert unknown.status_code == 404, unknown.json  # let through, and the service answered: no such record
    staff_reads = client.post("/api/v1/talent/open_needs", json={}, headers=bearer("department_staff"))
    assert staff_reads.status_code == 200, staff_reads.json


def test_no_token_is_asked_for_without_an_error_code(client: Client) -> None:
    problem = refused(client, None)
    assert problem["challenge"] == 'Bearer realm="orgwork"'
    refused(client, "Basic dXNlcjpwYXNz")


def test_an_expired_token_is_refused(client: Client) -> None:
    expired = token("selection_officer", now=time.time() - 3600, minutes=10)
    problem = refused(client, f"Bearer {expired}")
    assert "expired" in problem["detail"] and 'error="invalid_token"' in problem["challenge"]


def test_a_token_for_another_audience_is_refused(client: Client) -> None:
    other = token("selection_officer", audience="someone-else")
    assert "not for orgwork-gateway" in refused(client, f"Bearer {other}")["detail"]


def test_a_token_from_another_issuer_is_refused(client: Client) -> None:
    other = token("selection_officer", issuer="https://idp.example")
    assert "not issued by" in refused(client, f"Bearer {other}")["detail"]


def test_an_unsigned_token_alg_none_is_refused(client: Client) -> None:
    unsigned = jwt.encode(claims(), key="", algorithm="none", headers={"kid": "tokens"})
    assert "signed with EdDSA" in refused(client, f"Bearer {unsigned}")["detail"]
    stripped = ".".join(token("selection_officer").split(".")[:2]) + "."
    refused(client, f"Bearer {stripped}")


def test_an_hs256_token_signed_with_the_public_key_is_refused(client: Client) -> None:
    """The key confusion attack: the issuer's public key, published, used as an HMAC secret."""
    public_pem = (Path(os.environ["SECURITY_KEYS_DIR"]) / "tokens.pub").read_bytes()
    jwks = json.loads((Path(os.environ["SECURITY_KEYS_DIR"]) / tokens.JWKS_FILE).read_text())
    raw_x = base64.urlsafe_b64decode(jwks["keys"][0]["x"] + "==")
    for secret in (public_pem, raw_x, json.dumps(jwks["keys"][0]).encode()):
        problem = refused(client, f"Bearer {hs256(claims(), secret)}")
        assert "signed with EdDSA" in problem["detail"]


def test_a_token_signed_with_another_key_is_refused(client: Client) -> None:
    forged = jwt.encode(claims(), Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": "tokens"})
    assert "not valid" in refused(client, f"Bearer {forged}")["detail"]
    unknown_kid = jwt.encode(claims(), keys().private("tokens"), algorithm="EdDSA", headers={"kid": "elsewhere"})
    assert "does not trust" in refused(client, f"Bearer {unknown_kid}")["detail"]


def test_a_tampered_token_is_refused(client: Client) -> None:
    header, payload, signature = token("selection_officer").split(".")
    claims_sent = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims_sent["roles"] = ["operator"]
    refused(client, f"Bearer {header}.{b64(json.dumps(claims_sent).encode())}.{signature}")


def test_malformed_and_reserved_tokens_are_refused(client: Client) -> None:
    refused(client, "Bearer not.a.jwt")
    refused(client, "Bearer " + "a" * 10000)
    missing_sub = jwt.encode(
        {k: v for k, v in claims().items() if k != "sub"}, keys().private("tokens"), "EdDSA", {"kid": "tokens"}
    )
    assert "sub" in refused(client, f"Bearer {missing_sub}")["detail"]
    for subject in ("public", "service:cadre"):
        assert "reserved" in refused(client, f"Bearer {token('selection_officer', subject=subject)}")["detail"]
    roles_not_a_list = jwt.encode(claims(roles="operator"), keys().private("tokens"), "EdDSA", {"kid": "tokens"})
    refused(client, f"Bearer {roles_not_a_list}")


def test_the_gateway_accepts_only_asymmetric_algorithms() -> None:
    jwks = JwksFile(Path(os.environ["SECURITY_KEYS_DIR"]) / tokens.JWKS_FILE)
    for algorithms in (("HS256",), ("none",), ("EdDSA", "HS512"), ()):
        with pytest.raises(ValueError):
            BearerTokens(jwks, issuer="i", audience="a", algorithms=algorithms)
    assert BearerTokens(jwks, issuer="i", audience="a", algorithms=("EdDSA", "RS256")).algorithms == ("EdDSA", "RS256")


@pytest.mark.parametrize(
    ("roles", "path"),
    [
        (("training_officer",), "/api/v1/cadre/create_selection"),
        (("learner",), "/api/v1/training/enrol"),
        (("learner",), "/api/v1/training/learner_record"),
        (("learner",), LIST),
        (("learner",), "/api/v1/grassroots/pipeline"),
        (("grassroots_officer",), "/api/v1/training/enrol"),
        (("grassroots_officer",), "/api/v1/supervision/tasks"),
        (("training_officer",), "/api/v1/grassroots/designate_development_target"),
        (("department_staff",), "/api/v1/grassroots/approve_admission"),
        (("learner",), "/api/v1/talent/pool"),
        (("talent_officer",), "/api/v1/cadre/register_cadre"),
        (("talent_officer",), "/api/v1/training/enrol"),
        (("grassroots_officer",), "/api/v1/talent/register_talent"),
        (("department_staff",), "/api/v1/talent/confirm_selection"),
        (("auditor",), "/api/v1/talent/launch_program"),
        (("committee_secretary",), "/api/v1/cadre/create_selection"),
        (("public",), LIST),
        (("auditor",), "/api/v1/cadre/register_cadre"),
        (("department_staff",), "/api/v1/cadre/dead_letters"),
        (("made_up_role",), LIST),
        ((), LIST),
    ],
)
def test_a_role_outside_its_table_is_forbidden(client: Client, roles: tuple[str, ...], path: str) -> None:
    response = client.post(path, json={}, headers=bearer(*roles))
    assert response.status_code == 403, response.json
    assert response.json is not None and response.json["type"] == "/docs#problem-forbidden"
    assert response.json["action"] == path.removeprefix("/api/v1/").replace("/", ".")


def test_forbidden_comes_before_the_arguments_are_looked_at(client: Client) -> None:
    response = client.post("/api/v1/supervision/open_case", data="not json", headers=bearer("selection_officer"))
    assert response.status_code == 403


def test_the_services_check_again(platform_settings: Any, services: None) -> None:
    """A gateway whose own check is switched off still cannot make the service obey a role it lacks."""

    class Lenient(Gateway):
        def identify(self, route: Any, request: Any, address: str) -> Any:
            from shared.security.assertions import Identity

            bearer_ = self.tokens.authenticate(request.headers.get("Authorization"))
            return Identity(bearer_.subject, bearer_.roles, "gateway", client=address)

    built = Gateway.from_settings(platform_settings)
    lenient = Lenient(
        route_table(),
        built.tokens,
        RateLimits("1000/minute", "1000/minute"),
        built.caller,
    )
    try:
        response = Client(lenient).post(
            "/api/v1/cadre/create_selection",
            json={"title": "t", "unit": "u", "kind": "public_selection", "posts": [{"post_id": "p", "title": "t"}]},
            headers=bearer("training_officer"),
        )
        assert response.status_code == 403, response.json
        assert response.json is not None and response.json["detail"].startswith("forbidden")
    finally:
        built.caller.close()  # type: ignore[attr-defined]
