"""The talent service's read models: each a projection with the queries that read it."""

from services.talent.read_models.needs import Needs
from services.talent.read_models.pool import Pool
from services.talent.read_models.programs import Programs

ALL = (Pool, Programs, Needs)
