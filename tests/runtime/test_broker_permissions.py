"""The broker, locked down: each service, the gateway and the operator as RabbitMQ users of their own.

The users are made on the run's own vhost, named after it (so parallel runs
never meet), from the permission model in ``shared.runtime.process.broker``,
and deleted at the end. Each refusal below is the broker's own
(``ACCESS_REFUSED``); and services running with nothing but their own
credentials still answer calls, publish their events and take their sources'.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
import shutil
import ssl
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import amqp
import kombu
import pytest
from amqp.exceptions import AccessRefused
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.cadre.entrypoint import CadreService
from services.feedback.entrypoint import FeedbackService
from services.grassroots.entrypoint import GrassrootsService
from services.supervision.entrypoint import SupervisionService
from services.talent.entrypoint import TalentService
from services.training.entrypoint import TrainingService
from shared.config import Settings
from shared.db.database import Database, fetch_one
from shared.runtime.messaging.client import rpc_client
from shared.runtime.messaging.inbound import subscriptions_of
from shared.runtime.messaging.publisher import BatchPublisher
from shared.runtime.messaging.topology import dead_letter_queue, inbound_queue_arguments
from shared.runtime.process import broker
from shared.runtime.process.provisioning import declare_queues, nameko_config
from tests.support.environment import RunEnvironment
from tests.support.identities import EVERY_ROLE
from tests.support.platform import ServiceProcess, service_running, settings_for_tests, wait_until

SERVICES = (CadreService, FeedbackService, GrassrootsService, SupervisionService, TalentService, TrainingService)
A_UUID = "0f8e3a52-5d2c-4c1e-9d7b-2f6a1b3c4d5e"
INBOX = {"inbox": True}  # declared with the arguments the inbound queues are declared with (``declare``)


@pytest.fixture(scope="module")
def uris(test_env: RunEnvironment) -> Iterator[dict[str, str]]:
    """Every principal's AMQP URI on the run's vhost; the provisioning identity declared the topology first."""
    declare_queues(settings_for_tests(), SERVICES)
    grants = broker.grants(SERVICES)
    passwords = {g.principal: secrets.token_urlsafe(18) for g in grants}
    users = broker.users_for(f"{test_env.vhost}-perm", passwords)
    broker.apply(grants, users, test_env.vhost)
    try:
        yield {p: broker.uri_for(test_env.amqp_uri, user) for p, user in users.items()}
    finally:
        broker.delete_users(user.name for user in users.values())


def refused(uri: str, step: Callable[[Any], Any]) -> bool:
    """True when the broker refuses ``step`` (run on a fresh channel, publishing with confirms) to ``uri``'s user."""
    with kombu.Connection(uri, transport_options={"confirm_publish": True}) as connection:
        channel = connection.channel()
        try:
            step(channel)
        except AccessRefused:
            return True
        channel.close()
        return False


def declare(queue: str, inbox: bool = False, **arguments: Any) -> Callable[[Any], Any]:
    """Declare ``queue``; an ``inbox`` as the platform does (a quorum queue dead-lettering into its service's)."""
    if inbox:
        service = queue.partition(".")[0]
        arguments = {**inbound_queue_arguments(service, settings_for_tests().inbound_delivery_limit), **arguments}
    return lambda channel: channel.queue_declare(queue=queue, durable=True, auto_delete=False, arguments=arguments)


def bind(queue: str, exchange: str, key: str, **arguments: Any) -> Callable[[Any], Any]:
    def step(channel: Any) -> None:
        declare(queue, **arguments)(channel)
        channel.queue_bind(queue=queue, exchange=exchange, routing_key=key)

    return step


def publish(exchange: str, key: str, body: bytes = b"{}", **properties: Any) -> Callable[[Any], Any]:
    return lambda channel: channel.basic_publish(amqp.Message(body, **properties), exchange=exchange, routing_key=key)


def reply_queue() -> str:
    return f"rpc.reply-standalone_rpc_proxy-{uuid.uuid4()}"


# -- the model, without a broker ---------------------------------------------------------------


def test_each_service_may_bind_only_the_types_it_handles_from_the_sources_it_subscribes_to() -> None:
    grant = broker.service_grant("supervision", subscriptions_of(SupervisionService))
    topics = {t.exchange: t for t in grant.topics}
    assert set(topics) == {"nameko-rpc", "feedback.events", "grassroots.events"}
    assert re.fullmatch(topics["feedback.events"].read, "ComplaintRoutedToSupervision")
    assert not re.fullmatch(topics["feedback.events"].read, "SubmissionReceived")
    assert re.fullmatch(topics["grassroots.events"].read, "WeakBranchIdentified"), "a weak branch: a follow-up task"
    assert not any(re.fullmatch(topics["grassroots.events"].read, t) for t in ("BranchRated", "NoticeOpened", "#"))
    assert topics["grassroots.events"].write == "^$"
    assert re.fullmatch(topics["nameko-rpc"].read, "supervision.*")
    assert not any(re.fullmatch(topics["nameko-rpc"].read, key) for key in ("#", "cadre.*", "*.*", A_UUID))
    assert re.fullmatch(topics["nameko-rpc"].write, A_UUID)
    assert not re.fullmatch(topics["nameko-rpc"].write, "cadre.get_cadre")
    assert re.fullmatch(grant.read, "feedback.events") and not re.fullmatch(grant.read, "cadre.events")
    assert not re.fullmatch(grant.configure, "feedback.events") and not re.fullmatch(grant.write, "feedback.events")
    assert not re.fullmatch(grant.configure, "rpc-cadre") and not re.fullmatch(grant.read, "cadre.inbox.feedback")


