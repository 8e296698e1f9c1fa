"""``orgctl keys init`` and ``orgctl token issue``: the local token issuer, as an operator uses it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jwt
import pytest
from typer.testing import CliRunner
from werkzeug.test import Client

from shared.cli.orgctl import app
from shared.security import keys, sealed_identity, tokens


def test_keys_init_makes_every_key_and_the_jwks(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["keys", "init", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    made = json.loads(result.output)
    assert sorted(made["made"]) == sorted([*keys.HOLDERS, sealed_identity.HOLDER])
    assert (tmp_path / "tokens.key").stat().st_mode & 0o077 == 0, "private keys are the owner's only"
    assert (tmp_path / sealed_identity.PRIVATE_FILE).stat().st_mode & 0o077 == 0, "feedback's identity key too"
    assert sealed_identity.load_public(tmp_path) is not None
    jwks = json.loads((tmp_path / tokens.JWKS_FILE).read_text())
    (key,) = jwks["keys"]
    assert (key["kty"], key["crv"], key["kid"], key["alg"]) == ("OKP", "Ed25519", "tokens", "EdDSA")
    assert "d" not in key, "the JWKS holds the public key only"
    again = CliRunner().invoke(app, ["keys", "init", str(tmp_path), "--json"])
    assert json.loads(again.output)["made"] == []


def test_token_issue_mints_what_the_gateway_accepts(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(
        app, ["token", "issue", "--role", "selection_officer", "--role", "auditor", "--subject", "li", "--minutes", "5"]
    )
    assert result.exit_code == 0, result.output
    issued = result.output.strip()
    assert jwt.get_unverified_header(issued)["kid"] == "tokens"
    claims = jwt.decode(issued, options={"verify_signature": False})
    assert (claims["sub"], claims["roles"], claims["iss"], claims["aud"]) == (
        "li",
        ["selection_officer", "auditor"],
        "orgwork-local",
        "orgwork-gateway",
    )
    assert claims["exp"] - claims["iat"] == 300
    response = client.post("/api/v1/cadre/list_selections", json={}, headers={"Authorization": f"Bearer {issued}"})
    assert response.status_code == 200, response.json


def test_token_issue_refuses_an_unknown_role_and_a_missing_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    unknown = CliRunner().invoke(app, ["token", "issue", "--role", "king", "--subject", "li"])
    assert unknown.exit_code == 2 and "unknown role" in unknown.output
    monkeypatch.setenv("SECURITY_KEYS_DIR", str(tmp_path))
    missing = CliRunner().invoke(app, ["token", "issue", "--role", "auditor", "--subject", "li"])
    assert missing.exit_code == 2 and "keys init" in missing.output
    assert os.environ["SECURITY_KEYS_DIR"] == str(tmp_path)
