"""The base class of every service: the same dependencies, the same operations.

A service's entrypoint module subclasses ``ServiceBase``, names the service,
lists its events, aggregates and projections, and adds one line per RPC method
(``@rpc_method``), event handler (``@handles``) and timer (``@every``), each
calling the service layer with ``self.uow``. Everything else — the store, the
relay, the projector, health, metrics, dead letters, signed tree heads —
comes from here, the same for all six.

nameko injects the dependencies when a worker runs; the declarations under
``TYPE_CHECKING`` tell mypy what a worker gets, so that every call from an
entrypoint into the unit of work or the settings is type-checked.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from marshmallow import validate

from shared.application import calendar_years
from shared.application.calendar_years import CalendarYearView, LoadCalendarYear
from shared.audit import heads as audit_heads
from shared.audit.tree import MerkleLog, TamperedLog
from shared.db.migrations import Migration, discover, platform_migrations
from shared.domain import Aggregate, EventRegistry
from shared.domain.calendar import CalendarRecord, CalendarYearLoaded
from shared.domain.erasure import PersonalDataErased
from shared.errors import NotFound, RuleViolation
from shared.projections.projection import Projection
from shared.runtime.messaging.delivery import DEAD_LETTERED
from shared.runtime.messaging.inbound import Handles
from shared.runtime.messaging.inbox import DeadLetters
from shared.runtime.messaging.relay import OutboxRelay
from shared.runtime.messaging.rpc import Caller, CallerCheck, rpc_method
from shared.runtime.operations import Operations
from shared.runtime.periodic import every
from shared.runtime.projector import Projector
from shared.runtime.resources import Config
from shared.runtime.storage import Storage

if TYPE_CHECKING:
    from shared.application.postgres import PostgresUnitOfWork
    from shared.config import Settings
    from shared.runtime.messaging.relay import RelayStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadLetterQuery:
    status: str = field(default="dead", metadata={"validate": validate.OneOf(["dead", "replayed"])})
    limit: int = field(default=100, metadata={"validate": validate.Range(min=1, max=1000)})


@dataclass(frozen=True)
class DeadLetterView:
    id: int
    event_id: str | None
    handler: str
    source: str
    type: str | None
    error_type: str
    error: str
    attempts: int
    failed_at: str
    status: str
    reason: str  # "failed" (its handler kept failing) or why the message was refused as it came
    replayable: bool  # False for a message kept only as its raw body


@dataclass(frozen=True)
class DeadLetterList:
    service: str
    items: list[DeadLetterView]


@dataclass(frozen=True)
class DeadLetterId:
    id: int = field(metadata={"validate": validate.Range(min=1, max=2**63 - 1)})


@dataclass(frozen=True)
class ReplayOutcome:
    id: int
    outcome: str


@dataclass(frozen=True)
class HeadQuery:
    """The latest ``limit`` signed tree heads of the service's store."""

    limit: int = field(default=100, metadata={"validate": validate.Range(min=1, max=1000)})


@dataclass(frozen=True)
class HeadView:
    """A signed tree head, as ``shared/audit/proofs.py`` reads it: every field is signed."""

    log_id: str
    tree_size: int
    root_hash: str
    timestamp: int
    key_id: str
    signature: str


_SIZE = validate.Range(min=1, max=2**62)


