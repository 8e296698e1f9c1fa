"""The grassroots service's read models: each a projection with the queries that read it."""

from services.grassroots.read_models.affairs import Affairs
from services.grassroots.read_models.elections import Elections
from services.grassroots.read_models.organisations import Organisations
from services.grassroots.read_models.pipeline import Pipeline
from services.grassroots.read_models.ratings import Ratings

ALL = (Organisations, Pipeline, Elections, Ratings, Affairs)
