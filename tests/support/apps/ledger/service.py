"""``ledger``: a small source service for the runtime's tests.

An account receives deposits; every deposit is an event that the ``tally``
service handles. Notes steer the consumer in tests (``slow:<seconds>``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marshmallow import validate

from shared.application import Author
from shared.application.commands import FROM_CALLER, Idempotent
from shared.domain import Aggregate, DomainEvent, EventRegistry, applies, command
from shared.errors import RuleViolation
from shared.runtime.messaging.rpc import rpc_method
from shared.runtime.service import ServiceBase
from shared.security.policy import grant

grant("ledger_clerk", "ledger.*")


@dataclass(frozen=True)
class Deposited(DomainEvent):
    amount: int
    note: str = ""


@dataclass(frozen=True)
class AccountClosed(DomainEvent):
    reason: str


@dataclass
class AccountState:
    balance: int = 0
    deposits: int = 0
    closed: bool = False


class Account(Aggregate):
    category = "account"
    State = AccountState
    snapshot_every = 100

    @command
    def deposit(self, amount: int, note: str = "") -> None:
        self.require(not self.state.closed, "account.open", "a closed account takes no deposits")
        self.record(Deposited(amount, note))

    @command
    def close(self, reason: str) -> None:
        self.require(not self.state.closed, "account.close_once", "the account is already closed")
        self.record(AccountClosed(reason))

    @applies(Deposited)
    def _deposited(self, event: Deposited) -> None:
        self.state.balance += event.amount
        self.state.deposits += 1

    @applies(AccountClosed)
    def _closed(self, event: AccountClosed) -> None:
        self.state.closed = True


@dataclass(frozen=True)
class Deposit(Idempotent):
    account_id: str = field(metadata={"validate": validate.Regexp(r"^[a-z0-9-]{1,64}$")})
    amount: int = field(metadata={"validate": validate.Range(min=1, max=1_000_000)})
    actor: str = field(default="", metadata=FROM_CALLER)
    note: str = field(default="", metadata={"validate": validate.Length(max=200)})
    count: int = field(default=1, metadata={"validate": validate.Range(min=1, max=1000)})


@dataclass(frozen=True)
class CloseAccount:
    account_id: str = field(metadata={"validate": validate.Regexp(r"^[a-z0-9-]{1,64}$")})
    actor: str = field(default="", metadata=FROM_CALLER)
    reason: str = "closed"


@dataclass(frozen=True)
class AccountRef:
    account_id: str


@dataclass(frozen=True)
class Balance:
    account_id: str
    balance: int
    deposits: int
    version: int
    closed: bool


@dataclass(frozen=True)
class Boom:
    kind: str = field(metadata={"validate": validate.OneOf(["internal", "rule", "conflict"])})


class Ledger(ServiceBase):
    name = "ledger"
    events = EventRegistry([Deposited, AccountClosed])

    @rpc_method(request=Deposit, response=Balance)
    def deposit(self, request: Deposit) -> Balance:
        def deposit_all(account: Account) -> None:
            for _ in range(request.count):
                account.deposit(request.amount, request.note)

        account = self.uow.load_or_new(Account, request.account_id)
        deposit_all(account)
        self.uow.save(account, Author(request.actor), correlation_id=self.uow.correlation_id)
        return self._balance(account)

    @rpc_method(request=CloseAccount, response=Balance)
    def close(self, request: CloseAccount) -> Balance:
        account, _ = self.uow.update(
            Account, request.account_id, lambda a: a.close(request.reason), Author(request.actor)
        )
        return self._balance(account)

    @rpc_method(request=AccountRef, response=Balance)
    def balance(self, request: AccountRef) -> Balance:
        return self._balance(self.uow.load(Account, request.account_id))

    @rpc_method(request=Boom, response=Balance)
    def boom(self, request: Boom) -> Balance:
        """Fails on purpose, to test how errors reach callers."""
        if request.kind == "rule":
            raise RuleViolation("ledger.boom", "this always breaks a rule", {"phase": "testing", "count": 3})
        if request.kind == "conflict":
            from shared.errors import ConcurrencyConflict

            raise ConcurrencyConflict("account-x", 2, 5)
        raise RuntimeError("secret internal detail")

    @staticmethod
    def _balance(account: Account) -> Balance:
        return Balance(account.id, account.state.balance, account.state.deposits, account.version, account.state.closed)
