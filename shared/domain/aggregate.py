"""The aggregate: a state machine whose commands check rules and record events.

A command method checks the rules against the current state and, when they
hold, records events. Recording an event *applies* it: the ``@applies``
method for its type changes the state. Loading replays the stored events
through the very same methods, so the state after a command and the state
rebuilt from the log cannot drift apart.

Commands are wrapped by ``@command``: when one raises half-way, the state,
version and pending events are put back as they were, so a failed command
leaves nothing behind to be saved.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from shared.domain import schemas
from shared.domain.events import DomainEvent
from shared.errors import RuleViolation

E = TypeVar("E", bound=DomainEvent)
F = TypeVar("F", bound=Callable[..., Any])

_APPLIES_ATTR = "__applies_event__"


def applies(event_type: type[E]) -> Callable[[Callable[[Any, E], None]], Callable[[Any, E], None]]:
    """Mark a method as the one that applies ``event_type`` to the state."""

    def decorate(fn: Callable[[Any, E], None]) -> Callable[[Any, E], None]:
        setattr(fn, _APPLIES_ATTR, event_type)
        return fn

    return decorate


def command(fn: F) -> F:
    """Make a command all-or-nothing: on error the aggregate is left untouched."""

    @functools.wraps(fn)
    def wrapper(self: "Aggregate", *args: Any, **kwargs: Any) -> Any:
        saved = (copy.deepcopy(self.state), self.version, len(self._pending))
        try:
            return fn(self, *args, **kwargs)
        except BaseException:
            self.state, self.version = saved[0], saved[1]
            del self._pending[saved[2] :]
            raise

    return wrapper  # type: ignore[return-value]


class Aggregate:
    """Base of every aggregate.

    Subclasses set ``category`` (the stream id prefix), ``State`` (a dataclass
    whose every field has a default), and optionally ``snapshot_every`` and
    ``state_version``. Bump ``state_version`` when the meaning of the state
    changes without its shape changing; a change of shape is caught by the
    state's fingerprint anyway. Either way, old snapshots are ignored.
    """

    category: ClassVar[str]
    State: ClassVar[type]
    state_version: ClassVar[int] = 1
    snapshot_every: ClassVar[int] = 0
    _appliers: ClassVar[dict[type, Callable[[Any, Any], None]]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        appliers: dict[type, Callable[[Any, Any], None]] = {}
        for base in reversed(cls.__mro__):
            for member in vars(base).values():
                event_type = getattr(member, _APPLIES_ATTR, None)
                if event_type is not None:
                    appliers[event_type] = member
        cls._appliers = appliers

    def __init__(self, aggregate_id: str) -> None:
        self.id = aggregate_id
        self.version = 0
        self.state = self.State()
        self._pending: list[DomainEvent] = []

    # -- identity ----------------------------------------------------------

    @property
    def stream_id(self) -> str:
        return f"{self.category}-{self.id}"

    @classmethod
    def handled_events(cls) -> tuple[type, ...]:
        return tuple(cls._appliers)

    # -- events ------------------------------------------------------------

    def apply(self, event: DomainEvent) -> None:
        """Change the state by one event: used by commands and by replay alike."""
        applier = self._appliers.get(type(event))
        if applier is None:
            raise TypeError(f"{type(self).__name__} has no @applies method for {type(event).__name__}")
        applier(self, event)
        self.version += 1

    def record(self, event: DomainEvent) -> None:
        """Apply a new event and keep it to be saved."""
        self.apply(event)
        self._pending.append(event)

    @property
    def pending_events(self) -> list[DomainEvent]:
        return list(self._pending)

    def mark_saved(self) -> None:
        self._pending.clear()

    # -- rules -------------------------------------------------------------

    def require(self, condition: bool, rule: str, message: str) -> None:
        """Raise a ``RuleViolation`` naming the rule unless ``condition`` holds."""
        if not condition:
            raise RuleViolation(rule, message, self.describe())

    def describe(self) -> dict[str, Any]:
        """What a person needs to know about the state when a rule is broken."""
        summary: dict[str, Any] = {"id": self.id, "version": self.version}
        phase = getattr(self.state, "phase", None)
        if phase is not None:
            summary["phase"] = getattr(phase, "value", phase)
        return summary

    # -- snapshots ---------------------------------------------------------

    @classmethod
    def state_fingerprint(cls) -> str:
        """A short digest of the state's shape (field names and types)."""
        shape = ";".join(f"{f.name}:{f.type}" for f in dataclasses.fields(cls.State))
        return hashlib.sha256(f"{cls.State.__qualname__}|{shape}".encode()).hexdigest()[:16]

    def snapshot_state(self) -> dict[str, Any]:
        return schemas.dump(self.state, prefix="state.", message="state cannot be snapshotted")

    @classmethod
    def from_snapshot(cls, aggregate_id: str, version: int, state: dict[str, Any]) -> "Aggregate":
        aggregate = cls(aggregate_id)
        aggregate.state = schemas.load(cls.State, state, prefix="state.", message="unreadable snapshot")
        aggregate.version = version
        return aggregate

    def __eq__(self, other: object) -> bool:
        return (
            type(other) is type(self)
            and other.id == self.id  # type: ignore[attr-defined]
            and other.version == self.version  # type: ignore[attr-defined]
            and other.state == self.state  # type: ignore[attr-defined]
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.id} v{self.version}>"
