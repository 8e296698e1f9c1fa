"""Checks every service must pass the same way, over the broker.

A service's RPC contract is what each method declares with ``@rpc_method``:
the request it validates and the reply it answers. ``Recorder`` stands in
front of an RPC proxy and keeps every reply, so that one walk through a
service's use cases can be checked method by method with ``assert_reply_keeps_contract``.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest

from shared.audit import proofs
from shared.audit.heads import trusted_public_key
from shared.config import Settings
from shared.db.database import Database
from shared.domain import schemas
from shared.domain.calendar import OrganisationCalendar
from shared.errors import ValidationFailed
from shared.runtime.messaging.rpc import ValidatedRpc, contract_of
from shared.runtime.process.control import wait_until
from tests.support.foreign import publish
from tests.support.probes import scalar


def rpc_method_names(service_cls: type) -> list[str]:
    return sorted(
        name
        for name, member in inspect.getmembers(service_cls)
        if any(isinstance(e, ValidatedRpc) for e in getattr(member, "nameko_entrypoints", ()))
    )


class Recorder:
    """An RPC proxy to one service that keeps what each method answered."""

    def __init__(self, proxy: Any) -> None:
        self._proxy = proxy
        self.replies: dict[str, list[Any]] = defaultdict(list)

    def __getattr__(self, method: str) -> Callable[..., Any]:
        def call(**kwargs: Any) -> Any:
            reply = getattr(self._proxy, method)(**kwargs)
            self.replies[method].append(reply)
            return reply

        return call


def assert_reply_keeps_contract(service_cls: type, method: str, reply: Any) -> None:
    """The reply is exactly what the method declares: it loads into its response type, nothing more."""
    contract = contract_of(getattr(service_cls, method))
    assert contract is not None, f"{method} is not an @rpc_method"
    if contract.response is None:
        assert reply is None
        return
    if contract.many:
        assert set(reply) == {"items"}, f"{method} answers a list as {{'items': [...]}}"
        for item in reply["items"]:
            schemas.load(contract.response, item, message=f"{method} answered off contract")
    else:
        schemas.load(contract.response, reply, message=f"{method} answered off contract")


def every_method_keeps_its_contract(service_cls: type) -> Callable[..., None]:
    """A test, one case per RPC method: the walk (fixture ``replies``) called it, and it answered as declared."""

    @pytest.mark.parametrize("method", rpc_method_names(service_cls))
    def test(replies: dict[str, list[Any]], method: str) -> None:
        assert replies.get(method), f"the walk did not call {method}"
        for reply in replies[method]:
            assert_reply_keeps_contract(service_cls, method, reply)

    return test


def poison_and_replay(service: Recorder, amqp_uri: str, source: str, envelope: dict[str, Any]) -> None:
    """Publish an event the service cannot take, wait for its dead letter, and replay it (to fail again).

    The walk through the operator's other methods every service has goes here
    too: the calendar years it counts on, and a year loaded (the shipped one,
    as it is, so that nothing the walk counts changes).
    """
    publish(amqp_uri, source, envelope)
    letter = wait_until(
        lambda: [item for item in service.dead_letters()["items"] if item["event_id"] == envelope["event_id"]],
        what="the dead letter",
    )[0]
    service.replay_dead_letter(id=letter["id"])
    shipped = OrganisationCalendar.shipped().years[2026]
    service.load_calendar(**shipped.as_data())
    service.calendar_years()


def assert_dead_lettered_then_replayed(replies: dict[str, list[Any]], handler: str, event_type: str) -> None:
    """What ``poison_and_replay`` left: one dead letter naming the handler, and a replay that says it failed again."""
    replayed = replies["replay_dead_letter"][0][
        "id"
    ]  # the run's database is shared: other modules' letters are listed too
    letter = next(item for item in replies["dead_letters"][-1]["items"] if item["id"] == replayed)
    assert (letter["handler"], letter["type"], letter["error_type"]) == (handler, event_type, "ValidationFailed")
    assert replies["replay_dead_letter"] == [{"id": letter["id"], "outcome": "dead_lettered"}]


def assert_bad_input_is_refused(proxy: Any, method: str, database: Database, schema: str) -> None:
    """An unknown field gets a validation error naming it, and nothing is stored."""
    before = scalar(database, f'SELECT count(*) FROM "{schema}".events')
    with pytest.raises(ValidationFailed) as caught:
        getattr(proxy, method)(bogus_field="x")
    assert "bogus_field" in caught.value.errors
    assert all(messages for messages in caught.value.errors.values())
    assert scalar(database, f'SELECT count(*) FROM "{schema}".events') == before


def walk_the_audit(service: Recorder, database: Database, schema: str) -> None:
    """The audit methods every service has: its heads, an event proven in one, consistency between two.

    Waits for a signed head that covers the store's first event (heads are
    signed every few seconds), then checks the proof the way a citizen would,
    with ``shared/audit/proofs.py`` and the trusted key alone.
    """
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(f'SELECT event_id::text FROM "{schema}".events ORDER BY tx_id, position LIMIT 1')
        found = cur.fetchone()
    assert found is not None, "the walk stored nothing to prove"
    first = found[0]
    heads = wait_until(lambda: service.audit_heads()["items"], what="a signed tree head", timeout=30)
    key = trusted_public_key(Settings.from_env())
    assert key is not None, "the test environment trusts no audit key"
    newest = heads[-1]
    bundle = service.audit_proof(event_id=first, since=heads[0]["tree_size"])
    event = proofs.check_inclusion_bundle(bundle, key, proofs.TreeHead.from_json(heads[0]))
    assert event["event_id"] == first and bundle["head"]["tree_size"] >= newest["tree_size"]
    proof = service.audit_consistency(old_size=heads[0]["tree_size"], new_size=bundle["head"]["tree_size"])
    proofs.verify_consistency(
        heads[0]["tree_size"],
        proof["new"]["tree_size"],
        bytes.fromhex(proof["old"]["root_hash"]),
        bytes.fromhex(proof["new"]["root_hash"]),
        [bytes.fromhex(h) for h in proof["path"]],
    )
