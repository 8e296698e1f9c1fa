"""The supervision service's read models: each a projection with the queries that read it."""

from services.supervision.read_models.cases import Cases
from services.supervision.read_models.inspections import Inspections

ALL = (Cases, Inspections)