def test_a_service_may_use_its_own_dead_letters_and_nobody_elses() -> None:
    """Its dead-letter exchange and queue (one name, fanout: no topic permission); the broker's own
    dead-lettering into them needs no one's permission."""
    for service_cls in SERVICES:
        grant = broker.service_grant(service_cls.name, subscriptions_of(service_cls))
        mine = f"{service_cls.name}.dead-letters"
        assert all(re.fullmatch(rights, mine) for rights in (grant.configure, grant.write, grant.read)), mine
        assert mine not in {t.exchange for t in grant.topics}
        for other in SERVICES:
            theirs = f"{other.name}.dead-letters"
            if other is not service_cls:
                assert not any(re.fullmatch(r, theirs) for r in (grant.configure, grant.write, grant.read)), theirs
    gateway = broker.caller_grant("gateway", [cls.name for cls in SERVICES])
    assert not any(re.fullmatch(r, "cadre.dead-letters") for r in (gateway.configure, gateway.write, gateway.read))


def test_training_may_bind_only_the_types_it_handles_from_each_of_its_sources() -> None:
    """training reads cadre's, feedback's and grassroots' events, the types it handles, no more."""
    grant = broker.service_grant("training", subscriptions_of(TrainingService))
    topics = {t.exchange: t for t in grant.topics}
    assert set(topics) == {"nameko-rpc", "cadre.events", "feedback.events", "grassroots.events"}
    for exchange, handled, not_handled in (
        ("cadre.events", ("CadreRegistered", "CandidateAppointed", "CadreAppointedToPost"), "PublicNoticeOpened"),
        ("feedback.events", ("SuggestionRoutedToTraining",), "ComplaintRoutedToSupervision"),
        ("grassroots.events", ("DevelopmentTargetDesignated",), "WeakBranchIdentified"),
    ):
        assert all(re.fullmatch(topics[exchange].read, t) for t in handled), exchange
        assert not re.fullmatch(topics[exchange].read, not_handled) and not re.fullmatch(topics[exchange].read, "#")
        assert topics[exchange].write == "^$", f"training never publishes to {exchange}"
        assert re.fullmatch(grant.read, exchange) and not re.fullmatch(grant.configure, exchange)
    assert re.fullmatch(grant.configure, "training.events") and re.fullmatch(grant.write, "training.events")
    assert re.fullmatch(grant.configure, "training.inbox.grassroots")
    assert not re.fullmatch(grant.read, "supervision.events") and not re.fullmatch(grant.read, "talent.events")
    assert re.fullmatch(topics["nameko-rpc"].read, "training.*")


def test_grassroots_reads_only_the_types_it_handles_and_publishes_only_its_own_events() -> None:
    """training's completions and supervision's cases and outcomes, nothing else; its events go to grassroots.events."""
    grant = broker.service_grant("grassroots", subscriptions_of(GrassrootsService))
    topics = {t.exchange: t for t in grant.topics}
    assert set(topics) == {"nameko-rpc", "training.events", "supervision.events"}
    for exchange, handled, not_handled in (
        ("training.events", ("TrainingCompleted",), ("CreditTotalUpdated", "SuggestionAnswered")),
        (
            "supervision.events",
            ("CaseOpened", "SupervisionOutcomeRecorded"),
            ("InspectionTaskAssigned", "InspectionNoticeIssued"),
        ),
    ):
        assert all(re.fullmatch(topics[exchange].read, t) for t in handled), exchange
        assert not any(re.fullmatch(topics[exchange].read, t) for t in (*not_handled, "#", "*")), exchange
        assert topics[exchange].write == "^$", f"grassroots never publishes to {exchange}"
        assert re.fullmatch(grant.read, exchange) and not re.fullmatch(grant.configure, exchange)
        assert not re.fullmatch(grant.write, exchange)
    assert re.fullmatch(grant.configure, "grassroots.events") and re.fullmatch(grant.write, "grassroots.events")
    assert re.fullmatch(grant.configure, "grassroots.inbox.training")
    assert re.fullmatch(grant.configure, "grassroots.inbox.supervision")
    assert not re.fullmatch(grant.configure, "training.inbox.grassroots"), "not its consumers' queues"
    for exchange in ("cadre.events", "feedback.events", "talent.events"):
        assert not re.fullmatch(grant.read, exchange), exchange
    assert re.fullmatch(topics["nameko-rpc"].read, "grassroots.*")
    assert not re.fullmatch(topics["nameko-rpc"].read, "training.*")


