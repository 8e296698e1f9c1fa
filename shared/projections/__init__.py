"""Read models: projections of a service's own events into tables its queries read.

- ``projection``: ``Projection`` and ``@on``, which declare how events change tables;
- ``runner``: ``ProjectionRunner``, which applies them with a checkpoint (PostgreSQL).
"""

from shared.projections.projection import Projection, on

__all__ = ["Projection", "on"]
