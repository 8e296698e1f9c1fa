"""RPC: arguments and results are validated; errors arrive as the same types."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from shared.db.database import Database, fetch_one
from shared.errors import ConcurrencyConflict, InternalError, NotFound, RuleViolation, ValidationFailed
from tests.support.apps.ledger.service import Ledger
from tests.support.apps.tally.service import Tally
from tests.support.platform import InProcess, reset_apps, settings_for_tests


def stored_events(database: Database) -> int:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM ledger.events")
        return fetch_one(cur)[0]


@pytest.fixture(scope="module")
def ledger(test_env: Any, database: Database) -> Iterator[None]:
    """One ledger for the module: the tests use accounts of their own."""
    reset_apps(database, settings_for_tests(), Ledger, Tally)
    runners = InProcess()
    runners.start(Ledger)
    yield
    runners.stop_all()


@pytest.fixture
def account() -> str:
    return f"a-{uuid.uuid4().hex[:12]}"


def test_a_command_round_trip(ledger: None, rpc: Any, account: str) -> None:
    result = rpc.ledger.deposit(account_id=account, amount=5)
    assert result == {"account_id": account, "balance": 5, "deposits": 1, "version": 1, "closed": False}
    assert rpc.ledger.balance(account_id=account)["balance"] == 5


@pytest.mark.parametrize(
    ("kwargs", "fields"),
    [
        ({"account_id": "a-1", "amount": 0}, {"amount"}),
        ({"account_id": "A B", "amount": 5}, {"account_id"}),
        ({"amount": 5}, {"account_id"}),
        ({"account_id": "a-1", "amount": "five"}, {"amount"}),
        ({"account_id": "a-1", "amount": 5, "actor": "someone else"}, {"actor"}),
        ({"account_id": "a-1", "amount": 5, "colour": "red"}, {"colour"}),
    ],
)
def test_bad_arguments_name_the_field_and_store_nothing(
    ledger: None, rpc: Any, database: Database, kwargs: dict[str, Any], fields: set[str]
) -> None:
    before = stored_events(database)
    with pytest.raises(ValidationFailed) as caught:
        rpc.ledger.deposit(**kwargs)
    assert set(caught.value.errors) == fields
    assert stored_events(database) == before


def test_positional_arguments_are_refused(ledger: None, rpc: Any) -> None:
    with pytest.raises(ValidationFailed) as caught:
        rpc.ledger.deposit("a-1", 5, "clerk")
    assert "_schema" in caught.value.errors


def test_errors_keep_their_type_and_their_values(ledger: None, rpc: Any) -> None:
    with pytest.raises(NotFound) as not_found:
        rpc.ledger.balance(account_id="nobody")
    assert (not_found.value.kind, not_found.value.key) == ("account", "nobody")

    with pytest.raises(RuleViolation) as rule:
        rpc.ledger.boom(kind="rule")
    assert rule.value.rule == "ledger.boom"
    assert rule.value.state == {"phase": "testing", "count": 3}

    with pytest.raises(ConcurrencyConflict) as conflict:
        rpc.ledger.boom(kind="conflict")
    assert (conflict.value.stream_id, conflict.value.expected, conflict.value.actual) == ("account-x", 2, 5)


def test_an_unexpected_error_reaches_the_caller_as_an_error_id_only(ledger: None, rpc: Any) -> None:
    with pytest.raises(InternalError) as caught:
        rpc.ledger.boom(kind="internal")
    assert caught.value.service == "ledger"
    assert len(caught.value.error_id) == 36
    assert "secret" not in str(caught.value)


def test_a_rule_violation_from_the_domain_stores_nothing(
    ledger: None, rpc: Any, database: Database, account: str
) -> None:
    rpc.ledger.deposit(account_id=account, amount=5)
    rpc.ledger.close(account_id=account)
    before = stored_events(database)
    with pytest.raises(RuleViolation) as caught:
        rpc.ledger.deposit(account_id=account, amount=5)
    assert caught.value.rule == "account.open"
    assert caught.value.state["version"] == 2
    assert stored_events(database) == before
