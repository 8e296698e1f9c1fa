"""orgctl deploy secrets: a complete, fresh set, whose keys pair up, never the same twice."""

from __future__ import annotations

import base64
import stat
import subprocess
import sys
from pathlib import Path

import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from shared.cli import deploy_secrets
from shared.runtime.process.catalog import existing_services
from shared.security import sealed_identity
from tests.deploy.kustomized import NEWEST

VALIDATE = Path(sys.executable).parent / "kubernetes-validate"


def _raw(key: Ed25519PublicKey | X25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _made(tmp_path: Path) -> dict[str, dict[str, str]]:
    out = tmp_path / "secrets.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "shared.cli.orgctl", "deploy", "secrets", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    documents = [doc for doc in yaml.safe_load_all(out.read_text()) if doc]
    check = subprocess.run(
        [str(VALIDATE), "--strict", "-k", NEWEST, "--quiet", str(out)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout + check.stderr
    return {doc["metadata"]["name"]: doc["stringData"] for doc in documents}


def test_the_set_is_complete_and_its_keys_pair_up(tmp_path: Path) -> None:
    made = _made(tmp_path)
    services = existing_services()
    assert set(made) == set(deploy_secrets.secret_names(services))
    audit = made[deploy_secrets.AUDIT_SECRET]
    signing = Ed25519PrivateKey.from_private_bytes(base64.b64decode(audit["signing-key"]))
    assert _raw(signing.public_key()).hex() == audit["public-key"]
    for principal in [*services, "gateway"]:
        files = made[deploy_secrets.keys_secret(principal)]
        own = load_pem_private_key(files[f"{principal}.key"].encode(), None)
        assert isinstance(own, Ed25519PrivateKey)
        for other in [*services, "gateway"]:
            public = load_pem_public_key(made[deploy_secrets.keys_secret(other)][f"{principal}.pub"].encode())
            assert isinstance(public, Ed25519PublicKey) and _raw(public) == _raw(own.public_key()), (principal, other)
        assert not [
            name
            for name in files
            if name.endswith(".key")
            and name != f"{principal}.key"
            and not (principal == "feedback" and name == sealed_identity.PRIVATE_FILE)
        ], principal
    opener = load_pem_private_key(made["orgwork-feedback-keys"][sealed_identity.PRIVATE_FILE].encode(), None)
    sealer = load_pem_public_key(made["orgwork-gateway-keys"][sealed_identity.PUBLIC_FILE].encode())
    assert isinstance(opener, X25519PrivateKey) and isinstance(sealer, X25519PublicKey)
    assert _raw(opener.public_key()) == _raw(sealer), "the gateway seals identities to the key feedback opens them with"
    for name in services:
        db = made[deploy_secrets.db_secret(name)]
        assert db["username"] == deploy_secrets.db_role(name) and len(db["password"]) >= 40
    assert made[deploy_secrets.FEEDBACK_SECRET]["source-key"]


def test_every_run_makes_new_keys_and_passwords(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, second = _made(tmp_path / "a"), _made(tmp_path / "b")
    for name in first:
        for key, value in first[name].items():
            if key.endswith(".pub") or key == "username":
                continue
            assert second[name][key] != value, (name, key)