def test_the_consumers_of_grassroots_may_bind_only_what_they_handle_from_it() -> None:
    """training its development targets, supervision its weak branches, feedback its notices; cadre nothing."""
    expected = {
        TrainingService: ("DevelopmentTargetDesignated", "WeakBranchIdentified"),
        SupervisionService: ("WeakBranchIdentified", "NoticeOpened"),
        FeedbackService: ("NoticeOpened", "DevelopmentTargetDesignated"),
    }
    for service_cls, (handled, not_handled) in expected.items():
        grant = broker.service_grant(service_cls.name, subscriptions_of(service_cls))
        grassroots = next(t for t in grant.topics if t.exchange == "grassroots.events")
        assert re.fullmatch(grassroots.read, handled), service_cls.name
        assert not any(re.fullmatch(grassroots.read, t) for t in (not_handled, "DualCultivationPaired", "#"))
        assert grassroots.write == "^$" and not re.fullmatch(grant.write, "grassroots.events"), service_cls.name
    cadre = broker.service_grant("cadre", subscriptions_of(CadreService))
    assert not re.fullmatch(cadre.read, "grassroots.events")
    assert "grassroots.events" not in {t.exchange for t in cadre.topics}


def test_talent_reads_only_the_types_it_handles_and_publishes_only_its_own_events() -> None:
    """cadre's records, appointments and appraisals, training's completions, grassroots' pairings, supervision's
    cases and outcomes, nothing else; its events go to talent.events."""
    grant = broker.service_grant("talent", subscriptions_of(TalentService))
    topics = {t.exchange: t for t in grant.topics}
    assert set(topics) == {"nameko-rpc", "cadre.events", "training.events", "grassroots.events", "supervision.events"}
    for exchange, handled, not_handled in (
        (
            "cadre.events",
            ("CadreRegistered", "CandidateAppointed", "CadreAppointedToPost", "AppraisalCycleClosed"),
            ("PublicNoticeOpened", "NoticeOpened"),
        ),
        ("training.events", ("TrainingCompleted",), ("CreditTotalUpdated", "SuggestionAnswered")),
        (
            "grassroots.events",
            ("DualCultivationPaired",),
            ("NoticeOpened", "WeakBranchIdentified", "DevelopmentTargetDesignated"),
        ),
        (
            "supervision.events",
            ("CaseOpened", "SupervisionOutcomeRecorded"),
            ("InspectionTaskAssigned", "InspectionNoticeIssued"),
        ),
    ):
        assert all(re.fullmatch(topics[exchange].read, t) for t in handled), exchange
        assert not any(re.fullmatch(topics[exchange].read, t) for t in (*not_handled, "#", "*")), exchange
        assert topics[exchange].write == "^$", f"talent never publishes to {exchange}"
        assert re.fullmatch(grant.read, exchange) and not re.fullmatch(grant.configure, exchange)
        assert not re.fullmatch(grant.write, exchange)
    assert re.fullmatch(grant.configure, "talent.events") and re.fullmatch(grant.write, "talent.events")
    for source in ("cadre", "training", "grassroots", "supervision"):
        assert re.fullmatch(grant.configure, f"talent.inbox.{source}"), source
    assert not re.fullmatch(grant.configure, "feedback.inbox.talent"), "not its consumers' queues"
    assert not re.fullmatch(grant.read, "feedback.events")
    assert re.fullmatch(topics["nameko-rpc"].read, "talent.*")
    assert not re.fullmatch(topics["nameko-rpc"].read, "cadre.*")


def test_only_feedback_may_bind_to_talent_and_only_its_notices() -> None:
    """feedback takes objections on a program's selection notice; no other service reads talent's events yet."""
    feedback = broker.service_grant("feedback", subscriptions_of(FeedbackService))
    talent = next(t for t in feedback.topics if t.exchange == "talent.events")
    assert re.fullmatch(talent.read, "NoticeOpened")
    assert not any(re.fullmatch(talent.read, t) for t in ("SelectionConfirmed", "IncentiveGranted", "#"))
    assert talent.write == "^$" and not re.fullmatch(feedback.write, "talent.events")
    for service_cls in (CadreService, GrassrootsService, SupervisionService, TrainingService):
        grant = broker.service_grant(service_cls.name, subscriptions_of(service_cls))
        assert not re.fullmatch(grant.read, "talent.events"), service_cls.name
        assert "talent.events" not in {t.exchange for t in grant.topics}, service_cls.name


