"""Read models: projections of a service's own events into tables its queries read.

- ``projection``: ``Projection`` and ``@on``, which declare how events change tables
  (and ``jsonb``, a value as text for a ``jsonb`` column);
- ``runner``: ``ProjectionRunner``, which applies them with a checkpoint (PostgreSQL).
"""

from shared.projections.projection import Projection, jsonb, on

__all__ = ["Projection", "jsonb", "on"]
