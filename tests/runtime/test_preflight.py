"""Preflight: in production a service does not start without its audit key and head sink; in development it warns.

The unit tests build settings from a mapping (no environment, no database, no
broker). The process tests start the real launcher and the gateway pointed at
a database and a broker that do not exist: a refusal that names the settings,
rather than a connection error, shows that the check runs before any connection.
"""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from shared.audit.heads import new_signing_key
from shared.config import REPO_ROOT, Settings
from shared.runtime.process.control import launch
from shared.runtime.process.preflight import REFUSED, check_or_exit, preflight
from shared.security import keys


def settings(**env: str) -> Settings:
    return Settings.from_env({name.upper(): value for name, value in env.items()})


def raw_base64(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())).decode()


def public_hex(key: Ed25519PrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


@pytest.fixture
def sink(tmp_path: Path) -> str:
    directory = tmp_path / "heads"
    directory.mkdir()
    return str(directory)


@pytest.fixture
def keys_dir(tmp_path: Path) -> str:
    """A key directory with the audit pair, as `make run` and `orgctl keys init` make it (PEM)."""
    directory = tmp_path / "keys"
    keys.generate(directory, ["audit"])
    return str(directory)


# -- the mode ----------------------------------------------------------------------------


def test_development_starts_without_a_key_or_a_sink() -> None:
    assert preflight(settings(), "cadre") == []


def test_production_names_every_missing_setting_at_once() -> None:
    problems = preflight(settings(platform_mode="production"), "cadre")
    assert len(problems) == 2, problems
    assert "AUDIT_SIGNING_KEY" in problems[0] and "AUDIT_SIGNING_KEY_FILE" in problems[0]
    assert "SECURITY_KEYS_DIR" in problems[0]
    assert "AUDIT_HEAD_SINK is not set" in problems[1]


def test_an_unknown_mode_is_refused_in_any_case_and_checked_as_production(sink: str) -> None:
    problems = preflight(settings(platform_mode="prod", audit_head_sink=sink), "cadre")
    assert "PLATFORM_MODE='prod' is not a mode" in problems[0]
    assert any("no audit signing key" in p for p in problems[1:]), "a typo does not lower the bar"
    assert preflight(settings(platform_mode="Production"), "gateway", signs_heads=False) == [
        "PLATFORM_MODE='Production' is not a mode: use development or production"
    ]


def test_the_gateway_signs_no_heads_and_needs_no_audit_key() -> None:
    assert preflight(settings(platform_mode="production"), "gateway", signs_heads=False) == []


# -- the signing key, in its order ----------------------------------------------------------


def test_production_starts_with_a_key_from_the_environment(sink: str) -> None:
    assert (
        preflight(
            settings(platform_mode="production", audit_signing_key=new_signing_key(), audit_head_sink=sink), "cadre"
        )
        == []
    )


def test_production_starts_with_the_key_pair_in_the_key_directory(sink: str, keys_dir: str) -> None:
    configured = settings(platform_mode="production", security_keys_dir=keys_dir, audit_head_sink=sink)
    assert preflight(configured, "cadre") == []


@pytest.mark.parametrize("form", ["base64", "pem"])
def test_production_starts_with_a_key_file_in_either_form(sink: str, tmp_path: Path, form: str) -> None:
    key = Ed25519PrivateKey.generate()
    text = (
        raw_base64(key)
        if form == "base64"
        else key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()).decode()
    )
    path = tmp_path / "audit-signing-key"
    path.write_text(text + "\n")
    configured = settings(platform_mode="production", audit_signing_key_file=str(path), audit_head_sink=sink)
    assert preflight(configured, "cadre") == []


@pytest.mark.parametrize("value", ["not a key", base64.b64encode(b"too short").decode()])
def test_a_key_that_does_not_parse_is_named_and_not_passed_over(sink: str, keys_dir: str, value: str) -> None:
    """A broken AUDIT_SIGNING_KEY is a problem even with a good audit.key behind it: no silent fall-through."""
    configured = settings(
        platform_mode="production", audit_signing_key=value, security_keys_dir=keys_dir, audit_head_sink=sink
    )
    (problem,) = preflight(configured, "cadre")
    assert "the audit signing key (AUDIT_SIGNING_KEY) does not parse" in problem
    assert value not in problem, "a key is never written to a log"