def test_callers_may_request_only_from_existing_services_and_the_operator_only_what_orgctl_calls() -> None:
    grants = {g.principal: g for g in broker.grants(SERVICES)}
    assert list(grants) == [
        "cadre",
        "feedback",
        "grassroots",
        "supervision",
        "talent",
        "training",
        "gateway",
        "operator",
    ]
    gateway, operator = grants["gateway"].topics[0], grants["operator"].topics[0]
    assert re.fullmatch(gateway.write, "feedback.submit") and re.fullmatch(gateway.write, "cadre.dead_letters")
    assert re.fullmatch(gateway.write, "training.my_record") and re.fullmatch(gateway.write, "grassroots.pipeline")
    assert re.fullmatch(gateway.write, "talent.pool")
    assert not any(re.fullmatch(gateway.write, key) for key in ("payroll.anything", A_UUID, "feedback.#"))
    assert re.fullmatch(operator.write, "cadre.replay_dead_letter")
    assert re.fullmatch(operator.write, "grassroots.load_calendar")
    assert not re.fullmatch(operator.write, "grassroots.approve_admission")
    assert re.fullmatch(operator.write, "talent.dead_letters")
    assert not re.fullmatch(operator.write, "talent.confirm_selection")
    assert not re.fullmatch(operator.write, "feedback.submit")
    assert re.fullmatch(gateway.read, A_UUID) and not re.fullmatch(gateway.read, "feedback.*")


def test_the_definitions_carry_rabbitmqs_password_hash_and_every_grant() -> None:
    grants = broker.grants(SERVICES)
    users = broker.users_for("run", {"feedback": "pw-1", "gateway": "pw-2"})
    defined = broker.definitions(grants, users, "vh")
    assert [u["name"] for u in defined["users"]] == ["run-feedback", "run-gateway"]
    raw = base64.b64decode(defined["users"][0]["password_hash"])
    assert raw[4:] == hashlib.sha256(raw[:4] + b"pw-1").digest()
    assert {p["user"] for p in defined["permissions"]} == {"run-feedback", "run-gateway"}
    assert {(t["user"], t["exchange"]) for t in defined["topic_permissions"]} == {
        ("run-feedback", "nameko-rpc"),
        ("run-feedback", "cadre.events"),
        ("run-feedback", "supervision.events"),  # outcomes come back to the submitter
        ("run-feedback", "training.events"),  # and training's answers to suggestions
        ("run-feedback", "grassroots.events"),  # objections on grassroots' notices
        ("run-feedback", "talent.events"),  # and on talent's selection notices
        ("run-gateway", "nameko-rpc"),
    }
    assert all(p["vhost"] == "vh" for p in defined["permissions"] + defined["topic_permissions"])


def test_tls_is_off_unless_a_tls_file_is_set() -> None:
    assert Settings.from_env({}).amqp_ssl() is None
    assert "AMQP_SSL" not in nameko_config(Settings.from_env({}))
    tls = Settings.from_env(
        {"AMQP_SSL_CA_FILE": "/ca.pem", "AMQP_SSL_CERT_FILE": "/c.pem", "AMQP_SSL_KEY_FILE": "/k.pem"}
    )
    expected = {"ca_certs": "/ca.pem", "certfile": "/c.pem", "keyfile": "/k.pem", "cert_reqs": ssl.CERT_REQUIRED}
    assert expected.items() <= (tls.amqp_ssl() or {}).items()
    assert nameko_config(tls)["AMQP_SSL"] == tls.amqp_ssl()


def test_with_a_ca_file_every_connection_speaks_tls(test_env: RunEnvironment, tmp_path: Path) -> None:
    """Against the broker's plain port, a TLS handshake fails: proof that each connection attempted one."""
    settings = settings_for_tests(amqp_ssl_ca_file=str(self_signed_ca(tmp_path)))
    with pytest.raises(ssl.SSLError):
        BatchPublisher(settings.amqp_uri, "feedback", ssl=settings.amqp_ssl()).connect()
    with pytest.raises(ssl.SSLError):
        declare_queues(settings, SERVICES)
    with pytest.raises(ssl.SSLError), rpc_client(settings=settings, timeout=2):
        pass


def self_signed_ca(directory: Path) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "orgwork test CA")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = directory / "ca.pem"
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return path


def test_a_users_uri_keeps_the_host_vhost_and_options() -> None:
    user = broker.BrokerUser("cadre", "orgwork-cadre", "p/w:@")
    uri = broker.uri_for("amqps://admin:secret@rabbit.example:5671/prod%2Fa?heartbeat=30", user)
    assert uri == "amqps://orgwork-cadre:p%2Fw%3A%40@rabbit.example:5671/prod%2Fa?heartbeat=30"
    assert broker.vhost_of(uri) == "prod/a" and broker.vhost_of("amqp://guest:guest@h:5672/") == "/"
    assert broker.user_prefix("/") == "orgwork"


