"""The base class of every service: the same dependencies, the same operations.

A service subclasses ``ServiceBase``, names itself, lists its events and
projections, and adds its RPC methods (``@rpc_method``) and event handlers
(``@handles``). Everything else — the store, the relay, the projector, health,
metrics, dead letters — comes from here, the same for all six.
"""

from __future__ import annotations

import inspect
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from marshmallow import validate
from nameko.timer import timer

from shared.audit.checkpoints import CheckpointBook, load_signing_key
from shared.db.migrations import Migration, discover, platform_migrations
from shared.domain import Aggregate, EventRegistry
from shared.errors import NotFound
from shared.runtime.clock import ClockProvider
from shared.runtime.inbound import DEAD_LETTERED, Handles
from shared.runtime.inbox import DeadLetters
from shared.runtime.operations import Operations
from shared.runtime.projections import Projection, Projector
from shared.runtime.relay import OutboxRelay
from shared.runtime.rpc import rpc_method
from shared.runtime.storage import Storage

log = logging.getLogger(__name__)

AUDIT_CHECKPOINT_SECONDS = float(os.environ.get("AUDIT_CHECKPOINT_SECONDS", "3600"))


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


@dataclass(frozen=True)
class DeadLetterList:
    service: str
    items: list[DeadLetterView]


@dataclass(frozen=True)
class DeadLetterId:
    id: int = field(metadata={"validate": validate.Range(min=1)})


@dataclass(frozen=True)
class ReplayOutcome:
    id: int
    outcome: str


class ServiceBase:
    """Subclass, set ``name``, ``events`` and ``projections``; add methods."""

    name: ClassVar[str]
    events: ClassVar[EventRegistry] = EventRegistry()
    aggregates: ClassVar[tuple[type[Aggregate], ...]] = ()
    projections: ClassVar[tuple[type[Projection], ...]] = ()

    storage = Storage()
    clock = ClockProvider()
    relay = OutboxRelay()
    projector = Projector()
    operations = Operations()

    @classmethod
    def migrations(cls) -> list[Migration]:
        """The platform's migrations, then the service's own (``migrations/`` beside it)."""
        own = Path(inspect.getfile(cls)).resolve().parent / "migrations"
        return platform_migrations() + discover(own, "service")

    @timer(interval=AUDIT_CHECKPOINT_SECONDS)
    def audit_checkpoint(self) -> None:
        """Sign a checkpoint of the store now and then (when a signing key is configured)."""
        key = load_signing_key()
        if key is not None:
            checkpoint = CheckpointBook(self.storage.database, self.name).take(key)
            if checkpoint is not None:
                log.info("signed checkpoint of %s at %s (%d events)", self.name, checkpoint.cursor, checkpoint.count)

    @rpc_method(request=DeadLetterQuery, response=DeadLetterList)
    def dead_letters(self, query: DeadLetterQuery) -> DeadLetterList:
        """Events this service's handlers gave up on."""
        with self.storage.transaction() as conn:
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
                )
                for r in rows
            ],
        )

    @rpc_method(request=DeadLetterId, response=ReplayOutcome)
    def replay_dead_letter(self, request: DeadLetterId) -> ReplayOutcome:
        """Run the handler again for a dead letter (once in effect, as always)."""
        dead_letters = DeadLetters(self.name)
        with self.storage.transaction() as conn:
            letter = dead_letters.get(conn, request.id)
        if letter is None or letter.status != "dead":
            raise NotFound("dead letter", str(request.id))
        handler = getattr(self, letter.handler, None)
        entrypoints = getattr(getattr(type(self), letter.handler, None), "nameko_entrypoints", ())
        if handler is None or not any(isinstance(e, Handles) for e in entrypoints):
            raise NotFound("event handler", letter.handler)
        outcome = handler(letter.envelope)
        if outcome != DEAD_LETTERED:
            with self.storage.transaction() as conn:
                dead_letters.mark_replayed(conn, request.id)
        return ReplayOutcome(request.id, outcome)
