"""Domain building blocks: aggregates, events and their schemas, repositories.

Plain Python: nothing here knows about RabbitMQ or PostgreSQL.
"""

from shared.domain.aggregate import Aggregate, applies, command
from shared.domain.events import DomainEvent, EventRegistry, UnknownEvent
from shared.domain.repository import Repository

__all__ = [
    "Aggregate",
    "DomainEvent",
    "EventRegistry",
    "Repository",
    "UnknownEvent",
    "applies",
    "command",
]