# -- the broker refuses ------------------------------------------------------------------------


def test_a_service_cannot_bind_to_another_services_events_nor_touch_its_queues(uris: dict[str, str]) -> None:
    mine = uris["supervision"]
    assert refused(mine, bind("supervision.inbox.cadre", "cadre.events", "PublicNoticeOpened", **INBOX))
    assert refused(mine, declare("cadre.inbox.sneak"))
    assert refused(mine, lambda channel: channel.queue_delete("feedback.inbox.cadre"))
    assert refused(mine, lambda channel: channel.basic_consume("feedback.inbox.cadre"))
    # its own source, but a type it does not handle, or everything
    assert refused(mine, bind("supervision.inbox.feedback", "feedback.events", "SubmissionReceived", **INBOX))
    assert refused(mine, bind("supervision.inbox.feedback", "feedback.events", "#", **INBOX))
    assert not refused(
        mine, bind("supervision.inbox.feedback", "feedback.events", "ComplaintRoutedToSupervision", **INBOX)
    )


def test_a_service_takes_its_own_dead_letters_and_nobody_elses(uris: dict[str, str]) -> None:
    mine = uris["supervision"]
    assert not refused(mine, lambda channel: dead_letter_queue("supervision")(channel).declare())
    assert not refused(mine, lambda channel: channel.basic_consume("supervision.dead-letters"))
    assert refused(mine, lambda channel: channel.basic_consume("feedback.dead-letters"))
    assert refused(mine, lambda channel: dead_letter_queue("feedback")(channel).declare())
    assert refused(mine, publish("feedback.dead-letters", "SubmissionReceived")), "a forged dead letter of another"
    into_theirs: dict[str, Any] = {"x-dead-letter-exchange": "feedback.dead-letters"}
    assert refused(mine, declare("supervision.inbox.sneak", **into_theirs)), "dead-lettering into another's"
    assert refused(uris["gateway"], lambda channel: channel.basic_consume("supervision.dead-letters"))


def test_the_consumers_of_grassroots_bind_only_with_what_they_handle(uris: dict[str, str]) -> None:
    for consumer, handled, not_handled in (
        ("training", "DevelopmentTargetDesignated", "WeakBranchIdentified"),
        ("supervision", "WeakBranchIdentified", "NoticeOpened"),
        ("feedback", "NoticeOpened", "DevelopmentTargetDesignated"),
    ):
        mine, inbox = uris[consumer], f"{consumer}.inbox.grassroots"
        assert refused(mine, bind(inbox, "grassroots.events", "#", **INBOX)), consumer
        assert refused(mine, bind(inbox, "grassroots.events", not_handled, **INBOX)), consumer
        assert refused(mine, publish("grassroots.events", handled)), f"a grassroots event forged by {consumer}"
        assert not refused(mine, bind(inbox, "grassroots.events", handled, **INBOX)), consumer


def test_grassroots_binds_to_its_sources_only_with_what_it_handles_and_publishes_only_its_own(
    uris: dict[str, str],
) -> None:
    mine = uris["grassroots"]
    assert refused(mine, bind("grassroots.inbox.training", "training.events", "#", **INBOX))
    assert refused(mine, bind("grassroots.inbox.training", "training.events", "CreditTotalUpdated", **INBOX))
    assert refused(mine, bind("grassroots.inbox.supervision", "supervision.events", "InspectionTaskAssigned", **INBOX))
    assert refused(mine, bind("grassroots.inbox.training", "cadre.events", "NoticeOpened", **INBOX)), "not a source"
    assert refused(mine, lambda channel: channel.queue_delete("training.inbox.grassroots")), "a consumer's queue"
    assert refused(mine, publish("training.events", "TrainingCompleted")), "a forged completion"
    assert refused(mine, publish("supervision.events", "SupervisionOutcomeRecorded")), "a forged outcome"
    assert not refused(mine, bind("grassroots.inbox.training", "training.events", "TrainingCompleted", **INBOX))
    for handled in ("CaseOpened", "SupervisionOutcomeRecorded"):
        assert not refused(mine, bind("grassroots.inbox.supervision", "supervision.events", handled, **INBOX))
    assert not refused(mine, publish("grassroots.events", "WeakBranchIdentified"))


def test_feedback_binds_to_talent_only_with_its_notices(uris: dict[str, str]) -> None:
    mine, inbox = uris["feedback"], "feedback.inbox.talent"
    assert refused(mine, bind(inbox, "talent.events", "#", **INBOX))
    assert refused(mine, bind(inbox, "talent.events", "SelectionConfirmed", **INBOX))
    assert refused(mine, publish("talent.events", "NoticeOpened")), "a talent notice forged by feedback"
    assert not refused(mine, bind(inbox, "talent.events", "NoticeOpened", **INBOX))
    for other in ("cadre", "grassroots", "supervision", "training"):
        assert refused(uris[other], bind(f"{other}.inbox.talent", "talent.events", "NoticeOpened", **INBOX)), other


