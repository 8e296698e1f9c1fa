"""Traces that are evidence: what a service does in answer to another's event records that event's hash,
and ``orgctl audit trace`` checks every such link against the upstream store as it is now.

Two stores, cadre's and training's: training handles cadre's ``CadreRegistered``
through its real handler, and what it appends names the event's id, stored
hash and service. Then cadre's event is altered as a superuser would (triggers
disabled): its payload alone, its payload with the hash recomputed, or the
row deleted. Each is a MISMATCH naming the link, and the trace exits 1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from services.cadre.entrypoint import CadreService
from services.training.entrypoint import TrainingService
from shared.application.memory import InMemoryUnitOfWork
from shared.audit.history import links, trace, walk
from shared.audit.links import MISMATCH, UNVERIFIABLE, VERIFIED
from shared.cli.orgctl import app
from shared.db.database import Database
from shared.errors import ValidationFailed
from shared.eventstore.hashing import recompute_hash
from shared.eventstore.records import Metadata, NewEvent, RecordedEvent, record_from_envelope
from shared.eventstore.store import EventStore
from tests.audit.services_history import Platform, platform, stored, write_history
from tests.support import foreign
from tests.support.apps.ledger.service import Ledger
from tests.support.apps.tally.service import Tally
from tests.support.environment import RunEnvironment
from tests.support.platform import InProcess, reset_apps, settings_for_tests, wait_until
from tests.support.probes import tally_state
from tests.support.tickets import Ticket, registry

SERVICES = ["cadre", "training"]

# -- the metadata a handled event's consequences carry ------------------------------------------


def test_what_a_handled_event_causes_records_its_hash_and_service() -> None:
    record = record_from_envelope(foreign.envelope("desk", "LampReported", "report-1", {"title": "Lamp"}))
    unit = InMemoryUnitOfWork("tickets", registry)
    unit.handle_event(record)
    _, recorded = unit.create(Ticket, "1", lambda t: t.open("Lamp"), unit.system("a lamp was reported"))
    metadata = recorded[0].metadata
    assert metadata["causation_id"] == record.event_id
    assert (metadata["causation_hash"], metadata["causation_service"]) == (record.hash.hex(), "desk")
    assert recompute_hash(recorded[0]) == recorded[0].hash, "the recorded hash is covered by the event's own"


def test_a_command_or_another_cause_records_no_hash() -> None:
    unit = InMemoryUnitOfWork("tickets", registry)
    _, by_command = unit.create(Ticket, "1", lambda t: t.open("Lamp"), unit.system("opened"))
    assert "causation_hash" not in by_command[0].metadata and "causation_service" not in by_command[0].metadata
    record = record_from_envelope(foreign.envelope("desk", "LampReported", "report-2", {"title": "Desk"}))
    unit.handle_event(record)
    other = "1e8b5cf0-4c39-4d43-9f6b-3a1d1b6a0d2c"
    _, caused = unit.create(Ticket, "2", lambda t: t.open("Desk"), unit.system("x"), causation_id=other)
    assert caused[0].metadata["causation_id"] == other and "causation_hash" not in caused[0].metadata


def test_the_metadata_schema_takes_a_hash_only_as_64_hex_digits() -> None:
    Metadata(actor="a", causation_hash="ab" * 32, causation_service="cadre")
    with pytest.raises(ValidationFailed) as refused:
        Metadata(actor="a", causation_hash="not-a-hash")
    assert "metadata.causation_hash" in refused.value.errors
    with pytest.raises(ValidationFailed):
        Metadata(actor="a", causation_service="Not A Service")
    caused = Metadata(actor="a").caused_by("1e8b5cf0-4c39-4d43-9f6b-3a1d1b6a0d2c", causation_hash="cd" * 32)
    assert caused.as_dict()["causation_hash"] == "cd" * 32
    assert "causation_hash" not in Metadata(actor="a").as_dict(), "old shape kept when there is none"


# -- two stores, one event caused by the other's --------------------------------------------------


@pytest.fixture
def linked(test_env: RunEnvironment) -> Iterator[tuple[Platform, RecordedEvent, list[RecordedEvent]]]:
    """Cadre registers a cadre; training handles it. Gives the platform, cadre's event and training's answer."""
    with platform(CadreService, TrainingService) as made:
        made["cadre"].call("register_cadre", cadre_id="c7", name="Li Ming", unit="Qingshan", post_category="township")
        [upstream] = [e for e in stored(made["cadre"]) if e.type == "CadreRegistered"]
        assert made.hand_over("cadre", "training") == [(upstream.event_id, "handled")]
        caused = [e for e in stored(made["training"]) if e.metadata.get("causation_id") == upstream.event_id]
        yield made, upstream, caused


def tamper(database: Database, schema: str, statement: str, params: list[Any]) -> None:
    """As a superuser: the store's triggers (which refuse UPDATE and DELETE) off, the statement, on again."""
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'ALTER TABLE "{schema}".events DISABLE TRIGGER USER')
        cur.execute(statement.replace("{events}", f'"{schema}".events'), params)
        cur.execute(f'ALTER TABLE "{schema}".events ENABLE TRIGGER USER')


