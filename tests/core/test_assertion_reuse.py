"""A signer hands out one assertion for a while, and a verifier remembers what it verified: never past expiry or a key change.

Both save a signature per call (``docs/BENCHMARKS.md``, P4a); neither may let
through what a fresh verification would refuse.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from shared.errors import Unauthorized
from shared.security import assertions
from shared.security.assertions import AssertionSigner, AssertionVerifier, Identity
from shared.security.keys import KeyRing, generate

CLERK = Identity("clerk-zhou", ("ledger_clerk",), "gateway")


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    generate(tmp_path, ["gateway", "ledger"])
    return KeyRing(tmp_path)


def test_a_signer_reuses_its_assertion_for_half_its_life_then_mints_another(
    ring: KeyRing, monkeypatch: pytest.MonkeyPatch
) -> None:
    signer = AssertionSigner.from_keys(ring, "gateway", lifetime=60)
    first = signer.assertion(CLERK, "ledger")
    assert signer.assertion(CLERK, "ledger") == first
    assert signer.assertion(CLERK, "cadre") != first, "one audience's assertion is never another's"
    other = Identity("clerk-li", ("ledger_clerk",), "gateway")
    assert signer.assertion(other, "ledger") != first, "one caller's assertion is never another's"
    now = time.time()
    monkeypatch.setattr(assertions.time, "time", lambda: now + 31)
    assert signer.assertion(CLERK, "ledger") != first


def test_a_remembered_assertion_is_refused_once_it_expires(ring: KeyRing, monkeypatch: pytest.MonkeyPatch) -> None:
    token = AssertionSigner.from_keys(ring, "gateway", lifetime=60).assertion(CLERK, "ledger")
    verifier = AssertionVerifier(ring, "ledger", ["ledger"], leeway=5)
    assert verifier.verify(token) == CLERK
    assert verifier.verify(token) == CLERK  # remembered
    now = time.time()
    monkeypatch.setattr(assertions.time, "time", lambda: now + 70)
    with pytest.raises(Unauthorized, match="expired"):
        verifier.verify(token)


def test_a_remembered_assertion_is_refused_once_its_issuers_key_changes(ring: KeyRing, tmp_path: Path) -> None:
    token = AssertionSigner.from_keys(ring, "gateway").assertion(CLERK, "ledger")
    verifier = AssertionVerifier(ring, "ledger", ["ledger"])
    assert verifier.verify(token) == CLERK
    for suffix in (".key", ".pub"):
        (tmp_path / f"gateway{suffix}").unlink()
    generate(tmp_path, ["gateway"])  # rotated: the old signature no longer verifies
    with pytest.raises(Unauthorized, match="not valid"):
        verifier.verify(token)
    (tmp_path / "gateway.pub").unlink()
    with pytest.raises(Unauthorized, match="not trusted"):
        verifier.verify(token)


def test_a_refusal_is_not_remembered_as_anything(ring: KeyRing) -> None:
    verifier = AssertionVerifier(ring, "ledger", ["ledger"])
    token = AssertionSigner.from_keys(ring, "gateway").assertion(CLERK, "cadre")
    for _ in range(2):
        with pytest.raises(Unauthorized, match="not for ledger"):
            verifier.verify(token)
