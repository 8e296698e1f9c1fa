"""A submitter's identity sealed to feedback's key (HPKE): it opens there, and nothing else does.

The gateway seals with ``seal``, feedback opens with ``open``; everything that
is not exactly a seal made for this purpose to this key is a ``ValueError``,
which feedback answers as a validation failure naming ``sealed_identity``.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from shared.security import keys, sealed_identity
from shared.security.sealed_identity import INFO, SUITE, MissingIdentityKey

IDENTITY = {"name": "陈静 Chen Jing", "contact": "+86 139 0000 0000"}


@pytest.fixture
def pair(tmp_path: Path) -> tuple[X25519PrivateKey, X25519PublicKey]:
    """Feedback's pair, as ``orgctl keys init`` and the sandboxes make it, loaded as the services load it."""
    assert sealed_identity.generate(tmp_path) is True
    public = sealed_identity.load_public(tmp_path)
    assert public is not None
    return sealed_identity.load_private(tmp_path), public


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def raw(sealed: str) -> bytes:
    return base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))


def test_an_identity_round_trips_and_each_seal_is_fresh(pair: tuple[X25519PrivateKey, X25519PublicKey]) -> None:
    private, public = pair
    first, second = sealed_identity.seal(public, IDENTITY), sealed_identity.seal(public, IDENTITY)
    assert sealed_identity.open(private, first) == IDENTITY == sealed_identity.open(private, second)
    assert first != second, "a new ephemeral key each time: two seals of one identity cannot be linked"
    assert "Chen" not in first and "139" not in first
    assert set(first) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), "base64url, unpadded"


def test_a_tampered_seal_does_not_open(pair: tuple[X25519PrivateKey, X25519PublicKey]) -> None:
    private, public = pair
    sealed = raw(sealed_identity.seal(public, IDENTITY))
    for position in (0, 31, 32, len(sealed) // 2, len(sealed) - 1):  # the encapsulated key, the text, the tag
        tampered = bytearray(sealed)
        tampered[position] ^= 0x01
        with pytest.raises(ValueError, match="does not open"):
            sealed_identity.open(private, b64(bytes(tampered)))


def test_a_truncated_seal_does_not_open(pair: tuple[X25519PrivateKey, X25519PublicKey]) -> None:
    private, public = pair
    sealed = sealed_identity.seal(public, IDENTITY)
    with pytest.raises(ValueError, match="does not open"):
        sealed_identity.open(private, sealed[:-4])
    for short in ("", "AAAA", sealed[:60]):  # no room for the encapsulated key and the tag
        with pytest.raises(ValueError, match="too short"):
            sealed_identity.open(private, short)


def test_a_seal_to_another_key_does_not_open(pair: tuple[X25519PrivateKey, X25519PublicKey]) -> None:
    private, _ = pair
    elsewhere = sealed_identity.seal(X25519PrivateKey.generate().public_key(), IDENTITY)
    with pytest.raises(ValueError, match="does not open with this key"):
        sealed_identity.open(private, elsewhere)


def test_a_seal_for_another_purpose_or_of_anything_but_an_object_does_not_open(
    pair: tuple[X25519PrivateKey, X25519PublicKey],
) -> None:
    private, public = pair
    other_purpose = SUITE.encrypt(json.dumps(IDENTITY).encode(), public, info=b"orgwork something else v1")
    with pytest.raises(ValueError, match="does not open"):
        sealed_identity.open(private, b64(other_purpose))
    with pytest.raises(ValueError, match="JSON object"):
        sealed_identity.open(private, b64(SUITE.encrypt(b'["Chen", "+86"]', public, info=INFO)))
    with pytest.raises(ValueError, match="JSON"):
        sealed_identity.open(private, b64(SUITE.encrypt(b"\xff not json", public, info=INFO)))
    with pytest.raises(ValueError, match="base64url"):
        sealed_identity.open(private, "not base64 at all!*")


def test_the_pair_is_kept_as_files_and_made_with_feedbacks_keys(tmp_path: Path) -> None:
    made = keys.generate(tmp_path, ["gateway", "feedback"])
    assert made == ["gateway", "feedback", sealed_identity.HOLDER]
    assert (tmp_path / sealed_identity.PRIVATE_FILE).stat().st_mode & 0o777 == 0o600
    assert (tmp_path / sealed_identity.PRIVATE_FILE).read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert keys.generate(tmp_path, ["gateway", "feedback"]) == [], "made once, kept after"
    private, public = sealed_identity.load_private(tmp_path), sealed_identity.load_public(tmp_path)
    assert public is not None
    assert sealed_identity.open(private, sealed_identity.seal(public, IDENTITY)) == IDENTITY
    assert keys.generate(tmp_path / "other", ["audit"]) == ["audit"], "not made without feedback"
    assert not (tmp_path / "other" / sealed_identity.PRIVATE_FILE).exists()


def test_missing_or_wrong_keys_are_told_apart(tmp_path: Path) -> None:
    assert sealed_identity.load_public(tmp_path) is None and sealed_identity.load_public("") is None
    with pytest.raises(MissingIdentityKey):
        sealed_identity.load_private(tmp_path)
    with pytest.raises(MissingIdentityKey, match="SECURITY_KEYS_DIR"):
        sealed_identity.load_private("")
    keys.generate(tmp_path, ["gateway"])
    (tmp_path / sealed_identity.PUBLIC_FILE).write_bytes((tmp_path / "gateway.pub").read_bytes())  # Ed25519
    with pytest.raises(ValueError, match="not an X25519 public key"):
        sealed_identity.load_public(tmp_path)
