"""The training service's read models: each a projection with the queries that read it."""

from services.training.read_models.learners import Learners
from services.training.read_models.programs import Programs
from services.training.read_models.requirements import Requirements
from services.training.read_models.suggestions import Suggestions

ALL = (Programs, Learners, Requirements, Suggestions)
