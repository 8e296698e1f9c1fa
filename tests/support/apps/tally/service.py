"""``tally``: a small consuming service for the runtime's tests.

It handles ``ledger``'s deposits into a per-account tally, noting the ledger
version of each and counting any that arrive out of stream order. A deposit of
13 is refused while ``Tally.refuse_unlucky`` is set (a poison event); a note
``slow:<seconds>`` makes the handler wait on PostgreSQL that long.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from shared.domain import Aggregate, DomainEvent, EventRegistry, applies, command
from shared.eventstore.records import RecordedEvent
from shared.projections import Projection, on
from shared.runtime.messaging.inbound import handles
from shared.runtime.messaging.rpc import rpc_method
from shared.runtime.service import ServiceBase
from shared.security.policy import grant

grant("tally_clerk", "tally.*")


@dataclass(frozen=True)
class DepositCounted(DomainEvent):
    ledger_version: int
    amount: int
    in_order: bool


@dataclass
class TallyState:
    deposits: int = 0
    total: int = 0
    last_ledger_version: int = 0
    out_of_order: int = 0


class AccountTally(Aggregate):
    category = "tally"
    State = TallyState

    @command
    def count(self, ledger_version: int, amount: int) -> None:
        self.record(DepositCounted(ledger_version, amount, ledger_version == self.state.last_ledger_version + 1))

    @applies(DepositCounted)
    def _counted(self, event: DepositCounted) -> None:
        self.state.deposits += 1
        self.state.total += event.amount
        if not event.in_order:
            self.state.out_of_order += 1
        self.state.last_ledger_version = max(self.state.last_ledger_version, event.ledger_version)


@dataclass(frozen=True)
class DepositPayload:
    amount: int
    note: str = ""


class Totals(Projection):
    """A deposit of 666 fails while ``refuse_beastly`` is set (a poison event for the read model)."""

    name = "totals"
    tables = ("tally_totals",)
    refuse_beastly: ClassVar[bool] = True

    @on(DepositCounted)
    def _counted(self, cur: Any, event: DepositCounted, record: RecordedEvent) -> None:
        if event.amount == 666 and type(self).refuse_beastly:
            raise RuntimeError("666 does not fit the totals")
        cur.execute(
            "INSERT INTO tally_totals (account_id, deposits, total) VALUES (%s, 1, %s) "
            "ON CONFLICT (account_id) DO UPDATE SET deposits = tally_totals.deposits + 1, "
            "total = tally_totals.total + excluded.total",
            [record.aggregate_id, event.amount],
        )


@dataclass(frozen=True)
class TallyRef:
    account_id: str


@dataclass(frozen=True)
class TallyView:
    account_id: str
    deposits: int
    total: int
    out_of_order: int
    last_ledger_version: int


@dataclass(frozen=True)
class TotalsView:
    account_id: str
    deposits: int
    total: int


class Tally(ServiceBase):
    name = "tally"
    events = EventRegistry([DepositCounted])
    projections = (Totals,)
    refuse_unlucky: ClassVar[bool] = True  # the tests turn it off to replay a dead letter

    @handles("ledger", "Deposited", payload=DepositPayload)
    def on_deposit(self, event: DepositPayload, record: RecordedEvent) -> None:
        if event.amount == 13 and type(self).refuse_unlucky:
            raise RuntimeError("13 is unlucky")
        if event.note.startswith("slow:"):
            self.uow.query("SELECT pg_sleep(%s)", [float(event.note.split(":", 1)[1])])
        with self.uow.transaction():
            tally = self.uow.load_or_new(AccountTally, record.aggregate_id)
            tally.count(record.version, event.amount)
            self.uow.save(tally, self.uow.system("counting a deposit"))

    @rpc_method(request=TallyRef, response=TallyView)
    def tally(self, request: TallyRef) -> TallyView:
        tally = self.uow.load_or_new(AccountTally, request.account_id)
        s = tally.state
        return TallyView(request.account_id, s.deposits, s.total, s.out_of_order, s.last_ledger_version)

    @rpc_method(request=TallyRef, response=TotalsView)
    def totals(self, request: TallyRef) -> TotalsView:
        rows = self.uow.query(
            "SELECT account_id, deposits, total FROM tally_totals WHERE account_id = %s", [request.account_id]
        )
        return TotalsView(**rows[0]) if rows else TotalsView(request.account_id, 0, 0)
