"""Looking at the test apps' stores directly, whether their services run or not."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.db.database import Database, fetch_one
from shared.domain import Repository
from shared.errors import NotFound
from shared.eventstore.records import Metadata
from shared.eventstore.store import EventStore
from tests.support.apps.ledger.service import Account, Ledger
from tests.support.apps.tally.service import AccountTally, Tally, TallyState


def tally_state(database: Database, account_id: str) -> TallyState:
    repository = Repository(AccountTally, EventStore(database, "tally"), Tally.events)
    return repository.load_or_new(account_id).state


def scalar(database: Database, sql: str, params: tuple = ()) -> int:
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        return int(fetch_one(cur)[0])


def inbox_rows(database: Database) -> int:
    return scalar(database, "SELECT count(*) FROM tally.inbox")


def deposit_directly(database: Database, account_id: str, amount: int, count: int = 1, note: str = "") -> None:
    """Append deposits to the ledger's store without the ledger service running."""
    repository = Repository(Account, EventStore(database, "ledger"), Ledger.events)
    account = repository.load_or_new(account_id)
    for _ in range(count):
        account.deposit(amount, note)
    repository.save(account, Metadata(actor="test"))


def platform_now(database: Database) -> "dt.datetime":
    """Now on the offset clock the services run on in these tests, exactly as they read it.

    The offset is fractional once a window has been passed by its exact
    length: rounded, it could put "now" here up to half a second ahead of
    the services' clock, and a window opened at this "now" would not yet
    be open for them.
    """
    with database.transaction() as conn, conn.cursor() as cur:
        cur.execute("SELECT offset_seconds FROM public.orgwork_clock")
        row = cur.fetchone()
    assert row is not None, "the offset clock's table has its row"
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=float(row[0]))


def case_by_code(rpc: Any, code: str) -> dict[str, Any] | None:
    """A submitter's case by its receipt code, or None while feedback's read model has not caught up."""
    try:
        return dict(rpc.feedback.my_case(receipt_code=code))
    except NotFound:
        return None