def test_a_missing_key_file_is_named(sink: str, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.key"
    configured = settings(platform_mode="production", audit_signing_key_file=str(missing), audit_head_sink=sink)
    (problem,) = preflight(configured, "cadre")
    assert f"AUDIT_SIGNING_KEY_FILE={missing}" in problem and "does not parse" in problem


def test_a_broken_audit_key_in_the_key_directory_is_named(sink: str, keys_dir: str) -> None:
    (Path(keys_dir) / "audit.key").write_text("-----BEGIN PRIVATE KEY-----\nbroken\n-----END PRIVATE KEY-----\n")
    configured = settings(platform_mode="production", security_keys_dir=keys_dir, audit_head_sink=sink)
    (problem,) = preflight(configured, "cadre")
    assert f"{keys_dir}/audit.key" in problem and "does not parse" in problem


# -- the key auditors trust -------------------------------------------------------------------


def test_a_signing_key_that_is_not_the_trusted_keys_pair_is_refused(sink: str) -> None:
    signer, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    base = {"platform_mode": "production", "audit_signing_key": raw_base64(signer), "audit_head_sink": sink}
    assert preflight(settings(**base, audit_public_key=public_hex(signer)), "cadre") == []
    (problem,) = preflight(settings(**base, audit_public_key=public_hex(other)), "cadre")
    assert "is not the pair of the trusted public key (AUDIT_PUBLIC_KEY)" in problem


def test_a_trusted_key_that_does_not_parse_is_named(sink: str) -> None:
    configured = settings(
        platform_mode="production", audit_signing_key=new_signing_key(), audit_public_key="xyz", audit_head_sink=sink
    )
    (problem,) = preflight(configured, "cadre")
    assert "the audit public key (AUDIT_PUBLIC_KEY) does not parse" in problem


# -- the head sink ----------------------------------------------------------------------------


def test_a_sink_that_does_not_exist_is_not_made_but_named(tmp_path: Path) -> None:
    """Most likely a volume that was not mounted: heads written beside it would be lost with the pod."""
    missing = tmp_path / "unmounted"
    configured = settings(platform_mode="production", audit_signing_key=new_signing_key(), audit_head_sink=str(missing))
    assert preflight(configured, "cadre") == [f"AUDIT_HEAD_SINK={missing} is not a directory (is its volume mounted?)"]
    assert not missing.exists()


def test_a_sink_where_the_heads_file_cannot_be_appended_to_is_named(sink: str) -> None:
    (Path(sink) / "cadre.heads.jsonl").mkdir()  # unwritable even by root
    configured = settings(platform_mode="production", audit_signing_key=new_signing_key(), audit_head_sink=sink)
    (problem,) = preflight(configured, "cadre")
    assert problem.startswith(f"AUDIT_HEAD_SINK={sink} is not writable: cadre.heads.jsonl cannot be appended to")
    assert preflight(configured, "talent") == [], "each service appends to its own file"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permission bits")
def test_a_read_only_sink_is_named(sink: str) -> None:
    os.chmod(sink, 0o500)
    try:
        configured = settings(platform_mode="production", audit_signing_key=new_signing_key(), audit_head_sink=sink)
        (problem,) = preflight(configured, "cadre")
        assert "is not writable" in problem
    finally:
        os.chmod(sink, 0o700)


# -- refusing, and warning ------------------------------------------------------------------


def test_production_exits_with_the_configuration_status_naming_each_problem(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="orgwork.preflight"), pytest.raises(SystemExit) as exit_info:
        check_or_exit(settings(platform_mode="production"), "cadre")
    assert exit_info.value.code == REFUSED
    refusals = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert any("cadre refuses to start: no audit signing key" in m for m in refusals)
    assert any("cadre refuses to start: AUDIT_HEAD_SINK is not set" in m for m in refusals)


def test_development_warns_of_what_production_would_refuse(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="orgwork.preflight"):
        check_or_exit(settings(), "cadre")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("production would refuse" in w for w in warnings), warnings


# -- the processes ----------------------------------------------------------------------------


def environment_nowhere(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """This environment without any audit setting, pointed at a database and a broker that do not exist."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUDIT_", "PLATFORM_MODE"))}
    empty_keys = tmp_path / "no-keys"
    empty_keys.mkdir()
    env.update(
        DATABASE_URL="postgresql://postgres@127.0.0.1:1/nowhere",
        AMQP_URI="amqp://guest:guest@127.0.0.1:1/",
        SECURITY_KEYS_DIR=str(empty_keys),
        LOG_FORMAT="text",
        **overrides,
    )
    return env


@pytest.mark.slow
def test_a_production_service_without_a_key_exits_before_connecting_naming_what_is_missing(tmp_path: Path) -> None:
    process = launch("cadre", env=environment_nowhere(tmp_path, PLATFORM_MODE="production"), stderr=subprocess.PIPE)
    _, stderr = process.communicate(timeout=60)
    output = stderr.decode()
    assert process.returncode == REFUSED, output
    assert "cadre refuses to start: no audit signing key: set AUDIT_SIGNING_KEY" in output
    assert "cadre refuses to start: AUDIT_HEAD_SINK is not set" in output
    assert "127.0.0.1:1" not in output and "Connection refused" not in output, "nothing was connected to"


@pytest.mark.slow
def test_the_gateway_refuses_an_unknown_mode(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "services.gateway"],
        cwd=REPO_ROOT,
        env=environment_nowhere(tmp_path, PLATFORM_MODE="prod"),
        stderr=subprocess.PIPE,
    )
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == REFUSED, stderr.decode()
    assert "gateway refuses to start: PLATFORM_MODE='prod' is not a mode" in stderr.decode()


def test_feedback_in_production_needs_the_key_that_opens_sealed_identities(sink: str, keys_dir: str) -> None:
    keys.generate(keys_dir, ["feedback"])  # its signing pair and its identity pair
    configured = settings(platform_mode="production", security_keys_dir=keys_dir, audit_head_sink=sink)
    assert preflight(configured, "feedback") == []
    (Path(keys_dir) / "feedback.hpke.key").unlink()
    (problem,) = preflight(configured, "feedback")
    assert "feedback.hpke.key" in problem
    assert preflight(configured, "cadre") == [], "only feedback opens identities"