def test_talent_binds_to_its_sources_only_with_what_it_handles_and_publishes_only_its_own(
    uris: dict[str, str],
) -> None:
    mine = uris["talent"]
    assert refused(mine, bind("talent.inbox.cadre", "cadre.events", "#", **INBOX))
    assert refused(mine, bind("talent.inbox.cadre", "cadre.events", "PublicNoticeOpened", **INBOX))
    assert refused(mine, bind("talent.inbox.training", "training.events", "CreditTotalUpdated", **INBOX))
    assert refused(mine, bind("talent.inbox.grassroots", "grassroots.events", "NoticeOpened", **INBOX))
    assert refused(mine, bind("talent.inbox.supervision", "supervision.events", "InspectionTaskAssigned", **INBOX))
    assert refused(mine, bind("talent.inbox.feedback", "feedback.events", "SubmissionReceived", **INBOX)), "no source"
    assert refused(mine, lambda channel: channel.queue_delete("feedback.inbox.talent")), "a consumer's queue"
    assert refused(mine, publish("cadre.events", "CandidateAppointed")), "a forged appointment"
    assert refused(mine, publish("supervision.events", "SupervisionOutcomeRecorded")), "a forged outcome"
    for queue, exchange, handled in (
        ("talent.inbox.cadre", "cadre.events", "CadreRegistered"),
        ("talent.inbox.cadre", "cadre.events", "CandidateAppointed"),
        ("talent.inbox.cadre", "cadre.events", "CadreAppointedToPost"),
        ("talent.inbox.cadre", "cadre.events", "AppraisalCycleClosed"),
        ("talent.inbox.training", "training.events", "TrainingCompleted"),
        ("talent.inbox.grassroots", "grassroots.events", "DualCultivationPaired"),
        ("talent.inbox.supervision", "supervision.events", "CaseOpened"),
        ("talent.inbox.supervision", "supervision.events", "SupervisionOutcomeRecorded"),
    ):
        assert not refused(mine, bind(queue, exchange, handled, **INBOX)), handled
    assert not refused(mine, publish("talent.events", "SelectionConfirmed"))


def test_a_service_binds_its_rpc_queue_only_with_its_own_methods(uris: dict[str, str]) -> None:
    mine = uris["supervision"]
    for key in ("#", "cadre.*", "*.*", A_UUID):
        assert refused(mine, bind("rpc-supervision", "nameko-rpc", key)), key
    assert not refused(mine, bind("rpc-supervision", "nameko-rpc", "supervision.*"))
    assert refused(mine, bind("rpc-cadre", "nameko-rpc", "cadre.*")), "nor declares another's RPC queue"


def test_a_service_publishes_replies_and_its_own_events_only(uris: dict[str, str]) -> None:
    mine = uris["supervision"]
    assert refused(mine, publish("nameko-rpc", "cadre.get_cadre", reply_to=A_UUID)), "a request to another service"
    assert refused(mine, publish("nameko-rpc", "supervision.cases")), "a request to itself"
    assert refused(mine, publish("feedback.events", "ComplaintRoutedToSupervision")), "another's event"
    assert refused(mine, publish("", "rpc-cadre")), "straight into a queue, by the default exchange"
    assert not refused(mine, publish("nameko-rpc", A_UUID)), "a reply"
    assert not refused(mine, publish("supervision.events", "NothingAtAll"))


def test_the_gateway_requests_and_reads_its_replies_and_nothing_more(uris: dict[str, str]) -> None:
    gateway = uris["gateway"]
    assert refused(gateway, bind(reply_queue(), "feedback.events", "ComplaintRoutedToSupervision"))
    assert refused(gateway, bind(reply_queue(), "cadre.events", "#"))
    for key in ("#", "cadre.*", "feedback.submit"):
        assert refused(gateway, bind(reply_queue(), "nameko-rpc", key)), key
    assert refused(gateway, declare("feedback.inbox.cadre"))
    assert refused(gateway, lambda channel: channel.basic_consume("rpc-feedback"))
    assert refused(gateway, publish("nameko-rpc", A_UUID)), "a forged reply"
    assert refused(gateway, publish("nameko-rpc", "payroll.anything")), "a service that does not exist"
    assert refused(gateway, publish("cadre.events", "PublicNoticeOpened")), "a forged event"
    assert refused(gateway, publish("", "cadre.inbox.supervision")), "a forged event, by the default exchange"
    assert not refused(gateway, bind(reply_queue(), "nameko-rpc", str(uuid.uuid4()), **{"x-expires": 60000}))
    assert not refused(gateway, publish("nameko-rpc", "cadre.get_cadre", reply_to=A_UUID))