@dataclass(frozen=True)
class ProofQuery:
    """An event to prove; ``tree_size``: against that head (default the latest); ``since``: a saved head's size."""

    event_id: str = field(
        metadata={"validate": validate.Regexp(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")}
    )
    tree_size: int | None = field(default=None, metadata={"validate": _SIZE})
    since: int | None = field(default=None, metadata={"validate": _SIZE})


@dataclass(frozen=True)
class ConsistencyStep:
    from_size: int
    path: list[str]


@dataclass(frozen=True)
class InclusionProof:
    """What ``python3 proofs.py inclusion`` checks, with only the standard library and ``cryptography``."""

    log_id: str
    event_id: str
    leaf_index: int
    leaf_input: str
    inclusion_path: list[str]
    head: HeadView
    consistency: ConsistencyStep | None = None


@dataclass(frozen=True)
class ConsistencyQuery:
    old_size: int = field(metadata={"validate": _SIZE})
    new_size: int = field(metadata={"validate": _SIZE})


@dataclass(frozen=True)
class ConsistencyProof:
    log_id: str
    old: HeadView
    new: HeadView
    path: list[str]


class ServiceBase:
    """Subclass, set ``name``, ``events``, ``aggregates`` and ``projections``; add entrypoints."""

    name: ClassVar[str]
    events: ClassVar[EventRegistry] = EventRegistry()
    aggregates: ClassVar[tuple[type[Aggregate], ...]] = ()
    projections: ClassVar[tuple[type[Projection], ...]] = ()

    if TYPE_CHECKING:
        uow: PostgresUnitOfWork
        settings: Settings
        relay: RelayStatus
        projector: Projector
        operations: None
        caller: CallerCheck
    else:
        uow = Storage()
        settings = Config()
        relay = OutboxRelay()
        projector = Projector()
        operations = Operations()
        caller = Caller()

    def __init_subclass__(cls, **kwargs: object) -> None:
        """Every service keeps the calendar it counts on in its store: its event and aggregate are the platform's."""
        super().__init_subclass__(**kwargs)
        if CalendarYearLoaded.type_name() not in cls.events:
            cls.events.register(CalendarYearLoaded)
        cls.events.register(PersonalDataErased)  # erasures of personal data (shared.privacy), in every store
        if CalendarRecord not in cls.aggregates:
            cls.aggregates = (*cls.aggregates, CalendarRecord)

    @classmethod
    def migrations(cls) -> list[Migration]:
        """The platform's migrations, then the service's own (``migrations/`` beside it)."""
        own = Path(inspect.getfile(cls)).resolve().parent / "migrations"
        return platform_migrations() + discover(own, "service")

    @every(lambda settings: settings.audit.head_seconds)
    def audit_sign_head(self) -> None:
        """Grow the store's Merkle tree and sign a head of it every few seconds, published outside the database.

        A tree or book that no longer matches what was signed or published is
        refused loudly, never signed over (``shared/audit/tree.py``).
        """
        try:
            key = audit_heads.load_signing_key(self.settings)
        except audit_heads.BadKey as error:
            log.error("no tree head signed: %s", error)
            return
        if key is None:
            return
        tree = MerkleLog(self.uow.database, self.name, audit_heads.head_sink(self.settings))
        try:
            head = tree.sign(key)
        except TamperedLog as error:
            log.critical("refusing to sign a tree head: %s", error)
            return
        if head is not None:
            log.debug("signed tree head of %s: %d events", self.name, head.tree_size)

    def _merkle_log(self) -> MerkleLog:
        return MerkleLog(self.uow.database, self.name)

    @rpc_method(request=HeadQuery, response=HeadView, many=True)
    def audit_heads(self, query: HeadQuery) -> list[HeadView]:
        """The store's signed tree heads, latest last: anyone may keep them and hold the record to them."""
        return [HeadView(**head.as_json()) for head in self._merkle_log().latest_heads(query.limit)]

    @rpc_method(request=ProofQuery, response=InclusionProof)
    def audit_proof(self, query: ProofQuery) -> InclusionProof:
        """An event's inclusion proof and the signed head it leads to (and, given a saved head, consistency from it)."""
        bundle = self._merkle_log().prove(query.event_id, query.tree_size, query.since)
        step = bundle.get("consistency")
        return InclusionProof(
            bundle["log_id"],
            bundle["event_id"],
            bundle["leaf_index"],
            bundle["leaf_input"],
            bundle["inclusion_path"],
            HeadView(**bundle["head"]),
            ConsistencyStep(step["from_size"], step["path"]) if step else None,
        )

    @rpc_method(request=ConsistencyQuery, response=ConsistencyProof)
    def audit_consistency(self, query: ConsistencyQuery) -> ConsistencyProof:
        """Proof that the log of one signed head only grew into the log of a later one."""
        proof = self._merkle_log().consistency(query.old_size, query.new_size)
        return ConsistencyProof(proof["log_id"], HeadView(**proof["old"]), HeadView(**proof["new"]), proof["path"])

    @rpc_method(request=LoadCalendarYear, response=CalendarYearView)
    def load_calendar(self, request: LoadCalendarYear) -> CalendarYearView:
        """Load a year of the organisation's calendar (the operator's): every deadline counts on it from now on."""
        return calendar_years.load_calendar_year(request, self.uow)

    @rpc_method(response=CalendarYearView, many=True)
    def calendar_years(self) -> list[CalendarYearView]:
        """The calendar years this service counts on: loaded into its store, else shipped with the platform."""
        return calendar_years.calendar_years(self.uow)

    @rpc_method(request=DeadLetterQuery, response=DeadLetterList)
    def dead_letters(self, query: DeadLetterQuery) -> DeadLetterList:
        """Events this service's handlers gave up on."""
        with self.uow.transaction() as conn:
            rows = DeadLetters(self.name).list(conn, query.status, query.limit)
        return DeadLetterList(
            self.name,
            [
                DeadLetterView(
                    r.id,
                    r.event_id,
                    r.handler,
                    r.source,
                    r.type,
                    r.error_type,
                    r.error,
                    r.attempts,
                    r.failed_at,
                    r.status,
                    r.reason,
                    r.envelope is not None,
                )
                for r in rows
            ],
        )

    @rpc_method(request=DeadLetterId, response=ReplayOutcome)
    def replay_dead_letter(self, request: DeadLetterId) -> ReplayOutcome:
        """Run the handler again for a dead letter (once in effect, as always)."""
        dead_letters = DeadLetters(self.name)
        with self.uow.transaction() as conn:
            letter = dead_letters.get(conn, request.id)
        if letter is None or letter.status != "dead":
            raise NotFound("dead letter", str(request.id))
        handler = getattr(self, letter.handler, None)
        entrypoints = getattr(getattr(type(self), letter.handler, None), "nameko_entrypoints", ())
        if handler is None or not any(isinstance(e, Handles) for e in entrypoints):
            raise NotFound("event handler", letter.handler)
        if letter.envelope is None:
            raise RuleViolation(
                "dead_letter.unreadable",
                f"dead letter {letter.id} was kept as it came ({letter.reason}); there is no event to replay",
                {"id": letter.id, "reason": letter.reason},
            )
        outcome = handler(letter.envelope)
        if outcome != DEAD_LETTERED:
            with self.uow.transaction() as conn:
                dead_letters.mark_replayed(conn, request.id)
        return ReplayOutcome(request.id, outcome)
