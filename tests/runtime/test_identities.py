"""Every call says who makes it, and only a key the service trusts can say so.

A service takes the caller's identity from the assertion its request carries,
never from the arguments: the tests here send calls with no assertion, with
assertions forged, expired, for another service, in another algorithm, or
vouching for more than their issuer may, and check each is refused before
anything runs. They also check that the audit trail names the verified caller.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from nameko.standalone.rpc import ClusterRpcProxy

from services.cadre.entrypoint import CadreService
from services.feedback.entrypoint import FeedbackService
from services.grassroots.entrypoint import GrassrootsService
from services.supervision.entrypoint import SupervisionService
from services.talent.entrypoint import TalentService
from services.training.entrypoint import TrainingService
from shared.db.database import Database
from shared.errors import Forbidden, Unauthorized, ValidationFailed
from shared.eventstore.store import EventStore
from shared.runtime.messaging.client import rpc_client
from shared.runtime.service import ServiceBase
from shared.security.assertions import Identity
from shared.security.keys import KeyRing
from tests.support.apps.ledger.service import Ledger
from tests.support.contracts import rpc_method_names
from tests.support.environment import RunEnvironment
from tests.support.identities import EVERY_ROLE, staff
from tests.support.platform import InProcess, services_running, settings_for_tests

CLERK = staff("clerk-zhou", "ledger_clerk")
PLATFORM = (CadreService, FeedbackService, GrassrootsService, SupervisionService, TalentService, TrainingService)


@pytest.fixture
def ledger(in_process: InProcess) -> InProcess:
    in_process.start(Ledger)
    return in_process


def keys(env: RunEnvironment) -> KeyRing:
    return KeyRing(env.keys_dir)


def call_with(env: RunEnvironment, assertion: str | None, service: str, method: str, **kwargs: Any) -> Any:
    """One call carrying exactly ``assertion`` (or none) in its identity header."""
    context = {"identity": assertion} if assertion is not None else {}
    with ClusterRpcProxy({"AMQP_URI": env.amqp_uri}, timeout=20, context_data=context) as proxy:
        return getattr(getattr(proxy, service), method)(**kwargs)


def claims(issuer: str = "gateway", audience: str = "ledger", **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    made = {"iss": issuer, "sub": "staff:mallory", "aud": audience, "roles": ["ledger_clerk"], "iat": now}
    return {**made, "exp": now + 60, **overrides}


def signed(env: RunEnvironment, issuer: str = "gateway", **overrides: Any) -> str:
    return jwt.encode(
        claims(issuer, **overrides), keys(env).private(issuer), algorithm="EdDSA", headers={"kid": issuer}
    )


def deposit(env: RunEnvironment, assertion: str | None) -> Any:
    return call_with(env, assertion, "ledger", "deposit", account_id=f"a-{uuid.uuid4().hex[:6]}", amount=1)


def test_the_recorded_actor_is_the_verified_caller_and_no_argument_can_claim_another(
    ledger: InProcess, test_env: RunEnvironment, database: Database
) -> None:
    account = f"who-{uuid.uuid4().hex[:6]}"
    with rpc_client(timeout=20, identity=CLERK) as rpc:
        rpc.ledger.deposit(account_id=account, amount=3)
        with pytest.raises(ValidationFailed) as caught:
            rpc.ledger.deposit(account_id=account, amount=3, actor="staff:someone-else")
    assert caught.value.errors == {"actor": ["Unknown field."]}
    (event,) = EventStore(database, "ledger").read_stream(f"account-{account}")
    assert event.metadata["actor"] == "staff:clerk-zhou"


def _part(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned_token(payload: dict[str, Any]) -> str:
    """``alg: none``, as an attacker writes it (PyJWT will not)."""
    return f"{_part({'alg': 'none', 'typ': 'JWT', 'kid': 'gateway'})}.{_part(payload)}."


def hmac_token(payload: dict[str, Any], secret: bytes) -> str:
    """HS256 keyed with ``secret``: the classic confusion attack, with the public key as the secret."""
    signing_input = f"{_part({'alg': 'HS256', 'typ': 'JWT', 'kid': 'gateway'})}.{_part(payload)}"
    digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_part(digest)}"


def forged_assertions(env: RunEnvironment) -> dict[str, str]:
    public_pem = keys(env).public("gateway").public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)  # type: ignore[union-attr]
    stranger = Ed25519PrivateKey.generate()
    now = int(time.time())
    return {
        "expired": signed(env, iat=now - 600, exp=now - 120),
        "for another service": signed(env, audience="tally"),
        "alg none": unsigned_token(claims()),
        "HS256 keyed with the gateway's public key": hmac_token(claims(), public_pem),
        "signed by a key nobody trusts": jwt.encode(claims(), stranger, algorithm="EdDSA", headers={"kid": "gateway"}),
        "from an issuer nobody trusts": jwt.encode(
            claims(issuer="mallory"), stranger, algorithm="EdDSA", headers={"kid": "mallory"}
        ),
        "a service vouching for a person": signed(env, issuer="cadre"),
        "the operator's tools vouching for a clerk": signed(env, issuer="operator"),
        "living for a day": signed(env, exp=now + 86400),
        "no subject": signed(env, sub=""),
        "not a JWT": "hello",
    }


def test_calls_without_a_verifiable_assertion_are_refused_before_anything_runs(
    ledger: InProcess, test_env: RunEnvironment, database: Database
) -> None:
    refused = {}
    for what, assertion in {"none": None, **forged_assertions(test_env)}.items():
        with pytest.raises(Unauthorized) as caught:
            deposit(test_env, assertion)
        refused[what] = caught.value.problem
    assert EventStore(database, "ledger").read_all().events == [], "nothing ran"
    assert "expired" in refused["expired"] and "not for ledger" in refused["for another service"]
    assert "EdDSA" in refused["alg none"] and "EdDSA" in refused["HS256 keyed with the gateway's public key"]
    assert "may not vouch" in refused["a service vouching for a person"]
    assert "not trusted" in refused["from an issuer nobody trusts"]
    assert deposit(test_env, signed(test_env)) is not None, "the same call, properly vouched for, runs"


def test_a_role_outside_the_table_is_forbidden(ledger: InProcess, test_env: RunEnvironment) -> None:
    with pytest.raises(Forbidden) as caught:
        deposit(test_env, signed(test_env, roles=["auditor", "selection_officer"]))
    assert caught.value.action == "ledger.deposit"
    with rpc_client(timeout=20, identity=staff("auditor-li", "auditor")) as rpc, pytest.raises(Forbidden):
        rpc.ledger.dead_letters()  # an auditor reads, but dead letters are the operator's


# -- the platform's services ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def platform_services(test_env: RunEnvironment, database: Database) -> Iterator[None]:
    with services_running(database, settings_for_tests(), *PLATFORM):
        yield


@pytest.mark.parametrize("service_cls", PLATFORM, ids=lambda c: c.name)
def test_a_raw_client_without_an_assertion_is_refused_by_every_method(
    platform_services: None, test_env: RunEnvironment, service_cls: type[ServiceBase]
) -> None:
    methods = rpc_method_names(service_cls)
    assert len(methods) >= 5
    for method in methods:
        with pytest.raises(Unauthorized):
            call_with(test_env, None, service_cls.name, method)


def test_a_selection_officer_cannot_vote_in_committee_nor_answer_the_public(
    platform_services: None, test_env: RunEnvironment
) -> None:
    officer = staff("officer-wu", "selection_officer")
    with rpc_client(timeout=20, identity=officer) as rpc:
        assert rpc.cadre.list_selections()["items"] is not None  # reads cadre
        for call in (
            lambda: rpc.cadre.cast_committee_vote(process_id="p", member_id="m", cadre_id="c", approve=True),
            lambda: rpc.feedback.resolve(submission_id="s", text="done"),
            lambda: rpc.supervision.record_outcome(case_id="k", substantiated=True, reasons="r"),
            lambda: rpc.training.answer_suggestion(submission_id="s", adopted=True, reasons="r"),
            lambda: rpc.grassroots.approve_admission(person_id="p"),
            lambda: rpc.grassroots.pipeline(),  # a selection officer reads cadre's queries only
            lambda: rpc.talent.confirm_selection(program_id="p"),
            lambda: rpc.talent.pool(),
            lambda: rpc.feedback.replay_dead_letter(id=1),
        ):
            with pytest.raises(Forbidden):
                call()
    with rpc_client(timeout=20, identity=EVERY_ROLE, issuer="operator") as rpc, pytest.raises(Unauthorized):
        rpc.cadre.list_selections()  # the operator's key vouches only for the operator and auditors
    operator = Identity("operator:ops-1", ("operator",), "operator")
    with rpc_client(timeout=20, identity=operator, issuer="operator") as rpc:
        assert rpc.cadre.dead_letters()["items"] == []


def test_another_callers_command_id_gets_a_refusal_not_their_reply(ledger: InProcess, test_env: RunEnvironment) -> None:
    command_id = str(uuid.uuid4())
    request = {"account_id": f"id-{uuid.uuid4().hex[:6]}", "amount": 4, "command_id": command_id}
    with rpc_client(timeout=20, identity=CLERK) as rpc:
        first = rpc.ledger.deposit(**request)
        assert rpc.ledger.deposit(**request) == first  # the same caller's repeat: the first reply
    other = staff("clerk-qian", "ledger_clerk")
    with rpc_client(timeout=20, identity=other) as rpc, pytest.raises(ValidationFailed) as caught:
        rpc.ledger.deposit(**request)
    assert "command_id" in caught.value.errors
