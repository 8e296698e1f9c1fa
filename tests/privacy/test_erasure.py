"""Erasing a data subject across the platform, on PostgreSQL: every store, every read model, nothing else.

Six services on their own schemas, called in process (no broker). A cadre's
name reaches training and talent the way the relay sends it (sealed, as
stored) and is sealed there again under the same subject; a complaint's text
reaches supervision the same way. Then the subject is erased and every way
of reading the record is looked at: read models, history, as-of, replay,
the stored rows, the hash chains and the key tables.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from typer.testing import CliRunner

from services.cadre.entrypoint import CadreService
from services.feedback.entrypoint import FeedbackService
from services.feedback.protection import generate_key
from services.grassroots.entrypoint import GrassrootsService
from services.supervision.entrypoint import SupervisionService
from services.talent.entrypoint import TalentService
from services.training.entrypoint import TrainingService
from shared.audit import history
from shared.audit.proofs import raw_public_key
from shared.audit.replay import replay_projection
from shared.audit.tree import MerkleLog
from shared.audit.verify import verify
from shared.cli.orgctl import app
from shared.db.database import Database
from shared.domain import EventRegistry
from shared.domain.erasure import erasure_stream
from shared.eventstore.records import ERASED, Metadata, NewEvent, utc_now
from shared.eventstore.store import EventStore
from shared.privacy.erasure import ErasureTarget, erase_everywhere, forget_again
from shared.privacy.forget import erase_in_store
from shared.runtime.service import ServiceBase
from tests.privacy.support import broken_links, keys_held, relayed, stored_rows
from tests.support.environment import RunEnvironment
from tests.support.identities import public_at
from tests.support.local import OnPostgres
from tests.support.platform import settings_for_tests

SERVICES: tuple[type[ServiceBase], ...] = (
    CadreService,
    FeedbackService,
    GrassrootsService,
    SupervisionService,
    TalentService,
    TrainingService,
)
NAMES = [cls.name for cls in SERVICES]


@pytest.fixture
def platform(test_env: RunEnvironment) -> Iterator[dict[str, OnPostgres]]:
    limits = {"identity_key": generate_key(), "source_limit": 50, "receipt_limit": 50, "source_key": "k"}
    services = {cls.name: OnPostgres(cls, settings_for_tests(feedback=limits)) for cls in SERVICES}
    yield services
    for service in services.values():
        service.close()


def register_cadre(platform: dict[str, OnPostgres], cadre_id: str, name: str) -> None:
    platform["cadre"].call("register_cadre", cadre_id=cadre_id, name=name, unit="Qingshan", post_category="township")
    envelope = relayed(platform["cadre"], f"cadre-{cadre_id}")
    assert envelope["data"]["name"]["sealed"]["subject"] == f"cadre:{cadre_id}", "it travels sealed"
    platform["training"].call("on_cadre_registered", event=envelope)
    platform["talent"].call("on_cadre_registered", event=envelope)


def complain(platform: dict[str, OnPostgres], cadre_id: str, text: str) -> str:
    receipt = platform["feedback"].call(
        "submit",
        _as=public_at("198.51.100.7"),
        channel="mailbox",
        category="complaint_about_cadre",
        cadre_id=cadre_id,
        text=text,
        anonymous=False,
        identity={"name": "Chen Jing", "contact": "+86 139 0000 0000"},
    )
    submission_id = str(receipt["submission_id"])
    platform["supervision"].call(
        "on_routed_complaint", event=relayed(platform["feedback"], f"submission-{submission_id}", 2)
    )
    return submission_id


def project(platform: dict[str, OnPostgres]) -> None:
    for service in platform.values():
        service.project()


def targets() -> list[ErasureTarget]:
    return [ErasureTarget(cls.name, cls.events, [p() for p in cls.projections]) for cls in SERVICES]


def names_in_read_models(platform: dict[str, OnPostgres], cadre_id: str) -> dict[str, str]:
    talents = {row["person_id"]: row["name"] for row in platform["talent"].call("pool")["items"]}
    return {
        "cadre": platform["cadre"].call("get_cadre", cadre_id=cadre_id)["name"],
        "training": platform["training"].call("learner_record", person_id=cadre_id)["name"],
        "talent": talents[cadre_id],
    }


def test_an_erased_cadre_reads_as_erased_everywhere_and_nothing_else_changes(
    platform: dict[str, OnPostgres], database: Database
) -> None:
    register_cadre(platform, "c-42", "Wang Fang")
    register_cadre(platform, "c-43", "Li Lei")
    submission_id = complain(platform, "c-42", "Wang Fang took a bribe at the road works.")
    project(platform)
    assert names_in_read_models(platform, "c-42") == {
        "cadre": "Wang Fang",
        "training": "Wang Fang",
        "talent": "Wang Fang",
    }
    for name in ("cadre", "training", "talent"):
        assert keys_held(database, name, "cadre:c-42") == 1, f"{name} seals the name under the same subject"
        stored = str(stored_rows(database, name))
        assert "Wang Fang" not in stored and "Li Lei" not in stored, f"{name} keeps no name in clear"
    assert "took a bribe" not in str(stored_rows(database, "supervision")) + str(stored_rows(database, "feedback"))
    before = {name: stored_rows(database, name) for name in NAMES}
    signer = Ed25519PrivateKey.generate()
    for name in NAMES:
        MerkleLog(database, name).sign(signer)  # a signed head over every store, before the erasure

    reports = erase_everywhere(
        database,
        targets(),
        "cadre:c-42",
        legal_basis="GDPR art. 17(1)(a): no longer necessary",
        requested_by="Wang Fang, by letter of 2026-03-02",
        actor="operator:test",
    )

    assert {r.service: r.key_deleted for r in reports} == {
        "cadre": True,
        "feedback": False,
        "grassroots": False,
        "supervision": False,
        "talent": True,
        "training": True,
    }
    for name in NAMES:
        assert keys_held(database, name, "cadre:c-42") == 0, name
        after = stored_rows(database, name)
        assert {k: v for k, v in after.items() if k in before[name]} == before[name], f"{name}: no stored row changed"
        (added,) = [row for k, row in after.items() if k not in before[name]]
        assert (added[2], added[4]) == (erasure_stream("cadre:c-42"), "PersonalDataErased"), "only the erasure is new"
        assert broken_links(database, name) == [], f"{name}: the hash chain still verifies"
        MerkleLog(database, name).sign(signer)  # refused if the tree signed before no longer held
        cls = next(c for c in SERVICES if c.name == name)
        report = verify(
            database, name, public_key=raw_public_key(signer), aggregates=cls.aggregates, registry=cls.events
        )
        assert report.ok, f"{name}: verify still passes after the erasure: {report.findings}"
        (erasure,) = EventStore(database, name).read_stream(erasure_stream("cadre:c-42"))
        assert erasure.metadata["actor"] == "operator:test"
        assert erasure.data["legal_basis"] == "GDPR art. 17(1)(a): no longer necessary"

    # every read model, rebuilt
    assert names_in_read_models(platform, "c-42") == {"cadre": ERASED, "training": ERASED, "talent": ERASED}
    assert names_in_read_models(platform, "c-43") == {"cadre": "Li Lei", "training": "Li Lei", "talent": "Li Lei"}
    # history and as-of, from the events alone
    service, events = history.find_stream(database, NAMES, "cadre-c-42")
    assert service == "cadre" and history.history_rows(events)[0]["data"]["name"] == ERASED
    assert history.as_of(CadreService, "cadre-c-42", events)["state"]["name"] == ERASED
    _, others = history.find_stream(database, NAMES, "cadre-c-43")
    assert history.as_of(CadreService, "cadre-c-43", others)["state"]["name"] == "Li Lei"
    # replay: the live read models are what the events give now
    for cls in (CadreService, TrainingService, TalentService):
        for projection in cls.projections:
            assert replay_projection(database, cls.name, projection(), cls.events).identical, projection.name
    # the complaint is its submitter's: erasing the cadre leaves it readable
    (_, routed) = EventStore(database, "feedback").read_stream(f"submission-{submission_id}")
    assert routed.data["text"] == "Wang Fang took a bribe at the road works."


def test_orgctl_privacy_erase_reaches_every_store(platform: dict[str, OnPostgres], database: Database) -> None:
    register_cadre(platform, "c-42", "Wang Fang")
    submission_id = complain(platform, "c-42", "Wang Fang took a bribe at the road works.")
    subject = f"submitter:{submission_id}"
    assert keys_held(database, "feedback", subject) == 1 and keys_held(database, "supervision", subject) == 1
    runner = CliRunner()

    shown = runner.invoke(app, ["privacy", "show", subject, "--json"])
    assert shown.exit_code == 0, shown.output
    refused = runner.invoke(app, ["privacy", "erase", subject, "--basis", " ", "--requested-by", "the submitter"])
    assert refused.exit_code == 2 and keys_held(database, "feedback", subject) == 1, "a bad request erases nothing"

    erased = runner.invoke(
        app, ["privacy", "erase", subject, "--basis", "consent withdrawn", "--requested-by", "the submitter", "--json"]
    )
    assert erased.exit_code == 0, erased.output
    assert all(keys_held(database, name, subject) == 0 for name in NAMES)
    received, routed = EventStore(database, "feedback").read_stream(f"submission-{submission_id}")
    assert received.data["text"] == ERASED and routed.data["text"] == ERASED
    assert received.data["identity"] == {"name": ERASED, "contact": ERASED}
    (case,) = [e for e in EventStore(database, "supervision").read_all().events if e.type == "CaseOpened"]
    assert case.data["summary"] == ERASED
    assert EventStore(database, "cadre").read_stream("cadre-c-42")[0].data["name"] == "Wang Fang", "another subject"
    assert all(broken_links(database, name) == [] for name in NAMES)


def test_a_key_table_restored_from_a_backup_is_reconciled_with_the_erasures_in_the_log(
    database: Database, schema: str
) -> None:
    store = EventStore(database, schema)
    for person in ("p-1", "p-2"):
        noted = NewEvent("PersonNoted", {"name": f"Name of {person}"}, personal={"name": f"person:{person}"})
        store.append(f"person-{person}", [noted], 0, Metadata(actor="clerk-li"))
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'SELECT subject, key, created_at FROM "{schema}".privacy_keys')
        backup = cur.fetchall()
    erase_in_store(
        store, EventRegistry(), "person:p-1", "consent withdrawn", "p-1", Metadata(actor="operator:test"), utc_now()
    )
    assert store.read_stream("person-p-1")[0].data["name"] == ERASED

    with database.transaction() as conn, conn.cursor() as cur:  # the key table restored from last night's backup
        cur.execute(f'DELETE FROM "{schema}".privacy_keys')
        for row in backup:
            cur.execute(f'INSERT INTO "{schema}".privacy_keys (subject, key, created_at) VALUES (%s, %s, %s)', row)
    assert store.read_stream("person-p-1")[0].data["name"] == "Name of p-1", "the restore brought the key back"

    assert forget_again(database, schema) == ["person:p-1"]
    assert forget_again(database, schema) == []
    assert store.read_stream("person-p-1")[0].data["name"] == ERASED
    assert store.read_stream("person-p-2")[0].data["name"] == "Name of p-2"