def test_the_operator_calls_only_the_operational_methods(uris: dict[str, str]) -> None:
    operator = uris["operator"]
    assert refused(operator, publish("nameko-rpc", "feedback.submit", reply_to=A_UUID))
    assert not refused(operator, publish("nameko-rpc", "cadre.dead_letters", reply_to=A_UUID))


# -- and the platform still works --------------------------------------------------------------


def test_services_with_their_own_users_answer_publish_and_take_events(
    uris: dict[str, str], database: Database, test_env: RunEnvironment
) -> None:
    with (
        service_running(database, FeedbackService, settings_for_tests(amqp_uri=uris["feedback"])),
        service_running(database, SupervisionService, settings_for_tests(amqp_uri=uris["supervision"])),
        service_running(database, TrainingService, settings_for_tests(amqp_uri=uris["training"])),
        service_running(database, GrassrootsService, settings_for_tests(amqp_uri=uris["grassroots"])),
        service_running(database, TalentService, settings_for_tests(amqp_uri=uris["talent"])),
        rpc_client(amqp_uri=uris["gateway"], timeout=20, identity=EVERY_ROLE) as rpc,
    ):
        # Each service attaches its inbound consumers once it has caught up with its sources.
        expected = [
            *("supervision.inbox.feedback", "rpc-feedback", "feedback.inbox.training", "rpc-training"),
            *("training.inbox.grassroots", "training.inbox.cadre", "grassroots.inbox.training"),
            *("grassroots.inbox.supervision", "supervision.inbox.grassroots", "feedback.inbox.grassroots"),
            *("rpc-grassroots", "feedback.inbox.talent", "rpc-talent"),
            *(f"talent.inbox.{source}" for source in ("cadre", "training", "grassroots", "supervision")),
        ]
        wait_until(lambda: all(queue_consumers(test_env).get(queue) == 1 for queue in expected), timeout=30)
        consumers = queue_consumers(test_env)
        assert consumers["supervision.inbox.feedback"] == 1 and consumers["rpc-feedback"] == 1
        assert consumers["feedback.inbox.training"] == 1 and consumers["rpc-training"] == 1
        assert consumers["training.inbox.grassroots"] == 1 and consumers["training.inbox.cadre"] == 1
        assert consumers["grassroots.inbox.training"] == 1 and consumers["grassroots.inbox.supervision"] == 1
        assert consumers["supervision.inbox.grassroots"] == 1 and consumers["feedback.inbox.grassroots"] == 1
        assert consumers["rpc-grassroots"] == 1
        for source in ("cadre", "training", "grassroots", "supervision"):
            assert consumers[f"talent.inbox.{source}"] == 1, source
        assert consumers["feedback.inbox.talent"] == 1 and consumers["rpc-talent"] == 1

        cadre_id = f"c-{uuid.uuid4().hex[:8]}"
        receipt = rpc.feedback.submit(
            channel="hotline", category="complaint_about_cadre", text="gifts", cadre_id=cadre_id
        )
        assert receipt["receipt_code"]
        case = wait_until(lambda: rpc.supervision.cases(cadre_id=cadre_id)["items"], timeout=30, what="the case")
        assert case[0]["origin"] == "complaint"
        with database.transaction() as conn, conn.cursor() as cur:
            cur.execute("SELECT published FROM feedback.relay_checkpoint")
            assert fetch_one(cur)[0] >= 2, "feedback's relay published as feedback"

        # A request whose reply address is no reply key: the reply is refused, the service lives on.
        with kombu.Connection(uris["gateway"]) as connection:
            connection.channel().basic_publish(
                amqp.Message(
                    json.dumps({"args": [], "kwargs": {}}).encode(),
                    content_type="application/json",
                    reply_to="cadre.get_cadre",
                    correlation_id=str(uuid.uuid4()),
                ),
                exchange="nameko-rpc",
                routing_key="supervision.cases",
            )
        wait_until(lambda: queue_messages(test_env, "rpc-supervision") == 0, what="the request taken")
        for _ in range(3):
            assert rpc.supervision.cases(cadre_id=cadre_id)["items"] == case

        # A suggestion on training goes there and its answer comes back, each service as its own user.
        suggested = rpc.feedback.submit(channel="mailbox", category="suggestion_on_training", text="evening classes")
        wait_until(
            lambda: [
                s for s in rpc.training.suggestions()["items"] if s["submission_id"] == suggested["submission_id"]
            ],
            timeout=30,
            what="the suggestion in training",
        )
        rpc.training.answer_suggestion(submission_id=suggested["submission_id"], adopted=True, reasons="from May")
        replies = wait_until(
            lambda: rpc.feedback.my_case(receipt_code=suggested["receipt_code"])["replies"],
            timeout=30,
            what="training's answer",
        )
        assert [r["by"] for r in replies] == ["training"] and "from May" in replies[0]["text"]

        # A branch rated weak gets a follow-up inspection task in supervision, each service as its own user.
        run = uuid.uuid4().hex[:6]
        county = rpc.grassroots.found_organisation(
            organisation_id=f"{run}-county", kind="county_committee", org_type="organ", name=f"County {run}"
        )
        rpc.grassroots.found_organisation(
            organisation_id=f"{run}-branch",
            kind="branch",
            org_type="village",
            name=f"Branch {run}",
            parent_id=county["organisation_id"],
            founding_members=[f"{run}-m1", f"{run}-m2", f"{run}-m3"],
        )
        rated = rpc.grassroots.rate_branch(
            branch_id=f"{run}-branch", year=dt.datetime.now(dt.UTC).year, criteria_score=40, survey_satisfaction=50
        )
        assert rated["level"] == "weak", rated
        task = wait_until(
            lambda: [t for t in rpc.supervision.tasks()["items"] if t["unit"] == f"Branch {run}"],
            timeout=30,
            what="supervision's follow-up task for the weak branch",
        )
        assert [t["kind"] for t in task] == ["follow_up"]

        # The entrepreneur a branch pairs with a member is in talent's pool, each service as its own user.
        rpc.grassroots.pair_cultivation(
            branch_id=f"{run}-branch",
            member_id=f"{run}-m1",
            entrepreneur_id=f"{run}-e1",
            entrepreneur_name=f"Entrepreneur {run}",
            enterprise=f"Tea co-op {run}",
            goals=["a second harvest"],
        )
        pooled = wait_until(
            lambda: [r for r in rpc.talent.pool(team="rural_practical")["items"] if r["person_id"] == f"{run}-e1"],
            timeout=30,
            what="the paired entrepreneur in talent's pool",
        )
        assert pooled[0]["unit"] == f"Tea co-op {run}"

        # A program's selection on notice reaches feedback's board, talent publishing as its own user.
        now = dt.datetime.now(dt.UTC)
        closes_at = now + dt.timedelta(seconds=3)
        rpc.talent.launch_program(
            program_id=f"{run}-program",
            title=f"Young engineers {run}",
            kind="cultivation",
            quota=1,
            opens_at=(now - dt.timedelta(days=1)).isoformat(),
            closes_at=closes_at.isoformat(),
            panel=["p1", "p2", "p3"],
            incentive="housing allowance",
            incentive_months=12,
        )
        rpc.talent.apply_to_program(program_id=f"{run}-program", person_id=f"{run}-e1")
        time.sleep(max(0.0, (closes_at - dt.datetime.now(dt.UTC)).total_seconds()) + 0.5)
        rpc.talent.select_candidates(program_id=f"{run}-program", person_ids=[f"{run}-e1"])
        rpc.talent.open_selection_notice(program_id=f"{run}-program", working_days=5)
        notices = wait_until(
            lambda: [n for n in rpc.feedback.open_notices()["items"] if n["process_id"] == f"program:{run}-program"],
            timeout=30,
            what="talent's selection notice on feedback's board",
        )
        assert [(n["kind"], n["cadre_ids"]) for n in notices] == [("program_selection", [f"{run}-e1"])]