def orgctl_trace(correlation_id: str) -> tuple[int, Any]:
    result = CliRunner().invoke(app, ["audit", "trace", correlation_id, "--json"])
    return result.exit_code, json.loads(result.output) if result.output.startswith("[") else result.output


def verdicts(document: list[dict[str, Any]]) -> list[tuple[str, str]]:
    def every(nodes: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for node in nodes:
            yield node
            yield from every(node["caused"])

    return [(n["type"], n["link"]["verdict"]) for n in every(document) if n["link"]]


def test_the_handled_events_consequences_carry_its_stored_hash(linked: Any) -> None:
    _, upstream, caused = linked
    assert caused, "training answered cadre's event"
    for event in caused:
        assert event.metadata["causation_hash"] == upstream.hash.hex()
        assert event.metadata["causation_service"] == "cadre"
        assert event.metadata["correlation_id"] == upstream.correlation_id


def test_an_untouched_link_is_verified(linked: Any, database: Database) -> None:
    _, upstream, caused = linked
    roots = trace(database, SERVICES, str(upstream.correlation_id))
    assert [(root.service, root.event.type) for root in roots] == [("cadre", "CadreRegistered")]
    assert {link.verdict for link in links(roots)} == {VERIFIED} and len(links(roots)) == len(caused)
    code, document = orgctl_trace(str(upstream.correlation_id))
    assert code == 0, document
    assert verdicts(document) and all(verdict == VERIFIED for _, verdict in verdicts(document))
    text = CliRunner().invoke(app, ["audit", "trace", str(upstream.correlation_id)], env={"COLUMNS": "200"})
    assert text.exit_code == 0 and "verified" in text.output and f"{len(caused)} verified, 0 MISMATCH" in text.output


def test_an_upstream_payload_altered_is_a_mismatch(linked: Any, database: Database) -> None:
    _, upstream, _ = linked
    tamper(
        database,
        "cadre",
        "UPDATE {events} SET data = jsonb_set(data, '{name}', '\"Someone Else\"') WHERE position = %s",
        [upstream.position],
    )
    code, document = orgctl_trace(str(upstream.correlation_id))
    assert code == 1
    assert {verdict for _, verdict in verdicts(document)} == {MISMATCH}
    [node] = [n for n in document[0]["caused"] if n["link"]][:1]
    assert node["link"]["upstream_event_id"] == upstream.event_id and node["link"]["upstream_service"] == "cadre"
    assert "content was altered" in node["link"]["detail"]
    text = CliRunner().invoke(app, ["audit", "trace", str(upstream.correlation_id)], env={"COLUMNS": "200"})
    assert text.exit_code == 1 and "MISMATCH" in text.output


def test_an_upstream_rewritten_with_its_hash_recomputed_is_a_mismatch(linked: Any, database: Database) -> None:
    _, upstream, _ = linked
    forged = RecordedEvent(**{**upstream.__dict__, "data": {**upstream.data, "name": "Someone Else"}})
    tamper(
        database,
        "cadre",
        "UPDATE {events} SET data = %s::jsonb, hash = %s WHERE position = %s",
        [json.dumps(forged.data), recompute_hash(forged), upstream.position],
    )
    roots = trace(database, SERVICES, str(upstream.correlation_id))
    [link, *_] = links(roots)
    assert link.verdict == MISMATCH and link.stored_hash == recompute_hash(forged).hex()
    assert link.recorded_hash == upstream.hash.hex() and "the link recorded" in link.detail
    assert orgctl_trace(str(upstream.correlation_id))[0] == 1


def test_an_upstream_deleted_is_a_mismatch(linked: Any, database: Database) -> None:
    _, upstream, caused = linked
    tamper(database, "cadre", "DELETE FROM {events} WHERE position = %s", [upstream.position])
    roots = trace(database, SERVICES, str(upstream.correlation_id))
    assert {node.event.type for node in roots} == {e.type for e in caused}, "orphans, each a root"
    assert {link.verdict for link in links(roots)} == {MISMATCH}
    assert all("not in cadre's store" in link.detail for link in links(roots))
    assert orgctl_trace(str(upstream.correlation_id))[0] == 1


def test_a_link_without_a_hash_is_unverifiable_and_not_a_failure(linked: Any, database: Database) -> None:
    _, upstream, _ = linked
    old_style = Metadata(
        actor="service:training", correlation_id=str(upstream.correlation_id), causation_id=upstream.event_id
    )
    EventStore(database, "training").append("learner-old1", [NewEvent("LearnerProfiled", {})], 0, old_style)
    roots = trace(database, SERVICES, str(upstream.correlation_id))
    found = {node.event.stream_id: node.link for node in walk(roots) if node.link}
    assert found["learner-old1"] is not None and found["learner-old1"].verdict == UNVERIFIABLE
    code, document = orgctl_trace(str(upstream.correlation_id))
    assert code == 0 and ("LearnerProfiled", UNVERIFIABLE) in verdicts(document)


def test_every_link_of_the_fixtures_history_verifies(test_env: RunEnvironment, database: Database) -> None:
    """Across the six services, every event one service handled from another is a verified link."""
    with platform() as made:
        write_history(made)
        correlations = {
            str(e.correlation_id) for service in made.services.values() for e in stored(service) if e.correlation_id
        }
        checked = [link for cid in correlations for link in links(trace(database, list(made.services), cid))]
    assert checked and {link.verdict for link in checked} == {VERIFIED}
    assert len({link.upstream_service for link in checked}) >= 4, "links from most services"


@pytest.mark.slow
def test_over_the_broker_the_relayed_events_hash_is_what_the_handler_records(
    test_env: RunEnvironment, database: Database, rpc: Any
) -> None:
    """The live path: ledger's relay publishes, tally's router authenticates and hands the event to its handler."""
    reset_apps(database, settings_for_tests(), Ledger, Tally)
    runners = InProcess()
    try:
        runners.start(Ledger)
        runners.start(Tally)
        rpc.ledger.deposit(account_id="evidence-1", amount=5)
        wait_until(lambda: tally_state(database, "evidence-1").deposits == 1, what="the deposit to be tallied")
    finally:
        runners.stop_all()
    [deposited] = EventStore(database, "ledger").read_stream("account-evidence-1")
    [counted] = EventStore(database, "tally").read_stream("tally-evidence-1")
    assert counted.metadata["causation_id"] == deposited.event_id
    assert (counted.metadata["causation_hash"], counted.metadata["causation_service"]) == (
        deposited.hash.hex(),
        "ledger",
    )
    [link] = links(trace(database, ["ledger", "tally"], str(deposited.correlation_id)))
    assert (link.verdict, link.upstream_service) == (VERIFIED, "ledger")