@pytest.mark.parametrize(
    ("service", "queues"),
    [
        ("supervision", 2),  # feedback's complaints, grassroots' weak branches
        ("training", 3),  # cadre, feedback and grassroots
        ("grassroots", 2),  # training's completions, supervision's cases and outcomes
        ("talent", 4),  # cadre, training, grassroots and supervision
        ("feedback", 5),  # cadre, supervision, training, grassroots and talent
    ],
)
def test_a_service_process_starts_with_its_own_user_declaring_only_its_queues(
    uris: dict[str, str], test_env: RunEnvironment, service: str, queues: int
) -> None:
    process = ServiceProcess(service, f"{service}-own-user", {"AMQP_URI": uris[service]}).start()
    try:
        process.wait_ready(90)
    finally:
        process.terminate()
    assert process.log_path is not None
    started = [json.loads(line) for line in process.log_path.read_text().splitlines() if "inbound queue" in line]
    assert f"{queues} inbound queue(s) declared" in started[-1]["message"], started


def queue_consumers(env: RunEnvironment) -> dict[str, int]:
    return {name: int(value) for name, value in _list_queues(env, "consumers")}


def queue_messages(env: RunEnvironment, queue: str) -> int:
    return dict((name, int(value)) for name, value in _list_queues(env, "messages")).get(queue, 0)


def _list_queues(env: RunEnvironment, column: str) -> list[tuple[str, str]]:
    done = subprocess.run(
        [
            shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl",
            "-q",
            "list_queues",
            "-p",
            env.vhost,
            "name",
            column,
            "--no-table-headers",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return [tuple(line.split("\t")) for line in done.stdout.splitlines() if "\t" in line]  # type: ignore[misc]
